//! The console's HTML pages: jobs, one job, nodes, submit and key. Handlers call the job
//! service as the API handlers do and hand view models ([`super::views`]) to askama
//! templates, which escape everything they print.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::nodes::{self, NodeView};
use super::views::{ExecRow, HistoryRow, JobRow, ResultRow, Summary};
use crate::api::error::ApiError;
use crate::api::AppState;
use crate::jobs::{JobError, ListOrder, ListParams};
use crate::model::JobStateType;

/// Rows per page of the jobs table.
pub const PAGE_SIZE: usize = 50;

/// The versioned URL of an embedded asset (called from the base template).
pub fn asset(name: &str) -> String {
    super::assets::url(name)
}

/// An error page: the status and the message, as HTML.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// HTTP status.
    pub status: u16,
    /// Machine-readable code.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// An error of a page handler, shown as an HTML page with the API's status.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<JobError> for PageError {
    fn from(e: JobError) -> Self {
        Self(e.into())
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        Self(ApiError::internal(&e))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        let page = ErrorPage {
            status: e.status.as_u16(),
            code: e.body.code.clone(),
            message: e.body.message.clone(),
        };
        match page.render() {
            Ok(html) => (e.status, Html(html)).into_response(),
            Err(_) => e.into_response(),
        }
    }
}

fn html(t: &impl Template) -> Result<Response, PageError> {
    Ok(Html(t.render()?).into_response())
}

/// The jobs page's query: every field optional, empty meaning "any".
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct JobsQuery {
    /// A job state.
    pub state: String,
    /// An annotation the job must carry.
    pub tag: String,
    /// An id prefix (8 characters or more) or full id.
    pub id: String,
    /// Only this client's jobs ("mine").
    pub client: String,
    /// The `next_token` of the previous page.
    pub next: String,
}

impl JobsQuery {
    /// This query as a `/ui/?...` URL, with `next` replaced.
    fn href(&self, next: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("state", self.state.as_str()),
            ("tag", &self.tag),
            ("id", &self.id),
            ("client", &self.client),
            ("next", next),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        let q = q.finish();
        if q.is_empty() {
            "/ui/".to_owned()
        } else {
            format!("/ui/?{q}")
        }
    }
}

/// The jobs page.
#[derive(Debug, Template)]
#[template(path = "jobs.html")]
pub struct JobsPage {
    /// The filters in use.
    pub filter: JobsQuery,
    /// Every job state, for the filter.
    pub states: Vec<&'static str>,
    /// The rows, newest first.
    pub rows: Vec<JobRow>,
    /// The next page, when there is one.
    pub next_href: Option<String>,
    /// The same filters without the client: everyone's jobs.
    pub everyone_href: String,
}

/// `GET /ui/`: the jobs table, newest first, filtered and paged.
pub async fn jobs(
    State(app): State<AppState>,
    Query(filter): Query<JobsQuery>,
) -> Result<Response, PageError> {
    let states = match filter.state.trim() {
        "" => vec![],
        s => vec![s
            .parse::<JobStateType>()
            .map_err(|e| ApiError::bad_request("invalid-request", format!("state filter: {e}")))?],
    };
    let params = ListParams {
        client_id: Some(filter.client.trim().to_owned()).filter(|c| !c.is_empty()),
        id: Some(filter.id.trim().to_owned()).filter(|c| !c.is_empty()),
        states,
        include_tags: Some(filter.tag.trim().to_owned())
            .filter(|c| !c.is_empty())
            .into_iter()
            .collect(),
        exclude_tags: vec![],
        sort_by: ListOrder::CreatedAt,
        reverse: true,
        limit: PAGE_SIZE,
        next_token: Some(filter.next.clone()).filter(|c| !c.is_empty()),
    };
    let page = match app.jobs.list(params).await {
        Ok(page) => page,
        Err(JobError::NotFound(_)) => crate::jobs::ListPage {
            jobs: vec![],
            next_token: None,
        },
        Err(e) => return Err(e.into()),
    };
    let now = crate::time::now();
    let rows = page
        .jobs
        .iter()
        .map(|v| JobRow::new(&v.job, &v.state, now))
        .collect();
    let everyone = JobsQuery {
        client: String::new(),
        ..filter.clone()
    };
    html(&JobsPage {
        next_href: page.next_token.as_deref().map(|t| filter.href(t)),
        everyone_href: everyone.href(""),
        states: JobStateType::ALL.iter().map(|s| s.as_str()).collect(),
        rows,
        filter,
    })
}

/// The job page.
#[derive(Debug, Template)]
#[template(path = "job.html")]
pub struct JobPage {
    /// Summary facts.
    pub summary: Summary,
    /// The spec, pretty JSON.
    pub spec: String,
    /// Executions.
    pub executions: Vec<ExecRow>,
    /// History, oldest first.
    pub history: Vec<HistoryRow>,
    /// Published results.
    pub results: Vec<ResultRow>,
}

/// `GET /ui/jobs/{id}`: one job (full id or unique prefix).
pub async fn job(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let view = app.jobs.get(&id).await?;
    let (_, history) = app.jobs.history(&view.state.job_id).await?;
    let results = app.jobs.results(&view.state.job_id).await?;
    let spec = serde_json::to_string_pretty(&view.job.spec).map_err(|e| ApiError::internal(&e))?;
    html(&JobPage {
        summary: Summary::new(&view.job, &view.state, crate::time::now()),
        spec,
        executions: view.state.executions.iter().map(ExecRow::new).collect(),
        history: history.iter().map(HistoryRow::new).collect(),
        results: results.iter().map(ResultRow::new).collect(),
    })
}

/// The nodes page.
#[derive(Debug, Template)]
#[template(path = "nodes.html")]
pub struct NodesPage {
    /// The nodes.
    pub nodes: Vec<NodeView>,
}

/// `GET /ui/nodes`: the cluster's nodes.
pub async fn nodes(State(app): State<AppState>) -> Result<Response, PageError> {
    html(&NodesPage {
        nodes: nodes::list(&app),
    })
}

/// The submit page.
#[derive(Debug, Template)]
#[template(path = "submit.html")]
pub struct SubmitPage;

/// `GET /ui/submit`: paste a spec, sign it in the browser, submit.
pub async fn submit() -> Result<Response, PageError> {
    html(&SubmitPage)
}

/// The key page.
#[derive(Debug, Template)]
#[template(path = "keys.html")]
pub struct KeysPage;

/// `GET /ui/keys`: import the private key the browser signs with.
pub async fn keys() -> Result<Response, PageError> {
    html(&KeysPage)
}

/// `POST /ui/spec`: JSON or YAML spec text (bare or as `{"Spec": ...}`) to the spec as
/// JSON, so the browser can sign a JSON payload for a spec pasted as YAML.
pub async fn spec_json(body: String) -> Result<Response, ApiError> {
    if body.trim().is_empty() {
        return Err(ApiError::bad_request("invalid-spec", "the spec is empty"));
    }
    let spec = crate::cli::sign::parse_spec(&body, "the spec")
        .map_err(|e| ApiError::bad_request("invalid-spec", format!("{e:#}")))?;
    if !matches!(spec, crate::model::decode::Tree::Object(_)) {
        return Err(ApiError::bad_request(
            "invalid-spec",
            "the spec must be a mapping of fields (JSON object or YAML mapping)",
        ));
    }
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(spec)).into_response())
}
