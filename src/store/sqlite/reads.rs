//! The SQLite read side: the read pool (its connections attach the log database), the
//! log segments, and the WAL checkpoint task beside them. The queries are the shared ones
//! of `store::reads`.

use sqlx::SqlitePool;

use futures::TryStreamExt;

use super::segments::{Extent, SegmentReader};
use crate::model::{ExecutionState, JobHistory};
use crate::store::reads::impl_reads;
use crate::store::rows::{list_sql, parse_all, AfterKey, ChunkRow, JobRow, Pager, JOB_COLUMNS};
use crate::store::{
    to_i64, to_u64, ListQuery, ListedJob, Reads, SeenNonce, StoreError, StoredJob, StoredLogChunk,
};

/// The read side of the SQLite store.
#[derive(Debug)]
pub(crate) struct SqliteReads {
    pub(super) pool: SqlitePool,
    /// The log chunks' records.
    pub(super) segments: SegmentReader,
    /// The background WAL checkpoint task, taken when the store closes.
    pub(super) checkpointer: std::sync::Mutex<Option<super::checkpoint::Checkpointer>>,
}

impl SqliteReads {
    const CHUNKS_FROM: &'static str = crate::store::reads::SQLITE_CHUNKS_FROM;
    const CHUNKS_BEFORE: &'static str = crate::store::reads::SQLITE_CHUNKS_BEFORE;

    /// The chunks of `rows`, their records read from the segments (rows moved from an
    /// older database hold theirs). Records that are missing or cut short come back empty,
    /// which readers report as a gap; other read errors fail the call.
    async fn with_records(&self, rows: Vec<ChunkRow>) -> Result<Vec<StoredLogChunk>, StoreError> {
        let located: Vec<Option<Extent>> = rows
            .iter()
            .map(|r| {
                r.extent().map(|(segment, offset, len)| Extent {
                    segment: u32::try_from(segment).unwrap_or(u32::MAX),
                    offset: to_u64(offset),
                    len: to_u64(len),
                })
            })
            .collect();
        let extents: Vec<Extent> = located.iter().flatten().copied().collect();
        // One answer per extent, in order.
        let mut read = self.segments.read(&extents).await.into_iter();
        let mut out = Vec::with_capacity(rows.len());
        for (row, at) in rows.into_iter().zip(located) {
            let Some(at) = at else {
                out.push(row.into_stored());
                continue;
            };
            let records = match read.next().unwrap_or_else(|| Ok(bytes::Bytes::new())) {
                Ok(records) => records,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::UnexpectedEof
                    ) =>
                {
                    tracing::error!(error = %e, extent = ?at, "log chunk records missing from their segment");
                    bytes::Bytes::new()
                }
                Err(e) => {
                    return Err(StoreError::Unavailable(format!(
                        "reading a log segment: {e}"
                    )))
                }
            };
            out.push(row.into_stored_with(records));
        }
        Ok(out)
    }

    /// Stops the checkpoint task before the pool closes.
    async fn before_close(&self) {
        let checkpointer = self.checkpointer.lock().expect("checkpointer").take();
        if let Some(c) = checkpointer {
            c.stop().await;
        }
    }
}

impl_reads!(SqliteReads);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    #[tokio::test]
    async fn chunk_reads_walk_an_index_and_never_sort_the_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let (reads, _writer, _logs) = super::super::open(&StoreOptions::in_dir(dir.path()))
            .await
            .unwrap();
        for sql in [SqliteReads::CHUNKS_FROM, SqliteReads::CHUNKS_BEFORE] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .bind("e-1")
                    .bind(0_i64)
                    .bind(8_i64)
                    .fetch_all(&reads.pool)
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
        reads.close().await;
    }
}
