//! The cluster's statements (PostgreSQL only): the node registry and its heartbeats,
//! job-locked state changes, claims of waiting executions with `FOR UPDATE SKIP LOCKED`,
//! lease renewal, the search for executions of lost nodes, and the notifications that
//! wake other nodes. Every liveness decision uses the database's clock (`now()`).

use std::time::Duration;

use std::collections::HashMap;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::notify::Notifier;
use super::write::PgWriter;
use crate::model::JobState;
use crate::store::rows::{parse, JobRow, JOB_COLUMNS};
use crate::store::writer::{apply_commits, Commit, WriteTx};
use crate::store::{StoreError, StoredJob};

/// Carries the id of a job whose state changed.
pub const JOBS_CHANNEL: &str = "hake_jobs";
/// Carries nothing: executions are waiting for a node.
pub const PENDING_CHANNEL: &str = "hake_pending";

/// Execution states that have ended, as SQL (matches `ExecutionStateType::is_terminal`).
const ENDED: &str =
    "('Completed', 'Failed', 'Cancelled', 'AskForBidRejected', 'BidRejected', 'ResultRejected')";

/// A node as the registry holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NodeRow {
    /// Node id.
    pub id: String,
    /// What the node says of itself (JSON).
    pub info: String,
    /// Its last heartbeat, unix ns by the database's clock.
    pub last_seen_ns: i64,
    /// Whether it was heard from within the node timeout.
    pub alive: bool,
    /// Executions it runs now.
    pub running: i64,
}

/// Whether a claim takes a candidate, and what it would hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Not on this node, not now.
    No,
    /// Yes, and its execution holds one of the claim's slots.
    Slot,
    /// Yes, and its execution may hold no slot: it is locked beyond the claim's `max`.
    Free,
}

/// An execution a claim started (the commit writes it).
#[derive(Debug)]
pub struct Started<T> {
    /// The job's change.
    pub commit: Commit,
    /// What the caller keeps of it.
    pub out: T,
    /// Whether the execution holds one of the claim's slots.
    pub slot: bool,
}

/// A job with executions waiting for a node, as a claim sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingJob {
    /// Submit order.
    pub job_seq: i64,
    /// Job id.
    pub job_id: String,
    /// The engine it runs.
    pub engine: String,
    /// What placing it needs (JSON: `NodeSelectors`, `Resources`, `Concurrency`).
    pub placement: String,
    /// The job's state.
    pub state: String,
    /// Executions still to start.
    pub remaining: i32,
    /// Whether this node already runs or ran an execution of it.
    pub mine: bool,
}

/// Why a change refused to apply (the caller's own error, boxed).
pub type Refusal = Box<dyn std::error::Error + Send + Sync>;

/// A change of a job: given the job as committed now, what to write and its new state.
/// It may be called again if its batch is replayed, so it must not consume anything.
pub type Change = Box<dyn Fn(&StoredJob) -> Result<(Commit, JobState), Refusal> + Send + Sync>;

/// What a change did: `None` when no job has the id, else the new state or the refusal.
pub type Changed = Option<Result<JobState, Refusal>>;

struct ChangeOp {
    job_id: String,
    change: Change,
    reply: oneshot::Sender<Result<Changed, StoreError>>,
}

/// Most changes one batch takes.
const CHANGE_BATCH: usize = 64;

/// The cluster's side of the PostgreSQL store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PgCluster {
    pool: PgPool,
    /// Sends what committed changes announce to the other nodes.
    notifier: Notifier,
    /// Job-locked changes for the batching task; each carries its reply channel.
    changes: mpsc::Sender<ChangeOp>,
}

