//! The single writer task (group commit). Every write is an [`Op`] on a channel; the task
//! takes all that are waiting (up to a batch size) and writes them in one transaction with
//! a handful of multi-row statements (one per table), commits once, and only then answers
//! each caller. If the batch fails, it is rolled back and each op is replayed in its own
//! transaction, so an error reaches only the request that caused it; when the database
//! cannot serve at all, every op of the batch gets that error at once.
//!
//! The batching and the rules (nonces decide repeats, one row per job and execution, history
//! in op order) live here once; each database supplies its statements through [`WriteTx`].

use std::collections::{HashMap, HashSet};

use tokio::sync::{mpsc, oneshot};

use super::logs::LogChunkRow;
use super::StoreError;

/// A new job to store.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Job id.
    pub id: String,
    /// Owner.
    pub client_id: String,
    /// Unix ns.
    pub created_at: i64,
    /// The Job as JSON.
    pub job_json: String,
    /// Initial state name.
    pub state: String,
    /// Initial version.
    pub version: i64,
    /// The "Job created" history record.
    pub history: HistoryRow,
    /// The submit's nonce, when it carried one.
    pub nonce: Option<NewNonce>,
    /// The engine that runs it (a cluster places executions by it).
    pub engine: String,
    /// How many executions it runs.
    pub executions: i64,
    /// What placing it needs (JSON of [`crate::cluster::placement::Placement`]).
    pub placement: String,
}

/// The signed route that used a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceRoute {
    /// `submit`: the nonce names the job it created.
    Submit,
    /// `cancel`: the nonce names the job it cancelled.
    Cancel,
}

impl NonceRoute {
    /// The name stored in `nonces.route`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Cancel => "cancel",
        }
    }
}

/// A `(client, nonce)` pair to remember until `expires_at`.
#[derive(Debug, Clone)]
pub struct NewNonce {
    /// Client.
    pub client_id: String,
    /// Nonce.
    pub nonce: String,
    /// The route that used it.
    pub route: NonceRoute,
    /// The job the request created or acted on.
    pub job_id: Option<String>,
    /// Unix ns.
    pub expires_at: i64,
}

/// What an insert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// The job is new.
    Created,
    /// The nonce was already used by this client for `job_id`: nothing was written.
    Duplicate {
        /// The job the first submit created.
        job_id: String,
    },
}

/// A job-row change.
#[derive(Debug, Clone)]
pub struct JobRowUpdate {
    /// State name.
    pub state: String,
    /// Version.
    pub version: i64,
    /// Unix ns.
    pub update_time: i64,
    /// Unix ns, when set.
    pub timeout_at: Option<i64>,
}

/// An execution row to upsert.
#[derive(Debug, Clone)]
pub struct ExecutionRow {
    /// Execution id.
    pub id: String,
    /// Position in the job's execution list.
    pub ordinal: i64,
    /// State name.
    pub state: String,
    /// Version.
    pub version: i64,
    /// The ExecutionState as JSON.
    pub body: String,
    /// The node it runs on (kept in a column on PostgreSQL, where leases are judged).
    pub node_id: String,
}

/// A history record to append.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// JobLevel or ExecutionLevel.
    pub level: String,
    /// Unix ns.
    pub time: i64,
    /// The JobHistory as JSON.
    pub body: String,
}

/// One state change of one job, written atomically.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// The job.
    pub job_id: String,
    /// The job row, when it changed.
    pub job: Option<JobRowUpdate>,
    /// Executions that changed.
    pub executions: Vec<ExecutionRow>,
    /// History to append.
    pub history: Vec<HistoryRow>,
    /// The nonce of the request that caused the change (a cancel), recorded in the same
    /// transaction; when the client already used it, nothing of the commit is written.
    pub nonce: Option<NewNonce>,
}

