//! The single writer task (group commit). Every write is an [`Op`] on a channel; the task
//! takes all that are waiting (up to a batch size) and writes them in one transaction with
//! a handful of multi-row statements (one per table), commits once, and only then answers
//! each caller. If the batch fails, it is rolled back and each op is replayed in its own
//! transaction, so an error reaches only the request that caused it.

use std::collections::HashSet;

use sqlx::sqlite::SqliteArguments;
use sqlx::{Arguments, Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::logs::{insert_chunks, LogChunkRow};
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
            let _ = conn.close().await;
            let _ = tx.send(());
            return;
        }
    }
}

// Boxed so the future's type is concrete: sqlx's executor bounds otherwise trip the
// compiler's higher-ranked lifetime inference when the writer is spawned.
fn write_batch(
    conn: &mut SqliteConnection,
    work: Vec<Work>,
    replies: Vec<ReplyTo>,
) -> futures::future::BoxFuture<'_, ()> {
    Box::pin(async move {
        match transaction(conn, &work).await {
            Ok(answers) => {
                for (r, a) in replies.into_iter().zip(answers) {
                    r.send(Ok(a));
                }
            }
            Err(e) if work.len() == 1 => replies
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
    })
}

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(conn).await.map(|_| ())
}

/// Applies `work` in one transaction; on any error the transaction is rolled back.
async fn transaction(
    conn: &mut SqliteConnection,
    work: &[Work],
) -> Result<Vec<Answer>, StoreError> {
    exec(conn, "BEGIN IMMEDIATE")
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let result = apply(conn, work).await;
    let end = if result.is_ok() {
        exec(conn, "COMMIT").await
    } else {
        Err(sqlx::Error::WorkerCrashed)
    };
    match (result, end) {
        (Ok(answers), Ok(())) => Ok(answers),
        (Ok(_), Err(e)) => {
            let _ = exec(conn, "ROLLBACK").await;
            Err(StoreError::Unavailable(format!("commit failed: {e}")))
        }
        (Err(e), _) => {
            let _ = exec(conn, "ROLLBACK").await;
            Err(e)
        }
    }
}

/// A bound value of a multi-row statement.
enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
}

const ROWS_PER_STATEMENT: usize = 64;

/// Runs `head VALUES (?,…),(?,…)… tail` over `rows`, in chunks. Returns rows affected and,
/// when `tail` has RETURNING, the returned rows' first two text columns.
async fn multi_row<'a>(
    conn: &mut SqliteConnection,
    head: &str,
    tail: &str,
    width: usize,
    rows: &[Vec<Arg<'a>>],
) -> Result<(u64, Vec<(String, String)>), StoreError> {
    let mut affected = 0;
    let mut returned = Vec::new();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let one = format!("({})", vec!["?"; width].join(", "));
        let sql = format!(
            "{head} VALUES {}{tail}",
            vec![one.as_str(); chunk.len()].join(", ")
        );
        let mut args = SqliteArguments::default();
        for row in chunk {
            for a in row {
                let r = match a {
                    Arg::Text(s) => args.add(*s),
                    Arg::OptText(s) => args.add(*s),
                    Arg::Int(i) => args.add(*i),
                    Arg::OptInt(i) => args.add(*i),
                };
                r.map_err(|e| StoreError::Corrupt(format!("binding a value: {e}")))?;
            }
        }
        let q = sqlx::query_with(&sql, args);
        if tail.contains("RETURNING") {
            use sqlx::Row;
            let rows = q.fetch_all(&mut *conn).await?;
            affected += rows.len() as u64;
            for r in rows {
                returned.push((r.try_get(0)?, r.try_get(1)?));
            }
        } else {
            affected += q.execute(&mut *conn).await?.rows_affected();
        }
    }
    Ok((affected, returned))
}