impl std::fmt::Debug for ChangeOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeOp")
            .field("job_id", &self.job_id)
            .finish()
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl PgCluster {
    pub(in crate::store) fn new(pool: PgPool, notifier: Notifier) -> Self {
        let (changes, rx) = mpsc::channel(CHANGE_BATCH * 4);
        tokio::spawn(run_changes(pool.clone(), notifier.clone(), rx));
        Self {
            pool,
            notifier,
            changes,
        }
    }

    /// Changes a job under its row lock. Changes waiting together are made in one
    /// transaction (each job's row locked, in id order, so batches of several nodes never
    /// deadlock), so many jobs ending at once cost one commit. Other nodes are notified.
    pub async fn change(&self, job_id: &str, change: Change) -> Result<Changed, StoreError> {
        let (reply, rx) = oneshot::channel();
        let op = ChangeOp {
            job_id: job_id.to_owned(),
            change,
            reply,
        };
        self.changes
            .send(op)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Registers the node or renews its heartbeat, replacing what it says of itself.
    pub async fn heartbeat(&self, id: &str, info: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO nodes (id, info) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE \
             SET info = excluded.info, last_seen = now()",
        )
        .bind(id)
        .bind(info)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a node as gone now (a clean shutdown), so that others see it disconnected
    /// without waiting for the timeout.
    pub async fn leave(&self, id: &str, timeout: Duration) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE nodes SET last_seen = now() - make_interval(secs => $2) - interval '1 second' \
             WHERE id = $1",
        )
        .bind(id)
        .bind(secs(timeout))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every registered node, with liveness judged against `timeout`.
    pub async fn nodes(&self, timeout: Duration) -> Result<Vec<NodeRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT n.id, n.info, \
             CAST(EXTRACT(EPOCH FROM n.last_seen) * 1000000 AS BIGINT) * 1000 AS last_seen_ns, \
             n.last_seen > now() - make_interval(secs => $1) AS alive, \
             (SELECT COUNT(*) FROM executions e WHERE e.node_id = n.id \
              AND e.state NOT IN {ENDED}) AS running \
             FROM nodes n ORDER BY n.id"
        ))
        .bind(secs(timeout))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Renews the leases of this node's running executions, recording how many log
    /// records each has written (`progress`: execution id, next seq); answers the ids of
    /// those it still holds (one missing was cancelled or taken away).
    pub async fn renew_leases(
        &self,
        node: &str,
        progress: &[(String, i64)],
    ) -> Result<Vec<String>, StoreError> {
        let ids: Vec<&str> = progress.iter().map(|(id, _)| id.as_str()).collect();
        let next: Vec<i64> = progress.iter().map(|(_, n)| *n).collect();
        Ok(sqlx::query_scalar(&format!(
            "UPDATE executions e SET lease_at = now(), log_next = COALESCE( \
               (SELECT v.n FROM UNNEST($2::text[], $3::bigint[]) AS v(id, n) WHERE v.id = e.id), \
               e.log_next) \
             WHERE e.node_id = $1 AND e.state NOT IN {ENDED} RETURNING e.id"
        ))
        .bind(node)
        .bind(ids)
        .bind(next)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many log records an execution's node had written at its last lease renewal.
    pub async fn log_next(&self, execution_id: &str) -> Result<Option<u64>, StoreError> {
        let n: Option<Option<i64>> =
            sqlx::query_scalar("SELECT log_next FROM executions WHERE id = $1 LIMIT 1")
                .bind(execution_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(n.flatten().and_then(|n| u64::try_from(n).ok()))
    }

    /// `(node, job)` pairs of running executions whose node was silent longer than
    /// `timeout` (or never registered), oldest job first.
    pub async fn orphaned(
        &self,
        timeout: Duration,
        limit: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT DISTINCT e.node_id, j.id, j.seq FROM executions e \
             JOIN jobs j ON j.seq = e.job_seq LEFT JOIN nodes n ON n.id = e.node_id \
             WHERE e.state NOT IN {ENDED} AND e.node_id IS NOT NULL \
             AND (n.id IS NULL OR n.last_seen < now() - make_interval(secs => $1)) \
             ORDER BY j.seq LIMIT $2"
        ))
        .bind(secs(timeout))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(n, j, _): (String, String, i64)| (n, j))
        .collect())
    }

    /// Jobs of this node with executions that have not ended (for recovery at start-up).
    pub async fn unfinished_on(&self, node: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT DISTINCT j.id, j.seq FROM executions e JOIN jobs j ON j.seq = e.job_seq \
             WHERE e.node_id = $1 AND e.state NOT IN {ENDED} ORDER BY j.seq"
        ))
        .bind(node)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(id, _): (String, i64)| id)
        .collect())
    }

    /// Jobs still `New` whose executions have waited for a node since before
    /// `created_before` (unix ns).
    pub async fn waiting_new(
        &self,
        created_before: i64,
        limit: u16,
    ) -> Result<Vec<String>, StoreError> {
        // Walks `pending` in submit order and looks each job up (see `claim` on plans).
        Ok(sqlx::query_scalar(&format!(
            "SELECT j.id FROM pending p \
             CROSS JOIN LATERAL (SELECT id, state, created_at FROM jobs WHERE seq = p.job_seq) j \
             WHERE j.state = 'New' AND j.created_at < $1 ORDER BY p.job_seq LIMIT {limit}"
        ))
        .persistent(false)
        .bind(created_before)
        .fetch_all(&self.pool)
        .await?)
    }

    /// What tells states of the given jobs apart: `(id, (version, executions, sum of
    /// the executions' versions))`.
    pub async fn fingerprints(
        &self,
        ids: &[String],
    ) -> Result<Vec<(String, (i64, usize, i64))>, StoreError> {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT j.id, j.version, COUNT(e.id), CAST(COALESCE(SUM(e.version), 0) AS BIGINT) \
             FROM jobs j LEFT JOIN executions e ON e.job_seq = j.seq \
             WHERE j.id = ANY($1) GROUP BY j.id, j.version",
        )
        .persistent(false) // as `claim`'s read: a plan cached on small tables scans them all
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, v, n, sum)| (id, (v, usize::try_from(n).unwrap_or(0), sum)))
            .collect())
    }

    /// A listener on the cluster's channels. It reconnects by itself; notifications sent
    /// while it was disconnected are lost, so callers also poll.
    pub async fn listen(&self) -> Result<PgListener, StoreError> {
        let mut l = PgListener::connect_with(&self.pool).await?;
        l.listen_all([JOBS_CHANNEL, PENDING_CHANNEL]).await?;
        Ok(l)
    }

    /// Claims waiting executions: reads up to `window` jobs with executions waiting for
    /// one of `engines`, in submit order, lets `choose` pick those this node can run, locks
    /// those no other node is claiming (`FOR UPDATE SKIP LOCKED`), then their jobs' rows
    /// (in id order, as every change does) and starts one execution of each with `f`, all
    /// in one transaction. At most `max` of them hold a slot: `f` is told whether one is
    /// left, and answers None for a job that needs one when none is (it goes on waiting).
    /// Empty when nothing here fits.
    ///
    /// Jobs in `skip` (locked by another claim of this node, not yet committed) are not
    /// read, so two claims of one node overlap without reading the same rows; `on_locked`
    /// hears which rows this claim locked as soon as it holds them (and is dropped unheard
    /// when nothing here fits).
    #[allow(clippy::too_many_arguments)]
    pub async fn claim<T, E>(
        &self,
        node: &str,
        engines: &[String],
        window: u16,
        skip: &[i64],
        max: usize,
        on_locked: impl FnOnce(&[i64]),
        mut choose: impl FnMut(&PendingJob) -> Pick,
        mut f: impl FnMut(&StoredJob, bool) -> Result<Option<Started<T>>, E>,
    ) -> Result<Vec<Result<T, E>>, StoreError> {
        // The window is read from `pending` alone and only then joined to its jobs, and
        // its size is a literal: with a parameter, the generic plan PostgreSQL settles on
        // after a few claims expects a tenth of the table and hashes all of `jobs`; with a
        // plain join it walks `jobs` from the oldest, finished ones included. `mine` is a
        // scalar subquery, one index probe per candidate (as EXISTS it may be hashed over
        // all executions). It is planned afresh each time (not a prepared statement): a
        // plan cached while the tables were small (a sequential scan of `pending` and a
        // hash join over all of `jobs`) would be kept as they grow, each claim then
        // costing 10–30 ms of database time instead of well under one.
        let candidates: Vec<PendingJob> = sqlx::query_as(&format!(
            "SELECT p.job_seq, j.id AS job_id, p.engine, p.placement, j.state, p.remaining, \
             COALESCE((SELECT true FROM executions e WHERE e.job_seq = p.job_seq \
               AND e.node_id = $1 LIMIT 1), false) AS mine \
             FROM (SELECT job_seq, engine, placement, remaining FROM pending \
               WHERE engine = ANY($2) AND job_seq <> ALL($3) ORDER BY job_seq LIMIT {window}) p \
             CROSS JOIN LATERAL (SELECT id, state FROM jobs WHERE seq = p.job_seq) j \
             ORDER BY p.job_seq"
        ))
        .persistent(false)
        .bind(node)
        .bind(engines)
        .bind(skip)
        .fetch_all(&self.pool)
        .await?;
        let ended: Vec<i64> = candidates
            .iter()
            .filter(|c| !matches!(c.state.as_str(), "New" | "Queued" | "InProgress"))
            .map(|c| c.job_seq)
            .collect();
        let (mut slot_seqs, mut free_seqs) = (Vec::new(), Vec::new());
        let chosen: Vec<&PendingJob> = candidates
            .iter()
            .filter(|c| !ended.contains(&c.job_seq))
            .filter(|c| match choose(c) {
                Pick::No => false,
                Pick::Slot => {
                    slot_seqs.push(c.job_seq);
                    true
                }
                Pick::Free => {
                    free_seqs.push(c.job_seq);
                    true
                }
            })
            .collect();
        if ended.is_empty() && free_seqs.is_empty() && (slot_seqs.is_empty() || max == 0) {
            return Ok(Vec::new());
        }
        let mut w = PgWriter::new(self.pool.clone(), self.notifier.clone());
        w.begin().await?;
        let r = async {
            // Jobs that ended before all their executions started wait no more.
            let mut done: Vec<i64> = ended.clone();
            // The first `max` chosen ones that hold a slot and those that may not, that no
            // other node is claiming; one missing was taken by another node or had its
            // last execution started.
            let locked: HashMap<i64, i32> = if chosen.is_empty() {
                HashMap::new()
            } else {
                sqlx::query_as(
                    "WITH s AS (SELECT job_seq, remaining FROM pending WHERE job_seq = ANY($1) \
                       ORDER BY job_seq LIMIT $2 FOR UPDATE SKIP LOCKED), \
                     f AS (SELECT job_seq, remaining FROM pending WHERE job_seq = ANY($3) \
                       FOR UPDATE SKIP LOCKED) \
                     SELECT * FROM s UNION ALL SELECT * FROM f",
                )
                .bind(&slot_seqs)
                .bind(i64::try_from(max).unwrap_or(i64::MAX))
                .bind(&free_seqs)
                .fetch_all(w.conn()?)
                .await?
                .into_iter()
                .collect()
            };
            on_locked(&locked.keys().copied().collect::<Vec<_>>());
            let taken: Vec<(&PendingJob, i32)> = chosen
                .into_iter()
                .filter_map(|c| locked.get(&c.job_seq).map(|r| (c, *r)))
                .collect();
            let ids: Vec<&str> = taken.iter().map(|(c, _)| c.job_id.as_str()).collect();
            let mut jobs = lock_jobs(&mut w, &ids).await?;
            let (mut commits, mut changed, mut less, mut out) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut slots = 0;
            for (c, remaining) in taken {
                let started = match jobs.get_mut(&c.job_id) {
                    Some(job) => match f(job, slots < max) {
                        Ok(Some(Started {
                            commit,
                            out: t,
                            slot,
                        })) => {
                            slots += usize::from(slot);
                            commits.push(commit);
                            changed.push(c.job_id.clone());
                            out.push(Ok(t));
                            true
                        }
                        // Left as it is: unlocked at commit, claimed later.
                        Ok(None) => continue,
                        Err(e) => {
                            out.push(Err(e));
                            false
                        }
                    },
                    None => false,
                };
                // A job that refuses to start one more execution (it started all it
                // runs) waits no more either.
                if started && remaining > 1 {
                    less.push(c.job_seq);
                } else {
                    done.push(c.job_seq);
                }
            }
            if !done.is_empty() {
                sqlx::query(
                    "DELETE FROM pending WHERE job_seq IN (SELECT job_seq FROM pending \
                     WHERE job_seq = ANY($1) FOR UPDATE SKIP LOCKED)",
                )
                .bind(&done)
                .execute(w.conn()?)
                .await?;
            }
            if !less.is_empty() {
                sqlx::query("UPDATE pending SET remaining = remaining - 1 WHERE job_seq = ANY($1)")
                    .bind(&less)
                    .execute(w.conn()?)
                    .await?;
            }
            write_and_notify(&mut w, commits, changed).await?;
            Ok(out)
        }
        .await;
        end(w, r).await
    }
}

