//! The SQLite log database: the index of persisted log chunks, in a file of its own
//! beside the main database (`<main file>-logs`) with its own writer connection, and
//! their records in segment files ([`segments`](super::segments)). Log writes neither
//! wait for the job writer nor make its commits fsync more files. The main database's
//! read connections attach this file as `logs`, so the read queries name `log_chunks`
//! as on PostgreSQL.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use super::segments::{self, SegmentWriter};
use crate::store::logs::LogChunkRow;
use crate::store::{to_i64, StoreError};

/// The log database's embedded migrations in `migrations/sqlite-logs/`.
pub static LOGS_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite-logs");

/// The schema name the main database's connections attach the log database under.
pub const SCHEMA: &str = "logs";

/// Where the log database of the main database file `main` lives.
pub fn path_for(main: &Path) -> PathBuf {
    let mut name = main.as_os_str().to_owned();
    name.push("-logs");
    PathBuf::from(name)
}

/// Options for the log database, from the main database's.
pub fn options(main: &SqliteConnectOptions) -> SqliteConnectOptions {
    main.clone().filename(path_for(main.get_filename()))
}

/// The log database's writer: one connection, one transaction per batch of chunks, and
/// the segment their records are appended to first.
#[derive(Debug)]
pub(crate) struct SqliteLogWriter {
    /// The connection; `None` once closed. Held across a batch's append and commit, so
    /// batches go one at a time.
    conn: tokio::sync::Mutex<Option<SqliteConnection>>,
    /// The newest segment; appended to on the blocking pool.
    segments: Arc<Mutex<SegmentWriter>>,
}

impl SqliteLogWriter {
    /// Opens (creating if needed) the log database, runs its migrations, and moves into it
    /// any chunks an older hake stored in the main database (`main` still unmigrated).
    pub(crate) async fn open(main: &SqliteConnectOptions) -> Result<Self, StoreError> {
        let mut conn = options(main).connect().await?;
        LOGS_MIGRATOR.run(&mut conn).await?;
        move_old_chunks(main).await?;
        let dir = segments::dir_for(main.get_filename());
        let segments = tokio::task::spawn_blocking(move || SegmentWriter::open(&dir))
            .await
            .map_err(|e| StoreError::Config(e.to_string()))?
            .map_err(|e| StoreError::Config(format!("opening the log segments: {e}")))?;
        Ok(Self {
            conn: tokio::sync::Mutex::new(Some(conn)),
            segments: Arc::new(Mutex::new(segments)),
        })
    }

