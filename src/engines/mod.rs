//! Engines run one execution each: [`noop`], [`exec`] (host processes), [`wasm`]
//! (wasmtime + WASI) and [`docker`] (the Docker Engine API). The registry knows which
//! are enabled on this node and refuses the others at submit.

pub mod docker;
pub mod exec;
pub mod noop;
mod output;
pub mod wasm;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use output::pump_lines;

use crate::logs::LogSink;
use crate::model::{Engine, Job, Spec};
use crate::storage::Workspace;

/// Everything an engine needs to run one execution.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The job.
    pub job: Arc<Job>,
    /// This execution's id.
    pub execution_id: String,
    /// Prepared inputs, output directories and scratch space.
    pub workspace: Arc<Workspace>,
    /// Where output lines go.
    pub logs: LogSink,
    /// Fires on cancel, timeout or shutdown: stop the program now.
    pub stop: CancellationToken,
    /// Time between a polite stop (SIGTERM, docker stop) and a kill.
    pub kill_grace: Duration,
    /// Where the engine says what the execution is doing before its program runs (an
    /// image pull); the runner records it as the execution's `Status`.
    pub status: StatusSink,
}

/// A note an engine gives about a running execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusNote {
    /// The text, shown as the execution's `Status`.
    pub text: String,
    /// A milestone (a pull started or ended) is also kept in the job's history; other
    /// notes (progress) only replace the `Status`, and a newer one may supersede them
    /// before they are recorded.
    pub milestone: bool,
}

/// The sending half of an execution's status notes. Cheap to clone; notes sent after
/// the receiver is gone are dropped.
#[derive(Debug, Clone)]
pub struct StatusSink(mpsc::UnboundedSender<StatusNote>);

impl StatusSink {
    /// A sink and the receiver its notes arrive at.
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<StatusNote>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), rx)
    }

    /// A progress note: replaces the `Status` of the execution.
    pub fn progress(&self, text: impl Into<String>) {
        let _ = self.0.send(StatusNote {
            text: text.into(),
            milestone: false,
        });
    }

    /// A milestone: replaces the `Status` and is kept in the job's history.
    pub fn milestone(&self, text: impl Into<String>) {
        let _ = self.0.send(StatusNote {
            text: text.into(),
            milestone: true,
        });
    }
}

/// An engine: runs a spec and reports its exit code.
#[async_trait::async_trait]
pub trait Executor: Send + Sync + Debug {
    /// Which engine this is.
    fn kind(&self) -> Engine;

    /// Submit-time checks of the engine-specific part of a spec.
    fn validate(&self, _spec: &Spec) -> Result<(), String> {
        Ok(())
    }

    /// Submit-time checks that ask the engine's backend (e.g. that a Docker image is on
    /// this node); runs after [`validate`](Self::validate) accepted the spec. Refuse only on
    /// a definite answer: when the backend cannot be asked, let the run report it.
    async fn check(&self, _spec: &Spec) -> Result<(), String> {
        Ok(())
    }

    /// Runs the execution to its end and returns the exit code. When `ctx.stop` fires the
    /// engine must stop the program (and everything it started) before returning.
    async fn run(&self, ctx: RunContext) -> anyhow::Result<i32>;
}

/// The engines enabled on this node.
#[derive(Debug, Clone, Default)]
pub struct Engines {
    map: BTreeMap<String, Arc<dyn Executor>>,
}

impl Engines {
    /// Adds an engine.
    pub fn with(mut self, engine: Arc<dyn Executor>) -> Self {
        self.map.insert(engine.kind().to_string(), engine);
        self
    }

    /// The engine of this kind, when enabled.
    pub fn get(&self, kind: Engine) -> Option<Arc<dyn Executor>> {
        self.map.get(kind.as_str()).cloned()
    }

    /// Names of the enabled engines.
    pub fn names(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }

    /// Checks that the spec's engine is enabled here and accepts the spec.
    pub fn validate(&self, spec: &Spec) -> Result<(), String> {
        let kind = spec.engine.ok_or("Spec.Engine is required")?;
        match self.get(kind) {
            Some(e) => e.validate(spec),
            None => Err(format!(
                "engine {kind} is not enabled on this node (enabled: {})",
                self.names().join(", ")
            )),
        }
    }

    /// The backend checks of the spec's engine (see [`Executor::check`]).
    pub async fn check(&self, spec: &Spec) -> Result<(), String> {
        match spec.engine.and_then(|k| self.get(k)) {
            Some(e) => e.check(spec).await,
            None => Ok(()),
        }
    }
}
