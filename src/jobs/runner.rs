//! Runs a job: its driver waits for execution slots and starts each execution; an
//! execution prepares its workspace, runs the engine under the job's deadline and cancel
//! token, publishes outputs and records how it ended.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio_util::sync::CancellationToken;

use super::live::LiveJob;
use super::scheduler::Permits;
use super::service::Jobs;
use super::state::{self, Event, Outcome};
use super::JobError;
use crate::engines::{RunContext, StatusNote, StatusSink};
use crate::logs::LogSink;
use crate::model::*;
use crate::time;

/// Ends the log of an [instant](Jobs::is_instant) execution and makes the event that
/// completes it.
pub(super) fn instant_finish(execution_id: String, sink: &LogSink) -> Event {
    sink.end();
    Event::FinishExecution {
        execution_id,
        outcome: Box::new(Outcome::Completed {
            run_output: sink.capture(),
            published: StorageSpec::default(),
        }),
    }
}

/// Why an execution was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    Cancelled,
    TimedOut,
    Shutdown,
}

impl Jobs {
    /// Queues the job's executions and spawns its driver.
    pub(super) fn start_driver(&self, live: Arc<LiveJob>, _fresh: bool) {
        let started = live.snapshot().executions.len();
        let n = state::concurrency(&live.job.spec.deal).saturating_sub(started);
        let (must_wait, permits) = self.inner.scheduler.enqueue(n);
        let this = self.clone();
        let l = live.clone();
        live.tasks
            .spawn(async move { this.drive(l, must_wait, permits).await });
    }

    /// Waits for each slot the job is owed (until [`Permits::next`] has none) and starts
    /// an execution in it. What a queued job holds while it waits is this task, so the
    /// steps that await commits and engines are boxed: the waiting task stays a few
    /// hundred bytes rather than kilobytes.
    async fn drive(self, live: Arc<LiveJob>, must_wait: bool, mut permits: Permits) {
        if must_wait && live.snapshot().state == JobStateType::New {
            if let Err(e) = Box::pin(self.transition_durably(&live, Event::Queue)).await {
                tracing::warn!(job = %live.job.metadata.id, error = %e, "could not mark job queued");
            }
        }
        loop {
            let permit = tokio::select! {
                p = permits.next() => p,
                () = live.cancel.cancelled() => None,
                () = self.inner.shutdown.cancelled() => None,
            };
            let Some(permit) = permit else { return };
            if !Box::pin(self.start_execution(&live, permit)).await {
                return;
            }
        }
    }

    /// Starts one execution in the slot `permit` holds; `false` when the job can start
    /// no more (it ended meanwhile, or the start could not be recorded).
    async fn start_execution(&self, live: &Arc<LiveJob>, permit: OwnedSemaphorePermit) -> bool {
        let job_id = &live.job.metadata.id;
        let execution_id = format!("e-{}", uuid::Uuid::new_v4());
        let (timeout, timeout_at) = deadline(&live.job, time::now());
        let start = Event::StartExecution {
            execution_id: execution_id.clone(),
            node_id: self.inner.node_id.clone(),
            timeout_at,
        };
        // The log opens before the execution becomes visible: a follower that sees the
        // execution finds its log in the hub, or (once ended) all of it in the database.
        let sink = self.inner.logs.open(
            job_id,
            &execution_id,
            self.inner.settings.output_capture_bytes,
        );
        if self.is_instant(&live.job) {
            self.run_instant(live, start, execution_id, sink).await;
            drop(permit);
            return true;
        }
        match self.transition_durably(live, start).await {
            Ok(_) => {}
            Err(JobError::Terminal { .. }) => {
                sink.end();
                return false;
            }
            Err(e) => {
                tracing::error!(job = %job_id, error = %e, "could not start execution");
                sink.end();
                return false;
            }
        }
        let this = self.clone();
        let l = live.clone();
        live.tasks.spawn(async move {
            this.run_execution(l, execution_id, timeout, permit, sink)
                .await
        });
        true
    }

    /// Whether an execution of `job` has no effect outside this node and ends at once
    /// (Noop, with no inputs, outputs or publisher): it is then started and finished in one
    /// commit (on a single node) or in its claim (in a cluster), its history as exact as
    /// when each step commits by itself.
    pub(super) fn is_instant(&self, job: &Job) -> bool {
        let spec = &job.spec;
        spec.engine == Some(Engine::Noop)
            && self.inner.engines.get(Engine::Noop).is_some()
            && spec.inputs.is_empty()
            && spec.outputs.is_empty()
            && matches!(spec.publisher_spec.kind, None | Some(Publisher::Noop))
    }

    /// Starts and completes an [instant](Self::is_instant) execution in one commit.
    async fn run_instant(&self, live: &LiveJob, start: Event, execution_id: String, sink: LogSink) {
        let finish = instant_finish(execution_id.clone(), &sink);
        let both = || self.transition_all(live, vec![start.clone(), finish.clone()]);
        match self.durably(live, both).await {
            Ok(_) | Err(JobError::Terminal { .. }) => {}
            Err(e) => {
                tracing::error!(job = %live.job.metadata.id, execution = %execution_id,
                    error = %e, "could not run execution");
            }
        }
    }

