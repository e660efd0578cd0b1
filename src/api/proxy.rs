//! Requests another node of the cluster answers better: a live log stream of an execution
//! running there, a Local result it holds. The answer is relayed as it comes (status,
//! content and validator headers, body streamed), so a follower through any node sees the
//! same stream, and a 206, 304 or 416 of the holder reaches the client as it was sent.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::AppState;

/// Marks a request one node forwarded to another, which then answers it itself.
pub const FORWARDED: &str = "x-hake-forwarded-by";

/// Request headers a relayed request keeps.
const KEEP_REQUEST: [HeaderName; 9] = [
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::RANGE,
    header::IF_RANGE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_MATCH,
    header::IF_UNMODIFIED_SINCE,
    HeaderName::from_static("last-event-id"),
];

/// Answer headers a relayed answer keeps.
const KEEP_ANSWER: [HeaderName; 9] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CACHE_CONTROL,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::ETAG,
    header::LAST_MODIFIED,
    header::X_CONTENT_TYPE_OPTIONS,
    HeaderName::from_static("x-accel-buffering"),
];

/// Whether this request was already forwarded by another node (it is answered here,
/// never forwarded again).
pub fn was_forwarded(headers: &HeaderMap) -> bool {
    headers.contains_key(FORWARDED)
}

/// The base URL of a live node other than this one, when `node` is such a node.
pub fn other_node_url(app: &AppState, node: &str) -> Option<String> {
    if node.is_empty() || node == app.jobs.node_id() {
        return None;
    }
    app.jobs
        .node()
        .members()
        .into_iter()
        .find(|m| m.id == node && m.alive && !m.spec.url.is_empty())
        .map(|m| m.spec.url.trim_end_matches('/').to_owned())
}

/// Sends the request to `url` and relays the answer. An unreachable node is a 502.
pub async fn forward(
    app: &AppState,
    method: Method,
    url: String,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut req = app
        .http
        .request(method, &url)
        .header(FORWARDED, app.jobs.node_id())
        .body(body);
    for name in &KEEP_REQUEST {
        if let Some(v) = headers.get(name) {
            req = req.header(name, v);
        }
    }
    let resp = req.send().await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "node-unreachable",
            format!("the node holding this could not be reached at {url}: {e}"),
        )
    })?;
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut kept = HeaderMap::new();
    for name in &KEEP_ANSWER {
        if let Some(v) = resp.headers().get(name.as_str()) {
            if let Ok(v) = axum::http::HeaderValue::from_bytes(v.as_bytes()) {
                kept.insert(name.clone(), v);
            }
        }
    }
    let mut out = (status, Body::from_stream(resp.bytes_stream())).into_response();
    out.headers_mut().extend(kept);
    Ok(out)
}
