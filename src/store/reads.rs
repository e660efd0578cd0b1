//! Read queries over the read pool.

use futures::TryStreamExt;
use sqlx::Row;

use super::{Store, StoreError};
use crate::model::{ExecutionState, Job, JobHistory, JobState, JobStateType};
use crate::time;

/// A job as stored: the submitted Job and its current state.
#[derive(Debug, Clone)]
pub struct StoredJob {
    /// Submit order.
    pub seq: i64,
    /// The job.
    pub job: Job,
    /// Its state, executions included.
    pub state: JobState,
}

/// A row of `list`, with the sort key that paging resumes after.
pub type ListedJob = StoredJob;

/// Sort order of `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// By creation time, then id.
    CreatedAt,
    /// By id.
    Id,
}

/// A `list` query; filtering and sorting happen before the limit.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Only this client's jobs, when set.
    pub client_id: Option<String>,
    /// Only jobs in these states, when non-empty.
    pub states: Vec<JobStateType>,
    /// Sort key.
    pub sort_by: SortBy,
    /// Descending.
    pub reverse: bool,
    /// Resume strictly after this (sort key, id) position.
    pub after: Option<(String, String)>,
    /// Keeps a job when it returns true (tag filters).
    pub keep: fn(&Job, &[String], &[String]) -> bool,
    /// include_tags.
    pub include_tags: Vec<String>,
    /// exclude_tags.
    pub exclude_tags: Vec<String>,
    /// At most this many rows.
    pub limit: usize,
}

/// A nonce a client already used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenNonce {
    /// The route that used it (`submit`, `cancel`).
    pub route: String,
    /// The job that request created or acted on.
    pub job_id: Option<String>,
}

const JOB_COLUMNS: &str = "seq, id, created_at, job, state, version, update_time, timeout_at";

impl Store {
    /// The job with exactly this id.
    pub async fn job(&self, id: &str) -> Result<Option<StoredJob>, StoreError> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        match row {
            Some(row) => {
                let mut job = job_from_row(&row)?;
                job.state.executions = self.executions(id).await?;
                Ok(Some(job))
            }
            None => Ok(None),
        }
    }

    /// The use of `(client_id, nonce)` on record, if any (expired ones may linger until the
    /// next sweep).
    pub async fn nonce(
        &self,
        client_id: &str,
        nonce: &str,
    ) -> Result<Option<SeenNonce>, StoreError> {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT route, job_id FROM nonces WHERE client_id = ? AND nonce = ?")
                .bind(client_id)
                .bind(nonce)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(|(route, job_id)| SeenNonce { route, job_id }))
    }

    /// How many nonces are on record.
    pub async fn nonce_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM nonces")
            .fetch_one(&self.read)
            .await?)
    }

    /// Up to `limit` job ids that start with `prefix`, in id order.
    pub async fn ids_with_prefix(
        &self,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let upper = format!("{prefix}\u{10FFFF}");
        Ok(
            sqlx::query_scalar("SELECT id FROM jobs WHERE id >= ? AND id < ? ORDER BY id LIMIT ?")
                .bind(prefix)
                .bind(upper)
                .bind(limit)
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// The executions of a job in creation order.
    pub async fn executions(&self, job_id: &str) -> Result<Vec<ExecutionState>, StoreError> {
        self.bodies_of_job(
            "SELECT e.body FROM executions e JOIN jobs j ON e.job_seq = j.seq \
             WHERE j.id = ? ORDER BY e.ordinal",
            job_id,
        )
        .await
    }

    /// A job's history in the order it happened.
    pub async fn history(&self, job_id: &str) -> Result<Vec<JobHistory>, StoreError> {
        self.bodies_of_job(
            "SELECT h.body FROM job_history h JOIN jobs j ON h.job_seq = j.seq \
             WHERE j.id = ? ORDER BY h.id",
            job_id,
        )
        .await
    }

    /// The JSON `body` column of `sql`'s rows for `job_id`, parsed.
    async fn bodies_of_job<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        job_id: &str,
    ) -> Result<Vec<T>, StoreError> {
        let bodies: Vec<String> = sqlx::query_scalar(sql)
            .bind(job_id)
            .fetch_all(&self.read)
            .await?;
        bodies.iter().map(|b| parse(b)).collect()
    }

    /// Jobs that had not finished, in submit order (for recovery after a restart).
    pub async fn unfinished_jobs(&self) -> Result<Vec<StoredJob>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ('New', 'Queued', 'InProgress') ORDER BY seq"
        ))
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut job = job_from_row(row)?;
            job.state.executions = self.executions(&job.state.job_id).await?;
            out.push(job);
        }
        Ok(out)
    }

    /// Filters, sorts, then limits. Returns the page and whether more rows follow.
    pub async fn list(&self, q: &ListQuery) -> Result<(Vec<ListedJob>, bool), StoreError> {
        let mut sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE 1 = 1");
        if q.client_id.is_some() {
            sql.push_str(" AND client_id = ?");
        }
        if !q.states.is_empty() {
            let marks = vec!["?"; q.states.len()].join(", ");
            sql.push_str(&format!(" AND state IN ({marks})"));
        }
        let (key, dir, cmp) = match (q.sort_by, q.reverse) {
            (SortBy::CreatedAt, false) => ("created_at", "ASC", ">"),
            (SortBy::CreatedAt, true) => ("created_at", "DESC", "<"),
            (SortBy::Id, false) => ("id", "ASC", ">"),
            (SortBy::Id, true) => ("id", "DESC", "<"),
        };
        if q.after.is_some() {
            sql.push_str(&format!(" AND ({key}, id) {cmp} (?, ?)"));
        }
        sql.push_str(&format!(" ORDER BY {key} {dir}, id {dir}"));

        let mut query = sqlx::query(&sql);
        if let Some(c) = &q.client_id {
            query = query.bind(c);
        }
        for s in &q.states {
            query = query.bind(s.as_str());
        }
        if let Some((k, id)) = &q.after {
            query = match q.sort_by {
                SortBy::CreatedAt => query.bind(k.parse::<i64>().unwrap_or(0)),
                SortBy::Id => query.bind(k.clone()),
            };
            query = query.bind(id.clone());
        }
        let mut rows = query.fetch(&self.read);
        let mut out = Vec::new();
        let mut more = false;
        while let Some(row) = rows.try_next().await? {
            let job = job_from_row(&row)?;
            if !(q.keep)(&job.job, &q.include_tags, &q.exclude_tags) {
                continue;
            }
            if out.len() == q.limit {
                more = true;
                break;
            }
            out.push(job);
        }
        drop(rows);
        for job in &mut out {
            job.state.executions = self.executions(&job.state.job_id).await?;
        }
        Ok((out, more))
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn job_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<StoredJob, StoreError> {
    let id: String = row.try_get("id")?;
    let job: Job = parse(&row.try_get::<String, _>("job")?)?;
    let state: String = row.try_get("state")?;
    let state = state
        .parse::<JobStateType>()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let timeout_at: Option<i64> = row.try_get("timeout_at")?;
    Ok(StoredJob {
        seq: row.try_get("seq")?,
        job,
        state: JobState {
            job_id: id,
            executions: Vec::new(),
            state,
            version: row.try_get("version")?,
            create_time: time::from_nanos(row.try_get("created_at")?),
            update_time: time::from_nanos(row.try_get("update_time")?),
            timeout_at: timeout_at.map(time::from_nanos).unwrap_or_else(time::zero),
        },
    })
}
