//! The job service: submit, read, list, cancel, and the one code path through which every
//! state change is computed ([`super::state`]), committed ([`crate::store`]) and published
//! to watchers. Live jobs are held in memory; finished ones are read from the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use super::cache::FinishedCache;
use super::live::LiveJob;
use super::rows::{commit_of, history_row, normalize, to_json, transition_error};
use super::scheduler::Scheduler;
use super::state::{self, Event};
use super::{validate, JobError, JobSettings};
use crate::cluster::Node;
use crate::engines::Engines;
use crate::logs::LogHub;
use crate::metrics::Metrics;
use crate::model::*;
use crate::storage::Storage;
use crate::store::{Inserted, NewJob, NewNonce, NonceRoute, Store};
use crate::time;

/// A job and its current state.
#[derive(Debug, Clone)]
pub struct JobView {
    /// The job as submitted (with server-filled metadata).
    pub job: Arc<Job>,
    /// Its state.
    pub state: Arc<JobState>,
}

/// A verified submit.
#[derive(Debug, Clone)]
pub struct SubmitRequest {
    /// The verified client.
    pub client_id: String,
    /// Payload APIVersion.
    pub api_version: String,
    /// The spec.
    pub spec: Spec,
    /// Payload Nonce, when sent (idempotent retries).
    pub nonce: Option<String>,
}

/// The job service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Jobs {
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) store: Store,
    pub(super) settings: JobSettings,
    pub(super) node_id: String,
    pub(super) engines: Engines,
    pub(super) storage: Storage,
    pub(super) logs: LogHub,
    pub(super) metrics: Arc<Metrics>,
    pub(super) scheduler: Scheduler,
    /// This node in its cluster (on SQLite, a cluster of one).
    pub(super) node: Arc<Node>,
    /// Wakes this node's claimer: work may be waiting (PostgreSQL only).
    pub(super) claim_wake: Notify,
    /// Jobs that are not terminal yet and that this node runs or watches, by id.
    pub(super) live: Mutex<HashMap<String, Arc<LiveJob>>>,
    /// Recently finished jobs, answered without a disk read.
    finished: FinishedCache,
    /// Fires at shutdown: running executions are stopped and recorded as interrupted.
    pub(super) shutdown: CancellationToken,
}