    pub(super) async fn run_execution(
        self,
        live: Arc<LiveJob>,
        execution_id: String,
        timeout: Duration,
        permit: OwnedSemaphorePermit,
        sink: LogSink,
    ) {
        let job = live.job.clone();
        let job_id = job.metadata.id.clone();
        let stop = live.cancel.child_token();
        let reason = Arc::new(OnceLock::new());
        let watcher = tokio::spawn(watch_stop(
            stop.clone(),
            live.cancel.clone(),
            self.inner.shutdown.clone(),
            (timeout > Duration::ZERO).then_some(timeout),
            reason.clone(),
        ));

        let storage = &self.inner.storage;
        let prepared = match storage.prepare(&job, &execution_id).await {
            Ok(ws) => match storage.output_spool(&job, &ws).await {
                Ok(spool) => Ok((Arc::new(ws), spool)),
                Err(e) => {
                    let _ = ws.cleanup().await;
                    Err(e)
                }
            },
            Err(e) => Err(e),
        };
        let (ws, spool) = match prepared {
            Ok(prepared) => prepared,
            Err(e) => {
                let outcome = Outcome::Failed {
                    run_output: RunCommandResult {
                        runner_error: format!("{e:#}"),
                        ..Default::default()
                    },
                    reason: format!("preparing inputs failed: {e:#}"),
                };
                sink.end();
                live.forget_local(&execution_id);
                self.finish(&live, &execution_id, outcome).await;
                watcher.abort();
                return;
            }
        };
        let engine = job.spec.engine.and_then(|k| self.inner.engines.get(k));
        let (status, notes) = StatusSink::channel();
        let notes_done = CancellationToken::new();
        let recorder = tokio::spawn(self.clone().record_notes(
            live.clone(),
            execution_id.clone(),
            notes,
            notes_done.clone(),
        ));
        let result = match engine {
            Some(engine) => {
                let ctx = RunContext {
                    job: job.clone(),
                    execution_id: execution_id.clone(),
                    workspace: ws.clone(),
                    logs: sink.with_spool(spool.clone()),
                    stop: stop.clone(),
                    kill_grace: self.inner.settings.kill_grace,
                    status,
                };
                engine.run(ctx).await
            }
            None => Err(anyhow::anyhow!(
                "engine {:?} is not enabled on this node",
                job.spec.engine
            )),
        };
        // The engine's last notes are recorded before its end, which replaces them.
        notes_done.cancel();
        let _ = recorder.await;
        // The slot bounds what engines run at once; publishing and recording the end
        // need none, so the next execution may start now.
        drop(permit);
        let mut run_output = sink.capture();
        watcher.abort();
        let stopped = if live.cancel.is_cancelled() {
            Some(StopReason::Cancelled)
        } else {
            reason.get().copied()
        };
        let outcome = match (stopped, result) {
            (Some(StopReason::Cancelled), _) => None,
            (Some(StopReason::TimedOut), r) => {
                // A program killed at its deadline has no exit code of its own.
                run_output.exit_code = r.unwrap_or(-1);
                Some(Outcome::Failed {
                    run_output,
                    reason: format!("timed out after {}s", fmt_secs(job.spec.timeout)),
                })
            }
            (Some(StopReason::Shutdown), _) => Some(Outcome::Failed {
                run_output,
                reason: "interrupted by node shutdown".into(),
            }),
            (None, Ok(0)) => {
                match self
                    .inner
                    .storage
                    .publish(
                        &job,
                        &execution_id,
                        &self.inner.node_id,
                        &ws,
                        spool.as_deref(),
                        &run_output,
                    )
                    .await
                {
                    Ok(published) => Some(Outcome::Completed {
                        run_output,
                        published,
                    }),
                    Err(e) => Some(Outcome::Failed {
                        reason: format!("publishing outputs failed: {e:#}"),
                        run_output: RunCommandResult {
                            runner_error: format!("{e:#}"),
                            ..run_output
                        },
                    }),
                }
            }
            (None, Ok(code)) => {
                run_output.exit_code = code;
                Some(Outcome::Failed {
                    run_output,
                    reason: format!("exit code {code}"),
                })
            }
            (None, Err(e)) => Some(Outcome::Failed {
                reason: format!("engine error: {e:#}"),
                run_output: RunCommandResult {
                    runner_error: format!("{e:#}"),
                    exit_code: -1,
                    ..run_output
                },
            }),
        };
        sink.end();
        live.forget_local(&execution_id);
        if self.inner.store.cluster().is_some() {
            // Other nodes serve the log of an ended execution from the database alone.
            sink.log().wait_durable(LOG_DURABLE_WAIT).await;
        }
        if let Some(outcome) = outcome {
            self.finish(&live, &execution_id, outcome).await;
        }
        if let Err(e) = ws.cleanup().await {
            tracing::warn!(job = %job_id, execution = %execution_id, error = %e, "workspace cleanup failed");
        }
    }

