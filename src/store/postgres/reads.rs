//! The PostgreSQL read side: the pool. The queries are the shared ones of `store::reads`.

use sqlx::PgPool;

use futures::TryStreamExt;

use crate::model::{ExecutionState, JobHistory};
use crate::store::reads::impl_reads;
use crate::store::rows::{list_sql, parse_all, AfterKey, ChunkRow, JobRow, Pager, JOB_COLUMNS};
use crate::store::{
    to_i64, to_u64, ListQuery, ListedJob, Reads, SeenNonce, StoreError, StoredJob, StoredLogChunk,
};

/// The read side of the PostgreSQL store.
#[derive(Debug)]
pub(crate) struct PgReads {
    pub(super) pool: PgPool,
}

impl PgReads {
    const CHUNKS_FROM: &'static str = crate::store::reads::PG_CHUNKS_FROM;
    const CHUNKS_BEFORE: &'static str = crate::store::reads::PG_CHUNKS_BEFORE;

    /// Nothing runs beside the pool.
    async fn before_close(&self) {}

    /// The records are in the rows.
    async fn with_records(&self, rows: Vec<ChunkRow>) -> Result<Vec<StoredLogChunk>, StoreError> {
        Ok(rows.into_iter().map(ChunkRow::into_stored).collect())
    }
}

impl_reads!(PgReads);