impl Jobs {
    /// Builds the service. Call [`Jobs::recover`] before serving.
    pub fn new(
        store: Store,
        settings: JobSettings,
        node: Arc<Node>,
        engines: Engines,
        storage: Storage,
        logs: LogHub,
        metrics: Arc<Metrics>,
    ) -> Self {
        let scheduler = Scheduler::start(settings.max_concurrent.max(1));
        Self {
            inner: Arc::new(Inner {
                store,
                settings,
                node_id: node.id.clone(),
                node,
                claim_wake: Notify::new(),
                engines,
                storage,
                logs,
                metrics,
                scheduler,
                live: Mutex::new(HashMap::new()),
                // A finished job's view takes about 3–4 KB: the last 2,048 answer the
                // clients still polling them; older ones are read from the store.
                finished: FinishedCache::new(2_048, 16 * 1024 * 1024),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.inner.node_id
    }

    /// The store (for readiness checks).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The engines this node runs.
    pub fn engines(&self) -> &Engines {
        &self.inner.engines
    }

    /// The execution-slot scheduler.
    pub fn scheduler(&self) -> &Scheduler {
        &self.inner.scheduler
    }

    /// This node in its cluster.
    pub fn node(&self) -> &Arc<Node> {
        &self.inner.node
    }

    /// The log hub.
    pub fn logs(&self) -> &LogHub {
        &self.inner.logs
    }

    /// After a restart: executions that were running are failed ("interrupted by node
    /// restart") and their jobs move on; jobs that had not started are queued again in
    /// submit order.
    pub async fn recover(&self) -> Result<(), JobError> {
        if self.inner.store.cluster().is_some() {
            return self.recover_node().await;
        }
        let unfinished = self.inner.store.unfinished_jobs().await?;
        let mut requeued = 0;
        for stored in unfinished {
            let live = LiveJob::new(Arc::new(stored.job), stored.state.clone());
            self.register(&live);
            let interrupted = stored.state.state == JobStateType::InProgress
                || stored
                    .state
                    .executions
                    .iter()
                    .any(|e| !e.state.is_terminal());
            if interrupted {
                self.transition(&live, Event::Interrupt).await?;
                if !live.snapshot().state.is_terminal() {
                    // Some executions never started; nothing will start them now.
                    self.unregister(&live);
                }
            } else {
                requeued += 1;
                self.start_driver(live, false);
            }
        }
        if requeued > 0 {
            tracing::info!(requeued, "queued jobs again after restart");
        }
        Ok(())
    }

    /// Validates and stores a job, then schedules it. The answer comes after the commit.
    pub async fn submit(&self, req: SubmitRequest) -> Result<Job, JobError> {
        if self.inner.shutdown.is_cancelled() {
            return Err(JobError::Unavailable("the server is shutting down".into()));
        }
        if req.api_version.trim().is_empty() {
            return Err(JobError::Invalid(
                "payload APIVersion is required (e.g. \"V1beta1\")".into(),
            ));
        }
        let mut spec = req.spec;
        validate::spec(&spec).map_err(JobError::Invalid)?;
        // In a cluster another node may run an engine this one lacks; a spec that engine
        // cannot run then fails its execution there, with the engine's reason.
        let local_engine = spec
            .engine
            .is_some_and(|e| self.inner.engines.get(e).is_some());
        if local_engine || self.inner.store.cluster().is_none() {
            self.inner
                .engines
                .validate(&spec)
                .map_err(JobError::Invalid)?;
        }
        let placeable = match self.inner.node.check_placeable(&spec) {
            // The registry seen here may predate a node that just joined: read it again.
            Err(_) if self.inner.store.cluster().is_some() => {
                self.nodes().await?;
                self.inner.node.check_placeable(&spec)
            }
            other => other,
        };
        placeable.map_err(|e| JobError::Invalid(e.0))?;
        self.inner
            .storage
            .validate_inputs(&spec)
            .map_err(JobError::Invalid)?;
        if local_engine {
            self.inner
                .engines
                .check(&spec)
                .await
                .map_err(JobError::Invalid)?;
        }
        normalize(&mut spec, self.inner.settings.default_timeout_secs);

        let now = time::now();
        let id = uuid::Uuid::new_v4().to_string();
        let job = Job {
            api_version: req.api_version,
            metadata: Metadata {
                id: id.clone(),
                created_at: now,
                client_id: req.client_id.clone(),
                requester: RequesterInfo {
                    requester_node_id: self.inner.node_id.clone(),
                    requester_public_key: String::new(),
                },
            },
            spec,
        };
        let state = state::initial(&id, now);
        let created = state::created(&id, now);
        let expires_at = self.nonce_expiry();
        let new = NewJob {
            id: id.clone(),
            client_id: req.client_id.clone(),
            created_at: time::to_nanos(now),
            job_json: to_json(&job),
            state: state.state.to_string(),
            version: state.version,
            history: history_row(&created),
            engine: job.spec.engine.map(|e| e.to_string()).unwrap_or_default(),
            executions: job.spec.deal.concurrency.max(1),
            placement: to_json(&crate::cluster::placement::Placement::of(&job.spec)),
            nonce: req.nonce.map(|nonce| NewNonce {
                client_id: req.client_id,
                nonce,
                route: NonceRoute::Submit,
                job_id: Some(id.clone()),
                expires_at,
            }),
        };
        match self.inner.store.insert_job(new).await? {
            Inserted::Created if self.inner.store.cluster().is_some() => {
                // Its executions wait in the database for a node to claim them.
                self.inner.claim_wake.notify_one();
                Ok(job)
            }
            Inserted::Created => {
                let job = Arc::new(job);
                let live = LiveJob::new(job.clone(), state);
                self.register(&live);
                self.start_driver(live, true);
                Ok((*job).clone())
            }
            Inserted::Duplicate { job_id } => {
                let view = self.get(&job_id).await?;
                Ok((*view.job).clone())
            }
        }
    }

    /// Resolves a full id or a unique prefix of at least 8 characters.
    pub async fn resolve(&self, id: &str) -> Result<String, JobError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(JobError::Invalid("job_id is required".into()));
        }
        if id.len() == 36 {
            if self.cached(id).is_some() || self.inner.store.job(id).await?.is_some() {
                return Ok(id.to_owned());
            }
            return Err(JobError::NotFound(id.to_owned()));
        }
        if id.len() < 8 {
            return Err(JobError::Invalid(format!(
                "job id {id:?} is too short: give the full id or at least its first 8 characters"
            )));
        }
        let matches = self.inner.store.ids_with_prefix(id, 5).await?;
        match matches.len() {
            0 => Err(JobError::NotFound(id.to_owned())),
            1 => Ok(matches.into_iter().next().expect("one match")),
            _ => Err(JobError::Ambiguous {
                prefix: id.to_owned(),
                matches,
            }),
        }
    }

    /// A job and its state, by full id or unique prefix. Live and recently finished jobs
    /// are answered from memory.
    pub async fn get(&self, id: &str) -> Result<JobView, JobError> {
        let id = id.trim();
        if id.len() == 36 {
            if let Some(view) = self.cached(id) {
                return Ok(view);
            }
        }
        let id = self.resolve(id).await?;
        if let Some(view) = self.cached(&id) {
            return Ok(view);
        }
        let stored = self
            .inner
            .store
            .job(&id)
            .await?
            .ok_or_else(|| JobError::NotFound(id.clone()))?;
        let view = JobView {
            job: Arc::new(stored.job),
            state: Arc::new(stored.state),
        };
        if view.state.state.is_terminal() {
            self.inner.finished.put(view.clone());
        }
        Ok(view)
    }

    fn cached(&self, id: &str) -> Option<JobView> {
        if let Some(live) = self.live_job(id) {
            return Some(JobView {
                job: live.job.clone(),
                state: live.snapshot(),
            });
        }
        self.inner.finished.get(id)
    }

    /// Waits up to `wait` for the job's version to pass `after_version`, then answers the
    /// current state (long-poll). Woken by commits, not by polling the database.
    pub async fn wait_state(
        &self,
        id: &str,
        after_version: i64,
        wait: Duration,
    ) -> Result<JobView, JobError> {
        let view = self.get(id).await?;
        if view.state.version > after_version || view.state.state.is_terminal() {
            return Ok(view);
        }
        let live = match self.live_job(&view.state.job_id) {
            Some(live) => live,
            // In a cluster the job may run elsewhere: watch it here, fed by notifications.
            None if self.inner.store.cluster().is_some() => self.shadow(&view),
            None => return self.get(&view.state.job_id).await,
        };
        let mut rx = live.watch.subscribe();
        let shutdown = self.inner.shutdown.clone();
        let _ = tokio::time::timeout(wait, async {
            tokio::select! {
                r = rx.wait_for(|s| s.version > after_version || s.state.is_terminal()) => r.map(|_| ()).ok(),
                () = shutdown.cancelled() => None,
            }
        })
        .await;
        let state = live.snapshot();
        Ok(JobView {
            job: live.job.clone(),
            state,
        })
    }

    /// A receiver of the job's committed states, while it is live.
    pub fn watch(&self, id: &str) -> Option<watch::Receiver<Arc<JobState>>> {
        self.live_job(id).map(|l| l.watch.subscribe())
    }

    /// The job's history, oldest first.
    pub async fn history(&self, id: &str) -> Result<(String, Vec<JobHistory>), JobError> {
        let id = self.resolve(id).await?;
        let h = self.inner.store.history(&id).await?;
        Ok((id, h))
    }

    /// Published results of the completed executions.
    pub async fn results(&self, id: &str) -> Result<Vec<PublishedResult>, JobError> {
        let view = self.get(id).await?;
        Ok(view
            .state
            .executions
            .iter()
            .filter(|e| e.state == ExecutionStateType::Completed)
            .map(|e| PublishedResult {
                node_id: e.node_id.clone(),
                data: e.published_results.clone(),
            })
            .collect())
    }

    /// Stops accepting work; running executions are stopped and recorded as interrupted.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.shutdown.cancel();
        let lives = self.live_jobs();
        let _ = tokio::time::timeout(grace, async {
            for l in lives {
                l.tasks.close();
                l.tasks.wait().await;
            }
        })
        .await;
        self.leave_cluster().await;
    }

