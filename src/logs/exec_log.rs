//! The log of one execution while it is live: its ring, the records evicted from the ring
//! that are not yet committed to SQLite (the spill), what was dropped past the cap, the
//! bounded `RunOutput` capture, and a watch that wakes followers.
//!
//! The seq space of a live log is always, in order:
//!
//! ```text
//! [0, durable)            committed in SQLite (or given up on after a write error)
//! [durable, spill_end)    the spill: evicted, sealed or not, still readable here
//! [dropped.0, dropped.1)  dropped past --log-max-bytes (a Gap for readers)
//! [ring.first, next_seq)  the ring
//! ```
//!
//! so a reader never meets a hole between memory and the database. Records evicted from
//! the ring enter the spill (or are dropped once the cap is reached); the spill is sealed
//! into chunks of about `chunk_bytes` that go to the persister; a chunk leaves the spill
//! once it is committed. At `end` the ring is moved to the spill and sealed too.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use super::persist::PersistMsg;
use super::record::{LogRecord, MAX_RECORD_BYTES};
use super::ring::Ring;
use crate::metrics::Metrics;
use crate::model::{LogStream, RunCommandResult};
use crate::time;

/// Sizes of one execution's log.
#[derive(Debug, Clone, Copy)]
pub(super) struct ExecLimits {
    pub(super) ring_bytes: usize,
    pub(super) ring_lines: usize,
    /// Data bytes persisted at most; later records are dropped.
    pub(super) max_bytes: u64,
    /// Seal the spill once it holds this many unsealed data bytes...
    pub(super) chunk_bytes: usize,
    /// ... or this many unsealed records.
    pub(super) chunk_lines: usize,
}

/// How far a log has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The seq the next record will get.
    pub next_seq: u64,
    /// No more records will come.
    pub ended: bool,
}

/// Where a reader's next seq is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// In SQLite: read the database for seqs below `upto`.
    Db {
        /// Everything below this is committed.
        upto: u64,
    },
    /// Records were appended to the reader's buffer.
    Records,
    /// Dropped past the cap up to `to` (exclusive).
    Gap {
        /// First seq after the gap.
        to: u64,
    },
    /// Nothing more yet.
    CaughtUp {
        /// And nothing more will come.
        ended: bool,
    },
}

/// Where `Tail` starts, as far as memory knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailScan {
    /// The first seq to send.
    Found(u64),
    /// Memory did not hold enough: `remaining` more matching records are wanted from the
    /// database, below seq `below`.
    Need {
        /// Matching records still wanted.
        remaining: u64,
        /// The database holds the seqs below this.
        below: u64,
    },
}

/// Counts matching records backwards for `Tail`.
#[derive(Debug, Clone, Copy)]
pub struct TailCounter {
    /// Matching records still wanted.
    pub remaining: u64,
    /// The reader's filter.
    pub filter: super::Filter,
}

impl TailCounter {
    /// Visits a record (newest first); returns the start seq once it is known.
    pub fn visit(&mut self, r: &LogRecord) -> Option<u64> {
        if self.filter.too_old(r) {
            return Some(r.seq + 1);
        }
        if self.filter.matches(r) {
            self.remaining = self.remaining.saturating_sub(1);
            if self.remaining == 0 {
                return Some(r.seq);
            }
        }
        None
    }
}

