//! The HTTP API: axum routes, wire DTOs, the error type and the extractors. Every
//! requester route is served at `/requester/X` and `/api/v1/requester/X`, accepts POST
//! (and GET with a body, as Bacalhau did).
//!
//! Middleware, outermost first: request id (`x-request-id`, taken from the request or
//! made, and echoed), tracing span (with the request id), panic catcher, [`guard`]
//! (503 while shutting down, rate limit, request timeout, metrics), body limit.

pub mod dto;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod limits;
pub mod logs;
mod node;
pub mod openapi;
pub mod proxy;
pub mod requester;
mod results;
pub mod serve;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::app::App;
use error::ApiError;
use limits::RateLimiter;

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
        .route("/logs", post(logs::logs).get(logs::logs))
        .route("/nodes", post(node::nodes).get(node::nodes));
    Router::new()
        .nest("/requester", requester)
        .route("/version", post(node::version).get(node::version))
        .route("/livez", get(node::livez))
        .route("/readyz", get(node::readyz))
        .route("/healthz", get(node::healthz))
        .route("/node_info", get(node::node_info))
        .route("/id", get(node::id))
}

/// What [`guard`] needs besides the app.
#[derive(Debug, Clone)]
struct Guard {
    app: AppState,
    /// The per-IP limiter, when `--rate-limit` is set.
    limiter: Option<Arc<RateLimiter>>,
    /// `--request-timeout-secs`.
    timeout: Duration,
}

/// The tracing span of one request: method, path and request id, so every event logged
/// while handling it carries them.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
}

/// The whole router with its middleware.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    let guard_state = Guard {
        limiter: RateLimiter::new(state.config.rate_limit).map(Arc::new),
        timeout: Duration::from_secs(state.config.request_timeout_secs.max(1)),
        app: state.clone(),
    };
    Router::new()
        .merge(prefixed())
        .nest("/api/v1", prefixed())
        .route("/results/{job}/{file}", get(results::download))
        .route("/metrics", get(node::metrics))
        .route("/openapi.yaml", get(openapi::serve_yaml))
        .route("/openapi.json", get(openapi::serve_json))
        .route("/docs", get(openapi::docs_page))
        .route("/", get(crate::ui::root))
        .merge(crate::ui::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(guard_state, guard))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error",
                "internal server error",
            )
            .into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Refuses new requests while shutting down (503) and over the rate limit (429), bounds
/// the time of non-streaming requests (408), and counts answers by route and status.
async fn guard(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().trim_start_matches("/api/v1").to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let limited = match &g.limiter {
        Some(l) if !limits::UNLIMITED_ROUTES.contains(&route.as_str()) => l.check_request(&req),
        _ => Ok(()),
    };
    let resp = if g.app.shutdown.is_cancelled() && route != "/livez" {
        ApiError::shutting_down().into_response()
    } else if let Err(e) = limited {
        e.into_response()
    } else if limits::is_streaming(&route) {
        next.run(req).await
    } else {
        match tokio::time::timeout(g.timeout, next.run(req)).await {
            Ok(resp) => resp,
            Err(_) => limits::timed_out(g.timeout).into_response(),
        }
    };
    g.app.metrics.http(&route, resp.status().as_u16());
    resp
}

/// The 404 of every unknown route.
pub(crate) async fn not_found(req: Request) -> ApiError {
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