    /// The one code path for state changes: compute, commit, publish.
    pub(super) async fn transition(
        &self,
        live: &LiveJob,
        event: Event,
    ) -> Result<Arc<JobState>, JobError> {
        self.transition_with(live, event, None).await
    }

    /// [`Self::transition`], recording the causing request's nonce in the same commit.
    pub(super) async fn transition_with(
        &self,
        live: &LiveJob,
        event: Event,
        nonce: Option<NewNonce>,
    ) -> Result<Arc<JobState>, JobError> {
        let mut guard = live.state.lock().await;
        let deal = &live.job.spec.deal;
        let now = time::now();
        let id = &live.job.metadata.id;
        let next = match self.inner.store.cluster() {
            // Several nodes may change this job: compute from what the database holds,
            // under the job's row lock.
            Some(c) => {
                let deal = deal.clone();
                let change = move |stored: &crate::store::StoredJob| {
                    let t = state::apply(&stored.state, &deal, event.clone(), now)?;
                    let mut commit = commit_of(&t);
                    commit.nonce.clone_from(&nonce);
                    Ok((commit, t.state))
                };
                c.change(id, Box::new(change))
                    .await?
                    .ok_or_else(|| JobError::NotFound(id.clone()))?
                    .map_err(|e| match e.downcast::<state::TransitionError>() {
                        Ok(te) => transition_error(id, *te),
                        Err(other) => JobError::Invalid(other.to_string()),
                    })?
            }
            None => {
                let t =
                    state::apply(&guard, deal, event, now).map_err(|e| transition_error(id, e))?;
                let mut commit = commit_of(&t);
                commit.nonce = nonce;
                self.inner.store.commit(commit).await?;
                t.state
            }
        };
        // Published under the lock, so that watchers never see an older state after a
        // newer one.
        *guard = self.publish(live, next);
        Ok(guard.clone())
    }

