//! All SQL lives here, behind one interface with two implementations: SQLite (one node,
//! the default: a file in the data dir) and PostgreSQL (a database that several nodes
//! share), picked by the scheme of `--database-url`. Both use sqlx's own drivers.
//!
//! Writes go through one group-commit writer task per node ([`writer`]): it batches what
//! is waiting into one transaction with a few multi-row statements and answers each
//! caller after the commit; each database supplies its statements ([`writer::WriteTx`]).
//! Reads go through a pool ([`Reads`]). Rows hold the wire JSON of jobs, executions and
//! history records, so reads need no re-assembly beyond one join. Execution logs are
//! stored as sealed chunks of records (table `log_chunks`).

mod logs;
pub mod postgres;
mod reads;
mod rows;
pub mod sqlite;
mod types;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use logs::{LogChunkRow, StoredLogChunk};
pub use types::{ListQuery, ListedJob, SeenNonce, SortBy, StoredJob};
pub use writer::{
    Commit, ExecutionRow, HistoryRow, Inserted, JobRowUpdate, NewJob, NewNonce, NonceRoute,
};

use crate::model::{ExecutionState, JobHistory};
use writer::Op;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL or settings are not usable.
    #[error("{0}")]
    Config(String),
    /// A stored JSON document does not parse.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A transaction could not be started or committed (disk full, I/O error, locked).
    #[error("the database could not commit: {0}")]
    Unavailable(String),
    /// The writer task has stopped (the server is shutting down).
    #[error("the database writer has stopped")]
    WriterGone,
    /// The client already used this nonce, in a request to `route`.
    #[error("the nonce was already used by this client (in a {route} request)")]
    NonceReused {
        /// The route that used it first.
        route: String,
    },
}

impl StoreError {
    /// A copy for answering several callers (database errors become their message).
    pub fn clone_shallow(&self) -> Self {
        match self {
            Self::Corrupt(m) => Self::Corrupt(m.clone()),
            Self::Config(m) => Self::Config(m.clone()),
            Self::Unavailable(m) => Self::Unavailable(m.clone()),
            Self::NonceReused { route } => Self::NonceReused {
                route: route.clone(),
            },
            Self::WriterGone => Self::WriterGone,
            other if other.is_unavailable() => Self::Unavailable(other.to_string()),
            other => Self::Corrupt(other.to_string()),
        }
    }

    /// Whether the failure is the database being unreachable, busy, locked, full or
    /// read-only: a condition to report as 503 (and to retry) rather than as a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::WriterGone | Self::Unavailable(_) => true,
            Self::Db(e) => sqlx_error_is_unavailable(e),
            Self::Migrate(sqlx::migrate::MigrateError::Execute(e)) => sqlx_error_is_unavailable(e),
            _ => false,
        }
    }
}

/// Whether a driver error means the database cannot serve now (on either database).
fn sqlx_error_is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(e) => {
            let code = e.code().unwrap_or_default();
            if e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                postgres::code_is_unavailable(&code)
            } else {
                sqlite::code_is_unavailable(&code)
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

/// Which database a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseKind {
    /// A SQLite file (`sqlite://PATH`, or the default file in the data dir).
    Sqlite,
    /// A PostgreSQL server (`postgres://` or `postgresql://`).
    Postgres,
}

impl DatabaseKind {
    /// The kind of `url`, or an error naming the accepted schemes.
    pub fn of_url(url: &str) -> Result<Self, String> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(format!(
                "unsupported database URL {:?}: the scheme must be sqlite://, postgres:// or postgresql://",
                redact(url)
            )),
        }
    }
}

/// `url` with any password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Where and how to open the database.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// A `sqlite:`, `postgres:` or `postgresql:` URL.
    pub url: String,
    /// Read connections in the pool.
    pub read_connections: u32,
    /// Most operations the writer commits in one transaction.
    pub max_batch: usize,
    /// SQLite: how long a statement waits for a lock another connection holds (then
    /// SQLITE_BUSY, which requests see as 503).
    pub busy_timeout: Duration,
    /// PostgreSQL: how long start-up waits for the server to accept connections.
    pub connect_timeout: Duration,
}

