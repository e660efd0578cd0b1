//! Read queries on SQLite, over the read pool.

use futures::TryStreamExt;
use sqlx::SqlitePool;

use crate::model::{ExecutionState, JobHistory};
use crate::store::rows::{list_sql, parse_all, AfterKey, ChunkRow, JobRow, Pager, JOB_COLUMNS};
use crate::store::{
    to_i64, to_u64, ListQuery, ListedJob, Reads, SeenNonce, StoreError, StoredJob, StoredLogChunk,
};

/// Chunks holding seqs ≥ a seq, in seq order. Chunks never overlap, so `last_seq` order
/// is seq order, and ordering by it lets SQLite walk `log_chunks_by_last` and stop after
/// `limit` rows (ordering by `first_seq` made it sort every remaining chunk, blobs
/// included, on every call).
pub(super) const CHUNKS_FROM: &str =
    "SELECT first_seq, last_seq, bytes, gap, records FROM log_chunks
     WHERE execution_id = ? AND last_seq >= ? ORDER BY last_seq LIMIT ?";
/// Chunks that start before a seq, newest first.
pub(super) const CHUNKS_BEFORE: &str =
    "SELECT first_seq, last_seq, bytes, gap, records FROM log_chunks
     WHERE execution_id = ? AND first_seq < ? ORDER BY first_seq DESC LIMIT ?";

/// The read side of the SQLite store.
#[derive(Debug)]
pub(crate) struct SqliteReads {
    pub(super) pool: SqlitePool,
    /// The background WAL checkpoint task, taken when the store closes.
    pub(super) checkpointer: std::sync::Mutex<Option<super::checkpoint::Checkpointer>>,
}

impl SqliteReads {
    async fn bodies_of_job(
        &self,
        sql: &'static str,
        job_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(sql)
            .bind(job_id)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn with_executions(&self, row: JobRow) -> Result<StoredJob, StoreError> {
        let mut job = row.into_stored()?;
        job.state.executions = self.executions(&job.state.job_id).await?;
        Ok(job)
    }

    async fn chunks(
        &self,
        sql: &'static str,
        execution_id: &str,
        seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredLogChunk>, StoreError> {
        let rows: Vec<ChunkRow> = sqlx::query_as(sql)
            .bind(execution_id)
            .bind(to_i64(seq))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

#[async_trait::async_trait]
impl Reads for SqliteReads {
    async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    async fn job(&self, id: &str) -> Result<Option<StoredJob>, StoreError> {
        let row: Option<JobRow> =
            sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(row) => Ok(Some(self.with_executions(row).await?)),
            None => Ok(None),
        }
    }

    async fn nonce(&self, client_id: &str, nonce: &str) -> Result<Option<SeenNonce>, StoreError> {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT route, job_id FROM nonces WHERE client_id = ? AND nonce = ?")
                .bind(client_id)
                .bind(nonce)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(route, job_id)| SeenNonce { route, job_id }))
    }

    async fn nonce_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM nonces")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn ids_with_prefix(&self, prefix: &str, limit: i64) -> Result<Vec<String>, StoreError> {
        let upper = format!("{prefix}\u{10FFFF}");
        Ok(
            sqlx::query_scalar("SELECT id FROM jobs WHERE id >= ? AND id < ? ORDER BY id LIMIT ?")
                .bind(prefix)
                .bind(upper)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn executions(&self, job_id: &str) -> Result<Vec<ExecutionState>, StoreError> {
        let bodies = self
            .bodies_of_job(
                "SELECT e.body FROM executions e JOIN jobs j ON e.job_seq = j.seq \
                 WHERE j.id = ? ORDER BY e.ordinal",
                job_id,
            )
            .await?;
        parse_all(&bodies)
    }

    async fn history(&self, job_id: &str) -> Result<Vec<JobHistory>, StoreError> {
        let bodies = self
            .bodies_of_job(
                "SELECT h.body FROM job_history h JOIN jobs j ON h.job_seq = j.seq \
                 WHERE j.id = ? ORDER BY h.id",
                job_id,
            )
            .await?;
        parse_all(&bodies)
    }

    async fn unfinished_jobs(&self) -> Result<Vec<StoredJob>, StoreError> {
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ('New', 'Queued', 'InProgress') ORDER BY seq"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.with_executions(row).await?);
        }
        Ok(out)
    }

    async fn list(&self, q: &ListQuery) -> Result<(Vec<ListedJob>, bool), StoreError> {
        let sql = list_sql(q, |_| "?".to_owned());
        let mut query = sqlx::query_as::<_, JobRow>(&sql);
        if let Some(c) = &q.client_id {
            query = query.bind(c);
        }
        for s in &q.states {
            query = query.bind(s.as_str());
        }
        if let Some((key, id)) = AfterKey::of(q) {
            query = match key {
                AfterKey::Created(t) => query.bind(t),
                AfterKey::Id(k) => query.bind(k),
            };
            query = query.bind(id);
        }
        let mut pager = Pager::new(q);
        let mut rows = query.fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            if !pager.offer(row)? {
                break;
            }
        }
        drop(rows);
        let (mut out, more) = pager.finish();
        for job in &mut out {
            job.state.executions = self.executions(&job.state.job_id).await?;
        }
        Ok((out, more))
    }

    async fn log_chunks_from(
        &self,
        execution_id: &str,
        from: u64,
        limit: u32,
    ) -> Result<Vec<StoredLogChunk>, StoreError> {
        self.chunks(CHUNKS_FROM, execution_id, from, limit).await
    }

    async fn log_chunks_before(
        &self,
        execution_id: &str,
        before: u64,
        limit: u32,
    ) -> Result<Vec<StoredLogChunk>, StoreError> {
        self.chunks(CHUNKS_BEFORE, execution_id, before, limit)
            .await
    }

    async fn log_persisted_bytes(&self, execution_id: &str) -> Result<u64, StoreError> {
        let total: Option<i64> =
            sqlx::query_scalar("SELECT SUM(bytes) FROM log_chunks WHERE execution_id = ?")
                .bind(execution_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(total.map_or(0, to_u64))
    }

    async fn log_last_seq(&self, execution_id: &str) -> Result<Option<u64>, StoreError> {
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(last_seq) FROM log_chunks WHERE execution_id = ?")
                .bind(execution_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(last.map(to_u64))
    }

    async fn close(&self) {
        let checkpointer = self.checkpointer.lock().expect("checkpointer").take();
        if let Some(c) = checkpointer {
            c.stop().await;
        }
        self.pool.close().await;
    }
}

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
        for sql in [CHUNKS_FROM, CHUNKS_BEFORE] {
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