impl Commit {
    /// This change followed by `next` of the same job, as one: the job row and each
    /// execution as `next` left them, the history of both in order.
    pub fn then(mut self, next: Commit) -> Commit {
        debug_assert_eq!(self.job_id, next.job_id);
        if next.job.is_some() {
            self.job = next.job;
        }
        for row in next.executions {
            match self.executions.iter_mut().find(|e| e.id == row.id) {
                Some(e) => *e = row,
                None => self.executions.push(row),
            }
        }
        self.history.extend(next.history);
        self.nonce = next.nonce.or(self.nonce);
        self
    }
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A write for the writer task, with the channel its answer goes to.
#[derive(Debug)]
pub(super) enum Op {
    InsertJob(Box<NewJob>, Reply<Inserted>),
    Commit(Box<Commit>, Reply<()>),
    Nonce(NewNonce, Reply<bool>),
    ExpireNonces(i64, Reply<u64>),
    LogChunks(std::sync::Arc<Vec<LogChunkRow>>, Reply<()>),
    Close(oneshot::Sender<()>),
}

/// The data of an op, without its reply channel.
#[derive(Debug)]
enum Work {
    Insert(Box<NewJob>),
    Commit(Box<Commit>),
    Nonce(NewNonce),
    Expire(i64),
    LogChunks(std::sync::Arc<Vec<LogChunkRow>>),
}

/// What an op produced.
#[derive(Debug)]
enum Answer {
    Inserted(Inserted),
    Unit,
    Bool(bool),
    Count(u64),
}

#[derive(Debug)]
enum ReplyTo {
    Inserted(Reply<Inserted>),
    Unit(Reply<()>),
    Bool(Reply<bool>),
    Count(Reply<u64>),
}

impl ReplyTo {
    fn send(self, r: Result<Answer, StoreError>) {
        let mismatch = || StoreError::Corrupt("writer answered the wrong kind".into());
        match self {
            ReplyTo::Inserted(tx) => drop(tx.send(r.and_then(|a| match a {
                Answer::Inserted(i) => Ok(i),
                _ => Err(mismatch()),
            }))),
            ReplyTo::Unit(tx) => drop(tx.send(r.map(|_| ()))),
            ReplyTo::Bool(tx) => drop(tx.send(r.and_then(|a| match a {
                Answer::Bool(b) => Ok(b),
                _ => Err(mismatch()),
            }))),
            ReplyTo::Count(tx) => drop(tx.send(r.and_then(|a| match a {
                Answer::Count(n) => Ok(n),
                _ => Err(mismatch()),
            }))),
        }
    }
}

fn split(op: Op) -> Option<(Work, ReplyTo)> {
    Some(match op {
        Op::InsertJob(j, tx) => (Work::Insert(j), ReplyTo::Inserted(tx)),
        Op::Commit(c, tx) => (Work::Commit(c), ReplyTo::Unit(tx)),
        Op::Nonce(n, tx) => (Work::Nonce(n), ReplyTo::Bool(tx)),
        Op::ExpireNonces(t, tx) => (Work::Expire(t), ReplyTo::Count(tx)),
        Op::LogChunks(rows, tx) => (Work::LogChunks(rows), ReplyTo::Unit(tx)),
        Op::Close(_) => return None,
    })
}

/// One database's statements for the writer, inside a transaction it opens with
/// [`WriteTx::begin`]. Each multi-row method writes all its rows in a few statements.
#[async_trait::async_trait]
pub(super) trait WriteTx: Send + 'static {
    /// Starts a transaction (a busy or unreachable database is `Unavailable`).
    async fn begin(&mut self) -> Result<(), StoreError>;
    /// Commits the open transaction.
    async fn commit(&mut self) -> Result<(), StoreError>;
    /// Rolls the open transaction back (best effort: the connection may be gone).
    async fn rollback(&mut self);
    /// Inserts the nonces that are new; returns the `(client, nonce)` pairs it inserted.
    async fn insert_nonces(
        &mut self,
        rows: &[&NewNonce],
    ) -> Result<Vec<(String, String)>, StoreError>;
    /// The recorded use of a nonce: `(job_id, route)`.
    async fn seen_nonce(
        &mut self,
        client_id: &str,
        nonce: &str,
    ) -> Result<Option<(Option<String>, String)>, StoreError>;
    /// Inserts new job rows.
    async fn insert_jobs(&mut self, jobs: &[&NewJob]) -> Result<(), StoreError>;
    /// Updates job rows (at most one row per job); returns the rows updated.
    async fn update_jobs(&mut self, rows: &[(&str, &JobRowUpdate)]) -> Result<u64, StoreError>;
    /// Upserts executions (at most one row per job and ordinal); an execution replaces
    /// the row at its ordinal only when it is the same execution. Returns rows written.
    async fn upsert_executions(
        &mut self,
        rows: &[(&str, &ExecutionRow)],
    ) -> Result<u64, StoreError>;
    /// Appends history in the given order; returns rows written (rows of unknown jobs are
    /// not written).
    async fn insert_history(&mut self, rows: &[(&str, &HistoryRow)]) -> Result<u64, StoreError>;
    /// Inserts sealed log chunks.
    async fn insert_chunks(&mut self, rows: &[LogChunkRow]) -> Result<(), StoreError>;
    /// Deletes nonces that expired before `now`; returns how many.
    async fn expire_nonces(&mut self, now: i64) -> Result<u64, StoreError>;
    /// Writes a batch of nothing but new jobs in one atomic, durable step, when this
    /// database can: each job whose nonce is new (or that has none) with its nonce and
    /// history, a nonce used twice in the batch going to the first. Answers, per job in
    /// order, whether it was written (`false`: its nonce was used before, and nothing of
    /// it was written). `None` when the database has no such step; the batch then takes
    /// the general path.
    async fn insert_new_jobs(
        &mut self,
        _jobs: &[&NewJob],
    ) -> Option<Result<Vec<bool>, StoreError>> {
        None
    }
    /// Closes the connection(s).
    async fn close(self);
}