impl StoreOptions {
    /// The default database file inside `data_dir`.
    pub fn in_dir(data_dir: &Path) -> Self {
        Self::from_url(format!("sqlite://{}", data_dir.join("hake.db").display()))
    }

    /// Options for an explicit URL.
    pub fn from_url(url: String) -> Self {
        Self {
            url,
            read_connections: 4,
            max_batch: 512,
            busy_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(30),
        }
    }
}

/// The read side of a database: every query that is not a write.
#[async_trait::async_trait]
pub(crate) trait Reads: Send + Sync + std::fmt::Debug {
    async fn ping(&self) -> bool;
    async fn job(&self, id: &str) -> Result<Option<StoredJob>, StoreError>;
    async fn nonce(&self, client_id: &str, nonce: &str) -> Result<Option<SeenNonce>, StoreError>;
    async fn nonce_count(&self) -> Result<i64, StoreError>;
    async fn ids_with_prefix(&self, prefix: &str, limit: i64) -> Result<Vec<String>, StoreError>;
    async fn executions(&self, job_id: &str) -> Result<Vec<ExecutionState>, StoreError>;
    async fn history(&self, job_id: &str) -> Result<Vec<JobHistory>, StoreError>;
    async fn unfinished_jobs(&self) -> Result<Vec<StoredJob>, StoreError>;
    async fn list(&self, q: &ListQuery) -> Result<(Vec<ListedJob>, bool), StoreError>;
    async fn log_chunks_from(
        &self,
        execution_id: &str,
        from: u64,
        limit: u32,
    ) -> Result<Vec<StoredLogChunk>, StoreError>;
    async fn log_chunks_before(
        &self,
        execution_id: &str,
        before: u64,
        limit: u32,
    ) -> Result<Vec<StoredLogChunk>, StoreError>;
    async fn log_persisted_bytes(&self, execution_id: &str) -> Result<u64, StoreError>;
    async fn log_last_seq(&self, execution_id: &str) -> Result<Option<u64>, StoreError>;
    async fn close(&self);
}

/// The database: a batching writer and a read pool, on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct Store {
    kind: DatabaseKind,
    reads: Arc<dyn Reads>,
    /// Queue of write operations for the writer task; each carries its reply channel.
    writer: mpsc::Sender<Op>,
    /// SQLite: the log database's own writer (on PostgreSQL chunks go through `writer`).
    logs: Option<Arc<sqlite::SqliteLogWriter>>,
    cluster: Option<postgres::PgCluster>,
}

impl Store {
    /// Opens (creating if needed) the database, runs the migrations and starts the writer.
    pub async fn open(opts: &StoreOptions) -> Result<Self, StoreError> {
        let kind = DatabaseKind::of_url(&opts.url).map_err(StoreError::Config)?;
        let max_batch = opts.max_batch.max(1);
        let (reads, writer, logs, cluster): (Arc<dyn Reads>, _, _, _) = match kind {
            DatabaseKind::Sqlite => {
                let (reads, conn, logs) = sqlite::open(opts).await?;
                (
                    Arc::new(reads),
                    writer::spawn(conn, max_batch),
                    Some(Arc::new(logs)),
                    None,
                )
            }
            DatabaseKind::Postgres => {
                let (reads, conn, cluster) = postgres::open(opts).await?;
                (
                    Arc::new(reads),
                    writer::spawn(conn, max_batch),
                    None,
                    Some(cluster),
                )
            }
        };
        Ok(Self {
            kind,
            reads,
            writer,
            logs,
            cluster,
        })
    }

    /// Which database this is.
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// The cluster's statements, on PostgreSQL (where several nodes may share the store).
    pub fn cluster(&self) -> Option<&postgres::PgCluster> {
        self.cluster.as_ref()
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.reads.ping().await
    }

    /// The job with exactly this id.
    pub async fn job(&self, id: &str) -> Result<Option<StoredJob>, StoreError> {
        self.reads.job(id).await
    }

    /// The use of `(client_id, nonce)` on record, if any (expired ones may linger until the
    /// next sweep).
    pub async fn nonce(
        &self,
        client_id: &str,
        nonce: &str,
    ) -> Result<Option<SeenNonce>, StoreError> {
        self.reads.nonce(client_id, nonce).await
    }

