//! The plain values the store reads and the `list` query it answers.

use crate::model::{Job, JobState, JobStateType};

/// A job as stored: the submitted Job and its current state.
#[derive(Debug, Clone)]
pub struct StoredJob {
    /// Submit order.
    pub seq: i64,
    /// The job.
    pub job: Job,
    /// Its state, executions included.
    pub state: JobState,
}

/// A row of `list`, with the sort key that paging resumes after.
pub type ListedJob = StoredJob;

/// Sort order of `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// By creation time, then id.
    CreatedAt,
    /// By id.
    Id,
}

/// A `list` query; filtering and sorting happen before the limit.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Only this client's jobs, when set.
    pub client_id: Option<String>,
    /// Only jobs in these states, when non-empty.
    pub states: Vec<JobStateType>,
    /// Sort key.
    pub sort_by: SortBy,
    /// Descending.
    pub reverse: bool,
    /// Resume strictly after this (sort key, id) position.
    pub after: Option<(String, String)>,
    /// Keeps a job when it returns true (tag filters).
    pub keep: fn(&Job, &[String], &[String]) -> bool,
    /// include_tags.
    pub include_tags: Vec<String>,
    /// exclude_tags.
    pub exclude_tags: Vec<String>,
    /// At most this many rows.
    pub limit: usize,
}

/// A nonce a client already used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenNonce {
    /// The route that used it (`submit`, `cancel`).
    pub route: String,
    /// The job that request created or acted on.
    pub job_id: Option<String>,
}
