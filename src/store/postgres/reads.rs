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
    /// Nothing runs beside the pool.
    async fn before_close(&self) {}
}

impl_reads!(PgReads);
