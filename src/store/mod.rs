//! All SQL lives here. SQLite through sqlx: one writer task that batches commits (see
//! [`writer`]) and a small pool of read connections. Rows hold the wire JSON of jobs,
//! executions and history records, so reads need no re-assembly beyond one join.
//! Execution logs are stored as sealed chunks of records (`logs.rs`, table `log_chunks`).

mod checkpoint;
mod logs;
mod reads;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqlitePool};
use tokio::sync::{mpsc, oneshot};

pub use logs::{LogChunkRow, StoredLogChunk};
pub use reads::SeenNonce;
pub use reads::{ListQuery, ListedJob, SortBy, StoredJob};
pub use writer::{
    Commit, ExecutionRow, HistoryRow, Inserted, JobRowUpdate, NewJob, NewNonce, NonceRoute,
};

use checkpoint::{Checkpointer, WRITER_AUTOCHECKPOINT_PAGES};
use writer::Op;

/// The embedded SQLite migrations in `migrations/sqlite/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
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
            Self::Unavailable(m) => Self::Unavailable(m.clone()),
            Self::NonceReused { route } => Self::NonceReused {
                route: route.clone(),
            },
            Self::WriterGone => Self::WriterGone,
            other if other.is_unavailable() => Self::Unavailable(other.to_string()),
            other => Self::Corrupt(other.to_string()),
        }
    }

    /// Whether the failure is the database being busy, locked, full or read-only: a
    /// condition to report as 503 rather than as a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::WriterGone | Self::Unavailable(_) => true,
            Self::Db(sqlx::Error::Database(e)) => {
                let code = e.code().unwrap_or_default();
                // SQLITE_BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14
                let primary = code.parse::<i32>().map(|c| c & 0xff).unwrap_or(0);
                matches!(primary, 5 | 6 | 8 | 10 | 13 | 14)
            }
            Self::Db(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => {
                true
            }
            _ => false,
        }
    }
}

/// Where and how to open the database.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// A `sqlite:` URL.
    pub url: String,
    /// Read connections in the pool.
    pub read_connections: u32,
    /// Most operations the writer commits in one transaction.
    pub max_batch: usize,
    /// How long a statement waits for a lock another connection holds (then SQLITE_BUSY,
    /// which requests see as 503).
    pub busy_timeout: Duration,
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
        }
    }
}

/// The database: a batching writer and a read pool.
#[derive(Debug, Clone)]
pub struct Store {
    read: SqlitePool,
    /// Queue of write operations for the writer task; each carries its reply channel.
    writer: mpsc::Sender<Op>,
    /// The background WAL checkpoint task, taken when the store closes.
    checkpointer: Arc<Mutex<Option<Checkpointer>>>,
}

impl Store {
    /// Opens (creating if needed) the database, runs the migrations and starts the writer.
    pub async fn open(opts: &StoreOptions) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::from_str(&opts.url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(opts.busy_timeout)
            .foreign_keys(true)
            .statement_cache_capacity(512)
            .disable_statement_logging();
        let mut conn = connect
            .clone()
            .pragma(
                "wal_autocheckpoint",
                WRITER_AUTOCHECKPOINT_PAGES.to_string(),
            )
            .connect()
            .await?;
        MIGRATOR.run(&mut conn).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(opts.read_connections.max(1))
            .min_connections(1)
            .connect_with(connect.clone())
            .await?;
        let checkpointer = Checkpointer::start(connect.connect().await?);
        let writer = writer::spawn(conn, opts.max_batch.max(1));
        Ok(Self {
            read,
            writer,
            checkpointer: Arc::new(Mutex::new(Some(checkpointer))),
        })
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
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

    /// Stores sealed log chunks (and gap rows) in the writer's next transaction.
    pub async fn append_log_chunks(&self, rows: Arc<Vec<LogChunkRow>>) -> Result<(), StoreError> {
        self.call(|tx| Op::LogChunks(rows, tx)).await?
    }

    /// Waits until every queued write is committed, then stops the writer.
    pub async fn close(&self) {
        let checkpointer = self.checkpointer.lock().expect("checkpointer").take();
        if let Some(c) = checkpointer {
            c.stop().await;
        }
        let (tx, rx) = oneshot::channel();
        if self.writer.send(Op::Close(tx)).await.is_ok() {
            let _ = rx.await;
        }
        self.read.close().await;
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

#[cfg(test)]
mod tests;