    /// Commits a change the server makes by itself (queue, start, finish), retrying while
    /// the database cannot take writes (locked by another process, disk full): losing it
    /// would leave the job in its old state until a restart. At shutdown it gives up; the
    /// recovery at the next start settles the job.
    async fn transition_durably(
        &self,
        live: &LiveJob,
        event: Event,
    ) -> Result<Arc<JobState>, JobError> {
        self.durably(live, || self.transition(live, event.clone()))
            .await
    }

    /// Runs `attempt` until it is not refused for an unavailable database (see
    /// [`Self::transition_durably`]).
    async fn durably<F, Fut>(
        &self,
        live: &LiveJob,
        mut attempt: F,
    ) -> Result<Arc<JobState>, JobError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Arc<JobState>, JobError>>,
    {
        let mut wait = Duration::from_millis(100);
        loop {
            match attempt().await {
                Err(JobError::Unavailable(why) | JobError::DatabaseUnavailable(why))
                    if !self.inner.shutdown.is_cancelled() =>
                {
                    tracing::warn!(job = %live.job.metadata.id, error = %why,
                        retry_in_ms = wait.as_millis() as u64, "state change not committed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = self.inner.shutdown.cancelled() => {}
                    }
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                r => return r,
            }
        }
    }

    async fn finish(&self, live: &LiveJob, execution_id: &str, outcome: Outcome) {
        let ev = Event::FinishExecution {
            execution_id: execution_id.to_owned(),
            outcome: Box::new(outcome),
        };
        match self.transition_durably(live, ev).await {
            Ok(_) | Err(JobError::Terminal { .. }) => {}
            Err(e) => {
                tracing::warn!(execution = %execution_id, error = %e, "could not record the end of an execution")
            }
        }
    }
}

impl Jobs {
    /// Records an engine's notes about a running execution (see [`Event::Note`]): each
    /// milestone as it comes, the newest progress note at most every [`NOTE_INTERVAL`].
    /// After `done` it records the milestones still queued and returns.
    async fn record_notes(
        self,
        live: Arc<LiveJob>,
        execution_id: String,
        mut notes: mpsc::UnboundedReceiver<StatusNote>,
        done: CancellationToken,
    ) {
        let mut pending: Option<String> = None;
        let mut last_progress: Option<tokio::time::Instant> = None;
        loop {
            let due = pending.as_ref().map(|_| {
                last_progress.map_or_else(tokio::time::Instant::now, |t| t + NOTE_INTERVAL)
            });
            let flush = async move {
                match due {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let note = tokio::select! {
                n = notes.recv() => match n {
                    Some(n) => n,
                    None => return,
                },
                () = flush => {
                    let text = pending.take().unwrap_or_default();
                    last_progress = Some(tokio::time::Instant::now());
                    self.record_note(&live, &execution_id, text, false).await;
                    continue;
                }
                () = done.cancelled() => break,
            };
            if note.milestone {
                // A progress note before a milestone is old news.
                pending = None;
                self.record_note(&live, &execution_id, note.text, true)
                    .await;
            } else {
                pending = Some(note.text);
            }
        }
        while let Ok(note) = notes.try_recv() {
            if note.milestone {
                self.record_note(&live, &execution_id, note.text, true)
                    .await;
            }
        }
    }

    async fn record_note(&self, live: &LiveJob, execution_id: &str, text: String, milestone: bool) {
        let ev = Event::Note {
            execution_id: execution_id.to_owned(),
            text,
            milestone,
        };
        if let Err(e) = self.transition(live, ev).await {
            tracing::debug!(execution = %execution_id, error = %e, "an engine note was not recorded");
        }
    }
}

/// A job's execution deadline: how long it may run and, when it has a timeout, the time
/// it will be killed if it starts at `now`.
pub(super) fn deadline(job: &Job, now: time::Time) -> (Duration, Option<time::Time>) {
    let timeout = Duration::from_secs_f64(job.spec.timeout.max(0.0));
    let at = (job.spec.timeout > 0.0)
        .then(|| now + chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::MAX));
    (timeout, at)
}

/// How long an ended execution's end waits for its log to be committed (in a cluster).
const LOG_DURABLE_WAIT: Duration = Duration::from_secs(10);

/// The shortest time between two recorded progress notes of an execution.
const NOTE_INTERVAL: Duration = Duration::from_millis(500);

async fn watch_stop(
    stop: CancellationToken,
    cancel: CancellationToken,
    shutdown: CancellationToken,
    timeout: Option<Duration>,
    reason: Arc<OnceLock<StopReason>>,
) {
    let deadline = async {
        match timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    let r = tokio::select! {
        () = cancel.cancelled() => StopReason::Cancelled,
        () = shutdown.cancelled() => StopReason::Shutdown,
        () = deadline => StopReason::TimedOut,
    };
    let _ = reason.set(r);
    stop.cancel();
}

fn fmt_secs(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{}", s as i64)
    } else {
        format!("{s}")
    }
}