/// The batching task of job-locked changes: takes what waits (up to [`CHANGE_BATCH`]),
/// applies it in one transaction, and replays each change alone when the batch fails
/// for another reason than an unreachable database.
async fn run_changes(pool: PgPool, notifier: Notifier, mut rx: mpsc::Receiver<ChangeOp>) {
    let mut ops = Vec::with_capacity(CHANGE_BATCH);
    loop {
        if rx.recv_many(&mut ops, CHANGE_BATCH).await == 0 {
            return;
        }
        let batch: Vec<ChangeOp> = std::mem::take(&mut ops);
        match change_batch(&pool, &notifier, &batch).await {
            Ok(results) => {
                for (op, r) in batch.into_iter().zip(results) {
                    let _ = op.reply.send(Ok(r));
                }
            }
            Err(e) if batch.len() == 1 || e.is_unavailable() => {
                for op in batch {
                    let _ = op.reply.send(Err(e.clone_shallow()));
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, ops = batch.len(), "change batch failed; replaying its changes one by one");
                for op in batch {
                    let one = std::slice::from_ref(&op);
                    let r = change_batch(&pool, &notifier, one)
                        .await
                        .map(|mut v| v.remove(0));
                    let _ = op.reply.send(r);
                }
            }
        }
    }
}

/// One transaction: locks the jobs' rows in id order, reads them with their executions,
/// applies each change in turn (a later change of a job sees the earlier one), writes the
/// commits under the writer's rules and notifies the jobs that changed.
async fn change_batch(
    pool: &PgPool,
    notifier: &Notifier,
    ops: &[ChangeOp],
) -> Result<Vec<Changed>, StoreError> {
    let mut w = PgWriter::new(pool.clone(), notifier.clone());
    w.begin().await?;
    let r = async {
        let ids: Vec<&str> = ops.iter().map(|o| o.job_id.as_str()).collect();
        let mut jobs = lock_jobs(&mut w, &ids).await?;
        let mut commits = Vec::new();
        let mut changed: Vec<String> = Vec::new();
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let Some(job) = jobs.get_mut(&op.job_id) else {
                out.push(None);
                continue;
            };
            match (op.change)(job) {
                Ok((commit, state)) => {
                    if commit.job.is_some() || !commit.executions.is_empty() {
                        changed.push(op.job_id.clone());
                    }
                    commits.push(commit);
                    job.state = state.clone();
                    out.push(Some(Ok(state)));
                }
                Err(e) => out.push(Some(Err(e))),
            }
        }
        write_and_notify(&mut w, commits, changed).await?;
        Ok(out)
    }
    .await;
    end(w, r).await
}

