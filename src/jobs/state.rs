//! The job state machine, pure: given a job's current state and an event, it computes the
//! next state and the history records that explain it. It does no I/O; the service
//! commits what it returns in one transaction.
//!
//! Job: `New → Queued → InProgress → Completed | CompletedPartially | Error | Cancelled`.
//! Execution: `BidAccepted` (running) `→ Completed | Failed | Cancelled`.

use crate::model::*;
use crate::time::Time;

/// Something that happened to a job.
#[derive(Clone, Debug)]
pub enum Event {
    /// The job waits for a free execution slot.
    Queue,
    /// An execution starts on this node.
    StartExecution {
        /// The new execution's id.
        execution_id: String,
        /// This node's id.
        node_id: String,
        /// When the execution will be killed, if the job has a timeout.
        timeout_at: Option<Time>,
    },
    /// An execution finished, one way or another.
    FinishExecution {
        /// Which execution.
        execution_id: String,
        /// How it ended.
        outcome: Box<Outcome>,
    },
    /// An engine's note about a running execution (an image pull). It replaces the
    /// execution's `Status`; a milestone also bumps the execution's version and is kept
    /// in the history, a progress note is not.
    Note {
        /// Which execution.
        execution_id: String,
        /// The note.
        text: String,
        /// Whether it is a milestone.
        milestone: bool,
    },
    /// The owner cancelled the job.
    Cancel {
        /// The reason recorded on every cancelled execution.
        reason: String,
    },
    /// The node restarted while executions were running.
    Interrupt,
    /// A node is gone (lost, or restarted): its executions that had not ended fail with
    /// `reason`; the job ends when no execution is left to run.
    Lost {
        /// The node.
        node_id: String,
        /// Why, in a sentence naming the node.
        reason: String,
    },
}

/// How an execution ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Exit code 0 and outputs published.
    Completed {
        /// Bounded output.
        run_output: RunCommandResult,
        /// Where the outputs went.
        published: StorageSpec,
    },
    /// Non-zero exit, timeout, or an engine error.
    Failed {
        /// Bounded output.
        run_output: RunCommandResult,
        /// Why, in a sentence.
        reason: String,
    },
}

/// What an event did: the next state and the history that explains it.
#[derive(Clone, Debug)]
pub struct Transition {
    /// The job's state after the event.
    pub state: JobState,
    /// History records to append, in order.
    pub history: Vec<JobHistory>,
    /// Indices into `state.executions` of the executions that changed.
    pub touched: Vec<usize>,
    /// Whether the job-level row changed (state, version or timeout).
    pub job_changed: bool,
}

/// Why an event cannot apply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The job already ended.
    #[error("job is already in a terminal state ({0})")]
    JobTerminal(JobStateType),
    /// No such execution on this job.
    #[error("execution {0} does not belong to this job")]
    UnknownExecution(String),
    /// The execution already ended (for example cancelled while it was finishing).
    #[error("execution {0} is already in a terminal state")]
    ExecutionTerminal(String),
    /// The job has already started all its executions.
    #[error("job has already started all {0} executions")]
    AllStarted(usize),
    /// The event does not apply in this state.
    #[error("cannot {event} a job that is {state}")]
    NotAllowed {
        /// The event's name.
        event: &'static str,
        /// The job's state.
        state: JobStateType,
    },
}

/// The history record of a newly created job (`Version` 1).
pub fn created(job_id: &str, now: Time) -> JobHistory {
    JobHistory {
        kind: HistoryType::JobLevel,
        job_id: job_id.to_owned(),
        node_id: String::new(),
        compute_reference: String::new(),
        job_state: Some(job_change(JobStateType::New, JobStateType::New)),
        execution_state: None,
        new_version: 1,
        comment: "Job created".to_owned(),
        time: now,
    }
}

/// The initial state of a job created at `now`.
pub fn initial(job_id: &str, now: Time) -> JobState {
    JobState {
        job_id: job_id.to_owned(),
        executions: Vec::new(),
        state: JobStateType::New,
        version: 1,
        create_time: now,
        update_time: now,
        timeout_at: crate::time::zero(),
    }
}

