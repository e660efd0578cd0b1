//! The SQLite read side: the read pool and the WAL checkpoint task beside it. The
//! queries are the shared ones of `store::reads`.

use sqlx::SqlitePool;

use futures::TryStreamExt;

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
    /// The background WAL checkpoint task, taken when the store closes.
    pub(super) checkpointer: std::sync::Mutex<Option<super::checkpoint::Checkpointer>>,
}

impl SqliteReads {
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
        let (reads, _writer) = super::super::open(&StoreOptions::in_dir(dir.path()))
            .await
            .unwrap();
        for sql in [
            crate::store::reads::CHUNKS_FROM,
            crate::store::reads::CHUNKS_BEFORE,
        ] {
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
