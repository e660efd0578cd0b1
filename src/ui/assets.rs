//! The console's script and stylesheet, embedded in the binary. Pages link them with
//! `?v=<hash>`; such URLs are cached for a year, others revalidate by ETag.

use std::sync::LazyLock;

use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::api::error::ApiError;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// The file name under `/ui/assets/`.
    pub name: &'static str,
    /// Its Content-Type.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static str,
    /// The first 16 hex digits of its SHA-256: the cache-busting version and the ETag.
    pub version: String,
}

fn asset(name: &'static str, content_type: &'static str, body: &'static str) -> Asset {
    Asset {
        name,
        content_type,
        body,
        version: hex::encode(&Sha256::digest(body.as_bytes())[..8]),
    }
}

/// The embedded files.
pub static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        asset(
            "app.js",
            "text/javascript; charset=utf-8",
            include_str!("assets/app.js"),
        ),
        asset(
            "app.css",
            "text/css; charset=utf-8",
            include_str!("assets/app.css"),
        ),
    ]
});

/// The versioned URL of an embedded file, for templates.
pub fn url(name: &str) -> String {
    let version = ASSETS
        .iter()
        .find(|a| a.name == name)
        .map_or("", |a| a.version.as_str());
    format!("/ui/assets/{name}?v={version}")
}

/// `GET /ui/assets/{file}`: the file, `304` when `If-None-Match` names its ETag.
pub async fn serve(
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(a) = ASSETS.iter().find(|a| a.name == file) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "asset-not-found",
            format!("no console asset {file:?}"),
        ));
    };
    let etag = format!("\"{}\"", a.version);
    let versioned = query.is_some_and(|q| q == format!("v={}", a.version));
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            )],
            a.body,
        )
            .into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("hex is a valid header value"),
    );
    Ok(resp)
}