/// Applies `event` to `current`. `deal` is the job's `Deal`: how many executions it runs
/// and how many must complete.
pub fn apply(
    current: &JobState,
    deal: &Deal,
    event: Event,
    now: Time,
) -> Result<Transition, TransitionError> {
    if current.state.is_terminal() {
        return Err(TransitionError::JobTerminal(current.state));
    }
    let mut t = Transition {
        state: current.clone(),
        history: Vec::new(),
        touched: Vec::new(),
        job_changed: false,
    };
    let concurrency = concurrency(deal);
    match event {
        Event::Queue => {
            if current.state != JobStateType::New {
                return Err(TransitionError::NotAllowed {
                    event: "queue",
                    state: current.state,
                });
            }
            t.set_job(
                JobStateType::Queued,
                "waiting for a free execution slot",
                now,
            );
        }
        Event::StartExecution {
            execution_id,
            node_id,
            timeout_at,
        } => {
            if t.state.executions.len() >= concurrency {
                return Err(TransitionError::AllStarted(concurrency));
            }
            if t.state.state != JobStateType::InProgress {
                if let Some(at) = timeout_at {
                    t.state.timeout_at = at;
                }
                t.set_job(JobStateType::InProgress, "job started", now);
            }
            t.state.executions.push(ExecutionState {
                job_id: current.job_id.clone(),
                node_id: node_id.clone(),
                compute_reference: execution_id,
                state: ExecutionStateType::New,
                accepted_ask_for_bid: true,
                status: String::new(),
                verification_result: VerificationResult::default(),
                published_results: StorageSpec::default(),
                run_output: None,
                version: 0,
                create_time: now,
                update_time: now,
                start_time: Some(now),
                end_time: None,
                duration_ms: None,
            });
            let idx = t.state.executions.len() - 1;
            t.set_execution(
                idx,
                ExecutionStateType::BidAccepted,
                "execution started",
                now,
            );
        }
        Event::FinishExecution {
            execution_id,
            outcome,
        } => {
            let idx = t.find(&execution_id)?;
            match *outcome {
                Outcome::Completed {
                    run_output,
                    published,
                } => {
                    let e = &mut t.state.executions[idx];
                    e.run_output = Some(run_output);
                    e.published_results = published;
                    e.verification_result = VerificationResult {
                        complete: true,
                        result: true,
                    };
                    t.set_execution(
                        idx,
                        ExecutionStateType::Completed,
                        "execution completed",
                        now,
                    );
                }
                Outcome::Failed { run_output, reason } => {
                    t.state.executions[idx].run_output = Some(run_output);
                    t.set_execution(idx, ExecutionStateType::Failed, &reason, now);
                }
            }
            if t.state.executions.len() == concurrency
                && t.state.executions.iter().all(|e| e.state.is_terminal())
            {
                t.finish(deal, now);
            }
        }
        Event::Note {
            execution_id,
            text,
            milestone,
        } => {
            let idx = t.find(&execution_id)?;
            let e = &mut t.state.executions[idx];
            e.status.clone_from(&text);
            e.update_time = now;
            let running = e.state;
            if milestone {
                t.set_execution(idx, running, &text, now);
            } else if !t.touched.contains(&idx) {
                t.touched.push(idx);
            }
        }
        Event::Cancel { reason } => {
            let reason = if reason.trim().is_empty() {
                "cancelled by the client".to_owned()
            } else {
                reason
            };
            for idx in 0..t.state.executions.len() {
                if !t.state.executions[idx].state.is_terminal() {
                    t.set_execution(idx, ExecutionStateType::Cancelled, &reason, now);
                }
            }
            t.set_job(JobStateType::Cancelled, &reason, now);
        }
        Event::Interrupt => {
            let reason = "interrupted by node restart";
            for idx in 0..t.state.executions.len() {
                if !t.state.executions[idx].state.is_terminal() {
                    t.set_execution(idx, ExecutionStateType::Failed, reason, now);
                }
            }
            if t.state.state == JobStateType::InProgress {
                t.finish(deal, now);
            }
        }
        Event::Lost { node_id, reason } => {
            for idx in 0..t.state.executions.len() {
                let e = &t.state.executions[idx];
                if e.node_id == node_id && !e.state.is_terminal() {
                    t.set_execution(idx, ExecutionStateType::Failed, &reason, now);
                }
            }
            if !t.touched.is_empty()
                && t.state.executions.len() == concurrency
                && t.state.executions.iter().all(|e| e.state.is_terminal())
            {
                t.finish(deal, now);
            }
        }
    }
    Ok(t)
}

