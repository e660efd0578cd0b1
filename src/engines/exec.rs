//! The Exec engine (extension, only with `--allow-exec`): a host process in its own
//! process group, confined by the [`Sandbox`] (started by its spawner, whose child
//! confines itself and becomes the program). Stop sends SIGTERM to the group, then SIGKILL
//! after the grace period; when the program exits, whatever it left running in its group
//! is killed too.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::{killpg, Signal};

use super::{pump_lines, Executor, RunContext};
use crate::engines::wasm::parse_memory;
use crate::model::{Engine, LogStream, Spec};
use crate::sandbox::{self, Sandbox};

/// Runs `Spec.Exec.Command` on the host, confined.
#[derive(Debug)]
pub struct ExecEngine {
    sandbox: Arc<Sandbox>,
}

impl ExecEngine {
    /// An engine whose jobs `sandbox` confines.
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        Self { sandbox }
    }
}

/// The address-space limit of a job, from `Spec.Resources.Memory` (none when unset).
fn memory_limit(spec: &Spec) -> Result<Option<u64>, String> {
    let text = spec.resources.memory.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bytes = parse_memory(text).map_err(|e| format!("Resources.Memory {text:?}: {e}"))?;
    if bytes < 1 << 20 {
        return Err(format!(
            "Resources.Memory {text:?}: an Exec job needs at least 1 MiB"
        ));
    }
    Ok(Some(bytes))
}

#[async_trait::async_trait]
impl Executor for ExecEngine {
    fn kind(&self) -> Engine {
        Engine::Exec
    }

    fn validate(&self, spec: &Spec) -> Result<(), String> {
        match &spec.exec {
            Some(e) if !e.command.is_empty() && !e.command[0].is_empty() => {}
            _ => {
                return Err(
                    "Exec jobs need Spec.Exec.Command (the program and its arguments)".into(),
                )
            }
        }
        memory_limit(spec).map(|_| ())
    }

    async fn run(&self, ctx: RunContext) -> anyhow::Result<i32> {
        let memory = memory_limit(&ctx.job.spec).map_err(anyhow::Error::msg)?;
        let launch = self
            .sandbox
            .prepare(&ctx.job, &ctx.execution_id, &ctx.workspace, memory)
            .await?;
        let mut running = self.sandbox.start(launch).await?;
        let pgid = running.pid;
        let (stdout, stderr) = running.take_output().context("output already taken")?;
        let out = tokio::spawn(pump_lines(stdout, LogStream::Stdout, ctx.logs.clone()));
        let err = tokio::spawn(pump_lines(stderr, LogStream::Stderr, ctx.logs.clone()));

        let code = tokio::select! {
            c = running.wait() => c?,
            () = ctx.stop.cancelled() => {
                let _ = killpg(pgid, Signal::SIGTERM);
                match tokio::time::timeout(ctx.kill_grace, running.wait()).await {
                    Ok(c) => c?,
                    Err(_) => {
                        let _ = killpg(pgid, Signal::SIGKILL);
                        running.wait().await?
                    }
                }
            }
        };
        // Nothing the program started may outlive it.
        let _ = killpg(pgid, Signal::SIGKILL);
        for pump in [out, err] {
            if tokio::time::timeout(Duration::from_secs(5), pump)
                .await
                .is_err()
            {
                tracing::warn!(execution = %ctx.execution_id, "output pump did not finish");
            }
        }
        // The confining child reports only when it cannot start the program, and then
        // exits with this code.
        if code == sandbox::helper::CANNOT_START {
            if let Some(why) = running.start_failure().await {
                anyhow::bail!("{why}");
            }
        }
        Ok(code)
    }
}
