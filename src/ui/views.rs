//! View models: the text the templates print, taken from the wire model. Pure functions,
//! no I/O, so the pages and their tests share them.

use chrono::Duration;

use crate::model::{
    ExecutionState, HistoryType, Job, JobHistory, JobState, JobStateType, PublishedResult,
};
use crate::time::Time;

/// A time as the console prints it: UTC to the second.
pub fn when(t: &Time) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// A duration as `1h 2m`, `3m 4s`, `5.6s` or `78ms`.
pub fn span(d: Duration) -> String {
    let ms = d.num_milliseconds().max(0);
    let s = ms / 1000;
    if ms < 1000 {
        format!("{ms}ms")
    } else if s < 60 {
        format!("{}.{}s", s, (ms % 1000) / 100)
    } else if s < 3600 {
        format!("{}m {}s", s / 60, s % 60)
    } else {
        format!("{}h {}m", s / 3600, s % 3600 / 60)
    }
}

/// The lower-case CSS class of a state badge.
fn badge(state: &str) -> String {
    state.to_ascii_lowercase()
}

/// A row of the jobs table.
#[derive(Debug, Clone)]
pub struct JobRow {
    /// Full id (the `data-job-id` hook).
    pub id: String,
    /// The state (the `data-state` hook).
    pub state: String,
    /// The badge's class.
    pub badge: String,
    /// The engine.
    pub engine: String,
    /// Annotations, comma separated.
    pub tags: String,
    /// Created.
    pub created: String,
    /// Running time so far, or in total once terminal.
    pub duration: String,
    /// The owner's ClientID.
    pub owner: String,
}

/// The engine of a spec as text.
fn engine(job: &Job) -> String {
    job.spec
        .engine
        .map_or_else(|| "-".to_owned(), |e| e.to_string())
}

/// How long the job has run (until now while it is not terminal).
fn job_duration(state: &JobState, now: Time) -> String {
    let end = if state.state.is_terminal() {
        state.update_time
    } else {
        now
    };
    span(end - state.create_time)
}

impl JobRow {
    /// The row of a job.
    pub fn new(job: &Job, state: &JobState, now: Time) -> Self {
        Self {
            id: job.metadata.id.clone(),
            state: state.state.to_string(),
            badge: badge(state.state.as_str()),
            engine: engine(job),
            tags: job.spec.annotations.join(", "),
            created: when(&state.create_time),
            duration: job_duration(state, now),
            owner: job.metadata.client_id.clone(),
        }
    }
}

/// An execution row of the job page.
#[derive(Debug, Clone)]
pub struct ExecRow {
    /// Execution id.
    pub id: String,
    /// The node.
    pub node: String,
    /// Its state.
    pub state: String,
    /// The badge's class.
    pub badge: String,
    /// Exit code, or empty.
    pub exit_code: String,
    /// Started, or empty.
    pub start: String,
    /// Ended, or empty.
    pub end: String,
    /// Duration, or empty.
    pub duration: String,
    /// The status message and runner error, if any.
    pub message: String,
}

impl ExecRow {
    /// The row of an execution.
    pub fn new(e: &ExecutionState) -> Self {
        let runner_error = e
            .run_output
            .as_ref()
            .map(|o| o.runner_error.as_str())
            .unwrap_or("");
        let message = [e.status.as_str(), runner_error]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" — ");
        Self {
            id: e.compute_reference.clone(),
            node: e.node_id.clone(),
            state: e.state.to_string(),
            badge: badge(e.state.as_str()),
            exit_code: e
                .run_output
                .as_ref()
                .map(|o| o.exit_code.to_string())
                .unwrap_or_default(),
            start: e.start_time.as_ref().map(when).unwrap_or_default(),
            end: e.end_time.as_ref().map(when).unwrap_or_default(),
            duration: e
                .duration_ms
                .map(|ms| span(Duration::milliseconds(ms)))
                .unwrap_or_default(),
            message,
        }
    }
}

