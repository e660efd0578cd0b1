//! `GET /results/{job}/{execution}.tar.gz`: published outputs of the Local publisher.
//! The execution id in the URL is unguessable, so no signature is asked for.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio_util::io::ReaderStream;

use super::error::{ApiError, ErrorBody};
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
) -> Result<Response, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "result-not-found",
            format!("no published result {job}/{file}"),
        )
    };
    let path = app.storage.result_file(&job, &file).ok_or_else(missing)?;
    let f = tokio::fs::File::open(&path).await.map_err(|_| missing())?;
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