async fn apply(conn: &mut SqliteConnection, work: &[Work]) -> Result<Vec<Answer>, StoreError> {
    let mut answers: Vec<Option<Answer>> = work.iter().map(|_| None).collect();

    // Nonces first: they decide which submits are repeats.
    fn nonce_of(w: &Work) -> Option<&NewNonce> {
        match w {
            Work::Insert(j) => j.nonce.as_ref(),
            Work::Commit(c) => c.nonce.as_ref(),
            Work::Nonce(n) => Some(n),
            _ => None,
        }
    }
    let nonce_rows: Vec<Vec<Arg<'_>>> = work
        .iter()
        .filter_map(nonce_of)
        .map(|n| {
            vec![
                Arg::Text(&n.client_id),
                Arg::Text(&n.nonce),
                Arg::OptText(n.job_id.as_deref()),
                Arg::Int(n.expires_at),
                Arg::Text(n.route.as_str()),
            ]
        })
        .collect();
    let mut fresh: HashSet<(String, String)> = HashSet::new();
    if !nonce_rows.is_empty() {
        let (_, returned) = multi_row(
            conn,
            "INSERT INTO nonces (client_id, nonce, job_id, expires_at, route)",
            " ON CONFLICT (client_id, nonce) DO NOTHING RETURNING client_id, nonce",
            5,
            &nonce_rows,
        )
        .await?;
        fresh.extend(returned);
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
        let seen: Option<(Option<String>, String)> =
            sqlx::query_as("SELECT job_id, route FROM nonces WHERE client_id = ? AND nonce = ?")
                .bind(&n.client_id)
                .bind(&n.nonce)
                .fetch_optional(&mut *conn)
                .await?;
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
    let job_rows: Vec<Vec<Arg<'_>>> = new_jobs
        .iter()
        .map(|j| {
            vec![
                Arg::Text(&j.id),
                Arg::Text(&j.client_id),
                Arg::Int(j.created_at),
                Arg::Text(&j.job_json),
                Arg::Text(&j.state),
                Arg::Int(j.version),
                Arg::Int(j.created_at),
            ]
        })
        .collect();
    if !job_rows.is_empty() {
        multi_row(
            conn,
            "INSERT INTO jobs (id, client_id, created_at, job, state, version, update_time)",
            "",
            7,
            &job_rows,
        )
        .await?;
    }

    // Job-row updates.
    let updates: Vec<(&str, &JobRowUpdate)> = work
        .iter()
        .filter_map(|w| match w {
            Work::Commit(c) => c.job.as_ref().map(|u| (c.job_id.as_str(), u)),
            _ => None,
        })
        .collect();
    if !updates.is_empty() {
        let rows: Vec<Vec<Arg<'_>>> = updates
            .iter()
            .map(|(id, u)| {
                vec![
                    Arg::Text(id),
                    Arg::Text(&u.state),
                    Arg::Int(u.version),
                    Arg::Int(u.update_time),
                    Arg::OptInt(u.timeout_at),
                ]
            })
            .collect();
        let (n, _) = multi_row(
            conn,
            "UPDATE jobs SET state = v.column2, version = v.column3, update_time = v.column4, timeout_at = v.column5 FROM (",
            ") AS v WHERE jobs.id = v.column1",
            5,
            &rows,
        )
        .await?;
        if n != rows.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "{} of {} updated jobs are not stored",
                rows.len() as u64 - n,
                rows.len()
            )));
        }
    }

    // Executions, keyed by their job's seq (looked up by id in the same statement). An
    // execution replaces the row at its ordinal only when it is the same execution.
    let exec_rows: Vec<Vec<Arg<'_>>> = work
        .iter()
        .filter_map(|w| match w {
            Work::Commit(c) => Some(c),
            _ => None,
        })
        .flat_map(|c| {
            c.executions.iter().map(|e| {
                vec![
                    Arg::Text(&c.job_id),
                    Arg::Int(e.ordinal),
                    Arg::Text(&e.id),
                    Arg::Text(&e.state),
                    Arg::Int(e.version),
                    Arg::Text(&e.body),
                ]
            })
        })
        .collect();
    if !exec_rows.is_empty() {
        let (n, _) = multi_row(
            conn,
            "INSERT INTO executions (job_seq, ordinal, id, state, version, body) \
             SELECT j.seq, v.column2, v.column3, v.column4, v.column5, v.column6 FROM (",
            ") AS v JOIN jobs j ON j.id = v.column1 WHERE true \
             ON CONFLICT (job_seq, ordinal) DO UPDATE SET state = excluded.state, \
             version = excluded.version, body = excluded.body WHERE executions.id = excluded.id",
            6,
            &exec_rows,
        )
        .await?;
        if n != exec_rows.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "{} of {} executions were not stored (unknown job, or another execution at \
                 the same position)",
                exec_rows.len() as u64 - n,
                exec_rows.len()
            )));
        }
    }

    // History, in op order.
    let mut history_rows: Vec<Vec<Arg<'_>>> = Vec::new();
    for (w, rep) in work.iter().zip(&repeated) {
        let (job_id, rows): (&str, &[HistoryRow]) = match w {
            Work::Insert(j) if !rep => (&j.id, std::slice::from_ref(&j.history)),
            Work::Commit(c) => (&c.job_id, &c.history),
            _ => continue,
        };
        for h in rows {
            history_rows.push(vec![
                Arg::Text(job_id),
                Arg::Text(&h.level),
                Arg::Int(h.time),
                Arg::Text(&h.body),
                Arg::Int(history_rows.len() as i64),
            ]);
        }
    }
    if !history_rows.is_empty() {
        // Column 5 is the row's position: the join must not reorder the history.
        let (n, _) = multi_row(
            conn,
            "INSERT INTO job_history (job_seq, level, time, body) \
             SELECT j.seq, v.column2, v.column3, v.column4 FROM (",
            ") AS v JOIN jobs j ON j.id = v.column1 ORDER BY v.column5",
            5,
            &history_rows,
        )
        .await?;
        if n != history_rows.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "{} of {} history records belong to no stored job",
                history_rows.len() as u64 - n,
                history_rows.len()
            )));
        }
    }

    // Log chunks.
    for w in work {
        if let Work::LogChunks(rows) = w {
            insert_chunks(conn, rows).await?;
        }
    }

    // Expiry.
    for (i, w) in work.iter().enumerate() {
        if let Work::Expire(now) = w {
            let r = sqlx::query("DELETE FROM nonces WHERE expires_at < ?")
                .bind(now)
                .execute(&mut *conn)
                .await?;
            answers[i] = Some(Answer::Count(r.rows_affected()));
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
