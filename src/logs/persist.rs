//! The persister: one task per hub that takes sealed chunks from every execution log,
//! encodes them and writes them to SQLite in batches (many chunks per writer op, and the
//! writer group-commits ops). Once a batch is committed it tells each log which seqs are
//! durable, and removes ended logs from the hub. A write the database cannot take now is
//! retried for a while; a failed write is then logged and the range given up on: readers
//! see a Gap for it, never a silent hole.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use super::chunk;
use super::exec_log::ExecLog;
use super::record::LogRecord;
use crate::store::{LogChunkRow, Store, StoreError};

/// Most messages taken per batch (a chunk is at most a few hundred KB; keeping batches
/// to a few MB keeps the writer's transactions short for the job commits they share).
const MAX_BATCH: usize = 8;

/// Wait before the first retry of a failed batch (doubling, up to 2 s, between retries).
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(200);
/// How long a batch the database cannot take is retried before its range is given up.
const RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(15);

/// Work for the persister.
#[derive(Debug)]
pub(super) enum PersistMsg {
    /// Consecutive records `first_seq..=last_seq` of a log.
    Chunk {
        /// The log they belong to.
        log: Arc<ExecLog>,
        /// First seq.
        first_seq: u64,
        /// Last seq (inclusive).
        last_seq: u64,
        /// The records.
        records: Vec<LogRecord>,
    },
    /// Records `from..to` were dropped past the cap (sent once, at the end).
    Gap {
        /// The log.
        log: Arc<ExecLog>,
        /// First dropped seq.
        from: u64,
        /// First seq after the dropped ones.
        to: u64,
    },
    /// The log has ended: remove it from the hub once everything before is committed.
    Finish(Arc<ExecLog>),
    /// Answer once everything queued before is committed.
    Flush(oneshot::Sender<()>),
}

/// The live logs of a hub, by execution id.
pub(super) type LogMap = Arc<Mutex<HashMap<String, Arc<ExecLog>>>>;

/// Runs until every sender is gone.
pub(super) async fn run(mut rx: mpsc::UnboundedReceiver<PersistMsg>, store: Store, logs: LogMap) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut rows = Vec::new();
        let mut marks: Vec<(Arc<ExecLog>, u64)> = Vec::new();
        let mut finished = Vec::new();
        let mut flushes = Vec::new();
        for msg in batch.drain(..) {
            match msg {
                PersistMsg::Chunk {
                    log,
                    first_seq,
                    last_seq,
                    records,
                } => {
                    rows.push(LogChunkRow {
                        execution_id: log.execution_id.clone(),
                        job_id: log.job_id.clone(),
                        first_seq,
                        last_seq,
                        bytes: records.iter().map(|r| r.data.len() as u64).sum(),
                        gap: false,
                        records: chunk::encode(&records),
                    });
                    marks.push((log, last_seq + 1));
                }
                PersistMsg::Gap { log, from, to } => {
                    rows.push(LogChunkRow {
                        execution_id: log.execution_id.clone(),
                        job_id: log.job_id.clone(),
                        first_seq: from,
                        last_seq: to.saturating_sub(1).max(from),
                        bytes: 0,
                        gap: true,
                        records: Vec::new(),
                    });
                    marks.push((log, to));
                }
                PersistMsg::Finish(log) => finished.push(log),
                PersistMsg::Flush(tx) => flushes.push(tx),
            }
        }
        if !rows.is_empty() {
            let summary: Vec<(String, u64, u64)> = rows
                .iter()
                .map(|r| (r.execution_id.clone(), r.first_seq, r.last_seq))
                .collect();
            let rows = Arc::new(rows);
            let mut result = store.append_log_chunks(rows.clone()).await;
            // A busy or unreachable database: try again for a while (a PostgreSQL outage
            // of a few seconds loses no log line) before giving up on the range.
            let until = tokio::time::Instant::now() + RETRY_FOR;
            let mut wait = RETRY_AFTER;
            while matches!(&result, Err(e) if e.is_unavailable() && !matches!(e, StoreError::WriterGone))
                && tokio::time::Instant::now() < until
            {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(2));
                result = store.append_log_chunks(rows.clone()).await;
            }
            if let Err(e) = result {
                tracing::error!(error = %e, chunks = ?summary, "persisting log chunks failed; readers will see a gap");
            }
        }
        for (log, upto) in marks {
            log.mark_durable(upto);
        }
        if !finished.is_empty() {
            let mut map = logs.lock().unwrap_or_else(|e| e.into_inner());
            for log in finished {
                if map
                    .get(&log.execution_id)
                    .is_some_and(|l| Arc::ptr_eq(l, &log))
                {
                    map.remove(&log.execution_id);
                }
            }
        }
        for tx in flushes {
            let _ = tx.send(());
        }
    }
}
