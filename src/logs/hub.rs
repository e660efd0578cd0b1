//! The log hub: one [`ExecLog`] per live execution (until its tail is committed), the
//! persister task that writes sealed chunks to SQLite, and the reads of persisted history.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use super::chunk;
use super::exec_log::{ExecLimits, ExecLog, TailCounter};
use super::persist::{self, LogMap, PersistMsg};
use crate::metrics::Metrics;
use crate::model::{LogStream, RunCommandResult};
use crate::store::{Store, StoreError};

/// Ring sizes.
#[derive(Debug, Clone, Copy)]
pub struct RingLimits {
    /// Bytes per execution ring.
    pub bytes: usize,
    /// Lines per execution ring.
    pub lines: usize,
}

/// All live execution logs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LogHub {
    inner: Arc<HubInner>,
}

#[derive(Debug)]
struct HubInner {
    limits: ExecLimits,
    store: Store,
    metrics: Arc<Metrics>,
    /// Logs of live executions (and of ended ones until their tail is committed).
    execs: LogMap,
    /// Queue of the persister task; each live log holds a clone.
    persist: mpsc::UnboundedSender<PersistMsg>,
}

/// What the database holds from some seq on, in seq order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persisted {
    /// Consecutive records (of one chunk).
    Records(chunk::Records),
    /// Records `from..=to` are not held (dropped past the cap, or lost to a failed
    /// write or a corrupt chunk).
    Gap {
        /// First missing seq.
        from: u64,
        /// Last missing seq.
        to: u64,
    },
}

impl LogHub {
    /// A hub whose rings hold at most `ring`, that persists at most `max_bytes` of log
    /// data per execution into `store`. Spawns the persister task.
    pub fn new(ring: RingLimits, max_bytes: u64, store: Store, metrics: Arc<Metrics>) -> Self {
        let limits = ExecLimits {
            ring_bytes: ring.bytes,
            ring_lines: ring.lines,
            max_bytes,
            chunk_bytes: (ring.bytes / 4).clamp(4 * 1024, 256 * 1024),
            chunk_lines: (ring.lines / 4).clamp(16, 4096),
        };
        let execs: LogMap = Arc::new(Mutex::new(HashMap::new()));
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(persist::run(rx, store.clone(), execs.clone()));
        Self {
            inner: Arc::new(HubInner {
                limits,
                store,
                metrics,
                execs,
                persist: tx,
            }),
        }
    }