/// How many executions a deal asks for (at least one).
pub fn concurrency(deal: &Deal) -> usize {
    usize::try_from(deal.concurrency.max(1)).unwrap_or(1)
}

fn job_change(prev: JobStateType, new: JobStateType) -> StateChange<JobStateType> {
    StateChange {
        previous: (prev != JobStateType::New).then_some(prev),
        new: (new != JobStateType::New).then_some(new),
    }
}

fn execution_change(
    prev: ExecutionStateType,
    new: ExecutionStateType,
) -> StateChange<ExecutionStateType> {
    StateChange {
        previous: (prev != ExecutionStateType::New).then_some(prev),
        new: (new != ExecutionStateType::New).then_some(new),
    }
}

impl Transition {
    fn find(&self, execution_id: &str) -> Result<usize, TransitionError> {
        let idx = self
            .state
            .executions
            .iter()
            .position(|e| e.compute_reference == execution_id)
            .ok_or_else(|| TransitionError::UnknownExecution(execution_id.to_owned()))?;
        if self.state.executions[idx].state.is_terminal() {
            return Err(TransitionError::ExecutionTerminal(execution_id.to_owned()));
        }
        Ok(idx)
    }

    fn set_job(&mut self, new: JobStateType, comment: &str, now: Time) {
        let prev = self.state.state;
        self.state.state = new;
        self.state.version += 1;
        self.state.update_time = now;
        self.job_changed = true;
        self.history.push(JobHistory {
            kind: HistoryType::JobLevel,
            job_id: self.state.job_id.clone(),
            node_id: String::new(),
            compute_reference: String::new(),
            job_state: Some(job_change(prev, new)),
            execution_state: None,
            new_version: self.state.version,
            comment: comment.to_owned(),
            time: now,
        });
    }

    fn set_execution(&mut self, idx: usize, new: ExecutionStateType, comment: &str, now: Time) {
        let e = &mut self.state.executions[idx];
        let prev = e.state;
        e.state = new;
        e.version += 1;
        e.update_time = now;
        if new != ExecutionStateType::BidAccepted {
            e.status = comment.to_owned();
        }
        if new.is_terminal() {
            e.end_time = Some(now);
            e.duration_ms = e.start_time.map(|s| (now - s).num_milliseconds());
        }
        self.history.push(JobHistory {
            kind: HistoryType::ExecutionLevel,
            job_id: e.job_id.clone(),
            node_id: e.node_id.clone(),
            compute_reference: e.compute_reference.clone(),
            job_state: None,
            execution_state: Some(execution_change(prev, new)),
            new_version: e.version,
            comment: comment.to_owned(),
            time: now,
        });
        if !self.touched.contains(&idx) {
            self.touched.push(idx);
        }
    }

