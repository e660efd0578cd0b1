//! The requester routes: submit, list, states, events, results, cancel. Handlers parse,
//! call the job service and shape the answer; they never touch SQL.

use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;

use super::dto::*;
use super::error::{ApiError, ErrorBody};
use super::extract::{JsonBody, Signed};
use super::AppState;
use crate::jobs::{JobView, ListOrder, ListParams, SubmitRequest as Submit};
use crate::model::{HistoryType, JobStateType};

/// Longest long-poll wait.
const MAX_WAIT_SECONDS: f64 = 60.0;

fn with_info(v: JobView) -> JobWithInfo {
    JobWithInfo {
        job: (*v.job).clone(),
        state: (*v.state).clone(),
    }
}

fn require_job_id(id: &str) -> Result<&str, ApiError> {
    if id.trim().is_empty() {
        Err(ApiError::bad_request(
            "invalid-request",
            "job_id is required",
        ))
    } else {
        Ok(id)
    }
}

/// Submits a signed job spec.
#[utoipa::path(post, path = "/requester/submit", tag = "requester",
    request_body = SubmitRequest,
    responses(
        (status = 200, description = "The stored job", body = SubmitResponse),
        (status = 400, description = "Malformed envelope, payload or spec", body = ErrorBody),
        (status = 401, description = "Bad or missing signature, ClientID mismatch, stale timestamp", body = ErrorBody),
        (status = 403, description = "Client not authorized on this node", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 503, description = "Shutting down or database unavailable", body = ErrorBody),
    ))]
pub async fn submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    signed: Signed<SubmitPayload>,
) -> Result<Json<SubmitResponse>, ApiError> {
    if headers.contains_key("x-bacalhau-job-id") {
        return Err(ApiError::bad_request(
            "job-id-header",
            "rejecting job because HTTP header X-Bacalhau-Job-ID was set",
        ));
    }
    let p = signed.payload;
    let Some(spec) = p.spec else {
        return Err(ApiError::bad_request(
            "invalid-request",
            "payload Spec is required",
        ));
    };
    let started = std::time::Instant::now();
    let job = app
        .jobs
        .submit(Submit {
            client_id: signed.client_id,
            api_version: p.api_version,
            spec,
            nonce: p.nonce,
        })
        .await?;
    app.metrics.submitted(started.elapsed());
    Ok(Json(SubmitResponse { job }))
}

/// Lists jobs: filter, then sort, then limit.
#[utoipa::path(post, path = "/requester/list", tag = "requester",
    request_body(content = Option<ListRequest>, description = "Optional: no body lists with the defaults"),
    responses(
        (status = 200, description = "A page of jobs", body = ListResponse),
        (status = 400, description = "Invalid request", body = ErrorBody),
        (status = 404, description = "`id` matches no job", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    JsonBody(req): JsonBody<ListRequest>,
) -> Result<Json<ListResponse>, ApiError> {
    let sort_by: ListOrder = req
        .sort_by
        .parse()
        .map_err(|e: String| ApiError::bad_request("invalid-request", e))?;
    let states = req
        .states
        .iter()
        .map(|s| s.parse::<JobStateType>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::bad_request("invalid-request", format!("states: {e}")))?;
    if req.max_jobs < 0 {
        return Err(ApiError::bad_request(
            "invalid-request",
            "max_jobs must not be negative",
        ));
    }
    let client_id = (!req.return_all && !req.client_id.is_empty()).then_some(req.client_id);
    let page = app
        .jobs
        .list(ListParams {
            client_id,
            id: (!req.id.is_empty()).then_some(req.id),
            states,
            include_tags: req.include_tags,
            exclude_tags: req.exclude_tags,
            sort_by,
            reverse: req.sort_reverse,
            limit: usize::try_from(req.max_jobs).unwrap_or(usize::MAX),
            next_token: (!req.next_token.is_empty()).then_some(req.next_token),
        })
        .await?;
    Ok(Json(ListResponse {
        jobs: page.jobs.into_iter().map(with_info).collect(),
        next_token: page.next_token,
    }))
}

/// The state of one job; with `after_version`, waits (long-poll) for a newer version.
#[utoipa::path(post, path = "/requester/states", tag = "requester",
    request_body = StateRequest,
    responses(
        (status = 200, description = "The job's state", body = StateResponse),
        (status = 400, description = "Invalid request or ambiguous id", body = ErrorBody),
        (status = 404, description = "Unknown job", body = ErrorBody),
    ))]