pub(super) fn spawn<W: WriteTx>(conn: W, max_batch: usize) -> mpsc::Sender<Op> {
    let (tx, rx) = mpsc::channel(max_batch * 4);
    tokio::spawn(run(conn, rx, max_batch));
    tx
}

async fn run<W: WriteTx>(mut conn: W, mut rx: mpsc::Receiver<Op>, max_batch: usize) {
    let mut batch = Vec::with_capacity(max_batch);
    loop {
        if rx.recv_many(&mut batch, max_batch).await == 0 {
            break;
        }
        let mut close = None;
        let mut work = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        for op in batch.drain(..) {
            match op {
                Op::Close(tx) => close = Some(tx),
                op => {
                    let (w, r) = split(op).expect("Close handled above");
                    work.push(w);
                    replies.push(r);
                }
            }
        }
        if !work.is_empty() {
            write_batch(&mut conn, work, replies).await;
        }
        if let Some(tx) = close {
            rx.close();
            while let Ok(op) = rx.try_recv() {
                if let Some((w, r)) = split(op) {
                    write_batch(&mut conn, vec![w], vec![r]).await;
                }
            }
            conn.close().await;
            let _ = tx.send(());
            return;
        }
    }
}

async fn write_batch<W: WriteTx>(conn: &mut W, work: Vec<Work>, replies: Vec<ReplyTo>) {
    let inserts: Vec<&NewJob> = work
        .iter()
        .filter_map(|w| match w {
            Work::Insert(j) => Some(&**j),
            _ => None,
        })
        .collect();
    if inserts.len() == work.len() {
        // Submits alone: one step where the database has one. The jobs whose nonce was
        // used before take the general path, which answers their repeat or refusal.
        match conn.insert_new_jobs(&inserts).await {
            Some(Ok(written)) => {
                let (mut rest, mut rest_replies) = (Vec::new(), Vec::new());
                for ((w, r), ok) in work.into_iter().zip(replies).zip(written) {
                    if ok {
                        r.send(Ok(Answer::Inserted(Inserted::Created)));
                    } else {
                        rest.push(w);
                        rest_replies.push(r);
                    }
                }
                if !rest.is_empty() {
                    write_batch_in_transaction(conn, rest, rest_replies).await;
                }
                return;
            }
            Some(Err(e)) if e.is_unavailable() => {
                replies
                    .into_iter()
                    .for_each(|r| r.send(Err(e.clone_shallow())));
                return;
            }
            // Nothing was written; the general path says which op failed and why.
            Some(Err(e)) => tracing::debug!(error = %e, "one-step submit batch failed"),
            None => {}
        }
    }
    write_batch_in_transaction(conn, work, replies).await;
}

async fn write_batch_in_transaction<W: WriteTx>(
    conn: &mut W,
    work: Vec<Work>,
    replies: Vec<ReplyTo>,
) {
    match transaction(conn, &work).await {
        Ok(answers) => {
            for (r, a) in replies.into_iter().zip(answers) {
                r.send(Ok(a));
            }
        }
        // One op, or a database that cannot serve now (replaying each op alone would
        // make every caller wait out the connection timeout once per op before it).
        Err(e) if work.len() == 1 || e.is_unavailable() => replies
            .into_iter()
            .for_each(|r| r.send(Err(e.clone_shallow()))),
        Err(e) => {
            tracing::warn!(error = %e, ops = work.len(), "batch failed; replaying its writes one by one");
            for (w, r) in work.into_iter().zip(replies) {
                let one = [w];
                r.send(transaction(conn, &one).await.map(|mut a| a.remove(0)));
            }
        }
    }
}

