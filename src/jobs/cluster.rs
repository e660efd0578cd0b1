//! The job service in a cluster (PostgreSQL): this node claims waiting executions it
//! can run, heartbeats and renews the leases of what it runs (stopping what it no longer
//! holds), reaps the executions of lost nodes, and keeps the jobs watched here current
//! when other nodes change them (notifications, with a poll behind them).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;

use super::live::LiveJob;
use super::rows::{commit_of, to_json};
use super::service::Jobs;
use super::state::{self, Event};
use super::JobError;
use crate::cluster::{heartbeat_interval, placement, Capacity};
use crate::model::{Engine, JobState};
use crate::store::postgres::cluster::{PendingJob, PgCluster, Pick, Started, PENDING_CHANNEL};
use crate::store::StoreError;
use crate::time;

/// Jobs with waiting executions one claim looks at.
const CLAIM_WINDOW: u16 = 32;
/// Most executions one claim takes (one per free slot).
const CLAIM_BATCH: usize = 8;
/// How often jobs watched here are compared with the database, in case a notification
/// was lost.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// How long a job waits for a node before it is marked `Queued`.
const QUEUED_AFTER: Duration = Duration::from_millis(500);

/// Claims of one node in flight at once: the second reads and locks while the first
/// commits.
const CLAIMERS: usize = 2;

/// What the claimers of one node share so that their claims overlap without reading the
/// same rows.
#[derive(Default)]
struct ClaimLane {
    /// Held by a claim from its read of the window until it has locked what it takes, so
    /// the next claim reads after that and skips those rows.
    reading: tokio::sync::Mutex<()>,
    /// `pending` rows locked by a claim of this node that has not ended yet.
    locked: std::sync::Mutex<HashSet<i64>>,
}

/// What one claim found and did.
struct ClaimOutcome {
    /// It took at least one execution (more may be waiting).
    claimed: bool,
    /// Executions that need a slot and fit here were left for want of one.
    slot_work_left: bool,
}

/// What a claim did with one job.
enum Claimed {
    /// An execution to run here: the job, its state once started, the execution's log
    /// and id.
    Run(crate::model::Job, JobState, crate::logs::LogSink, String),
    /// An [instant](Jobs::is_instant) execution, started and finished in the claim: the
    /// job and its state afterwards.
    Done(crate::model::Job, JobState),
}

/// What tells two states of a job apart: its version and its executions' versions.
fn fingerprint(s: &JobState) -> (i64, usize, i64) {
    (
        s.version,
        s.executions.len(),
        s.executions.iter().map(|e| e.version).sum(),
    )
}

impl Jobs {
    fn cluster(&self) -> &PgCluster {
        self.inner
            .store
            .cluster()
            .expect("cluster tasks run on PostgreSQL only")
    }

    /// At start-up on PostgreSQL: joins the registry, fails what this node was running
    /// when it stopped ("interrupted by node restart"), and starts the cluster's tasks.
    pub(super) async fn recover_node(&self) -> Result<(), JobError> {
        self.heartbeat_once().await?;
        let me = self.inner.node.id.clone();
        for id in self.cluster().unfinished_on(&me).await? {
            self.node_lost(&id, &me, "interrupted by node restart")
                .await?;
        }
        tokio::spawn(self.clone().heartbeats());
        tokio::spawn(self.clone().reaper());
        tokio::spawn(self.clone().listener());
        if self.inner.node.is_compute() {
            let lane = Arc::new(ClaimLane::default());
            for _ in 0..CLAIMERS {
                tokio::spawn(self.clone().claimer(lane.clone()));
            }
        }
        Ok(())
    }

    /// Marks this node gone, so that others see it disconnected at once (clean stop).
    pub(super) async fn leave_cluster(&self) {
        if let Some(c) = self.inner.store.cluster() {
            if let Err(e) = c.leave(&self.inner.node.id, self.inner.node.timeout).await {
                tracing::debug!(error = %e, "could not mark this node gone");
            }
        }
    }

