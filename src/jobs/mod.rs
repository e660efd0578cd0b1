//! Jobs: the pure state machine, validation, and the service that owns
//! every state change (submit, cancel, the scheduler and the execution runner).

pub mod cache;
mod cancel;
mod cluster;
mod list;
mod live;
mod rows;
mod runner;
pub mod scheduler;
pub mod service;
pub mod state;
pub mod validate;

pub use list::{ListOrder, ListPage, ListParams};
pub use live::LiveJob;
pub use service::{JobView, Jobs, SubmitRequest};

use crate::model::JobStateType;
use std::time::Duration;

use crate::store::StoreError;

/// The server settings the job service uses, as plain values.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Executions that may run at once on this node.
    pub max_concurrent: usize,
    /// Timeout of jobs that set none, in seconds.
    pub default_timeout_secs: f64,
    /// Largest page `list` returns (also what `max_jobs: 0` means).
    pub list_page_cap: usize,
    /// Bytes of stdout and of stderr kept in `RunOutput`.
    pub output_capture_bytes: usize,
    /// Between SIGTERM and SIGKILL when stopping an execution.
    pub kill_grace: Duration,
    /// Accepted clock skew of a payload Timestamp; nonces are kept twice as long.
    pub freshness_window: Duration,
}

/// Why a job operation failed. The API maps each variant to one status code.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The request or spec is invalid (400).
    #[error("{0}")]
    Invalid(String),
    /// No job has this id (404).
    #[error("job not found: {0}")]
    NotFound(String),
    /// The short id matches several jobs (400).
    #[error("job id prefix {prefix:?} matches several jobs: {matches:?}")]
    Ambiguous {
        /// What was given.
        prefix: String,
        /// Some of the matches.
        matches: Vec<String>,
    },
    /// The caller does not own the job (403).
    #[error("job {0} belongs to another client")]
    NotOwner(String),
    /// The job already ended (409).
    #[error("job {id} is already in a terminal state ({state})")]
    Terminal {
        /// The job.
        id: String,
        /// Its final state.
        state: JobStateType,
    },
    /// The client already used this nonce in another request (401).
    #[error("{0}")]
    NonceReused(String),
    /// The server cannot take the request now: it is shutting down (503).
    #[error("{0}")]
    Unavailable(String),
    /// The database cannot serve now: unreachable, busy, locked or full (503).
    #[error("{0}")]
    DatabaseUnavailable(String),
    /// A bug or an unexpected failure (500).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        if let StoreError::NonceReused { .. } = e {
            JobError::NonceReused(e.to_string())
        } else if e.is_unavailable() {
            JobError::DatabaseUnavailable(format!("the database is unavailable: {e}"))
        } else {
            JobError::Internal(e.into())
        }
    }
}