    /// Applies `events` in order and commits them as one change (single node only): the
    /// job row and executions as the last event left them, the history of every event.
    /// Watchers see only the final state.
    pub(super) async fn transition_all(
        &self,
        live: &LiveJob,
        events: Vec<Event>,
    ) -> Result<Arc<JobState>, JobError> {
        debug_assert!(self.inner.store.cluster().is_none());
        let mut guard = live.state.lock().await;
        let deal = &live.job.spec.deal;
        let now = time::now();
        let id = &live.job.metadata.id;
        let mut state = JobState::clone(&guard);
        let mut commit: Option<crate::store::Commit> = None;
        for event in events {
            let t = state::apply(&state, deal, event, now).map_err(|e| transition_error(id, e))?;
            let next = commit_of(&t);
            commit = Some(match commit {
                None => next,
                Some(c) => c.then(next),
            });
            state = t.state;
        }
        if let Some(commit) = commit {
            self.inner.store.commit(commit).await?;
        }
        *guard = self.publish(live, state);
        Ok(guard.clone())
    }

    /// Makes a committed state the job's current one here: watchers see it, and a job
    /// that ended leaves the live map for the finished cache.
    pub(super) fn publish(&self, live: &LiveJob, state: JobState) -> Arc<JobState> {
        let snapshot = Arc::new(state);
        live.watch.send_replace(snapshot.clone());
        if snapshot.state.is_terminal() {
            self.inner.metrics.finished(snapshot.state.as_str());
            self.inner.finished.put(JobView {
                job: live.job.clone(),
                state: snapshot.clone(),
            });
            self.unregister(live);
        }
        snapshot
    }
}