    /// Moves the job to its final state from its executions' outcomes. Executions that
    /// never started count as not completed.
    fn finish(&mut self, deal: &Deal, now: Time) {
        let n = concurrency(deal);
        let completed = self
            .state
            .executions
            .iter()
            .filter(|e| e.state == ExecutionStateType::Completed)
            .count();
        let required = match usize::try_from(deal.confidence) {
            Ok(c) if c > 0 => c.min(n),
            _ => n,
        };
        let (state, comment) = if completed >= required {
            (
                JobStateType::Completed,
                format!("{completed} of {n} executions completed"),
            )
        } else if completed > 0 {
            (
                JobStateType::CompletedPartially,
                format!("only {completed} of {n} executions completed ({required} required)"),
            )
        } else {
            let why = self
                .state
                .executions
                .iter()
                .rev()
                .find(|e| e.state == ExecutionStateType::Failed)
                .map(|e| e.status.clone())
                .unwrap_or_else(|| "no execution completed".to_owned());
            (JobStateType::Error, why)
        };
        self.set_job(state, &comment, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::now;

    #[test]
    fn a_lost_node_fails_only_its_own_executions_and_the_job_ends_when_none_is_left() {
        let d = deal(2);
        let s = initial("j", now());
        let start = |s: &JobState, e: &str, n: &str| {
            apply(
                s,
                &d,
                Event::StartExecution {
                    execution_id: e.into(),
                    node_id: n.into(),
                    timeout_at: None,
                },
                now(),
            )
            .unwrap()
            .state
        };
        let s = start(&s, "e-1", "n-a");
        let lost = |s: &JobState, n: &str| {
            apply(
                s,
                &d,
                Event::Lost {
                    node_id: n.into(),
                    reason: format!("node {n} lost"),
                },
                now(),
            )
            .unwrap()
        };
        // One of two executions started: the job waits for the other.
        let t = lost(&s, "n-a");
        assert_eq!(t.state.executions[0].state, ExecutionStateType::Failed);
        assert_eq!(t.state.executions[0].status, "node n-a lost");
        assert_eq!(t.state.state, JobStateType::InProgress);
        // Another node's loss changes nothing.
        let s = start(&s, "e-2", "n-b");
        let t = lost(&s, "n-c");
        assert!(t.touched.is_empty() && t.history.is_empty());
        let t = lost(&lost(&s, "n-a").state, "n-b");
        assert_eq!(t.state.state, JobStateType::Error);
    }

    fn deal(concurrency: i64) -> Deal {
        Deal {
            concurrency,
            ..Default::default()
        }
    }

    fn start(state: &JobState, d: &Deal, id: &str) -> JobState {
        let ev = Event::StartExecution {
            execution_id: id.into(),
            node_id: "n".into(),
            timeout_at: None,
        };
        apply(state, d, ev, now()).unwrap().state
    }

    fn finish(state: &JobState, d: &Deal, id: &str, ok: bool) -> Transition {
        let outcome = if ok {
            Outcome::Completed {
                run_output: Default::default(),
                published: Default::default(),
            }
        } else {
            Outcome::Failed {
                run_output: Default::default(),
                reason: "exit code 1".into(),
            }
        };
        apply(
            state,
            d,
            Event::FinishExecution {
                execution_id: id.into(),
                outcome: Box::new(outcome),
            },
            now(),
        )
        .unwrap()
    }

    #[test]
    fn single_execution_success_completes_the_job_with_one_version_per_change() {
        let d = deal(1);
        let s = initial("j", now());
        let s = start(&s, &d, "e1");
        assert_eq!(s.state, JobStateType::InProgress);
        assert_eq!(s.version, 2);
        let t = finish(&s, &d, "e1", true);
        assert_eq!(t.state.state, JobStateType::Completed);
        assert_eq!(t.state.version, 3);
        assert_eq!(t.history.len(), 2, "execution record then job record");
        assert_eq!(t.state.executions[0].state, ExecutionStateType::Completed);
        assert!(t.state.executions[0].duration_ms.is_some());
    }

    #[test]
    fn failure_of_the_only_execution_is_error_with_its_reason() {
        let d = deal(1);
        let s = start(&initial("j", now()), &d, "e1");
        let t = finish(&s, &d, "e1", false);
        assert_eq!(t.state.state, JobStateType::Error);
        assert_eq!(t.history.last().unwrap().comment, "exit code 1");
    }

    #[test]
    fn mixed_outcomes_are_completed_partially() {
        let d = deal(2);
        let s = start(&initial("j", now()), &d, "e1");
        let s = start(&s, &d, "e2");
        let s = finish(&s, &d, "e1", true).state;
        assert_eq!(s.state, JobStateType::InProgress);
        let t = finish(&s, &d, "e2", false);
        assert_eq!(t.state.state, JobStateType::CompletedPartially);
    }

    #[test]
    fn cancel_marks_every_running_execution_and_the_job() {
        let d = deal(2);
        let s = start(&initial("j", now()), &d, "e1");
        let t = apply(&s, &d, Event::Cancel { reason: "".into() }, now()).unwrap();
        assert_eq!(t.state.state, JobStateType::Cancelled);
        assert_eq!(t.state.executions[0].state, ExecutionStateType::Cancelled);
        assert_eq!(t.state.executions[0].status, "cancelled by the client");
        let again = apply(&t.state, &d, Event::Cancel { reason: "".into() }, now());
        assert_eq!(
            again.unwrap_err(),
            TransitionError::JobTerminal(JobStateType::Cancelled)
        );
    }

    #[test]
    fn finishing_a_cancelled_execution_is_refused() {
        let d = deal(1);
        let s = start(&initial("j", now()), &d, "e1");
        let s = apply(
            &s,
            &d,
            Event::Cancel {
                reason: "stop".into(),
            },
            now(),
        )
        .unwrap()
        .state;
        let ev = Event::FinishExecution {
            execution_id: "e1".into(),
            outcome: Box::new(Outcome::Failed {
                run_output: Default::default(),
                reason: "killed".into(),
            }),
        };
        assert!(apply(&s, &d, ev, now()).is_err());
    }

    #[test]
    fn queue_only_applies_to_new_jobs() {
        let d = deal(1);
        let s = initial("j", now());
        let q = apply(&s, &d, Event::Queue, now()).unwrap();
        assert_eq!(q.state.state, JobStateType::Queued);
        assert_eq!(q.history[0].job_state.as_ref().unwrap().previous, None);
        assert!(apply(&q.state, &d, Event::Queue, now()).is_err());
    }

    #[test]
    fn interrupt_fails_running_executions_and_ends_the_job() {
        let d = deal(1);
        let s = start(&initial("j", now()), &d, "e1");
        let t = apply(&s, &d, Event::Interrupt, now()).unwrap();
        assert_eq!(t.state.executions[0].status, "interrupted by node restart");
        assert_eq!(t.state.state, JobStateType::Error);
    }

    #[test]
    fn no_more_executions_than_the_deal_asks_for() {
        let d = deal(1);
        let s = start(&initial("j", now()), &d, "e1");
        let ev = Event::StartExecution {
            execution_id: "e2".into(),
            node_id: "n".into(),
            timeout_at: None,
        };
        assert_eq!(
            apply(&s, &d, ev, now()).unwrap_err(),
            TransitionError::AllStarted(1)
        );
    }

    #[test]
    fn notes_replace_the_status_and_only_milestones_reach_the_history() {
        let d = deal(1);
        let s = start(&initial("j", now()), &d, "e1");
        let note = |text: &str, milestone| Event::Note {
            execution_id: "e1".into(),
            text: text.into(),
            milestone,
        };
        let t = apply(&s, &d, note("pulling image a:1", true), now()).unwrap();
        let e = &t.state.executions[0];
        assert_eq!((e.state, e.version), (ExecutionStateType::BidAccepted, 2));
        assert_eq!(e.status, "pulling image a:1");
        assert_eq!(t.history.len(), 1);
        assert_eq!(t.history[0].comment, "pulling image a:1");
        assert_eq!(t.touched, vec![0]);
        let p = apply(&t.state, &d, note("pulling image a:1: 3 MB", false), now()).unwrap();
        assert_eq!(p.state.executions[0].status, "pulling image a:1: 3 MB");
        assert_eq!(
            p.state.executions[0].version, 2,
            "progress keeps the version"
        );
        assert!(p.history.is_empty() && !p.job_changed);
        assert_eq!(p.touched, vec![0]);
        let done = finish(&p.state, &d, "e1", true).state;
        assert!(apply(&done, &d, note("late", false), now()).is_err());
    }
}