#[derive(Debug)]
pub(super) struct Capture {
    data: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl Capture {
    fn new(limit: usize) -> Self {
        Self {
            data: Vec::new(),
            limit,
            truncated: false,
        }
    }

    fn add(&mut self, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.data.len());
        if bytes.len() > room {
            self.truncated = true;
        }
        self.data.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn text(&self) -> String {
        // A cut may have split a multi-byte character into a replacement char: fine.
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// What one push did.
#[derive(Debug, Clone, Copy)]
struct Pushed {
    next_seq: u64,
    records: u64,
    bytes: u64,
    evicted: u64,
}

fn idx(stream: LogStream) -> usize {
    match stream {
        LogStream::Stdout => 0,
        LogStream::Stderr => 1,
    }
}

/// The log of one execution while it is live (and until its tail is committed).
#[derive(Debug)]
pub struct ExecLog {
    /// The job.
    pub job_id: String,
    /// The execution.
    pub execution_id: String,
    limits: ExecLimits,
    /// Ring, spill, partial lines and captures; held briefly by writers and readers.
    state: Mutex<ExecState>,
    /// The next seq to be written, and whether the log has ended; followers wait on it.
    progress: watch::Sender<Progress>,
    /// Sealed chunks go to the hub's persister task through this channel.
    persist: mpsc::UnboundedSender<PersistMsg>,
    /// Seqs below this are committed; [`ExecLog::wait_durable`] waits on it.
    durable_tx: watch::Sender<u64>,
    metrics: Arc<Metrics>,
}

#[derive(Debug)]
struct ExecState {
    ring: Ring,
    partial: [Vec<u8>; 2],
    capture: [Capture; 2],
    /// Evicted records not yet committed, oldest first; the first has seq `durable`.
    spill: VecDeque<LogRecord>,
    /// Seqs below this are committed (or were given up on).
    durable: u64,
    /// Seqs below this were handed to the persister.
    sealed: u64,
    /// Data bytes of the unsealed spill records.
    unsealed_bytes: usize,
    /// Data bytes accepted for persistence (what the cap counts).
    kept_bytes: u64,
    /// Records dropped past the cap, `from..to`, and their data bytes.
    dropped: Option<(u64, u64)>,
    dropped_bytes: u64,
    /// Reused buffer for ring evictions.
    evicted: Vec<LogRecord>,
    ended: bool,
}

impl ExecState {
    fn spill_end(&self) -> u64 {
        self.durable + self.spill.len() as u64
    }

    /// Files an evicted (or final) record: into the spill while under the cap, else dropped.
    fn retire(&mut self, r: LogRecord, max_bytes: u64) {
        let len = r.data.len() as u64;
        if self.dropped.is_none() && self.kept_bytes + len <= max_bytes {
            self.kept_bytes += len;
            self.unsealed_bytes += r.data.len();
            self.spill.push_back(r);
        } else {
            let d = self.dropped.get_or_insert((r.seq, r.seq));
            d.1 = r.seq + 1;
            self.dropped_bytes += len;
        }
    }
}

impl ExecLog {
    pub(super) fn new(
        job_id: &str,
        execution_id: &str,
        capture_bytes: usize,
        limits: ExecLimits,
        persist: mpsc::UnboundedSender<PersistMsg>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            job_id: job_id.to_owned(),
            execution_id: execution_id.to_owned(),
            limits,
            state: Mutex::new(ExecState {
                ring: Ring::new(limits.ring_bytes, limits.ring_lines),
                partial: [Vec::new(), Vec::new()],
                capture: [Capture::new(capture_bytes), Capture::new(capture_bytes)],
                spill: VecDeque::new(),
                durable: 0,
                sealed: 0,
                unsealed_bytes: 0,
                kept_bytes: 0,
                dropped: None,
                dropped_bytes: 0,
                evicted: Vec::new(),
                ended: false,
            }),
            progress: watch::channel(Progress {
                next_seq: 0,
                ended: false,
            })
            .0,
            persist,
            durable_tx: watch::channel(0).0,
            metrics,
        }
    }

    fn lock(&self) -> MutexGuard<'_, ExecState> {
        // A panic while holding the lock cannot leave the state half-updated in a way
        // readers could not cope with; keep serving rather than poisoning every reader.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Watches progress (new records, the end).
    pub fn subscribe(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// The current progress.
    pub fn progress(&self) -> Progress {
        *self.progress.borrow()
    }

    /// Appends records with seq ≥ `next` (up to about `max_bytes`) to `out` when memory
    /// holds them, or tells where `next` is.
    pub fn read_at(&self, next: u64, max_bytes: usize, out: &mut Vec<LogRecord>) -> Slot {
        let st = self.lock();
        if next < st.durable {
            return Slot::Db { upto: st.durable };
        }
        if next < st.spill_end() {
            let skip = usize::try_from(next - st.durable).unwrap_or(usize::MAX);
            let mut used = 0;
            for r in st.spill.iter().skip(skip) {
                if used > 0 && used + r.cost() > max_bytes {
                    break;
                }
                used += r.cost();
                out.push(r.clone());
            }
            return Slot::Records;
        }
        if let Some((_, to)) = st.dropped.filter(|d| next < d.1) {
            return Slot::Gap { to };
        }
        if next < st.ring.first_seq() {
            // Cannot happen (evictions are filed in order), but never serve a hole.
            return Slot::Gap {
                to: st.ring.first_seq(),
            };
        }
        if next < st.ring.next_seq() {
            st.ring.read_from(next, max_bytes, out);
            return Slot::Records;
        }
        Slot::CaughtUp { ended: st.ended }
    }

    /// Walks the records memory holds, newest first, to find where `Tail` starts.
    pub fn tail_scan(&self, mut counter: TailCounter) -> TailScan {
        let st = self.lock();
        for r in st.ring.iter().rev().chain(st.spill.iter().rev()) {
            if let Some(start) = counter.visit(r) {
                return TailScan::Found(start);
            }
        }
        TailScan::Need {
            remaining: counter.remaining,
            below: st.durable,
        }
    }

    /// Adds output bytes of one stream; complete lines become records at once, longer
    /// than 64 KiB lines are split. Lines are slices of one copy of `bytes`.
    pub(super) fn write(self: &Arc<Self>, stream: LogStream, bytes: &[u8]) {
        let mut lines = Vec::new();
        let done = {
            let mut st = self.lock();
            if st.ended {
                return;
            }
            st.capture[idx(stream)].add(bytes);
            let last_newline = bytes.iter().rposition(|&b| b == b'\n');
            let partial = &mut st.partial[idx(stream)];
            let mut start = 0;
            if let Some(last) = last_newline {
                let buf = Bytes::copy_from_slice(&bytes[..=last]);
                for pos in buf
                    .iter()
                    .enumerate()
                    .filter(|(_, &b)| b == b'\n')
                    .map(|(i, _)| i)
                {
                    if partial.is_empty() {
                        lines.push(buf.slice(start..=pos));
                    } else {
                        partial.extend_from_slice(&buf[start..=pos]);
                        lines.push(Bytes::from(std::mem::take(partial)));
                    }
                    start = pos + 1;
                }
            }
            partial.extend_from_slice(&bytes[start..]);
            while partial.len() >= MAX_RECORD_BYTES {
                let tail = partial.split_off(MAX_RECORD_BYTES);
                lines.push(Bytes::from(std::mem::replace(partial, tail)));
            }
            self.push_locked(&mut st, stream, lines)
        };
        self.published(done);
    }

    /// Emits the stream's unterminated last line, if any.
    pub(super) fn flush(self: &Arc<Self>, stream: LogStream) {
        let done = {
            let mut st = self.lock();
            let rest = std::mem::take(&mut st.partial[idx(stream)]);
            self.push_locked(&mut st, stream, vec![Bytes::from(rest)])
        };
        self.published(done);
    }

    /// The bounded copy of stdout and stderr so far.
    pub(super) fn capture(&self) -> RunCommandResult {
        let st = self.lock();
        RunCommandResult {
            stdout: st.capture[0].text(),
            stdouttruncated: st.capture[0].truncated,
            stderr: st.capture[1].text(),
            stderrtruncated: st.capture[1].truncated,
            exit_code: 0,
            runner_error: String::new(),
        }
    }

    /// Appends lines of one stream as records (splitting any longer than 64 KiB), files
    /// the evictions and seals the spill when it is big enough.
    fn push_locked(
        self: &Arc<Self>,
        st: &mut ExecState,
        stream: LogStream,
        lines: Vec<Bytes>,
    ) -> Pushed {
        let mut done = Pushed {
            next_seq: st.ring.next_seq(),
            records: 0,
            bytes: 0,
            evicted: 0,
        };
        if st.ended {
            return done;
        }
        let time_ns = time::to_nanos(time::now());
        let mut evicted = std::mem::take(&mut st.evicted);
        for line in lines {
            let mut rest = line;
            while !rest.is_empty() {
                let piece = rest.split_to(rest.len().min(MAX_RECORD_BYTES));
                done.records += 1;
                done.bytes += piece.len() as u64;
                st.ring.push(
                    LogRecord {
                        seq: 0,
                        time_ns,
                        stream,
                        data: piece,
                    },
                    &mut evicted,
                );
            }
        }
        done.evicted = evicted.len() as u64;
        for r in evicted.drain(..) {
            st.retire(r, self.limits.max_bytes);
        }
        st.evicted = evicted;
        let unsealed = usize::try_from(st.spill_end() - st.sealed).unwrap_or(usize::MAX);
        if st.unsealed_bytes >= self.limits.chunk_bytes || unsealed >= self.limits.chunk_lines {
            self.seal(st);
        }
        done.next_seq = st.ring.next_seq();
        done
    }

    /// Counts what was pushed and wakes followers (outside the lock).
    fn published(&self, done: Pushed) {
        if done.records == 0 {
            return;
        }
        self.metrics.log_written(done.records, done.bytes);
        if done.evicted > 0 {
            self.metrics.log_evicted(done.evicted);
        }
        self.progress.send_modify(|p| p.next_seq = done.next_seq);
    }

    /// Hands the unsealed spill records to the persister (under the lock, so chunks of
    /// one log reach it in seq order).
    fn seal(self: &Arc<Self>, st: &mut ExecState) {
        let end = st.spill_end();
        if end == st.sealed {
            return;
        }
        let skip = usize::try_from(st.sealed - st.durable).unwrap_or(usize::MAX);
        let records: Vec<LogRecord> = st.spill.iter().skip(skip).cloned().collect();
        let msg = PersistMsg::Chunk {
            log: self.clone(),
            first_seq: st.sealed,
            last_seq: end - 1,
            records,
        };
        st.sealed = end;
        st.unsealed_bytes = 0;
        self.send(msg);
    }

    fn send(&self, msg: PersistMsg) {
        if self.persist.send(msg).is_err() {
            tracing::error!(execution = %self.execution_id, "log persister has stopped; log records are not persisted");
        }
    }

    /// Ends the log: flushes partial lines, moves the ring to the spill, seals the rest
    /// and the dropped range, and wakes followers. The log leaves the hub once all of it
    /// is committed.
    pub(super) fn end(self: &Arc<Self>) {
        let (next, done) = {
            let mut st = self.lock();
            if st.ended {
                return;
            }
            let mut done = Pushed {
                next_seq: st.ring.next_seq(),
                records: 0,
                bytes: 0,
                evicted: 0,
            };
            for stream in [LogStream::Stdout, LogStream::Stderr] {
                let rest = std::mem::take(&mut st.partial[idx(stream)]);
                let d = self.push_locked(&mut st, stream, vec![Bytes::from(rest)]);
                (done.records, done.bytes, done.evicted) = (
                    done.records + d.records,
                    done.bytes + d.bytes,
                    done.evicted + d.evicted,
                );
            }
            st.ended = true;
            let mut rest = Vec::with_capacity(st.ring.len());
            st.ring.drain_into(&mut rest);
            for r in rest {
                st.retire(r, self.limits.max_bytes);
            }
            self.seal(&mut st);
            if let Some((from, to)) = st.dropped {
                tracing::warn!(
                    execution = %self.execution_id,
                    records = to - from,
                    bytes = st.dropped_bytes,
                    cap = self.limits.max_bytes,
                    "execution log exceeded --log-max-bytes; records past the cap were dropped"
                );
                self.send(PersistMsg::Gap {
                    log: self.clone(),
                    from,
                    to,
                });
            }
            self.send(PersistMsg::Finish(self.clone()));
            (st.ring.next_seq(), done)
        };
        self.published(done);
        self.progress.send_modify(|p| {
            p.next_seq = next;
            p.ended = true;
        });
    }

    /// Called by the persister once seqs below `upto` are committed (or given up on).
    pub(super) fn mark_durable(&self, upto: u64) {
        let mut st = self.lock();
        while st.spill.front().is_some_and(|r| r.seq < upto) {
            st.spill.pop_front();
        }
        st.durable = st.durable.max(upto);
        st.sealed = st.sealed.max(st.durable);
        let durable = st.durable;
        drop(st);
        self.durable_tx.send_replace(durable);
    }

    /// After [`ExecLog::end`]: waits up to `limit` until every record is committed, so
    /// that a reader on another node that sees the execution ended finds all of it.
    pub async fn wait_durable(&self, limit: std::time::Duration) -> bool {
        let end = self.progress().next_seq;
        let mut rx = self.durable_tx.subscribe();
        tokio::time::timeout(limit, rx.wait_for(|&d| d >= end))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}