/// Applies `work` in one transaction; on any error the transaction is rolled back.
async fn transaction<W: WriteTx>(conn: &mut W, work: &[Work]) -> Result<Vec<Answer>, StoreError> {
    conn.begin().await?;
    let result = apply(conn, work).await;
    match result {
        Ok(answers) => match conn.commit().await {
            Ok(()) => Ok(answers),
            Err(e) => {
                conn.rollback().await;
                Err(StoreError::Unavailable(format!("commit failed: {e}")))
            }
        },
        Err(e) => {
            conn.rollback().await;
            Err(e)
        }
    }
}

/// Writes commits inside a transaction the caller opened (a cluster's job-locked
/// changes), under the batch rules.
pub(super) async fn apply_commits<W: WriteTx>(
    conn: &mut W,
    commits: Vec<Commit>,
) -> Result<(), StoreError> {
    let work: Vec<Work> = commits
        .into_iter()
        .map(|c| Work::Commit(Box::new(c)))
        .collect();
    apply(conn, &work).await.map(drop)
}

/// Keeps the last of the rows that share a key, in the order of their last occurrence:
/// within one batch a later change of a row supersedes an earlier one.
fn last_per_key<K: std::hash::Hash + Eq, T>(rows: Vec<(K, T)>) -> Vec<T> {
    let mut last: HashMap<&K, usize> = HashMap::with_capacity(rows.len());
    for (i, (k, _)) in rows.iter().enumerate() {
        last.insert(k, i);
    }
    let keep: HashSet<usize> = last.into_values().collect();
    rows.into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, (_, t))| t)
        .collect()
}

fn nonce_of(w: &Work) -> Option<&NewNonce> {
    match w {
        Work::Insert(j) => j.nonce.as_ref(),
        Work::Commit(c) => c.nonce.as_ref(),
        Work::Nonce(n) => Some(n),
        _ => None,
    }
}

