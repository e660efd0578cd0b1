//! One log stream (a follower): resolves the execution (waiting for the job to be
//! scheduled when following), computes where to start (`WithHistory`, `AfterSeq`,
//! `Tail`), then reads from its own cursor: persisted chunks from SQLite, then the live
//! log's spill and ring, then waits on the log's watch for new records. There is no
//! per-follower queue: memory is the shared log plus one read buffer per follower.
//! What it writes goes through its [`Body`]: records ready together are coalesced into
//! body chunks; a lone line goes out at once. The stream always ends with an `End`
//! record, promptly with `server_shutdown` when the server shuts down.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::body::{Body, Position};
use super::exec_log::{ExecLog, Progress, Slot, TailCounter, TailScan};
use super::frame::{End, EndReason, Format};
use super::hub::{LogHub, Persisted};
use super::record::{Filter, LogRecord};
use super::slots::StreamSlot;
use crate::jobs::{JobError, Jobs};
use crate::model::{ExecutionState, ExecutionStateType, JobState, JobStateType};

/// Bytes copied from memory per read.
const READ_BYTES: usize = 64 * 1024;
/// Persisted chunks fetched per query.
const DB_CHUNKS: u32 = 8;

/// A validated log request.
#[derive(Debug, Clone)]
pub struct LogQuery {
    /// The job (full id).
    pub job_id: String,
    /// The execution; the job's latest when `None`.
    pub execution_id: Option<String>,
    /// Start from the beginning (true) or from the live tail (false).
    pub with_history: bool,
    /// Keep the stream open until the execution is terminal.
    pub follow: bool,
    /// Start after this seq (`AfterSeq`, or SSE `Last-Event-ID`).
    pub after_seq: Option<u64>,
    /// Start at the last N matching lines.
    pub tail: Option<u64>,
    /// Stream and time filter.
    pub filter: Filter,
    /// Representation.
    pub format: Format,
}

/// What every stream needs from the server.
#[derive(Debug, Clone)]
pub struct StreamContext {
    /// The job service (states, watches, and the log hub).
    pub jobs: Jobs,
    /// Fires when the server shuts down.
    pub shutdown: CancellationToken,
    /// Silence after which a heartbeat is sent.
    pub heartbeat: Duration,
}

/// Opens a stream of body chunks for `query`; `state` is the job's state at request time.
pub fn open(
    ctx: StreamContext,
    query: LogQuery,
    state: Arc<JobState>,
    slot: Option<StreamSlot>,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    ctx.jobs.logs().metrics().follower(1);
    let body = Body::new(
        query.format,
        query.filter,
        ctx.jobs.logs().metrics().clone(),
    );
    let follower = Follower {
        hub: ctx.jobs.logs().clone(),
        heartbeat_at: Instant::now() + ctx.heartbeat,
        ctx,
        q: query,
        phase: Phase::Resolve,
        body,
        waited: false,
        job_rx: None,
        watching: true,
        last: state,
        _slot: slot,
    };
    futures::stream::unfold(follower, |mut f| async move {
        f.next_chunk().await.map(|b| (Ok(b), f))
    })
}

enum Phase {
    Resolve,
    Stream(Box<Cursor>),
    /// After the last record: the execution and the seq after the last one sent.
    Ending(String, u64),
    Done,
}

struct Cursor {
    execution_id: String,
    /// The live log, when the execution's log was still in the hub at start.
    live: Option<Arc<ExecLog>>,
    /// Wakes the follower when the live log grows or ends.
    progress: Option<watch::Receiver<Progress>>,
    /// The next seq to deliver, and where to stop.
    pos: Position,
    /// Decoded persisted chunks (and gaps) not yet written.
    db: VecDeque<Persisted>,
    /// Reused read buffer.
    recs: Vec<LogRecord>,
}

enum Pumped {
    Full,
    Waiting,
    Finished,
}

enum Woke {
    Ready,
    Heartbeat,
    Shutdown,
}

struct Follower {
    ctx: StreamContext,
    hub: LogHub,
    q: LogQuery,
    phase: Phase,
    /// What is written and not yet sent.
    body: Body,
    heartbeat_at: Instant,
    /// Committed states of the job while it is live.
    job_rx: Option<watch::Receiver<Arc<JobState>>>,
    /// Whether `job_rx` may still be (re)acquired.
    watching: bool,
    /// The latest job state seen.
    last: Arc<JobState>,
    /// Whether the stream waited for the execution to start (then all of its log is
    /// new, even without history).
    waited: bool,
    /// The client's stream slot, freed when the stream is dropped.
    _slot: Option<StreamSlot>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.hub.metrics().follower(-1);
    }
}

async fn wait(shutdown: &CancellationToken, at: Instant, fut: impl Future<Output = ()>) -> Woke {
    tokio::select! {
        biased;
        () = shutdown.cancelled() => Woke::Shutdown,
        () = fut => Woke::Ready,
        () = tokio::time::sleep_until(at) => Woke::Heartbeat,
    }
}

