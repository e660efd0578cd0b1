//! `POST /requester/logs`: checks the signed request (signature, owner, job, execution,
//! parameters) and answers errors as JSON before streaming starts; then hands over to
//! [`crate::logs::stream`], which writes the chunked body.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::dto::{LogFrame, LogsPayload, LogsRequest};
use super::error::{ApiError, ErrorBody};
use super::extract::Signed;
use super::proxy;
use super::AppState;
use crate::jobs::JobError;
use crate::logs::frame::Format;
use crate::logs::stream::{self, LogQuery, StreamContext};
use crate::logs::{Filter, TooManyStreams};
use crate::model::LogStream;

/// How long a follow of a job that has not started yet waits for its first execution
/// before it is served here (in a cluster, the stream lives on the node that runs it).
const FIRST_EXECUTION_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

fn parse_stream(s: Option<&str>) -> Result<Option<LogStream>, ApiError> {
    match s.map(str::trim).unwrap_or("") {
        "" => Ok(None),
        s if s.eq_ignore_ascii_case("all") => Ok(None),
        s => s.parse::<LogStream>().map(Some).map_err(|_| {
            ApiError::bad_request(
                "invalid-request",
                format!("Stream {s:?} is not one of stdout, stderr, all"),
            )
        }),
    }
}

fn last_event_id(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(v) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("").trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u64>().map(Some).map_err(|_| {
        ApiError::bad_request(
            "invalid-request",
            format!("Last-Event-ID {text:?} is not a record seq"),
        )
    })
}

/// 429 for a client already holding its cap of open streams.
fn too_many_streams(e: TooManyStreams) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-streams",
        format!(
            "this client already has {} log streams open; close one or retry later",
            e.cap
        ),
    )
    .with_details(json!({ "max_streams": e.cap }))
    .with_retry_after(1)
}

/// Streams an execution's logs (owner only).
///
/// The body is chunked: by `Accept`, NDJSON of `LogFrame` (default), `text/plain` raw
/// output, or `text/event-stream` (SSE, `id` = seq, resumes from `Last-Event-ID`). Every
/// stream ends with an `End` record. Errors found before streaming are JSON.
#[utoipa::path(post, path = "/requester/logs", tag = "requester",
    request_body = LogsRequest,
    responses(
        (status = 200, description = "A chunked stream of log records, ending with an End record", content(
            (LogFrame = "application/x-ndjson"),
            (String = "text/plain"),
            (String = "text/event-stream"),
        )),
        (status = 400, description = "Malformed request, unknown execution, bad Stream or Last-Event-ID", body = ErrorBody),
        (status = 401, description = "Bad signature", body = ErrorBody),
        (status = 403, description = "Not the job's owner", body = ErrorBody),
        (status = 404, description = "Unknown job", body = ErrorBody),
        (status = 429, description = "Rate limited, or the client already has its cap of open log streams (`too-many-streams`)", body = ErrorBody),
        (status = 503, description = "Shutting down or database unavailable", body = ErrorBody),
    ))]