/// One entry of the history timeline.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// When.
    pub time: String,
    /// `job` or `execution <id>`.
    pub scope: String,
    /// `Previous → New`.
    pub change: String,
    /// Why; shown prominently when the change is a failure.
    pub comment: String,
    /// The change ends in a failure, error or cancellation.
    pub failure: bool,
}

fn arrow<S: std::fmt::Display>(prev: Option<S>, new: Option<S>) -> String {
    match (prev, new) {
        (Some(p), Some(n)) => format!("{p} → {n}"),
        (None, Some(n)) => format!("→ {n}"),
        (Some(p), None) => format!("{p} →"),
        (None, None) => String::new(),
    }
}

impl HistoryRow {
    /// The timeline entry of a history record.
    pub fn new(h: &JobHistory) -> Self {
        let (scope, change, failure) = match h.kind {
            HistoryType::JobLevel => {
                let c = h.job_state.as_ref();
                let new = c.and_then(|c| c.new);
                (
                    "job".to_owned(),
                    arrow(c.and_then(|c| c.previous), new),
                    matches!(new, Some(JobStateType::Error | JobStateType::Cancelled)),
                )
            }
            HistoryType::ExecutionLevel => {
                let c = h.execution_state.as_ref();
                let new = c.and_then(|c| c.new);
                (
                    format!("execution {}", h.compute_reference),
                    arrow(c.and_then(|c| c.previous), new),
                    new.is_some_and(|n| {
                        matches!(
                            n.as_str(),
                            "Failed" | "Cancelled" | "BidRejected" | "ResultRejected"
                        )
                    }),
                )
            }
        };
        Self {
            time: when(&h.time),
            scope,
            change,
            comment: h.comment.clone(),
            failure,
        }
    }
}

/// A published result: a link when it is an http(s) URL, text otherwise.
#[derive(Debug, Clone)]
pub struct ResultRow {
    /// The node.
    pub node: String,
    /// The storage source.
    pub source: String,
    /// An http(s) URL to download, or empty.
    pub href: String,
    /// What to print (URL, CID or name).
    pub label: String,
}

impl ResultRow {
    /// The row of a published result.
    pub fn new(r: &PublishedResult) -> Self {
        let d = &r.data;
        let url = d.url.trim();
        let safe = url.starts_with("http://") || url.starts_with("https://");
        let label = [url, d.cid.as_str(), d.name.as_str()]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("-")
            .to_owned();
        Self {
            node: r.node_id.clone(),
            source: d
                .storage_source
                .map_or_else(|| "-".to_owned(), |s| s.to_string()),
            href: if safe { url.to_owned() } else { String::new() },
            label,
        }
    }
}

/// The job page's summary.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The job's row facts.
    pub row: JobRow,
    /// Last change.
    pub updated: String,
    /// State version (the long-poll starts after it).
    pub version: i64,
    /// Whether the job can still be cancelled.
    pub active: bool,
}

impl Summary {
    /// The summary of a job.
    pub fn new(job: &Job, state: &JobState, now: Time) -> Self {
        Self {
            row: JobRow::new(job, state, now),
            updated: when(&state.update_time),
            version: state.version,
            active: !state.state.is_terminal(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(Duration::milliseconds(78)), "78ms");
        assert_eq!(span(Duration::milliseconds(5_640)), "5.6s");
        assert_eq!(span(Duration::seconds(184)), "3m 4s");
        assert_eq!(span(Duration::seconds(3_720)), "1h 2m");
        assert_eq!(span(Duration::milliseconds(-5)), "0ms");
    }

    #[test]
    fn only_http_result_urls_become_links() {
        let mut r = PublishedResult {
            node_id: "n".into(),
            data: Default::default(),
        };
        r.data.url = "javascript:alert(1)".into();
        let row = ResultRow::new(&r);
        assert_eq!(row.href, "");
        assert_eq!(row.label, "javascript:alert(1)");
        r.data.url = "http://127.0.0.1:1/results/j/e.tar.gz".into();
        assert_eq!(ResultRow::new(&r).href, r.data.url);
    }
}