pub async fn states(
    State(app): State<AppState>,
    JsonBody(req): JsonBody<StateRequest>,
) -> Result<Json<StateResponse>, ApiError> {
    let id = require_job_id(&req.job_id)?;
    let view = match req.after_version {
        Some(after) => {
            let wait = req.wait_seconds.unwrap_or(MAX_WAIT_SECONDS);
            if !wait.is_finite() || wait < 0.0 {
                return Err(ApiError::bad_request(
                    "invalid-request",
                    "wait_seconds must be between 0 and 60",
                ));
            }
            let wait = Duration::from_secs_f64(wait.min(MAX_WAIT_SECONDS));
            app.jobs.wait_state(id, after, wait).await?
        }
        None => app.jobs.get(id).await?,
    };
    Ok(Json(StateResponse {
        state: (*view.state).clone(),
    }))
}

/// The history of a job, oldest first, optionally filtered.
#[utoipa::path(post, path = "/requester/events", tag = "requester",
    request_body = EventsRequest,
    responses(
        (status = 200, description = "History records", body = EventsResponse),
        (status = 400, description = "Invalid request", body = ErrorBody),
        (status = 404, description = "Unknown job", body = ErrorBody),
    ))]
pub async fn events(
    State(app): State<AppState>,
    JsonBody(req): JsonBody<EventsRequest>,
) -> Result<Json<EventsResponse>, ApiError> {
    let id = require_job_id(&req.job_id)?;
    let (_, history) = app.jobs.history(id).await?;
    let f = &req.filters;
    let events = history
        .into_iter()
        .filter(|h| h.time.timestamp() >= f.since)
        .filter(|h| !(f.exclude_job_level && h.kind == HistoryType::JobLevel))
        .filter(|h| !(f.exclude_execution_level && h.kind == HistoryType::ExecutionLevel))
        .collect();
    Ok(Json(EventsResponse { events }))
}

/// Published results of the completed executions.
#[utoipa::path(post, path = "/requester/results", tag = "requester",
    request_body = StateRequest,
    responses(
        (status = 200, description = "Results; `[]` when none", body = ResultsResponse),
        (status = 400, description = "Invalid request", body = ErrorBody),
        (status = 404, description = "Unknown job", body = ErrorBody),
    ))]
pub async fn results(
    State(app): State<AppState>,
    JsonBody(req): JsonBody<StateRequest>,
) -> Result<Json<ResultsResponse>, ApiError> {
    let id = require_job_id(&req.job_id)?;
    Ok(Json(ResultsResponse {
        results: app.jobs.results(id).await?,
    }))
}

/// Cancels a job (owner only); every non-terminal execution becomes `Cancelled`.
#[utoipa::path(post, path = "/requester/cancel", tag = "requester",
    request_body = CancelRequest,
    responses(
        (status = 200, description = "The job's state after the cancel", body = StateResponse),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Bad signature", body = ErrorBody),
        (status = 403, description = "Not the job's owner", body = ErrorBody),
        (status = 404, description = "Unknown job", body = ErrorBody),
        (status = 409, description = "The job already ended (a repeated cancel with the same nonce gets 200 and the current state instead)", body = ErrorBody),
        (status = 503, description = "Shutting down or database unavailable", body = ErrorBody),
    ))]
pub async fn cancel(
    State(app): State<AppState>,
    signed: Signed<CancelPayload>,
) -> Result<Json<StateResponse>, ApiError> {
    let p = signed.payload;
    let id = require_job_id(&p.job_id)?;
    let state = app
        .jobs
        .cancel(&signed.client_id, id, &p.reason, p.nonce.as_deref())
        .await?;
    Ok(Json(StateResponse { state }))
}