pub async fn logs(
    State(app): State<AppState>,
    headers: HeaderMap,
    signed: Signed<LogsPayload>,
) -> Result<Response, ApiError> {
    let p = signed.payload;
    if p.job_id.trim().is_empty() {
        return Err(ApiError::bad_request(
            "invalid-request",
            "JobID is required",
        ));
    }
    let filter = Filter {
        stream: parse_stream(p.stream.as_deref())?,
        since_ns: p.since_ms.map(|ms| ms.saturating_mul(1_000_000)),
    };
    let resume = last_event_id(&headers)?;
    let format = Format::from_accept(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));

    let view = app.jobs.get(&p.job_id).await?;
    let job_id = view.state.job_id.clone();
    if view.job.metadata.client_id != signed.client_id {
        return Err(JobError::NotOwner(job_id).into());
    }
    let execution_id = match p.execution_id.trim() {
        "" => None,
        id if view
            .state
            .executions
            .iter()
            .any(|e| e.compute_reference == id) =>
        {
            Some(id.to_owned())
        }
        id => {
            return Err(ApiError::bad_request(
                "unknown-execution",
                format!("job {job_id} has no execution {id}"),
            )
            .with_details(json!({ "id": job_id, "execution_id": id })))
        }
    };
    // In a cluster the execution may run on another node, which holds its live stream.
    let mut view = view;
    if app.jobs.store().cluster().is_some() && !proxy::was_forwarded(&headers) {
        let elsewhere = || {
            let need = crate::cluster::Capacity::of(&view.job.spec.resources).unwrap_or_default();
            let me = app.jobs.node_id();
            app.jobs
                .node()
                .candidates(&view.job.spec, &need)
                .iter()
                .any(|m| m.id != me)
        };
        if p.follow && execution_id.is_none() && view.state.executions.is_empty() && elsewhere() {
            // Where it will run is known once it starts: wait for that (or its end).
            let until = tokio::time::Instant::now() + FIRST_EXECUTION_WAIT;
            while view.state.executions.is_empty()
                && !view.state.state.is_terminal()
                && tokio::time::Instant::now() < until
                && !app.shutdown.is_cancelled()
            {
                let left = until - tokio::time::Instant::now();
                view = app
                    .jobs
                    .wait_state(&job_id, view.state.version, left)
                    .await?;
            }
        }
        let target = match &execution_id {
            Some(id) => view
                .state
                .executions
                .iter()
                .find(|e| e.compute_reference == *id),
            None => view.state.executions.last(),
        };
        let elsewhere = target
            .filter(|e| !e.state.is_terminal())
            .and_then(|e| proxy::other_node_url(&app, &e.node_id));
        if let Some(url) = elsewhere {
            let url = format!("{url}/api/v1/requester/logs");
            return proxy::forward(&app, Method::POST, url, &headers, signed.body).await;
        }
    }
    app.jobs.watch_here(&view);
    let after_seq = p.after_seq.and_then(|a| u64::try_from(a).ok()).max(resume);
    let query = LogQuery {
        job_id,
        execution_id,
        with_history: p.with_history.unwrap_or(true),
        follow: p.follow,
        after_seq,
        tail: p.tail,
        filter,
        format,
    };
    let ctx = StreamContext {
        jobs: app.jobs.clone(),
        shutdown: app.shutdown.clone(),
        heartbeat: app.config.log_heartbeat(),
    };
    let slot = app
        .log_streams
        .acquire(&signed.client_id)
        .map_err(too_many_streams)?;
    let body = Body::from_stream(stream::open(ctx, query, view.state, Some(slot)));
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_parse_case_insensitively_and_bad_ones_are_400() {
        assert_eq!(parse_stream(None).unwrap(), None);
        assert_eq!(parse_stream(Some("ALL")).unwrap(), None);
        assert_eq!(
            parse_stream(Some("stderr")).unwrap(),
            Some(LogStream::Stderr)
        );
        assert_eq!(
            parse_stream(Some(" Stdout ")).unwrap(),
            Some(LogStream::Stdout)
        );
        assert_eq!(
            parse_stream(Some("both")).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn the_openapi_document_describes_the_logs_route_and_frames() {
        let yaml = crate::api::openapi::yaml();
        for needle in [
            "/requester/logs:",
            "LogsPayload",
            "LogFrame",
            "application/x-ndjson",
            "text/event-stream",
        ] {
            assert!(yaml.contains(needle), "{needle} missing from openapi.yaml");
        }
    }

    #[test]
    fn last_event_id_must_be_a_seq() {
        let mut h = HeaderMap::new();
        assert_eq!(last_event_id(&h).unwrap(), None);
        h.insert("last-event-id", HeaderValue::from_static("41"));
        assert_eq!(last_event_id(&h).unwrap(), Some(41));
        h.insert("last-event-id", HeaderValue::from_static("x"));
        assert!(last_event_id(&h).is_err());
    }
}
