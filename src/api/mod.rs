//! The HTTP API: axum routes, wire DTOs, the error type and the extractors. Every
//! requester route is served at `/requester/X` and `/api/v1/requester/X`, accepts POST
//! (and GET with a body, as Bacalhau did).

pub mod dto;
pub mod error;
pub mod extract;
pub mod logs;
mod node;
pub mod openapi;
pub mod requester;
mod results;

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::app::App;
use error::ApiError;

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

/// The routes of one prefix (served at the root and under `/api/v1`).
fn prefixed() -> Router<AppState> {
    let requester = Router::new()
        .route("/submit", post(requester::submit).get(requester::submit))
        .route("/list", post(requester::list).get(requester::list))
        .route("/states", post(requester::states).get(requester::states))
        .route("/events", post(requester::events).get(requester::events))
        .route("/results", post(requester::results).get(requester::results))
        .route("/cancel", post(requester::cancel).get(requester::cancel))
        .route("/logs", post(logs::logs).get(logs::logs));
    Router::new()
        .nest("/requester", requester)
        .route("/version", post(node::version).get(node::version))
        .route("/livez", get(node::livez))
        .route("/readyz", get(node::readyz))
        .route("/healthz", get(node::healthz))
        .route("/node_info", get(node::node_info))
        .route("/id", get(node::id))
}

/// The whole router with its middleware.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    Router::new()
        .merge(prefixed())
        .nest("/api/v1", prefixed())
        .route("/results/{job}/{file}", get(results::download))
        .route("/metrics", get(node::metrics))
        .route("/openapi.yaml", get(openapi::serve_yaml))
        .route("/openapi.json", get(openapi::serve_json))
        .route("/docs", get(openapi::docs_page))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error",
                "internal server error",
            )
            .into_response()
        }))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Refuses new requests while shutting down and counts answers by route and status.
async fn guard(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().trim_start_matches("/api/v1").to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let resp = if app.shutdown.is_cancelled() && route != "/livez" {
        ApiError::shutting_down().into_response()
    } else {
        next.run(req).await
    };
    app.metrics.http(&route, resp.status().as_u16());
    resp
}

async fn not_found(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route-not-found",
        format!("no route for {} {}", req.method(), req.uri().path()),
    )
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    )
}
