//! The SQLite side of the store (one node): a WAL database file, one writer connection
//! for the group-commit writer, a small read pool, and background WAL checkpoints; log
//! chunks in a second file with a writer of its own ([`logs`]).

mod checkpoint;
pub(crate) mod logs;
pub(super) mod reads;
mod segments;
mod write;

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::ConnectOptions;

use super::{StoreError, StoreOptions};
use checkpoint::{Checkpointer, WRITER_AUTOCHECKPOINT_PAGES};
pub(crate) use logs::SqliteLogWriter;
pub(crate) use reads::SqliteReads;
pub(crate) use write::SqliteWriter;

/// The embedded SQLite migrations in `migrations/sqlite/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Opens (creating if needed) the database file and its log database, and runs the
/// migrations of both.
pub(super) async fn open(
    opts: &StoreOptions,
) -> Result<(SqliteReads, SqliteWriter, SqliteLogWriter), StoreError> {
    let connect = SqliteConnectOptions::from_str(&opts.url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(opts.busy_timeout)
        .foreign_keys(true)
        .statement_cache_capacity(512)
        .disable_statement_logging();
    // Before the main migrations: 0005 drops the chunks an older hake kept in the main
    // file, once they are copied over.
    let logs = SqliteLogWriter::open(&connect).await?;
    let mut conn = connect
        .clone()
        .pragma(
            "wal_autocheckpoint",
            WRITER_AUTOCHECKPOINT_PAGES.to_string(),
        )
        .connect()
        .await?;
    MIGRATOR.run(&mut conn).await?;
    let main_file = connect.get_filename().to_owned();
    let pool = SqlitePoolOptions::new()
        .max_connections(opts.read_connections.max(1))
        .min_connections(1)
        .after_connect(move |conn, _| {
            let main_file = main_file.clone();
            Box::pin(async move { logs::attach(conn, &main_file).await })
        })
        .connect_with(connect.clone())
        .await?;
    let checkpointer = Checkpointer::start(connect.connect().await?);
    Ok((
        SqliteReads {
            pool,
            segments: segments::SegmentReader::new(segments::dir_for(connect.get_filename())),
            checkpointer: std::sync::Mutex::new(Some(checkpointer)),
        },
        SqliteWriter(conn),
        logs,
    ))
}

/// Whether a SQLite error code means busy, locked, read-only, I/O, full or unopenable.
pub(super) fn code_is_unavailable(code: &str) -> bool {
    // SQLITE_BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14
    let primary = code.parse::<i32>().map(|c| c & 0xff).unwrap_or(0);
    matches!(primary, 5 | 6 | 8 | 10 | 13 | 14)
}
