//! The single writer task (group commit). Every write is an [`Op`] on a channel; the task
//! takes all that are waiting (up to a batch size), applies each inside its own savepoint
//! of one transaction, commits once, and only then answers each caller. A failing op is
//! rolled back to its savepoint and reported to its own caller; the rest still commit.
//!
//! Nothing is ever committed half-way: when the only op of a transaction fails, or any op
//! fails because the database cannot take writes (locked past the busy timeout, disk full,
//! I/O error), the whole transaction is rolled back and every op of it is answered with
//! the error, so no caller is told "stored" about a write that is not there, and no job is
//! stored without its history.

use sqlx::{Connection, SqliteConnection};

use tokio::sync::{mpsc, oneshot};

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

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A write for the writer task, with the channel its answer goes to.
#[derive(Debug)]
pub(super) enum Op {
    InsertJob(Box<NewJob>, Reply<Inserted>),
    Commit(Box<Commit>, Reply<()>),
    Nonce(NewNonce, Reply<bool>),
    ExpireNonces(i64, Reply<u64>),
    Close(oneshot::Sender<()>),
}

enum Done {
    Inserted(Reply<Inserted>, Result<Inserted, StoreError>),
    Unit(Reply<()>, Result<(), StoreError>),
    Bool(Reply<bool>, Result<bool, StoreError>),
    Count(Reply<u64>, Result<u64, StoreError>),
}

impl Done {
    fn send(self, commit_failed: Option<&str>) {
        fn out<T>(r: Result<T, StoreError>, failed: Option<&str>) -> Result<T, StoreError> {
            match failed {
                Some(msg) => Err(StoreError::Unavailable(format!("commit failed: {msg}"))),
                None => r,
            }
        }
        match self {
            Done::Inserted(tx, r) => drop(tx.send(out(r, commit_failed))),
            Done::Unit(tx, r) => drop(tx.send(out(r, commit_failed))),
            Done::Bool(tx, r) => drop(tx.send(out(r, commit_failed))),
            Done::Count(tx, r) => drop(tx.send(out(r, commit_failed))),
        }
    }
}

pub(super) fn spawn(conn: SqliteConnection, max_batch: usize) -> mpsc::Sender<Op> {
    let (tx, rx) = mpsc::channel(max_batch * 4);
    tokio::spawn(run(conn, rx, max_batch));
    tx
}

async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Op>, max_batch: usize) {
    let mut batch = Vec::with_capacity(max_batch);
    loop {
        if rx.recv_many(&mut batch, max_batch).await == 0 {
            break;
        }
        let mut close = None;
        let ops: Vec<Op> = batch
            .drain(..)
            .filter_map(|op| match op {
                Op::Close(tx) => {
                    close = Some(tx);
                    None
                }
                op => Some(op),
            })
            .collect();
        if !ops.is_empty() {
            write_batch(&mut conn, ops).await;
        }
        if let Some(tx) = close {
            rx.close();
            while let Ok(op) = rx.try_recv() {
                if !matches!(op, Op::Close(_)) {
                    write_batch(&mut conn, vec![op]).await;
                }
            }
            let _ = conn.close().await;
            let _ = tx.send(());
            return;
        }
    }
}

fn write_batch(conn: &mut SqliteConnection, ops: Vec<Op>) -> futures::future::BoxFuture<'_, ()> {
    Box::pin(write_batch_inner(conn, ops))
}

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(conn).await.map(|_| ())
}

async fn write_batch_inner(conn: &mut SqliteConnection, ops: Vec<Op>) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE").await {
        let msg = e.to_string();
        tracing::warn!(error = %msg, ops = ops.len(), "the database refused a write transaction");
        for op in ops {
            reply_err(op, &msg);
        }
        return;
    }
    let mut done: Vec<Done> = Vec::with_capacity(ops.len());
    let single = ops.len() == 1;
    let mut ops = ops.into_iter();
    while let Some(op) = ops.next() {
        if !single {
            if let Err(e) = exec(conn, "SAVEPOINT op").await {
                reply_err(op, &e.to_string());
                continue;
            }
        }
        let result = apply(conn, op).await;
        let abort = match result.error() {
            None => None,
            Some(e) if single || e.is_unavailable() => Some(e.to_string()),
            Some(_) => {
                if let Err(e) = exec(conn, "ROLLBACK TO op").await {
                    tracing::error!(error = %e, "rolling back to a savepoint failed");
                }
                None
            }
        };
        if let Some(msg) = abort {
            // Roll everything back: SQLite may already have (after a full disk or an I/O
            // error), and what the batch wrote so far must not be committed without it.
            if let Err(e) = exec(conn, "ROLLBACK").await {
                tracing::debug!(error = %e, "rollback after a failed write");
            }
            tracing::warn!(error = %msg, "a write failed; its transaction was rolled back");
            result.send(None);
            let why = format!("rolled back with another write that failed: {msg}");
            done.into_iter().for_each(|d| d.send(Some(&why)));
            ops.for_each(|op| reply_err(op, &why));
            return;
        }
        if !single {
            if let Err(e) = exec(conn, "RELEASE op").await {
                tracing::error!(error = %e, "releasing a savepoint failed");
            }
        }
        done.push(result);
    }
    match exec(conn, "COMMIT").await {
        Ok(()) => done.into_iter().for_each(|d| d.send(None)),
        Err(e) => {
            tracing::error!(error = %e, "commit failed");
            let _ = exec(conn, "ROLLBACK").await;
            let msg = e.to_string();
            done.into_iter().for_each(|d| d.send(Some(&msg)));
        }
    }
}