/// Commits what `r` wrote, or rolls it back when it failed.
async fn end<T>(mut w: PgWriter, r: Result<T, StoreError>) -> Result<T, StoreError> {
    match r {
        Ok(out) => {
            w.commit().await?;
            Ok(out)
        }
        Err(e) => {
            w.rollback().await;
            Err(e)
        }
    }
}

/// Locks the rows of the jobs `ids` in id order (every multi-row lock here takes that
/// order, so two transactions never wait on each other in a cycle) and reads them with
/// their executions.
async fn lock_jobs(
    w: &mut PgWriter,
    ids: &[&str],
) -> Result<HashMap<String, StoredJob>, StoreError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<JobRow> = sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE id = ANY($1) ORDER BY id FOR UPDATE"
    ))
    .bind(&ids)
    .fetch_all(w.conn()?)
    .await?;
    let mut jobs: HashMap<String, StoredJob> = HashMap::with_capacity(rows.len());
    let mut by_seq: HashMap<i64, String> = HashMap::with_capacity(rows.len());
    for row in rows {
        let stored = row.into_stored()?;
        by_seq.insert(stored.seq, stored.state.job_id.clone());
        jobs.insert(stored.state.job_id.clone(), stored);
    }
    // By `job_seq` alone, the primary key's prefix, and planned afresh each time: joined
    // to `jobs` (or as a plan cached while `executions` was small) PostgreSQL hashes all
    // of `executions` once a claim locks a few dozen jobs.
    let seqs: Vec<i64> = by_seq.keys().copied().collect();
    let bodies: Vec<(i64, String)> = sqlx::query_as(
        "SELECT job_seq, body FROM executions WHERE job_seq = ANY($1) ORDER BY job_seq, ordinal",
    )
    .persistent(false)
    .bind(&seqs)
    .fetch_all(w.conn()?)
    .await?;
    for (seq, body) in bodies {
        if let Some(j) = by_seq.get(&seq).and_then(|id| jobs.get_mut(id)) {
            j.state.executions.push(parse(&body)?);
        }
    }
    Ok(jobs)
}

/// Writes the commits under the writer's rules; the other nodes hear of the jobs that
/// changed once the transaction has committed.
async fn write_and_notify(
    w: &mut PgWriter,
    commits: Vec<Commit>,
    changed: Vec<String>,
) -> Result<(), StoreError> {
    apply_commits(w, commits).await?;
    w.announce_jobs(changed);
    Ok(())
}
