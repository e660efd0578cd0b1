//! The read queries, written once: the SQL is the same on both databases (`$N`
//! placeholders, which sqlx's SQLite driver maps by number too), and [`impl_reads!`]
//! implements [`Reads`] with it for each database's read side, whose `pool` is that
//! database's pool, whose `before_close` stops what it runs besides the pool, and whose
//! `CHUNKS_FROM`, `CHUNKS_BEFORE` and `with_records` read log chunks (SQLite's records
//! are in segment files, PostgreSQL's in the rows).

/// Chunks holding seqs ≥ a seq, in seq order. Chunks never overlap, so `last_seq` order
/// is seq order, and ordering by it lets the database walk `log_chunks_by_last` and stop
/// after `limit` rows (ordering by `first_seq` made SQLite sort every remaining chunk,
/// blobs included, on every call).
pub(super) const PG_CHUNKS_FROM: &str =
    "SELECT first_seq, last_seq, bytes, gap, records FROM log_chunks
     WHERE execution_id = $1 AND last_seq >= $2 ORDER BY last_seq LIMIT $3";
/// Chunks that start before a seq, newest first.
pub(super) const PG_CHUNKS_BEFORE: &str =
    "SELECT first_seq, last_seq, bytes, gap, records FROM log_chunks
     WHERE execution_id = $1 AND first_seq < $2 ORDER BY first_seq DESC LIMIT $3";
/// [`PG_CHUNKS_FROM`] on SQLite, with where in the segments the records are.
pub(super) const SQLITE_CHUNKS_FROM: &str =
    "SELECT first_seq, last_seq, bytes, gap, records, segment, seg_offset, seg_len FROM log_chunks
     WHERE execution_id = $1 AND last_seq >= $2 ORDER BY last_seq LIMIT $3";
/// [`PG_CHUNKS_BEFORE`] on SQLite.
pub(super) const SQLITE_CHUNKS_BEFORE: &str =
    "SELECT first_seq, last_seq, bytes, gap, records, segment, seg_offset, seg_len FROM log_chunks
     WHERE execution_id = $1 AND first_seq < $2 ORDER BY first_seq DESC LIMIT $3";

/// Implements [`Reads`](crate::store::Reads) for a read side with a `pool` field.
macro_rules! impl_reads {
    ($ty:ty) => {
        impl $ty {
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
                self.with_records(rows).await
            }
        }

        #[async_trait::async_trait]
                impl Reads for $ty {
            async fn ping(&self) -> bool {
                sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
            }

            async fn job(&self, id: &str) -> Result<Option<StoredJob>, StoreError> {
                let row: Option<JobRow> =
                    sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
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
                    sqlx::query_as("SELECT route, job_id FROM nonces WHERE client_id = $1 AND nonce = $2")
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
                    sqlx::query_scalar("SELECT id FROM jobs WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3")
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
                         WHERE j.id = $1 ORDER BY e.ordinal",
                        job_id,
                    )
                    .await?;
                parse_all(&bodies)
            }

            async fn history(&self, job_id: &str) -> Result<Vec<JobHistory>, StoreError> {
                let bodies = self
                    .bodies_of_job(
                        "SELECT h.body FROM job_history h JOIN jobs j ON h.job_seq = j.seq \
                         WHERE j.id = $1 ORDER BY h.id",
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
                let sql = list_sql(q);
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
                self.chunks(Self::CHUNKS_FROM, execution_id, from, limit).await
            }

            async fn log_chunks_before(
                &self,
                execution_id: &str,
                before: u64,
                limit: u32,
            ) -> Result<Vec<StoredLogChunk>, StoreError> {
                self.chunks(Self::CHUNKS_BEFORE, execution_id, before, limit)
                    .await
            }

            async fn log_persisted_bytes(&self, execution_id: &str) -> Result<u64, StoreError> {
                let total: Option<i64> =
                    sqlx::query_scalar("SELECT CAST(SUM(bytes) AS BIGINT) FROM log_chunks WHERE execution_id = $1")
                        .bind(execution_id)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(total.map_or(0, to_u64))
            }

            async fn log_last_seq(&self, execution_id: &str) -> Result<Option<u64>, StoreError> {
                let last: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(last_seq) FROM log_chunks WHERE execution_id = $1")
                        .bind(execution_id)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(last.map(to_u64))
            }

            async fn close(&self) {
                self.before_close().await;
                self.pool.close().await;
            }
        }
    };
}
pub(super) use impl_reads;
