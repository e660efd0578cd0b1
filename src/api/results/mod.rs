//! `GET`/`HEAD /results/{job}/{execution}.tar.gz`: published outputs of the Local
//! publisher. The execution id in the URL is unguessable, so no signature is asked for.
//! In a cluster a result another node holds is fetched through it, conditional and range
//! headers passed along.
//!
//! A published tarball is renamed into place once and never written again, so it has a
//! strong `ETag` from its metadata; [`conditional`] turns the request's conditional and
//! `Range` headers into a 200, 206, 304, 412 or 416, and [`chunks`] streams the bytes.

mod chunks;
mod conditional;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::{ApiError, ErrorBody};
use super::proxy;
use super::AppState;
use chunks::FileChunks;
use conditional::{Decision, Validators};

/// A gzip-compressed tar archive (`application/gzip`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // only describes the body in the OpenAPI document
pub struct Tarball(Vec<u8>);

/// Downloads a published result tarball (HEAD gives its headers only).
///
/// Supports single byte ranges (`Range: bytes=…`, with `If-Range`), answered with 206 and
/// `Content-Range`; a request for several ranges gets the whole file. The strong `ETag`
/// and `Last-Modified` make `If-None-Match`/`If-Modified-Since` (304) and
/// `If-Match`/`If-Unmodified-Since` (412) work.
#[utoipa::path(get, path = "/results/{job}/{file}", tag = "results",
    params(("job" = String, Path, description = "Job id"),
           ("file" = String, Path, description = "`<execution id>.tar.gz`"),
           ("Range" = Option<String>, Header, nullable = false, description = "One byte range, e.g. `bytes=0-1023`, `bytes=1024-` or `bytes=-512`"),
           ("If-Range" = Option<String>, Header, nullable = false, description = "The range is sent only if this `ETag` or `Last-Modified` date still names the file"),
           ("If-None-Match" = Option<String>, Header, nullable = false, description = "304 when the file's `ETag` is among these"),
           ("If-Modified-Since" = Option<String>, Header, nullable = false, description = "304 when the file is not newer (ignored with `If-None-Match`)"),
           ("If-Match" = Option<String>, Header, nullable = false, description = "412 unless the file's `ETag` is among these"),
           ("If-Unmodified-Since" = Option<String>, Header, nullable = false, description = "412 when the file is newer (ignored with `If-Match`)")),
    responses((status = 200, description = "The tarball", body = Tarball, content_type = "application/gzip",
                headers(("ETag" = String, description = "Strong entity tag"),
                        ("Last-Modified" = String, description = "When it was published"),
                        ("Accept-Ranges" = String, description = "`bytes`"))),
              (status = 206, description = "The asked byte range of the tarball", body = Tarball, content_type = "application/gzip",
                headers(("Content-Range" = String, description = "`bytes first-last/length`"),
                        ("ETag" = String, description = "Strong entity tag"))),
              (status = 304, description = "Not modified: the client's copy is current",
                headers(("ETag" = String, description = "Strong entity tag"))),
              (status = 404, description = "No such result", body = ErrorBody),
              (status = 412, description = "`If-Match` or `If-Unmodified-Since` failed", body = ErrorBody),
              (status = 416, description = "No byte of the asked range is in the file (`Content-Range: bytes */length`)", body = ErrorBody)))]
pub async fn download(
    State(app): State<AppState>,
    Path((job, file)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "result-not-found",
            format!("no published result {job}/{file}"),
        )
    };
    let local = match app.storage.result_file(&job, &file) {
        Some(path) => tokio::task::spawn_blocking(move || {
            let f = std::fs::File::open(path)?;
            let meta = f.metadata()?;
            std::io::Result::Ok((f, meta))
        })
        .await
        .ok()
        .and_then(Result::ok),
        None => None,
    };
    let Some((f, meta)) = local else {
        // In a cluster another node may hold it.
        if proxy::was_forwarded(&headers) {
            return Err(missing());
        }
        let execution = file.strip_suffix(".tar.gz").unwrap_or(&file);
        let holder = match app.jobs.get(&job).await {
            Ok(view) => view
                .state
                .executions
                .iter()
                .find(|e| e.compute_reference == execution)
                .map(|e| e.node_id.clone()),
            Err(_) => None,
        };
        let url = holder
            .and_then(|n| proxy::other_node_url(&app, &n))
            .ok_or_else(missing)?;
        let url = format!("{url}/results/{job}/{file}");
        return proxy::forward(&app, method, url, &headers, Bytes::new()).await;
    };
    let v = Validators::of(&meta);
    let decision = conditional::decide(&method, &headers, &v);
    let head = method == Method::HEAD;
    let mut resp = match decision {
        Decision::PreconditionFailed => ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            format!("{job}/{file} does not meet If-Match or If-Unmodified-Since"),
        )
        .into_response(),
        Decision::NotModified => StatusCode::NOT_MODIFIED.into_response(),
        Decision::Unsatisfiable => {
            let mut resp = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range-not-satisfiable",
                format!("no byte of the asked range is in the {}-byte file", v.len),
            )
            .with_details(json!({ "length": v.len }))
            .into_response();
            resp.headers_mut()
                .insert(header::CONTENT_RANGE, value(format!("bytes */{}", v.len)));
            resp
        }
        Decision::Full => file_answer(f, 0, v.len, head, StatusCode::OK),
        Decision::Partial { start, end } => {
            let mut resp =
                file_answer(f, start, end - start + 1, head, StatusCode::PARTIAL_CONTENT);
            resp.headers_mut().insert(
                header::CONTENT_RANGE,
                value(format!("bytes {start}-{end}/{}", v.len)),
            );
            resp
        }
    };
    let h = resp.headers_mut();
    h.insert(header::ETAG, value(v.etag));
    if let Some(t) = v.last_modified {
        h.insert(header::LAST_MODIFIED, value(httpdate::fmt_http_date(t)));
    }
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    Ok(resp)
}

/// A 200 or 206 with `len` bytes of `f` from `start` (no body for HEAD, the length
/// still given).
fn file_answer(f: std::fs::File, start: u64, len: u64, head: bool, status: StatusCode) -> Response {
    let body = if head {
        Body::empty()
    } else {
        Body::from_stream(FileChunks::new(f, start, len))
    };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    h.insert(header::CONTENT_LENGTH, len.into());
    resp
}

/// A header value made of printable ASCII.
fn value(s: String) -> HeaderValue {
    HeaderValue::try_from(s).expect("printable ASCII")
}
