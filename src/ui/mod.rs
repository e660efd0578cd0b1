//! The web console at `/ui/` (DESIGN §11): server-rendered pages (askama templates) over
//! the same job service the API uses, one embedded script and stylesheet, and the
//! security headers every console response carries. The browser reads live state and
//! logs from the JSON API and signs cancel, logs and submit itself with WebCrypto.
//!
//! Layout: [`pages`] (the HTML handlers and their view models), [`nodes`] (the node
//! list the nodes page shows), [`assets`] (the script and stylesheet).

pub mod assets;
pub mod nodes;
pub mod pages;
mod views;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::api::AppState;

/// The Content-Security-Policy of every console response: scripts, styles and
/// connections only from this origin, no inline script, no plugins, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
frame-ancestors 'none'";

/// The console's routes, with its security headers.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(pages::jobs))
        .route("/ui/jobs/{id}", get(pages::job))
        .route("/ui/nodes", get(pages::nodes))
        .route("/ui/submit", get(pages::submit))
        .route("/ui/keys", get(pages::keys))
        .route("/ui/spec", post(pages::spec_json))
        .route("/ui/assets/{file}", get(assets::serve))
        .layer(middleware::from_fn(security_headers))
}

/// Adds the CSP and its companions to every console response.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// Whether the request comes from a browser navigating: its `Accept` names `text/html`.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.to_ascii_lowercase().contains("text/html"))
}

/// `GET /`: browsers go to the console (303); other clients get the API's 404, as
/// before the console existed.
pub async fn root(headers: HeaderMap, req: Request) -> Response {
    if wants_html(&headers) {
        Redirect::to("/ui/").into_response()
    } else {
        crate::api::not_found(req).await.into_response()
    }
}
