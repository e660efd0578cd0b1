//! The writer's statements on SQLite: one dedicated connection, `BEGIN IMMEDIATE`, and
//! multi-row `VALUES` statements of up to [`ROWS_PER_STATEMENT`] rows.

use sqlx::sqlite::SqliteArguments;
use sqlx::{Arguments, Connection, Row, SqliteConnection};

use crate::store::logs::LogChunkRow;
use crate::store::writer::{ExecutionRow, HistoryRow, JobRowUpdate, NewJob, NewNonce, WriteTx};
use crate::store::StoreError;

/// The writer's connection.
#[derive(Debug)]
pub(crate) struct SqliteWriter(pub(crate) SqliteConnection);

/// A bound value of a multi-row statement.
enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
}

const ROWS_PER_STATEMENT: usize = 64;

impl SqliteWriter {
    async fn exec(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        sqlx::query(sql).execute(&mut self.0).await.map(|_| ())
    }

    /// Runs `head VALUES (?,…),(?,…)… tail` over `rows`, in chunks. Returns rows affected
    /// and, when `tail` has RETURNING, the returned rows' first two text columns.
    async fn multi_row(
        &mut self,
        head: &str,
        tail: &str,
        width: usize,
        rows: &[Vec<Arg<'_>>],
    ) -> Result<(u64, Vec<(String, String)>), StoreError> {
        let mut affected = 0;
        let mut returned = Vec::new();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let one = format!("({})", vec!["?"; width].join(", "));
            let sql = format!(
                "{head} VALUES {}{tail}",
                vec![one.as_str(); chunk.len()].join(", ")
            );
            let mut args = SqliteArguments::default();
            for row in chunk {
                for a in row {
                    let r = match a {
                        Arg::Text(s) => args.add(*s),
                        Arg::OptText(s) => args.add(*s),
                        Arg::Int(i) => args.add(*i),
                        Arg::OptInt(i) => args.add(*i),
                    };
                    r.map_err(|e| StoreError::Corrupt(format!("binding a value: {e}")))?;
                }
            }
            let q = sqlx::query_with(&sql, args);
            if tail.contains("RETURNING") {
                let rows = q.fetch_all(&mut self.0).await?;
                affected += rows.len() as u64;
                for r in rows {
                    returned.push((r.try_get(0)?, r.try_get(1)?));
                }
            } else {
                affected += q.execute(&mut self.0).await?.rows_affected();
            }
        }
        Ok((affected, returned))
    }
}

#[async_trait::async_trait]
impl WriteTx for SqliteWriter {
    async fn begin(&mut self) -> Result<(), StoreError> {
        self.exec("BEGIN IMMEDIATE")
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.exec("COMMIT")
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    async fn rollback(&mut self) {
        let _ = self.exec("ROLLBACK").await;
    }

    async fn insert_nonces(
        &mut self,
        rows: &[&NewNonce],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<Vec<Arg<'_>>> = rows
            .iter()
            .map(|n| {
                vec![
                    Arg::Text(&n.client_id),
                    Arg::Text(&n.nonce),
                    Arg::OptText(n.job_id.as_deref()),
                    Arg::Int(n.expires_at),
                    Arg::Text(n.route.as_str()),
                ]
            })
            .collect();
        let (_, fresh) = self
            .multi_row(
                "INSERT INTO nonces (client_id, nonce, job_id, expires_at, route)",
                " ON CONFLICT (client_id, nonce) DO NOTHING RETURNING client_id, nonce",
                5,
                &rows,
            )
            .await?;
        Ok(fresh)
    }

    async fn seen_nonce(
        &mut self,
        client_id: &str,
        nonce: &str,
    ) -> Result<Option<(Option<String>, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT job_id, route FROM nonces WHERE client_id = ? AND nonce = ?")
                .bind(client_id)
                .bind(nonce)
                .fetch_optional(&mut self.0)
                .await?,
        )
    }