    /// Stores sealed chunks (and gap rows): their records appended to the segment and
    /// made durable, then the rows in one transaction.
    pub(crate) async fn append(&self, rows: Arc<Vec<LogChunkRow>>) -> Result<(), StoreError> {
        let mut guard = self.conn.lock().await;
        let conn = guard.as_mut().ok_or(StoreError::WriterGone)?;
        let mut extents = Vec::new();
        if rows.iter().any(|r| !r.gap) {
            let (segments, batch) = (self.segments.clone(), rows.clone());
            extents = tokio::task::spawn_blocking(move || {
                let parts: Vec<&[u8]> = batch
                    .iter()
                    .filter(|r| !r.gap)
                    .map(|r| r.records.as_slice())
                    .collect();
                segments
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .append(&parts)
            })
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?
            .map_err(|e| StoreError::Unavailable(format!("writing a log segment: {e}")))?;
        }
        let mut extents = extents.into_iter();
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        for r in rows.iter() {
            let at = if r.gap { None } else { extents.next() };
            sqlx::query(
                "INSERT INTO log_chunks
                     (execution_id, first_seq, job_id, last_seq, bytes, gap, records, segment, seg_offset, seg_len)
                 VALUES (?, ?, ?, ?, ?, ?, x'', ?, ?, ?)",
            )
            .bind(&r.execution_id)
            .bind(to_i64(r.first_seq))
            .bind(&r.job_id)
            .bind(to_i64(r.last_seq))
            .bind(to_i64(r.bytes))
            .bind(r.gap)
            .bind(at.map(|e| i64::from(e.segment)))
            .bind(at.map(|e| to_i64(e.offset)))
            .bind(at.map(|e| to_i64(e.len)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Closes the connection; later appends fail with [`StoreError::WriterGone`].
    pub(crate) async fn close(&self) {
        if let Some(conn) = self.conn.lock().await.take() {
            let _ = conn.close().await;
        }
    }
}

/// Attaches the log database to a connection of the main database as [`SCHEMA`].
pub(crate) async fn attach(conn: &mut SqliteConnection, main: &Path) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("ATTACH DATABASE ? AS {SCHEMA}"))
        .bind(path_for(main).to_string_lossy().into_owned())
        .execute(conn)
        .await
        .map(|_| ())
}

/// Copies the chunks a main database from before the log database holds into it, so the
/// main migration that drops them (0005) loses none. Idempotent: a start that stopped
/// between the copy and the drop copies again over what is there.
async fn move_old_chunks(main: &SqliteConnectOptions) -> Result<(), StoreError> {
    let mut conn = main.clone().connect().await?;
    let old: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'log_chunks'",
    )
    .fetch_one(&mut conn)
    .await?;
    if old > 0 {
        attach(&mut conn, main.get_filename()).await?;
        let moved = sqlx::query(&format!(
            "INSERT OR IGNORE INTO {SCHEMA}.log_chunks
                 (execution_id, first_seq, job_id, last_seq, bytes, gap, records)
             SELECT execution_id, first_seq, job_id, last_seq, bytes, gap, records
             FROM main.log_chunks"
        ))
        .execute(&mut conn)
        .await?
        .rows_affected();
        tracing::info!(
            chunks = moved,
            "moved stored log chunks into the log database"
        );
    }
    conn.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::store::{Store, StoreOptions};

    /// The main database as an older hake left it: migrations 1–4, chunks in `log_chunks`.
    async fn older_main_database(main: &SqliteConnectOptions) {
        let mut older = sqlx::migrate!("./migrations/sqlite");
        older.migrations = std::borrow::Cow::Owned(older.migrations[..4].to_vec());
        let mut conn = main
            .clone()
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        older.run(&mut conn).await.unwrap();
        for (first, last, gap, records) in [(0, 9, 0, vec![1_u8, 2, 3]), (10, 19, 1, vec![])] {
            sqlx::query(
                "INSERT INTO log_chunks (execution_id, first_seq, job_id, last_seq, bytes, gap, records)
                 VALUES ('e-1', ?, 'j', ?, ?, ?, ?)",
            )
            .bind(first)
            .bind(last)
            .bind(if gap == 1 { 0 } else { 100 })
            .bind(gap)
            .bind(records)
            .execute(&mut conn)
            .await
            .unwrap();
        }
        conn.close().await.unwrap();
    }

    /// Ten records of execution `e-1` from seq `first` (no records in a gap row).
    fn row(first: u64, gap: bool, records: &[u8]) -> LogChunkRow {
        LogChunkRow {
            execution_id: "e-1".into(),
            job_id: "j".into(),
            first_seq: first,
            last_seq: first + 9,
            bytes: if gap { 0 } else { 10 },
            gap,
            records: records.to_vec(),
        }
    }

    async fn main_has_chunks_table(main: &SqliteConnectOptions) -> bool {
        let mut conn = main.clone().connect().await.unwrap();
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'log_chunks'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        n > 0
    }

    #[tokio::test]
    async fn chunks_an_older_hake_kept_in_the_main_file_move_to_the_log_database() {
        let dir = tempfile::tempdir().unwrap();
        let opts = StoreOptions::in_dir(dir.path());
        let main = SqliteConnectOptions::from_str(&opts.url).unwrap();
        older_main_database(&main).await;
        assert!(main_has_chunks_table(&main).await);

        // Opened twice: the move happens once and the second start finds it done.
        for _ in 0..2 {
            let store = Store::open(&opts).await.unwrap();
            let chunks = store.log_chunks_from("e-1", 0, 10).await.unwrap();
            assert_eq!(
                chunks
                    .iter()
                    .map(|c| (c.first_seq, c.last_seq, c.gap, c.records.to_vec()))
                    .collect::<Vec<_>>(),
                vec![(0, 9, false, vec![1, 2, 3]), (10, 19, true, vec![])]
            );
            assert_eq!(store.log_persisted_bytes("e-1").await.unwrap(), 100);
            store.close().await;
            assert!(!main_has_chunks_table(&main).await);
        }
    }

    #[tokio::test]
    async fn chunk_records_go_to_a_segment_beside_the_main_file_and_the_rows_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let opts = StoreOptions::in_dir(dir.path());
        let store = Store::open(&opts).await.unwrap();
        store
            .append_log_chunks(Arc::new(vec![row(0, false, b"first"), row(10, true, b"")]))
            .await
            .unwrap();
        store
            .append_log_chunks(Arc::new(vec![row(20, false, b"second")]))
            .await
            .unwrap();
        let chunks = store.log_chunks_from("e-1", 0, 10).await.unwrap();
        assert_eq!(
            chunks.iter().map(|c| &c.records[..]).collect::<Vec<_>>(),
            vec![&b"first"[..], b"", b"second"]
        );
        store.close().await;

        let segment = std::fs::read(dir.path().join("hake.db-logs.d/00000001.seg")).unwrap();
        assert_eq!(segment, b"firstsecond");
        let main = SqliteConnectOptions::from_str(&opts.url).unwrap();
        let mut conn = options(&main).connect().await.unwrap();
        type Located = (i64, Option<i64>, Option<i64>, Option<i64>, Vec<u8>);
        let rows: Vec<Located> = sqlx::query_as(
            "SELECT first_seq, segment, seg_offset, seg_len, records FROM log_chunks ORDER BY first_seq",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        assert_eq!(
            rows,
            vec![
                (0, Some(1), Some(0), Some(5), vec![]),
                (10, None, None, None, vec![]),
                (20, Some(1), Some(5), Some(6), vec![]),
            ]
        );
        assert!(!main_has_chunks_table(&main).await);
    }

    #[tokio::test]
    async fn records_missing_from_their_segment_read_as_empty_chunks_not_as_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let opts = StoreOptions::in_dir(dir.path());
        let store = Store::open(&opts).await.unwrap();
        store
            .append_log_chunks(Arc::new(vec![row(0, false, b"records")]))
            .await
            .unwrap();
        std::fs::remove_file(dir.path().join("hake.db-logs.d/00000001.seg")).unwrap();
        // The hub reports an empty chunk as a gap (`logs::chunk::decode` refuses it).
        let chunks = store.log_chunks_from("e-1", 0, 10).await.unwrap();
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].records.is_empty() && !chunks[0].gap);
        store.close().await;
    }
}