    /// Opens the log of a starting execution and returns its sink.
    pub fn open(&self, job_id: &str, execution_id: &str, capture_bytes: usize) -> LogSink {
        let log = Arc::new(ExecLog::new(
            job_id,
            execution_id,
            capture_bytes,
            self.inner.limits,
            self.inner.persist.clone(),
            self.inner.metrics.clone(),
        ));
        self.map().insert(execution_id.to_owned(), log.clone());
        LogSink { log, spool: None }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ExecLog>>> {
        self.inner.execs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The log of an execution while it is live or its tail is not committed yet. When
    /// this answers `None` for an execution that has started, its whole log is in the
    /// database.
    pub fn get(&self, execution_id: &str) -> Option<Arc<ExecLog>> {
        self.map().get(execution_id).cloned()
    }

    /// Execution logs held in memory.
    pub fn live_count(&self) -> usize {
        self.map().len()
    }

    /// Metrics (followers and gaps are counted by the streams).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// Waits until every chunk sealed so far is committed (call before closing the
    /// store at shutdown).
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.inner.persist.send(PersistMsg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Persisted history of an execution from seq `from` on: up to `max_chunks` chunks,
    /// decoded, in seq order. A hole between chunks (a failed write) or a corrupt chunk
    /// comes back as a [`Persisted::Gap`]; an empty answer means nothing is stored at or
    /// after `from`.
    pub async fn persisted_from(
        &self,
        execution_id: &str,
        from: u64,
        max_chunks: u32,
    ) -> Result<Vec<Persisted>, StoreError> {
        let chunks = self
            .inner
            .store
            .log_chunks_from(execution_id, from, max_chunks)
            .await?;
        let mut out = Vec::with_capacity(chunks.len() * 2);
        let mut expect = from;
        for c in chunks {
            if c.first_seq > expect {
                out.push(Persisted::Gap {
                    from: expect,
                    to: c.first_seq - 1,
                });
            }
            let (start, next) = (expect.max(c.first_seq), expect.max(c.last_seq + 1));
            out.push(decode(execution_id, c, start));
            expect = next;
        }
        Ok(out)
    }

    /// In a cluster: how many records the execution's node had written when it last
    /// renewed its lease (records past what was persisted were lost with a dead node).
    pub async fn written_elsewhere(&self, execution_id: &str) -> Result<Option<u64>, StoreError> {
        match (self.get(execution_id), self.inner.store.cluster()) {
            (None, Some(c)) => c.log_next(execution_id).await,
            _ => Ok(None),
        }
    }

    /// The seq after the last persisted one (0 when nothing is stored).
    pub async fn persisted_end(&self, execution_id: &str) -> Result<u64, StoreError> {
        Ok(self
            .inner
            .store
            .log_last_seq(execution_id)
            .await?
            .map_or(0, |s| s + 1))
    }

    /// Finds where `Tail` starts in the persisted history below seq `below`; `None` when
    /// the history holds fewer matching records (start from the beginning).
    pub async fn persisted_tail(
        &self,
        execution_id: &str,
        below: u64,
        mut counter: TailCounter,
    ) -> Result<Option<u64>, StoreError> {
        let mut before = below;
        loop {
            let chunks = self
                .inner
                .store
                .log_chunks_before(execution_id, before, 8)
                .await?;
            if chunks.is_empty() {
                return Ok(None);
            }
            for c in chunks {
                before = c.first_seq;
                if let Persisted::Records(recs) = decode(execution_id, c, 0) {
                    for r in recs.iter().rev().filter(|r| r.seq < below) {
                        if let Some(start) = counter.visit(&r) {
                            return Ok(Some(start));
                        }
                    }
                }
            }
        }
    }
}

fn decode(execution_id: &str, c: crate::store::StoredLogChunk, from: u64) -> Persisted {
    if c.gap {
        return Persisted::Gap {
            from: from.max(c.first_seq),
            to: c.last_seq,
        };
    }
    match chunk::decode(c.first_seq, c.last_seq, c.records, from) {
        Ok(recs) => Persisted::Records(recs),
        Err(e) => {
            tracing::error!(execution = %execution_id, error = %e, "corrupt log chunk; reporting it as a gap");
            Persisted::Gap {
                from: from.max(c.first_seq),
                to: c.last_seq,
            }
        }
    }
}

/// The writing end of an execution's log, shared by the stream pumps. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LogSink {
    log: Arc<ExecLog>,
    /// Where the complete output is kept for publishing, if anywhere.
    spool: Option<Arc<super::spool::OutputSpool>>,
}

impl LogSink {
    /// Adds output bytes of one stream; complete lines become records at once, longer
    /// than 64 KiB lines are split.
    pub fn write(&self, stream: LogStream, bytes: &[u8]) {
        self.log.write(stream, bytes);
        if let Some(spool) = &self.spool {
            spool.write(stream, bytes);
        }
    }

    /// This sink, also copying every byte into `spool` (when given).
    pub fn with_spool(&self, spool: Option<Arc<super::spool::OutputSpool>>) -> LogSink {
        LogSink {
            log: self.log.clone(),
            spool,
        }
    }

    /// Emits the stream's unterminated last line, if any.
    pub fn flush(&self, stream: LogStream) {
        self.log.flush(stream);
    }

    /// The bounded copy of stdout and stderr so far.
    pub fn capture(&self) -> RunCommandResult {
        self.log.capture()
    }

    /// Ends the log: flushes partial lines, seals what is left for the database and
    /// wakes followers. The log stays readable from the hub until its tail is committed.
    pub fn end(&self) {
        self.log.end();
    }

    /// The log this sink writes.
    pub fn log(&self) -> &Arc<ExecLog> {
        &self.log
    }
}
