//! What both databases return, decoded the same way: rows as plain structs
//! (`sqlx::FromRow` works over either driver), their conversion to the model, and the
//! `list` query, built once with each database's placeholder style.

use super::{ListQuery, SortBy, StoreError, StoredJob};
use crate::model::{JobState, JobStateType};
use crate::time;

/// The columns of `jobs` that reads select.
pub(super) const JOB_COLUMNS: &str =
    "seq, id, created_at, job, state, version, update_time, timeout_at";

/// A `jobs` row.
#[derive(sqlx::FromRow)]
pub(super) struct JobRow {
    seq: i64,
    id: String,
    created_at: i64,
    job: String,
    state: String,
    version: i64,
    update_time: i64,
    timeout_at: Option<i64>,
}

impl JobRow {
    /// The stored job, without its executions.
    pub(super) fn into_stored(self) -> Result<StoredJob, StoreError> {
        let state = self
            .state
            .parse::<JobStateType>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(StoredJob {
            seq: self.seq,
            job: parse(&self.job)?,
            state: JobState {
                job_id: self.id,
                executions: Vec::new(),
                state,
                version: self.version,
                create_time: time::from_nanos(self.created_at),
                update_time: time::from_nanos(self.update_time),
                timeout_at: self
                    .timeout_at
                    .map(time::from_nanos)
                    .unwrap_or_else(time::zero),
            },
        })
    }
}

/// A `log_chunks` row as readers see it.
#[derive(sqlx::FromRow)]
pub(super) struct ChunkRow {
    first_seq: i64,
    last_seq: i64,
    bytes: i64,
    gap: bool,
    records: Vec<u8>,
    /// SQLite: the segment holding the records (absent on PostgreSQL; NULL for rows that
    /// hold them).
    #[sqlx(default)]
    segment: Option<i64>,
    #[sqlx(default)]
    seg_offset: Option<i64>,
    #[sqlx(default)]
    seg_len: Option<i64>,
}

impl ChunkRow {
    /// Where in the segments the records are, if they are not in the row.
    pub(super) fn extent(&self) -> Option<(i64, i64, i64)> {
        Some((self.segment?, self.seg_offset?, self.seg_len?))
    }

    /// The chunk, with the records of the row.
    pub(super) fn into_stored(mut self) -> super::StoredLogChunk {
        let records = std::mem::take(&mut self.records);
        self.into_stored_with(bytes::Bytes::from(records))
    }

    /// The chunk, with these records.
    pub(super) fn into_stored_with(self, records: bytes::Bytes) -> super::StoredLogChunk {
        super::StoredLogChunk {
            first_seq: super::to_u64(self.first_seq),
            last_seq: super::to_u64(self.last_seq),
            bytes: super::to_u64(self.bytes),
            gap: self.gap,
            records,
        }
    }
}

/// Parses a stored JSON document.
pub(super) fn parse<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Parses the JSON bodies of rows.
pub(super) fn parse_all<T: serde::de::DeserializeOwned>(
    bodies: &[String],
) -> Result<Vec<T>, StoreError> {
    bodies.iter().map(|b| parse(b)).collect()
}

/// The `list` statement (`$N` placeholders), binding in this order: client id, each
/// state, then the resume key and id.
pub(super) fn list_sql(q: &ListQuery) -> String {
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let mut sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE 1 = 1");
    if q.client_id.is_some() {
        sql.push_str(&format!(" AND client_id = {}", next()));
    }
    if !q.states.is_empty() {
        let marks: Vec<String> = q.states.iter().map(|_| next()).collect();
        sql.push_str(&format!(" AND state IN ({})", marks.join(", ")));
    }
    let (key, dir, cmp) = match (q.sort_by, q.reverse) {
        (SortBy::CreatedAt, false) => ("created_at", "ASC", ">"),
        (SortBy::CreatedAt, true) => ("created_at", "DESC", "<"),
        (SortBy::Id, false) => ("id", "ASC", ">"),
        (SortBy::Id, true) => ("id", "DESC", "<"),
    };
    if q.after.is_some() {
        let (a, b) = (next(), next());
        sql.push_str(&format!(" AND ({key}, id) {cmp} ({a}, {b})"));
    }
    sql.push_str(&format!(" ORDER BY {key} {dir}, id {dir}"));
    sql
}

/// The resume position of `list` as bound values: the created-at key as a number (0 when
/// it is not one), or the id.
pub(super) enum AfterKey<'a> {
    /// Sorting by creation time.
    Created(i64),
    /// Sorting by id.
    Id(&'a str),
}

impl<'a> AfterKey<'a> {
    /// The key of `q`'s resume position, with its id.
    pub(super) fn of(q: &'a ListQuery) -> Option<(Self, &'a str)> {
        q.after.as_ref().map(|(k, id)| {
            let key = match q.sort_by {
                SortBy::CreatedAt => Self::Created(k.parse::<i64>().unwrap_or(0)),
                SortBy::Id => Self::Id(k),
            };
            (key, id.as_str())
        })
    }
}

/// Filters (tags), then limits, over rows as they stream in.
pub(super) struct Pager<'q> {
    q: &'q ListQuery,
    out: Vec<StoredJob>,
    more: bool,
}

impl<'q> Pager<'q> {
    pub(super) fn new(q: &'q ListQuery) -> Self {
        Self {
            q,
            out: Vec::new(),
            more: false,
        }
    }

    /// Takes the next row in sort order; false once the page is full (stop reading).
    pub(super) fn offer(&mut self, row: JobRow) -> Result<bool, StoreError> {
        let job = row.into_stored()?;
        if !(self.q.keep)(&job.job, &self.q.include_tags, &self.q.exclude_tags) {
            return Ok(true);
        }
        if self.out.len() == self.q.limit {
            self.more = true;
            return Ok(false);
        }
        self.out.push(job);
        Ok(true)
    }

    /// The page and whether more rows follow.
    pub(super) fn finish(self) -> (Vec<StoredJob>, bool) {
        (self.out, self.more)
    }
}
