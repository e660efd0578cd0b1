//! `GET /results/{job}/{execution}.tar.gz`: published outputs of the Local publisher.
//! The execution id in the URL is unguessable, so no signature is asked for. In a cluster
//! a result another node holds is fetched through it.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio_util::io::ReaderStream;

use super::error::{ApiError, ErrorBody};
use super::proxy;
use super::AppState;

/// A gzip-compressed tar archive (`application/gzip`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // only describes the body in the OpenAPI document
pub struct Tarball(Vec<u8>);

/// Downloads a published result tarball.
#[utoipa::path(get, path = "/results/{job}/{file}", tag = "results",
    params(("job" = String, Path, description = "Job id"),
           ("file" = String, Path, description = "`<execution id>.tar.gz`")),
    responses((status = 200, description = "The tarball", body = Tarball, content_type = "application/gzip"),
              (status = 404, description = "No such result", body = ErrorBody)))]
pub async fn download(
    State(app): State<AppState>,
    Path((job, file)): Path<(String, String)>,
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
        Some(path) => tokio::fs::File::open(&path).await.ok(),
        None => None,
    };
    let Some(f) = local else {
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
        return proxy::forward(&app, Method::GET, url, &headers, Bytes::new()).await;
    };
    let len = f.metadata().await.map(|m| m.len()).ok();
    let mut resp = Body::from_stream(ReaderStream::new(f)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        "application/gzip".parse().expect("static header"),
    );
    if let Some(len) = len {
        h.insert(header::CONTENT_LENGTH, len.into());
    }
    Ok(resp)
}
