//! The writer's statements on PostgreSQL: each batch is one transaction on a pooled
//! connection (so a lost connection is replaced on the next batch), and each table takes
//! all its rows in one statement over `UNNEST` of array parameters. What a transaction
//! announces to the other nodes is sent after it commits (see [`super::notify`]).

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::notify::{Notes, Notifier};
use crate::store::logs::LogChunkRow;
use crate::store::writer::{
    ExecutionRow, HistoryRow, JobRowUpdate, NewJob, NewNonce, NonceRoute, WriteTx,
};
use crate::store::{to_i64, StoreError};

/// The writer's pool, its open transaction, and what that transaction will announce
/// once committed.
#[derive(Debug)]
pub(crate) struct PgWriter {
    pool: PgPool,
    tx: Option<Transaction<'static, Postgres>>,
    /// The connection of one-step submit batches, kept between them (no round trip to
    /// check it out of the pool each time); given back when a transaction begins or a
    /// statement on it fails.
    held: Option<PoolConnection<Postgres>>,
    notifier: Notifier,
    notes: Notes,
}

impl PgWriter {
    pub(super) fn new(pool: PgPool, notifier: Notifier) -> Self {
        Self {
            pool,
            tx: None,
            held: None,
            notifier,
            notes: Notes::default(),
        }
    }

    /// Jobs whose change the open transaction announces when it commits.
    pub(super) fn announce_jobs(&mut self, ids: Vec<String>) {
        self.notes.jobs.extend(ids);
    }