fn reason_of(e: &ExecutionState) -> EndReason {
    match e.state {
        ExecutionStateType::Completed => EndReason::Completed,
        ExecutionStateType::Cancelled => EndReason::Cancelled,
        ExecutionStateType::Failed if e.status.contains("timed out after") => EndReason::TimedOut,
        s if s.is_terminal() => EndReason::Failed,
        _ => EndReason::CaughtUp,
    }
}

fn job_reason(s: JobStateType) -> EndReason {
    match s {
        JobStateType::Completed | JobStateType::CompletedPartially => EndReason::Completed,
        JobStateType::Cancelled => EndReason::Cancelled,
        JobStateType::Error => EndReason::Failed,
        _ => EndReason::NotStarted,
    }
}

impl Follower {
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            if let Some(out) = self.body.take() {
                self.heartbeat_at = Instant::now() + self.ctx.heartbeat;
                return Some(out);
            }
            if matches!(self.phase, Phase::Done) {
                return None;
            }
            if self.ctx.shutdown.is_cancelled() {
                self.finish(EndReason::ServerShutdown);
                continue;
            }
            let step = match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Resolve => self.resolve().await,
                Phase::Stream(cur) => self.stream(cur).await,
                Phase::Ending(id, next) => self.ending(id, next).await,
                Phase::Done => Ok(()),
            };
            if let Err(e) = step {
                tracing::error!(job = %self.q.job_id, error = %e, "log stream failed");
                self.phase = Phase::Done;
                let state = self.last.state.to_string();
                self.body.end(&End {
                    reason: EndReason::Error,
                    state,
                    exit_code: None,
                });
            }
        }
    }

    /// Writes `End` for the execution of interest (or the job) and stops.
    fn finish(&mut self, reason: EndReason) {
        let exec = self.execution(&self.last);
        let (state, exit_code) = match exec {
            Some(e) => (
                e.state.to_string(),
                e.run_output.as_ref().map(|r| r.exit_code),
            ),
            None => (self.last.state.to_string(), None),
        };
        self.body.end(&End {
            reason,
            state,
            exit_code,
        });
        self.phase = Phase::Done;
    }

    fn execution<'a>(&self, state: &'a JobState) -> Option<&'a ExecutionState> {
        match &self.q.execution_id {
            Some(id) => state.executions.iter().find(|e| e.compute_reference == *id),
            None => state.executions.last(),
        }
    }

    /// The job's latest committed state (and keeps a receiver while it is live).
    async fn job_state(&mut self) -> Result<Arc<JobState>, JobError> {
        if self.job_rx.is_none() && self.watching {
            self.job_rx = self.ctx.jobs.watch(&self.q.job_id);
            self.watching = self.job_rx.is_some();
        }
        let state = match &mut self.job_rx {
            Some(rx) => rx.borrow_and_update().clone(),
            None => self.ctx.jobs.get(&self.q.job_id).await?.state,
        };
        self.last = state.clone();
        Ok(state)
    }

    /// Waits for the job's next state (with heartbeats).
    async fn wait_job(&mut self) {
        let Some(rx) = &mut self.job_rx else { return };
        let mut dropped = false;
        let woke = wait(&self.ctx.shutdown, self.heartbeat_at, async {
            dropped = rx.changed().await.is_err();
        })
        .await;
        if dropped {
            self.job_rx = None;
            self.watching = false;
        }
        if matches!(woke, Woke::Heartbeat) {
            self.body.heartbeat();
            self.heartbeat_at = Instant::now() + self.ctx.heartbeat;
        }
    }

    async fn resolve(&mut self) -> Result<(), JobError> {
        let state = self.job_state().await?;
        if let Some(e) = self.execution(&state) {
            let id = e.compute_reference.clone();
            self.q.execution_id = Some(id.clone());
            let cursor = self.start(id).await?;
            self.phase = Phase::Stream(Box::new(cursor));
            return Ok(());
        }
        let live = self.job_rx.is_some();
        if state.state.is_terminal() || !self.q.follow || !live {
            self.finish(job_reason(state.state));
            return Ok(());
        }
        self.phase = Phase::Resolve;
        self.waited = true;
        self.wait_job().await;
        Ok(())
    }

    /// Builds the cursor: where to start and, without `Follow`, where to stop.
    async fn start(&mut self, execution_id: String) -> Result<Cursor, JobError> {
        let live = self.hub.get(&execution_id);
        let end = match &live {
            Some(l) => l.progress().next_seq,
            None => self.hub.persisted_end(&execution_id).await?,
        };
        let mut next = if self.q.with_history || self.waited {
            0
        } else {
            end
        };
        if let Some(after) = self.q.after_seq {
            next = next.max(after.saturating_add(1));
        }
        if let Some(n) = self.q.tail {
            next = next.max(
                self.tail_start(&execution_id, live.as_deref(), n, end)
                    .await?,
            );
        }
        Ok(Cursor {
            progress: live.as_ref().map(|l| l.subscribe()),
            live,
            execution_id,
            pos: Position::new(next, (!self.q.follow).then_some(end)),
            db: VecDeque::new(),
            recs: Vec::new(),
        })
    }

    async fn tail_start(
        &self,
        id: &str,
        live: Option<&ExecLog>,
        n: u64,
        end: u64,
    ) -> Result<u64, JobError> {
        if n == 0 {
            return Ok(end);
        }
        let counter = TailCounter {
            remaining: n,
            filter: self.q.filter,
        };
        let (counter, below) = match live.map(|l| l.tail_scan(counter)) {
            Some(TailScan::Found(start)) => return Ok(start),
            Some(TailScan::Need { remaining, below }) => (
                TailCounter {
                    remaining,
                    ..counter
                },
                below,
            ),
            None => (counter, u64::MAX),
        };
        Ok(self
            .hub
            .persisted_tail(id, below, counter)
            .await?
            .unwrap_or(0))
    }

    async fn stream(&mut self, mut cur: Box<Cursor>) -> Result<(), JobError> {
        if let Some(rx) = &mut cur.progress {
            rx.borrow_and_update();
        }
        match self.pump(&mut cur).await? {
            Pumped::Full => self.phase = Phase::Stream(cur),
            Pumped::Finished => {
                self.body.flush_gap(&mut cur.pos);
                self.phase = Phase::Ending(cur.execution_id, cur.pos.next);
            }
            Pumped::Waiting => {
                self.body.flush_gap(&mut cur.pos);
                if self.body.is_empty() {
                    // Idle followers keep little memory.
                    self.body.shrink();
                    cur.recs.shrink_to(16);
                    if let Some(rx) = &mut cur.progress {
                        let woke = wait(&self.ctx.shutdown, self.heartbeat_at, async {
                            let _ = rx.changed().await;
                        })
                        .await;
                        if matches!(woke, Woke::Heartbeat) {
                            self.body.heartbeat();
                            self.heartbeat_at = Instant::now() + self.ctx.heartbeat;
                        }
                    }
                }
                self.phase = Phase::Stream(cur);
            }
        }
        Ok(())
    }

    /// Writes what is available into the body.
    async fn pump(&mut self, cur: &mut Cursor) -> Result<Pumped, JobError> {
        loop {
            if self.body.is_full() {
                return Ok(Pumped::Full);
            }
            if cur.pos.stopped() {
                return Ok(Pumped::Finished);
            }
            if let Some(item) = cur.db.pop_front() {
                match item {
                    Persisted::Records(recs) => self.body.records(&mut cur.pos, &recs),
                    Persisted::Gap { from, to } => self.body.gap(&mut cur.pos, from, to),
                }
                continue;
            }
            let Some(log) = cur.live.clone() else {
                if !self.fetch(cur, None).await? {
                    return Ok(Pumped::Finished);
                }
                continue;
            };
            let mut recs = std::mem::take(&mut cur.recs);
            let slot = log.read_at(cur.pos.next, READ_BYTES, &mut recs);
            for r in recs.drain(..) {
                self.body.record(&mut cur.pos, &r);
            }
            cur.recs = recs;
            match slot {
                Slot::Records => {}
                Slot::Gap { to } => {
                    let from = cur.pos.next;
                    self.body.gap(&mut cur.pos, from, to - 1);
                }
                Slot::Db { upto } => {
                    self.fetch(cur, Some(upto)).await?;
                }
                Slot::CaughtUp { ended: true } => return Ok(Pumped::Finished),
                Slot::CaughtUp { ended: false } => return Ok(Pumped::Waiting),
            }
        }
    }

    /// Reads persisted chunks from the cursor on; with `upto` (a live log) the database
    /// must hold everything below it, so nothing found is a gap. False when the database
    /// has nothing more.
    async fn fetch(&mut self, cur: &mut Cursor, upto: Option<u64>) -> Result<bool, JobError> {
        let items = self
            .hub
            .persisted_from(&cur.execution_id, cur.pos.next, DB_CHUNKS)
            .await?;
        if items.is_empty() {
            if let Some(upto) = upto.filter(|&u| u > cur.pos.next) {
                let from = cur.pos.next;
                self.body.gap(&mut cur.pos, from, upto - 1);
                return Ok(true);
            }
            return Ok(false);
        }
        cur.db.extend(items);
        Ok(true)
    }

    /// After the last record: with `Follow`, waits until the execution is terminal.
    async fn ending(&mut self, execution_id: String, next: u64) -> Result<(), JobError> {
        let state = self.job_state().await?;
        let terminal = state
            .executions
            .iter()
            .find(|e| e.compute_reference == execution_id)
            .is_none_or(|e| e.state.is_terminal());
        if terminal {
            // Records a dead node wrote but never persisted are lost: say so.
            if let Some(written) = self.hub.written_elsewhere(&execution_id).await? {
                if written > next {
                    self.body.lost(next, written - 1);
                }
            }
        }
        if terminal || !self.q.follow || self.job_rx.is_none() {
            let reason = self.execution(&state).map_or(EndReason::Failed, reason_of);
            self.finish(reason);
            return Ok(());
        }
        self.phase = Phase::Ending(execution_id, next);
        self.wait_job().await;
        Ok(())
    }
}