    async fn insert_jobs(&mut self, jobs: &[&NewJob]) -> Result<(), StoreError> {
        let rows: Vec<Vec<Arg<'_>>> = jobs
            .iter()
            .map(|j| {
                vec![
                    Arg::Text(&j.id),
                    Arg::Text(&j.client_id),
                    Arg::Int(j.created_at),
                    Arg::Text(&j.job_json),
                    Arg::Text(&j.state),
                    Arg::Int(j.version),
                    Arg::Int(j.created_at),
                ]
            })
            .collect();
        self.multi_row(
            "INSERT INTO jobs (id, client_id, created_at, job, state, version, update_time)",
            "",
            7,
            &rows,
        )
        .await?;
        Ok(())
    }

    async fn update_jobs(&mut self, rows: &[(&str, &JobRowUpdate)]) -> Result<u64, StoreError> {
        let rows: Vec<Vec<Arg<'_>>> = rows
            .iter()
            .map(|(id, u)| {
                vec![
                    Arg::Text(id),
                    Arg::Text(&u.state),
                    Arg::Int(u.version),
                    Arg::Int(u.update_time),
                    Arg::OptInt(u.timeout_at),
                ]
            })
            .collect();
        let (n, _) = self
            .multi_row(
                "UPDATE jobs SET state = v.column2, version = v.column3, update_time = v.column4, \
                 timeout_at = v.column5 FROM (",
                ") AS v WHERE jobs.id = v.column1",
                5,
                &rows,
            )
            .await?;
        Ok(n)
    }

    async fn upsert_executions(
        &mut self,
        rows: &[(&str, &ExecutionRow)],
    ) -> Result<u64, StoreError> {
        // Keyed by their job's seq, looked up by id in the same statement.
        let rows: Vec<Vec<Arg<'_>>> = rows
            .iter()
            .map(|(job_id, e)| {
                vec![
                    Arg::Text(job_id),
                    Arg::Int(e.ordinal),
                    Arg::Text(&e.id),
                    Arg::Text(&e.state),
                    Arg::Int(e.version),
                    Arg::Text(&e.body),
                ]
            })
            .collect();
        let (n, _) = self
            .multi_row(
                "INSERT INTO executions (job_seq, ordinal, id, state, version, body) \
                 SELECT j.seq, v.column2, v.column3, v.column4, v.column5, v.column6 FROM (",
                ") AS v JOIN jobs j ON j.id = v.column1 WHERE true \
                 ON CONFLICT (job_seq, ordinal) DO UPDATE SET state = excluded.state, \
                 version = excluded.version, body = excluded.body WHERE executions.id = excluded.id",
                6,
                &rows,
            )
            .await?;
        Ok(n)
    }

    async fn insert_history(&mut self, rows: &[(&str, &HistoryRow)]) -> Result<u64, StoreError> {
        // Column 5 is the row's position: the join must not reorder the history.
        let rows: Vec<Vec<Arg<'_>>> = rows
            .iter()
            .enumerate()
            .map(|(i, (job_id, h))| {
                vec![
                    Arg::Text(job_id),
                    Arg::Text(&h.level),
                    Arg::Int(h.time),
                    Arg::Text(&h.body),
                    Arg::Int(i as i64),
                ]
            })
            .collect();
        let (n, _) = self
            .multi_row(
                "INSERT INTO job_history (job_seq, level, time, body) \
                 SELECT j.seq, v.column2, v.column3, v.column4 FROM (",
                ") AS v JOIN jobs j ON j.id = v.column1 ORDER BY v.column5",
                5,
                &rows,
            )
            .await?;
        Ok(n)
    }

    async fn insert_chunks(&mut self, rows: &[LogChunkRow]) -> Result<(), StoreError> {
        // `Store::append_log_chunks` sends SQLite's chunks to the log database's writer.
        Err(StoreError::Corrupt(format!(
            "{} log chunks reached the main SQLite writer; they belong to the log database",
            rows.len()
        )))
    }

    async fn expire_nonces(&mut self, now: i64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM nonces WHERE expires_at < ?")
            .bind(now)
            .execute(&mut self.0)
            .await?;
        Ok(r.rows_affected())
    }

    async fn close(self) {
        let _ = self.0.close().await;
    }
}
