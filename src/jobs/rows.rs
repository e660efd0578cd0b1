//! How the service's values become the store's rows: a transition as one commit (job row,
//! executions, history), a history record as a row, and the defaults a submitted spec
//! gets before it is stored.

use super::state::{Transition, TransitionError};
use super::JobError;
use crate::model::*;
use crate::store::{Commit, ExecutionRow, HistoryRow, JobRowUpdate};
use crate::time;

pub(super) fn transition_error(id: &str, e: TransitionError) -> JobError {
    match e {
        TransitionError::JobTerminal(state) => JobError::Terminal {
            id: id.to_owned(),
            state,
        },
        other => JobError::Invalid(other.to_string()),
    }
}

/// Fills the defaults Bacalhau fills: timeout, verifier, publisher (and its deprecated copy).
pub(super) fn normalize(spec: &mut Spec, default_timeout: f64) {
    if spec.timeout == 0.0 {
        spec.timeout = default_timeout;
    }
    spec.verifier.get_or_insert(Verifier::Noop);
    let publisher = *spec.publisher_spec.kind.get_or_insert(Publisher::Noop);
    spec.publisher = Some(publisher);
    if spec.deal.concurrency == 0 {
        spec.deal.concurrency = 1;
    }
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("wire types always serialize")
}

pub(super) fn history_row(h: &JobHistory) -> HistoryRow {
    HistoryRow {
        level: h.kind.to_string(),
        time: time::to_nanos(h.time),
        body: to_json(h),
    }
}

pub(super) fn commit_of(t: &Transition) -> Commit {
    Commit {
        job_id: t.state.job_id.clone(),
        job: t.job_changed.then(|| JobRowUpdate {
            state: t.state.state.to_string(),
            version: t.state.version,
            update_time: time::to_nanos(t.state.update_time),
            timeout_at: (t.state.timeout_at != time::zero())
                .then(|| time::to_nanos(t.state.timeout_at)),
        }),
        executions: t
            .touched
            .iter()
            .map(|&i| {
                let e = &t.state.executions[i];
                ExecutionRow {
                    id: e.compute_reference.clone(),
                    ordinal: i as i64,
                    state: e.state.to_string(),
                    version: e.version,
                    body: to_json(e),
                    node_id: e.node_id.clone(),
                }
            })
            .collect(),
        history: t.history.iter().map(history_row).collect(),
        nonce: None,
    }
}