    pub(super) fn conn(&mut self) -> Result<&mut PgConnection, StoreError> {
        self.tx
            .as_deref_mut()
            .ok_or_else(|| StoreError::Corrupt("no open transaction".into()))
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[async_trait::async_trait]
impl WriteTx for PgWriter {
    async fn begin(&mut self) -> Result<(), StoreError> {
        self.notes = Notes::default();
        self.held = None;
        self.tx = Some(self.pool.begin().await.map_err(unavailable)?);
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        match self.tx.take() {
            Some(tx) => {
                tx.commit().await.map_err(unavailable)?;
                self.notifier.send(std::mem::take(&mut self.notes));
                Ok(())
            }
            None => Err(StoreError::Corrupt("no open transaction".into())),
        }
    }

    async fn rollback(&mut self) {
        self.notes = Notes::default();
        if let Some(tx) = self.tx.take() {
            let _ = tx.rollback().await;
        }
    }

    async fn insert_nonces(
        &mut self,
        rows: &[&NewNonce],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let clients: Vec<&str> = rows.iter().map(|n| n.client_id.as_str()).collect();
        let nonces: Vec<&str> = rows.iter().map(|n| n.nonce.as_str()).collect();
        let jobs: Vec<Option<&str>> = rows.iter().map(|n| n.job_id.as_deref()).collect();
        let expiry: Vec<i64> = rows.iter().map(|n| n.expires_at).collect();
        let routes: Vec<&str> = rows.iter().map(|n| n.route.as_str()).collect();
        Ok(sqlx::query_as(
            "INSERT INTO nonces (client_id, nonce, job_id, expires_at, route) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) \
             ON CONFLICT (client_id, nonce) DO NOTHING RETURNING client_id, nonce",
        )
        .bind(clients)
        .bind(nonces)
        .bind(jobs)
        .bind(expiry)
        .bind(routes)
        .fetch_all(self.conn()?)
        .await?)
    }

    async fn seen_nonce(
        &mut self,
        client_id: &str,
        nonce: &str,
    ) -> Result<Option<(Option<String>, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT job_id, route FROM nonces WHERE client_id = $1 AND nonce = $2")
                .bind(client_id)
                .bind(nonce)
                .fetch_optional(self.conn()?)
                .await?,
        )
    }

    async fn insert_jobs(&mut self, jobs: &[&NewJob]) -> Result<(), StoreError> {
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        let (clients, created, bodies, states, versions) = job_columns(jobs);
        // WITH ORDINALITY: `seq` follows the order of the batch.
        sqlx::query(
            "INSERT INTO jobs (id, client_id, created_at, job, state, version, update_time) \
             SELECT id, client_id, created_at, job, state, version, created_at \
             FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[]) \
             WITH ORDINALITY AS v(id, client_id, created_at, job, state, version, ord) ORDER BY ord",
        )
        .bind(ids.clone())
        .bind(clients)
        .bind(created)
        .bind(bodies)
        .bind(states)
        .bind(versions)
        .execute(self.conn()?)
        .await?;
        // Their executions wait for a node; nodes waiting for work hear of them once the
        // transaction has committed.
        let (engines, counts, placements) = pending_columns(jobs);
        sqlx::query(
            "INSERT INTO pending (job_seq, engine, remaining, placement) \
             SELECT j.seq, v.engine, v.remaining, v.placement \
             FROM UNNEST($1::text[], $2::text[], $3::int[], $4::text[]) \
             AS v(id, engine, remaining, placement) JOIN jobs j ON j.id = v.id",
        )
        .bind(ids)
        .bind(engines)
        .bind(counts)
        .bind(placements)
        .execute(self.conn()?)
        .await?;
        self.notes.pending = true;
        Ok(())
    }

    async fn update_jobs(&mut self, rows: &[(&str, &JobRowUpdate)]) -> Result<u64, StoreError> {
        let ids: Vec<&str> = rows.iter().map(|(id, _)| *id).collect();
        let states: Vec<&str> = rows.iter().map(|(_, u)| u.state.as_str()).collect();
        let versions: Vec<i64> = rows.iter().map(|(_, u)| u.version).collect();
        let updated: Vec<i64> = rows.iter().map(|(_, u)| u.update_time).collect();
        let timeouts: Vec<Option<i64>> = rows.iter().map(|(_, u)| u.timeout_at).collect();
        Ok(sqlx::query(
            "UPDATE jobs SET state = v.state, version = v.version, update_time = v.update_time, \
             timeout_at = v.timeout_at \
             FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) \
             AS v(id, state, version, update_time, timeout_at) WHERE jobs.id = v.id",
        )
        .bind(ids)
        .bind(states)
        .bind(versions)
        .bind(updated)
        .bind(timeouts)
        .execute(self.conn()?)
        .await?
        .rows_affected())
    }

    async fn upsert_executions(
        &mut self,
        rows: &[(&str, &ExecutionRow)],
    ) -> Result<u64, StoreError> {
        let jobs: Vec<&str> = rows.iter().map(|(j, _)| *j).collect();
        let ordinals: Vec<i64> = rows.iter().map(|(_, e)| e.ordinal).collect();
        let ids: Vec<&str> = rows.iter().map(|(_, e)| e.id.as_str()).collect();
        let states: Vec<&str> = rows.iter().map(|(_, e)| e.state.as_str()).collect();
        let versions: Vec<i64> = rows.iter().map(|(_, e)| e.version).collect();
        let bodies: Vec<&str> = rows.iter().map(|(_, e)| e.body.as_str()).collect();
        let nodes: Vec<&str> = rows.iter().map(|(_, e)| e.node_id.as_str()).collect();
        // A new execution's lease starts now, by the database's clock.
        Ok(sqlx::query(
            "INSERT INTO executions (job_seq, ordinal, id, state, version, body, node_id, lease_at) \
             SELECT j.seq, v.ordinal, v.id, v.state, v.version, v.body, v.node_id, now() \
             FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[]) \
             AS v(job_id, ordinal, id, state, version, body, node_id) JOIN jobs j ON j.id = v.job_id \
             ON CONFLICT (job_seq, ordinal) DO UPDATE SET state = excluded.state, \
             version = excluded.version, body = excluded.body WHERE executions.id = excluded.id",
        )
        .bind(jobs)
        .bind(ordinals)
        .bind(ids)
        .bind(states)
        .bind(versions)
        .bind(bodies)
        .bind(nodes)
        .execute(self.conn()?)
        .await?
        .rows_affected())
    }

    async fn insert_history(&mut self, rows: &[(&str, &HistoryRow)]) -> Result<u64, StoreError> {
        let jobs: Vec<&str> = rows.iter().map(|(j, _)| *j).collect();
        let levels: Vec<&str> = rows.iter().map(|(_, h)| h.level.as_str()).collect();
        let times: Vec<i64> = rows.iter().map(|(_, h)| h.time).collect();
        let bodies: Vec<&str> = rows.iter().map(|(_, h)| h.body.as_str()).collect();
        // WITH ORDINALITY: ids follow the order of the batch, which is the history's order.
        Ok(sqlx::query(
            "INSERT INTO job_history (job_seq, level, time, body) \
             SELECT j.seq, v.level, v.time, v.body \
             FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[]) \
             WITH ORDINALITY AS v(job_id, level, time, body, ord) \
             JOIN jobs j ON j.id = v.job_id ORDER BY v.ord",
        )
        .bind(jobs)
        .bind(levels)
        .bind(times)
        .bind(bodies)
        .execute(self.conn()?)
        .await?
        .rows_affected())
    }

    async fn insert_chunks(&mut self, rows: &[LogChunkRow]) -> Result<(), StoreError> {
        for r in rows {
            sqlx::query(
                "INSERT INTO log_chunks (execution_id, first_seq, job_id, last_seq, bytes, gap, records) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&r.execution_id)
            .bind(to_i64(r.first_seq))
            .bind(&r.job_id)
            .bind(to_i64(r.last_seq))
            .bind(to_i64(r.bytes))
            .bind(r.gap)
            .bind(&r.records)
            .execute(self.conn()?)
            .await?;
        }
        Ok(())
    }

    async fn expire_nonces(&mut self, now: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM nonces WHERE expires_at < $1")
            .bind(now)
            .execute(self.conn()?)
            .await?
            .rows_affected())
    }

    async fn close(mut self) {
        self.rollback().await;
        self.held = None;
    }

    /// One statement, so one round trip and one commit: the nonces, then the jobs whose
    /// nonce the statement inserted (or that carry none), their `pending` rows and their
    /// history, all from the jobs' `RETURNING` (the foreign keys are checked at the end of
    /// the statement, when the jobs are there).
    async fn insert_new_jobs(&mut self, jobs: &[&NewJob]) -> Option<Result<Vec<bool>, StoreError>> {
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        let (clients, created, bodies, states, versions) = job_columns(jobs);
        let n_clients: Vec<Option<&str>> = jobs
            .iter()
            .map(|j| j.nonce.as_ref().map(|n| n.client_id.as_str()))
            .collect();
        let nonces: Vec<Option<&str>> = jobs
            .iter()
            .map(|j| j.nonce.as_ref().map(|n| n.nonce.as_str()))
            .collect();
        let expiry: Vec<Option<i64>> = jobs
            .iter()
            .map(|j| j.nonce.as_ref().map(|n| n.expires_at))
            .collect();
        let (engines, counts, placements) = pending_columns(jobs);
        let levels: Vec<&str> = jobs.iter().map(|j| j.history.level.as_str()).collect();
        let times: Vec<i64> = jobs.iter().map(|j| j.history.time).collect();
        let records: Vec<&str> = jobs.iter().map(|j| j.history.body.as_str()).collect();
        let conn = match self.held.take() {
            Some(c) => c,
            None => match self.pool.acquire().await {
                Ok(c) => c,
                Err(e) => return Some(Err(unavailable(e))),
            },
        };
        let mut conn = conn;
        let written: Result<Vec<String>, sqlx::Error> = sqlx::query_scalar(
            "WITH v AS (SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], \
               $5::text[], $6::bigint[], $7::text[], $8::text[], $9::bigint[], $10::text[], \
               $11::int[], $12::text[], $13::text[], $14::bigint[], $15::text[]) WITH ORDINALITY \
               AS v(id, client_id, created_at, job, state, version, n_client, nonce, n_expires, \
               engine, remaining, placement, h_level, h_time, h_body, ord)), \
             n AS (INSERT INTO nonces (client_id, nonce, job_id, expires_at, route) \
               SELECT n_client, nonce, id, n_expires, $16 FROM v WHERE nonce IS NOT NULL \
               ORDER BY ord ON CONFLICT (client_id, nonce) DO NOTHING RETURNING job_id), \
             j AS (INSERT INTO jobs (id, client_id, created_at, job, state, version, update_time) \
               SELECT id, client_id, created_at, job, state, version, created_at FROM v \
               WHERE nonce IS NULL OR id IN (SELECT job_id FROM n) ORDER BY ord \
               RETURNING seq, id), \
             p AS (INSERT INTO pending (job_seq, engine, remaining, placement) \
               SELECT j.seq, v.engine, v.remaining, v.placement FROM j JOIN v ON v.id = j.id), \
             h AS (INSERT INTO job_history (job_seq, level, time, body) \
               SELECT j.seq, v.h_level, v.h_time, v.h_body FROM j JOIN v ON v.id = j.id \
               ORDER BY v.ord) \
             SELECT id FROM j",
        )
        .bind(&ids)
        .bind(clients)
        .bind(created)
        .bind(bodies)
        .bind(states)
        .bind(versions)
        .bind(n_clients)
        .bind(nonces)
        .bind(expiry)
        .bind(engines)
        .bind(counts)
        .bind(placements)
        .bind(levels)
        .bind(times)
        .bind(records)
        .bind(NonceRoute::Submit.as_str())
        .fetch_all(&mut *conn)
        .await;
        let written = match written {
            Ok(w) => w,
            // The connection goes back to the pool, which checks it before reuse.
            Err(e) => return Some(Err(e.into())),
        };
        self.held = Some(conn);
        if !written.is_empty() {
            // Their executions wait for a node: the nodes waiting for work hear of them.
            self.notifier.send(Notes {
                pending: true,
                jobs: Vec::new(),
            });
        }
        let written: std::collections::HashSet<String> = written.into_iter().collect();
        Some(Ok(ids.iter().map(|id| written.contains(*id)).collect()))
    }
}

/// The columns of new `jobs` rows after their ids, as arrays: client_id, created_at, job,
/// state, version.
type JobColumns<'a> = (Vec<&'a str>, Vec<i64>, Vec<&'a str>, Vec<&'a str>, Vec<i64>);

fn job_columns<'a>(jobs: &[&'a NewJob]) -> JobColumns<'a> {
    (
        jobs.iter().map(|j| j.client_id.as_str()).collect(),
        jobs.iter().map(|j| j.created_at).collect(),
        jobs.iter().map(|j| j.job_json.as_str()).collect(),
        jobs.iter().map(|j| j.state.as_str()).collect(),
        jobs.iter().map(|j| j.version).collect(),
    )
}

/// The columns of new jobs' `pending` rows, as arrays: engine, remaining executions,
/// placement.
fn pending_columns<'a>(jobs: &[&'a NewJob]) -> (Vec<&'a str>, Vec<i32>, Vec<&'a str>) {
    (
        jobs.iter().map(|j| j.engine.as_str()).collect(),
        jobs.iter()
            .map(|j| i32::try_from(j.executions.max(1)).unwrap_or(i32::MAX))
            .collect(),
        jobs.iter().map(|j| j.placement.as_str()).collect(),
    )
}