async fn apply<W: WriteTx>(conn: &mut W, work: &[Work]) -> Result<Vec<Answer>, StoreError> {
    let mut answers: Vec<Option<Answer>> = work.iter().map(|_| None).collect();

    // Nonces first: they decide which submits are repeats.
    let nonces: Vec<&NewNonce> = work.iter().filter_map(nonce_of).collect();
    let mut fresh: HashSet<(String, String)> = HashSet::new();
    if !nonces.is_empty() {
        fresh.extend(conn.insert_nonces(&nonces).await?);
    }
    let mut repeated = vec![false; work.len()];
    for (i, w) in work.iter().enumerate() {
        let Some(n) = nonce_of(w) else { continue };
        // The first op of a batch with a pair takes it; later ones are repeats.
        let first = fresh.remove(&(n.client_id.clone(), n.nonce.clone()));
        repeated[i] = !first;
        if first {
            if let Work::Nonce(_) = w {
                answers[i] = Some(Answer::Bool(true));
            }
            continue;
        }
        let seen = conn.seen_nonce(&n.client_id, &n.nonce).await?;
        let route = seen.as_ref().map(|s| s.1.clone()).unwrap_or_default();
        match (w, seen) {
            (Work::Nonce(_), _) => answers[i] = Some(Answer::Bool(false)),
            (Work::Insert(_), Some((Some(job_id), r))) if r == NonceRoute::Submit.as_str() => {
                answers[i] = Some(Answer::Inserted(Inserted::Duplicate { job_id }));
            }
            // A repeated nonce on anything else fails the op; the batch is then replayed
            // op by op, so only this request sees the error.
            _ => return Err(StoreError::NonceReused { route }),
        }
    }

    // Jobs.
    let new_jobs: Vec<&NewJob> = work
        .iter()
        .zip(&repeated)
        .filter_map(|(w, rep)| match w {
            Work::Insert(j) if !rep => Some(&**j),
            _ => None,
        })
        .collect();
    if !new_jobs.is_empty() {
        conn.insert_jobs(&new_jobs).await?;
    }

    // Job-row updates: the last one per job wins (its version is the highest).
    let updates = last_per_key(
        work.iter()
            .filter_map(|w| match w {
                Work::Commit(c) => c
                    .job
                    .as_ref()
                    .map(|u| (c.job_id.as_str(), (c.job_id.as_str(), u))),
                _ => None,
            })
            .collect(),
    );
    if !updates.is_empty() {
        let n = conn.update_jobs(&updates).await?;
        if n != updates.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "{} of {} updated jobs are not stored",
                updates.len() as u64 - n,
                updates.len()
            )));
        }
    }

    // Executions: the last row of each execution wins. (Two executions at one position
    // stay two rows, so the statement refuses them.)
    let executions = last_per_key(
        work.iter()
            .filter_map(|w| match w {
                Work::Commit(c) => Some(c),
                _ => None,
            })
            .flat_map(|c| {
                c.executions.iter().map(|e| {
                    (
                        (c.job_id.as_str(), e.ordinal, e.id.as_str()),
                        (c.job_id.as_str(), e),
                    )
                })
            })
            .collect(),
    );
    if !executions.is_empty() {
        let n = conn.upsert_executions(&executions).await?;
        if n != executions.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "{} of {} executions were not stored (unknown job, or another execution at \
                 the same position)",
                executions.len() as u64 - n,
                executions.len()
            )));
        }
    }

    // History, in op order.
    let mut history: Vec<(&str, &HistoryRow)> = Vec::new();
    for (w, rep) in work.iter().zip(&repeated) {
        match w {
            Work::Insert(j) if !rep => history.push((&j.id, &j.history)),
            Work::Commit(c) => history.extend(c.history.iter().map(|h| (c.job_id.as_str(), h))),
            _ => {}
        }
    }
    if !history.is_empty() {
        let n = conn.insert_history(&history).await?;
        if n != history.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "{} of {} history records belong to no stored job",
                history.len() as u64 - n,
                history.len()
            )));
        }
    }

    // Log chunks.
    for w in work {
        if let Work::LogChunks(rows) = w {
            conn.insert_chunks(rows).await?;
        }
    }

    // Expiry.
    for (i, w) in work.iter().enumerate() {
        if let Work::Expire(now) = w {
            answers[i] = Some(Answer::Count(conn.expire_nonces(*now).await?));
        }
    }

    Ok(work
        .iter()
        .zip(answers)
        .map(|(w, a)| {
            a.unwrap_or(match w {
                Work::Insert(_) => Answer::Inserted(Inserted::Created),
                _ => Answer::Unit,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: &str, version: i64) -> JobRowUpdate {
        JobRowUpdate {
            state: state.into(),
            version,
            update_time: version,
            timeout_at: None,
        }
    }

    fn exec(id: &str, state: &str) -> ExecutionRow {
        ExecutionRow {
            id: id.into(),
            ordinal: 0,
            state: state.into(),
            version: 1,
            body: String::new(),
            node_id: "n".into(),
        }
    }

    fn history(body: &str) -> HistoryRow {
        HistoryRow {
            level: "JobLevel".into(),
            time: 0,
            body: body.into(),
        }
    }

    #[test]
    fn commits_joined_keep_the_last_rows_and_every_history_record_in_order() {
        let first = Commit {
            job_id: "j".into(),
            job: Some(row("InProgress", 2)),
            executions: vec![exec("e-1", "Running")],
            history: vec![history("a"), history("b")],
            nonce: None,
        };
        let second = Commit {
            job_id: "j".into(),
            job: Some(row("Completed", 3)),
            executions: vec![exec("e-1", "Completed"), exec("e-2", "New")],
            history: vec![history("c")],
            nonce: None,
        };
        let both = first.then(second);
        assert_eq!(both.job.as_ref().map(|j| j.version), Some(3));
        let execs: Vec<_> = both
            .executions
            .iter()
            .map(|e| (e.id.as_str(), e.state.as_str()))
            .collect();
        assert_eq!(execs, [("e-1", "Completed"), ("e-2", "New")]);
        let bodies: Vec<_> = both.history.iter().map(|h| h.body.as_str()).collect();
        assert_eq!(bodies, ["a", "b", "c"]);

        let unchanged_job = Commit {
            job_id: "j".into(),
            job: Some(row("InProgress", 2)),
            ..Default::default()
        }
        .then(Commit {
            job_id: "j".into(),
            ..Default::default()
        });
        assert_eq!(unchanged_job.job.map(|j| j.version), Some(2));
    }
}