fn reply_err(op: Op, msg: &str) {
    let err = || StoreError::Unavailable(format!("transaction failed: {msg}"));
    match op {
        Op::InsertJob(_, tx) => drop(tx.send(Err(err()))),
        Op::Commit(_, tx) => drop(tx.send(Err(err()))),
        Op::Nonce(_, tx) => drop(tx.send(Err(err()))),
        Op::ExpireNonces(_, tx) => drop(tx.send(Err(err()))),
        Op::Close(tx) => drop(tx.send(())),
    }
}

impl Done {
    fn error(&self) -> Option<&StoreError> {
        match self {
            Done::Inserted(_, r) => r.as_ref().err(),
            Done::Unit(_, r) => r.as_ref().err(),
            Done::Bool(_, r) => r.as_ref().err(),
            Done::Count(_, r) => r.as_ref().err(),
        }
    }
}

// Boxed so the future's type is concrete: sqlx's executor bounds otherwise trip the
// compiler's higher-ranked lifetime inference when the writer is spawned.
fn apply(conn: &mut SqliteConnection, op: Op) -> futures::future::BoxFuture<'_, Done> {
    Box::pin(async move {
        match op {
            Op::InsertJob(job, tx) => Done::Inserted(tx, insert_job(conn, &job).await),
            Op::Commit(c, tx) => Done::Unit(tx, commit(conn, &c).await),
            Op::Nonce(n, tx) => Done::Bool(tx, insert_nonce(conn, &n).await),
            Op::ExpireNonces(now, tx) => {
                let r = sqlx::query("DELETE FROM nonces WHERE expires_at < ?")
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .map(|r| r.rows_affected())
                    .map_err(StoreError::from);
                Done::Count(tx, r)
            }
            Op::Close(_) => unreachable!("Close is filtered out before apply"),
        }
    })
}

async fn insert_nonce(conn: &mut SqliteConnection, n: &NewNonce) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "INSERT INTO nonces (client_id, nonce, job_id, expires_at, route) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (client_id, nonce) DO NOTHING",
    )
    .bind(&n.client_id)
    .bind(&n.nonce)
    .bind(&n.job_id)
    .bind(n.expires_at)
    .bind(n.route.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

async fn insert_job(conn: &mut SqliteConnection, job: &NewJob) -> Result<Inserted, StoreError> {
    if let Some(n) = &job.nonce {
        if !insert_nonce(conn, n).await? {
            let existing: Option<(Option<String>, String)> = sqlx::query_as(
                "SELECT job_id, route FROM nonces WHERE client_id = ? AND nonce = ?",
            )
            .bind(&n.client_id)
            .bind(&n.nonce)
            .fetch_optional(&mut *conn)
            .await?;
            return match existing {
                Some((Some(job_id), route)) if route == NonceRoute::Submit.as_str() => {
                    Ok(Inserted::Duplicate { job_id })
                }
                Some((_, route)) => Err(StoreError::NonceReused { route }),
                None => Err(StoreError::Corrupt(
                    "a nonce conflicts with a row that is not there".into(),
                )),
            };
        }
    }
    sqlx::query(
        "INSERT INTO jobs (id, client_id, created_at, job, state, version, update_time)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&job.id)
    .bind(&job.client_id)
    .bind(job.created_at)
    .bind(&job.job_json)
    .bind(&job.state)
    .bind(job.version)
    .bind(job.created_at)
    .execute(&mut *conn)
    .await?;
    insert_history(conn, &job.id, &job.history).await?;
    Ok(Inserted::Created)
}

async fn insert_history(
    conn: &mut SqliteConnection,
    job_id: &str,
    h: &HistoryRow,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO job_history (job_id, level, time, body) VALUES (?, ?, ?, ?)")
        .bind(job_id)
        .bind(&h.level)
        .bind(h.time)
        .bind(&h.body)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn commit(conn: &mut SqliteConnection, c: &Commit) -> Result<(), StoreError> {
    if let Some(n) = &c.nonce {
        if !insert_nonce(conn, n).await? {
            return Err(StoreError::NonceReused {
                route: n.route.as_str().to_owned(),
            });
        }
    }
    if let Some(j) = &c.job {
        let r = sqlx::query(
            "UPDATE jobs SET state = ?, version = ?, update_time = ?, timeout_at = ? WHERE id = ?",
        )
        .bind(&j.state)
        .bind(j.version)
        .bind(j.update_time)
        .bind(j.timeout_at)
        .bind(&c.job_id)
        .execute(&mut *conn)
        .await?;
        if r.rows_affected() != 1 {
            return Err(StoreError::Corrupt(format!(
                "job {} is not stored",
                c.job_id
            )));
        }
    }
    for e in &c.executions {
        sqlx::query(
            "INSERT INTO executions (id, job_id, ordinal, state, version, body) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version,
             body = excluded.body",
        )
        .bind(&e.id)
        .bind(&c.job_id)
        .bind(e.ordinal)
        .bind(&e.state)
        .bind(e.version)
        .bind(&e.body)
        .execute(&mut *conn)
        .await?;
    }
    for h in &c.history {
        insert_history(conn, &c.job_id, h).await?;
    }
    Ok(())
}
