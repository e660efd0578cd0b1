//! `list`: its parameters, the orders it sorts by, paging tokens and Bacalhau's tag rule,
//! over the store's filter → sort → limit query.

use std::sync::Arc;

use super::{JobError, JobView, Jobs};
use crate::model::{Job, JobStateType};
use crate::store;
use crate::time;

/// `list` parameters after parsing.
#[derive(Debug, Clone)]
pub struct ListParams {
    /// Only this client's jobs, when set.
    pub client_id: Option<String>,
    /// A single job by full id or prefix, when set (other filters are ignored).
    pub id: Option<String>,
    /// Only these states.
    pub states: Vec<JobStateType>,
    /// Tag filters.
    pub include_tags: Vec<String>,
    /// Tag filters.
    pub exclude_tags: Vec<String>,
    /// Sort key.
    pub sort_by: ListOrder,
    /// Descending.
    pub reverse: bool,
    /// Page size (0 = the server's cap).
    pub limit: usize,
    /// Resume after this token.
    pub next_token: Option<String>,
}

/// The orders `list` can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListOrder {
    /// By creation time, then id (`created_at`, the default).
    #[default]
    CreatedAt,
    /// By id (`id`).
    Id,
}

impl std::str::FromStr for ListOrder {
    type Err = String;

    /// Parses the wire's `sort_by`: empty or `created_at`, or `id`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" | "created_at" => Ok(Self::CreatedAt),
            "id" => Ok(Self::Id),
            other => Err(format!(
                "sort_by {other:?} is not supported (use created_at or id)"
            )),
        }
    }
}

impl From<ListOrder> for store::SortBy {
    fn from(o: ListOrder) -> Self {
        match o {
            ListOrder::CreatedAt => Self::CreatedAt,
            ListOrder::Id => Self::Id,
        }
    }
}

/// A page of jobs.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// The jobs.
    pub jobs: Vec<JobView>,
    /// Token of the next page, when more remain.
    pub next_token: Option<String>,
}

impl Jobs {
    /// Filters, sorts, then limits.
    pub async fn list(&self, p: ListParams) -> Result<ListPage, JobError> {
        if let Some(id) = p.id.as_deref().filter(|s| !s.is_empty()) {
            let view = self.get(id).await?;
            return Ok(ListPage {
                jobs: vec![view],
                next_token: None,
            });
        }
        let cap = self.inner.settings.list_page_cap.max(1);
        let limit = if p.limit == 0 { cap } else { p.limit.min(cap) };
        let after = match &p.next_token {
            Some(t) if !t.is_empty() => Some(decode_token(t)?),
            _ => None,
        };
        let q = store::ListQuery {
            client_id: p.client_id,
            states: p.states,
            sort_by: p.sort_by.into(),
            reverse: p.reverse,
            after,
            keep: tags_match,
            include_tags: p.include_tags,
            exclude_tags: p.exclude_tags,
            limit,
        };
        let (rows, more) = self.inner.store.list(&q).await?;
        let next_token = match (more, rows.last()) {
            (true, Some(last)) => Some(encode_token(p.sort_by, last)),
            _ => None,
        };
        let jobs = rows
            .into_iter()
            .map(|r| match self.live_job(&r.state.job_id) {
                Some(live) => JobView {
                    job: live.job.clone(),
                    state: live.snapshot(),
                },
                None => JobView {
                    job: Arc::new(r.job),
                    state: Arc::new(r.state),
                },
            })
            .collect();
        Ok(ListPage { jobs, next_token })
    }
}

/// Bacalhau's tag rule: with no include tags everything is in; the first annotation found
/// in include_tags (keep) or exclude_tags (drop) decides.
fn tags_match(job: &Job, include: &[String], exclude: &[String]) -> bool {
    let mut keep = include.is_empty();
    for a in &job.spec.annotations {
        if include.contains(a) {
            keep = true;
            break;
        }
        if exclude.contains(a) {
            keep = false;
            break;
        }
    }
    keep
}

fn encode_token(sort_by: ListOrder, last: &store::ListedJob) -> String {
    use base64::Engine as _;
    let key = match sort_by {
        ListOrder::CreatedAt => time::to_nanos(last.state.create_time).to_string(),
        ListOrder::Id => last.state.job_id.clone(),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{key}\n{}", last.state.job_id))
}

fn decode_token(token: &str) -> Result<(String, String), JobError> {
    use base64::Engine as _;
    let bad = || {
        JobError::Invalid(format!(
            "next_token {token:?} is not a token this server issued"
        ))
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (k, id) = text.split_once('\n').ok_or_else(bad)?;
    Ok((k.to_owned(), id.to_owned()))
}
