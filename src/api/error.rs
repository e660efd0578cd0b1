//! The one error type of the HTTP API. Every non-2xx answer is JSON
//! `{"code", "message", "details"}` with the status DESIGN §1 gives the class of error.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::jobs::JobError;

/// The JSON body of every error answer. Go clients decode it case-insensitively as
/// Bacalhau's `{Code, Message, Details}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `job-not-found`.
    pub code: String,
    /// A human sentence.
    pub message: String,
    /// Structured details (may be empty).
    #[schema(value_type = Object)]
    pub details: Value,
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorBody,
    /// Seconds for `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with empty details.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                details: json!({}),
            },
            retry_after: None,
        }
    }

    /// Adds details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.body.details = details;
        self
    }

    /// Adds `Retry-After: secs`.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// 400 with a code.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 413.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("request body is larger than the {limit}-byte limit"),
        )
        .with_details(json!({ "limit": limit }))
    }

    /// 503 while shutting down.
    pub fn shutting_down() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting-down",
            "the server is shutting down",
        )
        .with_retry_after(5)
    }

    /// 500; the cause is logged, not sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error",
            "internal server error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body).unwrap_or_else(|_| b"{}".to_vec());
        let mut resp = (self.status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        let msg = e.to_string();
        match e {
            JobError::Invalid(_) => Self::bad_request("invalid-request", msg),
            JobError::NotFound(id) => Self::new(
                StatusCode::NOT_FOUND,
                "job-not-found",
                format!("Job not found. ID: {id}"),
            )
            .with_details(json!({ "id": id })),
            JobError::Ambiguous { prefix, matches } => Self::bad_request("ambiguous-job-id", msg)
                .with_details(json!({ "id": prefix, "matches": matches })),
            JobError::NotOwner(id) => Self::new(StatusCode::FORBIDDEN, "not-job-owner", msg)
                .with_details(json!({ "id": id })),
            JobError::Terminal { id, state } => {
                Self::new(StatusCode::CONFLICT, "job-terminal", msg)
                    .with_details(json!({ "id": id, "state": state.as_str() }))
            }
            JobError::NonceReused(_) => Self::new(StatusCode::UNAUTHORIZED, "nonce-reused", msg),
            JobError::Unavailable(_) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", msg).with_retry_after(1)
            }
            JobError::DatabaseUnavailable(_) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "database-unavailable", msg)
                    .with_retry_after(2)
            }
            JobError::Internal(e) => Self::internal(&format!("{e:#}")),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            e.reason(),
            format!("signature check failed: {e}"),
        )
    }
}
