//! The Exec engine (extension, only with `--allow-exec`): a host process in its own
//! process group. Stop sends SIGTERM to the group, then SIGKILL after the grace period;
//! when the program exits, whatever it left running in its group is killed too.

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::process::Command;

use super::{pump_lines, Executor, RunContext};
use crate::model::{Engine, LogStream, Spec};

/// Runs `Spec.Exec.Command` on the host.
#[derive(Debug, Default)]
pub struct ExecEngine;

#[async_trait::async_trait]
impl Executor for ExecEngine {
    fn kind(&self) -> Engine {
        Engine::Exec
    }

    fn validate(&self, spec: &Spec) -> Result<(), String> {
        match &spec.exec {
            Some(e) if !e.command.is_empty() && !e.command[0].is_empty() => Ok(()),
            _ => Err("Exec jobs need Spec.Exec.Command (the program and its arguments)".into()),
        }
    }

    async fn run(&self, ctx: RunContext) -> anyhow::Result<i32> {
        let spec = ctx.job.spec.exec.clone().context("Spec.Exec is missing")?;
        let ws = &ctx.workspace;
        let cwd = if spec.working_directory.is_empty() {
            ws.scratch.clone()
        } else {
            spec.working_directory.clone().into()
        };
        for dir in [&ws.scratch, &ws.inputs_root, &ws.outputs_root] {
            tokio::fs::create_dir_all(dir)
                .await
                .with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut cmd = Command::new(&spec.command[0]);
        cmd.args(&spec.command[1..])
            .current_dir(&cwd)
            .env("HAKE_INPUTS", &ws.inputs_root)
            .env("HAKE_OUTPUTS", &ws.outputs_root)
            .env("HAKE_JOB_ID", &ctx.job.metadata.id)
            .env("HAKE_EXECUTION_ID", &ctx.execution_id)
            .envs(&spec.environment_variables)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {:?} in {}", spec.command[0], cwd.display()))?;
        let pid = child.id().context("child has no pid")?;
        let pgid = Pid::from_raw(i32::try_from(pid).context("pid out of range")?);
        let out = tokio::spawn(pump_lines(
            child.stdout.take().context("stdout")?,
            LogStream::Stdout,
            ctx.logs.clone(),
        ));
        let err = tokio::spawn(pump_lines(
            child.stderr.take().context("stderr")?,
            LogStream::Stderr,
            ctx.logs.clone(),
        ));

        let status = tokio::select! {
            s = child.wait() => s?,
            () = ctx.stop.cancelled() => {
                let _ = killpg(pgid, Signal::SIGTERM);
                match tokio::time::timeout(ctx.kill_grace, child.wait()).await {
                    Ok(s) => s?,
                    Err(_) => {
                        let _ = killpg(pgid, Signal::SIGKILL);
                        child.wait().await?
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
        Ok(exit_code(status))
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