    /// How many nonces are on record.
    pub async fn nonce_count(&self) -> Result<i64, StoreError> {
        self.reads.nonce_count().await
    }

    /// Up to `limit` job ids that start with `prefix`, in id order.
    pub async fn ids_with_prefix(
        &self,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        self.reads.ids_with_prefix(prefix, limit).await
    }

    /// The executions of a job in creation order.
    pub async fn executions(&self, job_id: &str) -> Result<Vec<ExecutionState>, StoreError> {
        self.reads.executions(job_id).await
    }

    /// A job's history in the order it happened.
    pub async fn history(&self, job_id: &str) -> Result<Vec<JobHistory>, StoreError> {
        self.reads.history(job_id).await
    }

    /// Jobs that had not finished, in submit order (for recovery after a restart).
    pub async fn unfinished_jobs(&self) -> Result<Vec<StoredJob>, StoreError> {
        self.reads.unfinished_jobs().await
    }

    /// Filters, sorts, then limits. Returns the page and whether more rows follow.
    pub async fn list(&self, q: &ListQuery) -> Result<(Vec<ListedJob>, bool), StoreError> {
        self.reads.list(q).await
    }

    /// Up to `limit` chunks of an execution that hold seqs ≥ `from`, in seq order.
    pub async fn log_chunks_from(
        &self,
        execution_id: &str,
        from: u64,
        limit: u32,
    ) -> Result<Vec<StoredLogChunk>, StoreError> {
        self.reads.log_chunks_from(execution_id, from, limit).await
    }

    /// Up to `limit` chunks of an execution that start before `before`, newest first
    /// (for `Tail`).
    pub async fn log_chunks_before(
        &self,
        execution_id: &str,
        before: u64,
        limit: u32,
    ) -> Result<Vec<StoredLogChunk>, StoreError> {
        self.reads
            .log_chunks_before(execution_id, before, limit)
            .await
    }

    /// Data bytes persisted for an execution.
    pub async fn log_persisted_bytes(&self, execution_id: &str) -> Result<u64, StoreError> {
        self.reads.log_persisted_bytes(execution_id).await
    }

    /// The last persisted seq of an execution (gap rows included), if any.
    pub async fn log_last_seq(&self, execution_id: &str) -> Result<Option<u64>, StoreError> {
        self.reads.log_last_seq(execution_id).await
    }

    /// Stores a new job with its first history record (and its nonce, if any).
    pub async fn insert_job(&self, job: NewJob) -> Result<Inserted, StoreError> {
        self.call(|tx| Op::InsertJob(Box::new(job), tx)).await?
    }

    /// Applies a state change: job row, executions and history, atomically.
    pub async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        self.call(|tx| Op::Commit(Box::new(commit), tx)).await?
    }

    /// Records a nonce; returns false when `(client, nonce)` was already seen.
    pub async fn record_nonce(&self, nonce: NewNonce) -> Result<bool, StoreError> {
        self.call(|tx| Op::Nonce(nonce, tx)).await?
    }

    /// Deletes nonces that expired before `now_ns`.
    pub async fn expire_nonces(&self, now_ns: i64) -> Result<u64, StoreError> {
        self.call(|tx| Op::ExpireNonces(now_ns, tx)).await?
    }

    /// Stores sealed log chunks (and gap rows): on SQLite in a transaction of the log
    /// database, on PostgreSQL in the writer's next transaction.
    pub async fn append_log_chunks(&self, rows: Arc<Vec<LogChunkRow>>) -> Result<(), StoreError> {
        match &self.logs {
            Some(logs) => logs.append(rows).await,
            None => self.call(|tx| Op::LogChunks(rows, tx)).await?,
        }
    }

    /// Waits until every queued write is committed, then stops the writer.
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.writer.send(Op::Close(tx)).await.is_ok() {
            let _ = rx.await;
        }
        if let Some(logs) = &self.logs {
            logs.close().await;
        }
        self.reads.close().await;
    }

    async fn call<T>(&self, op: impl FnOnce(oneshot::Sender<T>) -> Op) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send(op(tx))
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod testdb;
#[cfg(test)]
mod tests;