    /// The nodes of the cluster as the database holds them now (this node alone on
    /// SQLite); the registry cache is refreshed on the way.
    pub async fn nodes(&self) -> Result<Vec<crate::cluster::Member>, JobError> {
        let node = &self.inner.node;
        if let Some(c) = self.inner.store.cluster() {
            node.set_members(c.nodes(node.timeout).await?);
        }
        Ok(node.members_now(self.inner.scheduler.running()))
    }

    /// The job live here, or a copy of it from the database to change (not registered).
    async fn live_or_stored(&self, id: &str) -> Result<Option<Arc<LiveJob>>, JobError> {
        if let Some(live) = self.live_job(id) {
            return Ok(Some(live));
        }
        Ok(self
            .inner
            .store
            .job(id)
            .await?
            .map(|s| LiveJob::new(Arc::new(s.job), s.state)))
    }

    /// Fails the executions `node` was running of job `id`, with `reason`.
    async fn node_lost(&self, id: &str, node: &str, reason: &str) -> Result<(), JobError> {
        let Some(live) = self.live_or_stored(id).await? else {
            return Ok(());
        };
        let ev = Event::Lost {
            node_id: node.to_owned(),
            reason: reason.to_owned(),
        };
        match self.transition(&live, ev).await {
            Ok(_) | Err(JobError::Terminal { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// One heartbeat: this node's facts and liveness, the leases of its executions, and
    /// the registry as the database holds it now.
    async fn heartbeat_once(&self) -> Result<(), StoreError> {
        let c = self.cluster();
        let node = &self.inner.node;
        let spec = node.spec(self.inner.scheduler.running());
        c.heartbeat(&node.id, &to_json(&spec)).await?;
        if node.is_compute() {
            let asked = Instant::now();
            let progress: Vec<(String, i64)> = self
                .live_jobs()
                .iter()
                .flat_map(|l| {
                    let ids: Vec<String> = l
                        .local
                        .lock()
                        .expect("local executions")
                        .keys()
                        .cloned()
                        .collect();
                    ids
                })
                .filter_map(|id| {
                    let next = self.inner.logs.get(&id)?.progress().next_seq;
                    Some((id, i64::try_from(next).ok()?))
                })
                .collect();
            let held: HashSet<String> = c
                .renew_leases(&node.id, &progress)
                .await?
                .into_iter()
                .collect();
            self.drop_lost_leases(&held, asked);
        }
        node.set_members(c.nodes(node.timeout).await?);
        Ok(())
    }

    /// Stops the executions running here that this node no longer holds: cancelled, or
    /// failed by another node's reaper while this one could not reach the database.
    fn drop_lost_leases(&self, held: &HashSet<String>, asked: Instant) {
        for live in self.live_jobs() {
            let lost: Vec<String> = live
                .local
                .lock()
                .expect("local executions")
                .iter()
                .filter(|(id, since)| **since < asked && !held.contains(*id))
                .map(|(id, _)| id.clone())
                .collect();
            if !lost.is_empty() {
                tracing::warn!(job = %live.job.metadata.id, executions = ?lost,
                    "this node no longer holds these executions; stopping them");
                live.cancel.cancel();
                self.unregister(&live);
            }
        }
    }

    async fn heartbeats(self) {
        let every = heartbeat_interval(self.inner.node.timeout);
        loop {
            tokio::select! {
                () = self.inner.shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            if let Err(e) = self.heartbeat_once().await {
                tracing::warn!(error = %e, "heartbeat failed; will retry");
            }
        }
    }

    /// Every node reaps: executions of nodes silent past the timeout fail (the job row
    /// lock makes a second reaper's pass a no-op), jobs that wait are marked `Queued`, and
    /// jobs watched here are compared with the database.
    async fn reaper(self) {
        let every = heartbeat_interval(self.inner.node.timeout).min(POLL_EVERY);
        let mut last_poll = Instant::now();
        loop {
            tokio::select! {
                () = self.inner.shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            if let Err(e) = self.reap_once().await {
                tracing::warn!(error = %e, "reaping lost nodes' executions failed; will retry");
            }
            if last_poll.elapsed() >= POLL_EVERY {
                last_poll = Instant::now();
                if let Err(e) = self.poll_watched().await {
                    tracing::debug!(error = %e, "polling watched jobs failed");
                }
            }
        }
    }

    async fn reap_once(&self) -> Result<(), JobError> {
        let c = self.cluster();
        let timeout = self.inner.node.timeout;
        for (node, job) in c.orphaned(timeout, 100).await? {
            let reason = format!(
                "node {node} lost: no heartbeat for {}s",
                timeout.as_secs_f64()
            );
            tracing::warn!(job = %job, node = %node, "failing the executions of a lost node");
            self.node_lost(&job, &node, &reason).await?;
        }
        let before = time::to_nanos(time::now())
            - i64::try_from(QUEUED_AFTER.as_nanos()).unwrap_or(i64::MAX);
        for id in c.waiting_new(before, 100).await? {
            let Some(live) = self.live_or_stored(&id).await? else {
                continue;
            };
            // Another node may have queued or started it meanwhile.
            let _ = self.transition(&live, Event::Queue).await;
        }
        Ok(())
    }

    /// Compares the jobs watched here with the database and refreshes those that moved.
    async fn poll_watched(&self) -> Result<(), JobError> {
        let lives = self.live_jobs();
        if lives.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = lives.iter().map(|l| l.job.metadata.id.clone()).collect();
        let now: std::collections::HashMap<String, (i64, usize, i64)> = self
            .cluster()
            .fingerprints(&ids)
            .await?
            .into_iter()
            .collect();
        for live in lives {
            let id = &live.job.metadata.id;
            if now.get(id) != Some(&fingerprint(&live.snapshot())) {
                self.refresh(id).await;
            }
        }
        Ok(())
    }

    /// Reads a job watched here again and publishes it when another node changed it. A job
    /// that ended elsewhere (cancelled through another node) stops its executions here.
    pub(super) async fn refresh(&self, id: &str) {
        let Some(live) = self.live_job(id) else {
            return;
        };
        let mut guard = live.state.lock().await;
        let stored = match self.inner.store.job(id).await {
            Ok(Some(s)) => s,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!(job = %id, error = %e, "could not refresh a watched job");
                return;
            }
        };
        if fingerprint(&stored.state) == fingerprint(&guard) {
            return;
        }
        if stored.state.state.is_terminal() {
            live.cancel.cancel();
        }
        *guard = self.publish(&live, stored.state);
    }

    async fn listener(self) {
        let c = self.cluster().clone();
        loop {
            let mut l = match c.listen().await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other nodes' changes; retrying");
                    tokio::select! {
                        () = self.inner.shutdown.cancelled() => return,
                        () = tokio::time::sleep(POLL_EVERY) => continue,
                    }
                }
            };
            loop {
                let n = tokio::select! {
                    () = self.inner.shutdown.cancelled() => return,
                    n = l.recv() => n,
                };
                match n {
                    Ok(n) if n.channel() == PENDING_CHANNEL => self.inner.claim_wake.notify_one(),
                    Ok(n) => {
                        let id = n.payload().to_owned();
                        if self.live_job(&id).is_some() {
                            let this = self.clone();
                            tokio::spawn(async move { this.refresh(&id).await });
                        }
                    }
                    Err(e) => {
                        // The listener reconnects on the next call; the poll covers the gap.
                        tracing::debug!(error = %e, "notification connection lost");
                        tokio::select! {
                            () = self.inner.shutdown.cancelled() => return,
                            () = tokio::time::sleep(Duration::from_millis(200)) => {}
                        }
                    }
                }
            }
        }
    }

    /// One of this node's [`CLAIMERS`]: claims whenever work may be waiting (a
    /// notification or a poll) and, while work that needs a slot waits, whenever a slot
    /// frees. Each claim offers every free slot and takes the instant executions of its
    /// window, which need none; a claim that took something is followed by another at
    /// once. The claims of one node take turns to read (see [`ClaimLane`]): claimers that
    /// all read the same window at once would lock nothing but for one.
    async fn claimer(self, lane: Arc<ClaimLane>) {
        let engines = self.inner.node.engines();
        let (mut again, mut wait_for_slot) = (true, false);
        loop {
            let first = if again {
                None
            } else {
                tokio::select! {
                    biased;
                    () = self.inner.shutdown.cancelled() => return,
                    p = self.inner.scheduler.slot(), if wait_for_slot => match p {
                        Some(p) => Some(p),
                        None => return,
                    },
                    () = self.inner.claim_wake.notified() => None,
                    () = tokio::time::sleep(POLL_EVERY) => None,
                }
            };
            if self.inner.shutdown.is_cancelled() {
                return;
            }
            // Every slot free now is offered in the same claim: one commit for all.
            let mut permits: Vec<OwnedSemaphorePermit> = first.into_iter().collect();
            while permits.len() < CLAIM_BATCH {
                match self.inner.scheduler.try_slot() {
                    Some(p) => permits.push(p),
                    None => break,
                }
            }
            let offered = permits.len();
            match self.claim_some(&lane, permits, &engines).await {
                Ok(c) => {
                    again = c.claimed;
                    // Work that needs a slot was left for want of one: claim again when
                    // one frees. (Left although slots were offered and nothing was taken:
                    // another node holds it; its notification or the poll comes back.)
                    wait_for_slot = c.slot_work_left && (c.claimed || offered == 0);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claiming work failed; will retry");
                    (again, wait_for_slot) = (false, false);
                }
            }
        }
    }

    /// Whether this node may take an execution of `p` now (selectors, distinct nodes,
    /// free resources beyond what is `planned` for others), and what it needs.
    fn fits_here(&self, p: &PendingJob, planned: &Capacity) -> Option<Capacity> {
        let node = &self.inner.node;
        let want: placement::Placement = serde_json::from_str(&p.placement).ok()?;
        if !placement::selectors_match(&want.node_selectors, node.labels()) {
            return None;
        }
        let need = Capacity::of(&want.resources).ok()?;
        if p.mine {
            // `Concurrency = N` runs on N distinct nodes while N matching nodes are alive.
            let matching = node.matching(&p.engine, &want.node_selectors, &need).len();
            if matching >= usize::try_from(want.concurrency.max(1)).unwrap_or(1) {
                return None;
            }
        }
        node.has_free(&need.plus(planned)).then_some(need)
    }

    /// Claims up to one execution per permit; each claimed one runs with its permit.
    async fn claim_some(
        &self,
        lane: &ClaimLane,
        mut permits: Vec<OwnedSemaphorePermit>,
        engines: &[String],
    ) -> Result<ClaimOutcome, JobError> {
        let node = self.inner.node.clone();
        let now = time::now();
        let logs = &self.inner.logs;
        let capture = self.inner.settings.output_capture_bytes;
        let mut planned = Capacity::default();
        let offered = permits.len();
        // Executions that need a slot and fitted here, and Noop ones that turned out not
        // to be instant and found no slot left: either means a freed slot has work.
        let (mut wanted_slots, mut declined) = (0, 0);
        let reading = lane.reading.lock().await;
        let skip: Vec<i64> = lane
            .locked
            .lock()
            .expect("claim lane")
            .iter()
            .copied()
            .collect();
        let mut mine: Vec<i64> = Vec::new();
        let claimed = self
            .cluster()
            .claim(
                &node.id,
                engines,
                CLAIM_WINDOW,
                &skip,
                permits.len(),
                |locked| {
                    lane.locked.lock().expect("claim lane").extend(locked);
                    mine = locked.to_vec();
                    drop(reading);
                },
                // What the jobs chosen before need is counted against the free resources.
                |p| match self.fits_here(p, &planned) {
                    Some(need) => {
                        planned = planned.plus(&need);
                        // A Noop execution is most often instant: it needs no slot.
                        if p.engine == Engine::Noop.as_str() {
                            Pick::Free
                        } else {
                            wanted_slots += 1;
                            Pick::Slot
                        }
                    }
                    None => Pick::No,
                },
                |stored, slot_left| -> Result<_, state::TransitionError> {
                    let instant = self.is_instant(&stored.job);
                    if !instant && !slot_left {
                        declined += 1;
                        return Ok(None);
                    }
                    let execution_id = format!("e-{}", uuid::Uuid::new_v4());
                    let (_, timeout_at) = super::runner::deadline(&stored.job, now);
                    let ev = Event::StartExecution {
                        execution_id: execution_id.clone(),
                        node_id: node.id.clone(),
                        timeout_at,
                    };
                    let deal = &stored.job.spec.deal;
                    let t = state::apply(&stored.state, deal, ev, now)?;
                    // The log opens before the execution becomes visible to other nodes.
                    let sink = logs.open(&stored.state.job_id, &execution_id, capture);
                    if instant {
                        // Started and finished in the claim: one transaction, no slot held.
                        let finish = super::runner::instant_finish(execution_id, &sink);
                        let done = state::apply(&t.state, deal, finish, now)?;
                        return Ok(Some(Started {
                            commit: commit_of(&t).then(commit_of(&done)),
                            out: Claimed::Done(stored.job.clone(), done.state),
                            slot: false,
                        }));
                    }
                    Ok(Some(Started {
                        commit: commit_of(&t),
                        out: Claimed::Run(stored.job.clone(), t.state, sink, execution_id),
                        slot: true,
                    }))
                },
            )
            .await;
        if !mine.is_empty() {
            let mut l = lane.locked.lock().expect("claim lane");
            for seq in &mine {
                l.remove(seq);
            }
        }
        let claimed = claimed?;
        let outcome = ClaimOutcome {
            claimed: !claimed.is_empty(),
            slot_work_left: wanted_slots > offered || declined > 0,
        };
        for c in claimed {
            match c {
                Ok(Claimed::Run(job, state, sink, execution_id)) => {
                    let Some(permit) = permits.pop() else { break };
                    self.start_claimed(job, state, sink, execution_id, permit, now)
                        .await;
                }
                Ok(Claimed::Done(job, state)) => self.claimed_done(job, state).await,
                Err(e) => {
                    tracing::warn!(error = %e, "a claimed job could not start; it waits no more");
                }
            }
        }
        Ok(outcome)
    }

    /// Publishes the state of a job whose execution started and finished in its claim
    /// (its copy here, when it is watched here, is brought up to date).
    async fn claimed_done(&self, job: crate::model::Job, state: JobState) {
        let live =
            self.live_or_insert(&state.job_id, || LiveJob::new(Arc::new(job), state.clone()));
        self.adopt(&live, state).await;
    }

    /// Makes the state a claim committed the job's current one here, and publishes it.
    async fn adopt(&self, live: &LiveJob, state: JobState) {
        let mut guard = live.state.lock().await;
        *guard = self.publish(live, state);
    }

    /// Runs an execution this node claimed: the job becomes live here (or its copy here is
    /// brought up to date) and the execution runs under `permit`.
    async fn start_claimed(
        &self,
        job: crate::model::Job,
        state: JobState,
        sink: crate::logs::LogSink,
        execution_id: String,
        permit: OwnedSemaphorePermit,
        now: time::Time,
    ) {
        let need = Capacity::of(&job.spec.resources).unwrap_or_default();
        let reservation = self.inner.node.reserve(need);
        let id = state.job_id.clone();
        let live = self.live_or_insert(&id, || LiveJob::new(Arc::new(job), state.clone()));
        live.local
            .lock()
            .expect("local executions")
            .insert(execution_id.clone(), Instant::now());
        self.adopt(&live, state).await;
        let (timeout, _) = super::runner::deadline(&live.job, now);
        let this = self.clone();
        let l = live.clone();
        live.tasks.spawn(async move {
            this.run_execution(l, execution_id, timeout, permit, sink)
                .await;
            drop(reservation);
        });
    }
}
