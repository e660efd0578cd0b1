//! Persisted execution logs (`log_chunks`, migration 0002): the writer's insert of sealed
//! chunks and the reads followers use. The store sees chunks as opaque blobs; their
//! encoding lives in `crate::logs::chunk`.

use sqlx::{Row, SqliteConnection};

use super::{Store, StoreError};

/// A sealed chunk (or a gap row) to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunkRow {
    /// The execution.
    pub execution_id: String,
    /// Its job.
    pub job_id: String,
    /// Seq of the first record.
    pub first_seq: u64,
    /// Seq of the last record (inclusive).
    pub last_seq: u64,
    /// Data bytes of the records (0 for a gap row).
    pub bytes: u64,
    /// Whether this row stands for records dropped past the cap (no records).
    pub gap: bool,
    /// The encoded records (empty for a gap row).
    pub records: Vec<u8>,
}

/// A chunk as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogChunk {
    /// Seq of the first record.
    pub first_seq: u64,
    /// Seq of the last record (inclusive).
    pub last_seq: u64,
    /// Data bytes of the records.
    pub bytes: u64,
    /// Records dropped past the cap: report `first_seq..=last_seq` as a gap.
    pub gap: bool,
    /// The encoded records (empty for a gap row).
    pub records: Vec<u8>,
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Inserts chunks inside the writer's transaction.
pub(super) async fn insert_chunks(
    conn: &mut SqliteConnection,
    rows: &[LogChunkRow],
) -> Result<(), StoreError> {
    for r in rows {
        sqlx::query(
            "INSERT INTO log_chunks (execution_id, first_seq, job_id, last_seq, bytes, gap, records)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.execution_id)
        .bind(to_i64(r.first_seq))
        .bind(&r.job_id)
        .bind(to_i64(r.last_seq))
        .bind(to_i64(r.bytes))
        .bind(r.gap)
        .bind(&r.records)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn chunk_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<StoredLogChunk, StoreError> {
    Ok(StoredLogChunk {
        first_seq: to_u64(row.try_get("first_seq")?),
        last_seq: to_u64(row.try_get("last_seq")?),
        bytes: to_u64(row.try_get("bytes")?),
        gap: row.try_get("gap")?,
        records: row.try_get("records")?,
    })
}

const CHUNKS_FROM: &str = "SELECT first_seq, last_seq, bytes, gap, records FROM log_chunks
     WHERE execution_id = ? AND last_seq >= ? ORDER BY last_seq LIMIT ?";
const CHUNKS_BEFORE: &str = "SELECT first_seq, last_seq, bytes, gap, records FROM log_chunks
     WHERE execution_id = ? AND first_seq < ? ORDER BY first_seq DESC LIMIT ?";

impl Store {
    /// Up to `limit` chunks of an execution that hold seqs ≥ `from`, in seq order.
    ///
    /// Chunks never overlap, so `last_seq` order is seq order, and ordering by it lets
    /// SQLite walk `log_chunks_by_last` and stop after `limit` rows. (Ordering by
    /// `first_seq` made it sort every remaining chunk, blobs included, on every call.)
    pub async fn log_chunks_from(
        &self,
        execution_id: &str,
        from: u64,
        limit: u32,
    ) -> Result<Vec<StoredLogChunk>, StoreError> {
        let rows = sqlx::query(CHUNKS_FROM)
            .bind(execution_id)
            .bind(to_i64(from))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(chunk_from_row).collect()
    }

    /// Up to `limit` chunks of an execution that start before `before`, newest first
    /// (for `Tail`).
    pub async fn log_chunks_before(
        &self,
        execution_id: &str,
        before: u64,
        limit: u32,
    ) -> Result<Vec<StoredLogChunk>, StoreError> {
        let rows = sqlx::query(CHUNKS_BEFORE)
            .bind(execution_id)
            .bind(to_i64(before))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(chunk_from_row).collect()
    }

    /// Data bytes persisted for an execution.
    pub async fn log_persisted_bytes(&self, execution_id: &str) -> Result<u64, StoreError> {
        let total: Option<i64> =
            sqlx::query_scalar("SELECT SUM(bytes) FROM log_chunks WHERE execution_id = ?")
                .bind(execution_id)
                .fetch_one(&self.read)
                .await?;
        Ok(total.map_or(0, to_u64))
    }

    /// The last persisted seq of an execution (gap rows included), if any.
    pub async fn log_last_seq(&self, execution_id: &str) -> Result<Option<u64>, StoreError> {
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(last_seq) FROM log_chunks WHERE execution_id = ?")
                .bind(execution_id)
                .fetch_one(&self.read)
                .await?;
        Ok(last.map(to_u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    fn row(first: u64, last: u64, gap: bool) -> LogChunkRow {
        LogChunkRow {
            execution_id: "e-1".into(),
            job_id: "j".into(),
            first_seq: first,
            last_seq: last,
            bytes: if gap { 0 } else { (last - first + 1) * 10 },
            gap,
            records: if gap { Vec::new() } else { vec![1, 2, 3] },
        }
    }

    #[tokio::test]
    async fn chunks_round_trip_and_are_found_by_seq() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreOptions::in_dir(dir.path()))
            .await
            .unwrap();
        assert_eq!(store.log_last_seq("e-1").await.unwrap(), None);
        assert_eq!(store.log_persisted_bytes("e-1").await.unwrap(), 0);
        store
            .append_log_chunks(std::sync::Arc::new(vec![
                row(0, 9, false),
                row(10, 19, false),
                row(20, 29, true),
            ]))
            .await
            .unwrap();
        let from = store.log_chunks_from("e-1", 12, 10).await.unwrap();
        assert_eq!(
            from.iter().map(|c| c.first_seq).collect::<Vec<_>>(),
            vec![10, 20]
        );
        assert!(from[1].gap && from[1].records.is_empty());
        assert_eq!(from[0].records, vec![1, 2, 3]);
        let before = store.log_chunks_before("e-1", 20, 10).await.unwrap();
        assert_eq!(
            before.iter().map(|c| c.first_seq).collect::<Vec<_>>(),
            vec![10, 0]
        );
        assert_eq!(store.log_last_seq("e-1").await.unwrap(), Some(29));
        assert_eq!(store.log_persisted_bytes("e-1").await.unwrap(), 200);
        assert!(store
            .log_chunks_from("e-2", 0, 10)
            .await
            .unwrap()
            .is_empty());
        store.close().await;
    }

    #[tokio::test]
    async fn chunk_reads_walk_an_index_and_never_sort_the_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreOptions::in_dir(dir.path()))
            .await
            .unwrap();
        for sql in [CHUNKS_FROM, CHUNKS_BEFORE] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .bind("e-1")
                    .bind(0_i64)
                    .bind(8_i64)
                    .fetch_all(&store.read)
                    .await
                    .unwrap();
            let steps: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
            assert!(
                steps.iter().any(|s| s.contains("USING INDEX")),
                "{sql}: {steps:?}"
            );
            assert!(
                !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                "{sql} sorts every remaining chunk: {steps:?}"
            );
        }
        store.close().await;
    }
}
