//! Request extractors: lenient JSON bodies and signed envelopes.
//!
//! Bodies are read as bytes whatever their Content-Type (curl sends form encoding by
//! default) and decoded as Bacalhau's Go server decodes them ([`crate::model::decode`]:
//! keys match field names case-insensitively, the last of repeated keys wins). JSON
//! `null` means "absent", as Go's zero values do. A signed envelope is
//! checked in the order of DESIGN §2: envelope parses → key decodes → signature verifies
//! over the raw payload bytes → payload parses → ClientID matches → freshness →
//! authorized keys.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::envelope::Envelope;
use super::error::ApiError;
use super::AppState;
use crate::auth;
use crate::model::decode::{self, Tree};

/// A JSON body parsed leniently (any Content-Type; an empty body or `null` = `{}`; null
/// members dropped; keys matched to field names as Go matches them).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        let text = if bytes.iter().all(u8::is_ascii_whitespace) {
            &b"{}"[..]
        } else {
            &bytes[..]
        };
        let mut tree = decode::parse(text).map_err(|e| {
            ApiError::bad_request(
                "malformed-json",
                format!("request body is not valid JSON: {e}"),
            )
        })?;
        if tree.is_null() {
            // What Go sends for a nil request: the same as no body.
            tree = Tree::empty_object();
        }
        parse_tree(tree, "request body").map(JsonBody)
    }
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                r.status(),
                "body-too-large",
                "request body is larger than the server's limit",
            )
        } else {
            ApiError::bad_request(
                "unreadable-body",
                format!("request body could not be read: {r}"),
            )
        }
    })
}

/// Decodes a parsed body into `T` with Go's key matching ([`crate::model::decode`]).
pub fn parse_tree<T: DeserializeOwned>(tree: Tree, what: &str) -> Result<T, ApiError> {
    decode::from_tree(tree)
        .map_err(|e| ApiError::bad_request("invalid-request", format!("{what} is invalid: {e}")))
}

/// As [`parse_tree`], from a `Value` (null members are dropped; a `Value` has already
/// lost the order of its members, so repeated keys cannot be told apart any more).
pub fn parse_value<T: DeserializeOwned>(value: Value, what: &str) -> Result<T, ApiError> {
    parse_tree(Tree::from(value), what)
}

/// What every signed payload carries.
pub trait SignedPayload: DeserializeOwned {
    /// `ClientID`.
    fn client_id(&self) -> &str;
    /// Extension: `Timestamp` (unix ms).
    fn timestamp(&self) -> Option<i64>;
    /// Extension: `Nonce`.
    fn nonce(&self) -> Option<&str>;
}

/// A verified signed request.
#[derive(Debug)]
pub struct Signed<T> {
    /// The verified ClientID.
    pub client_id: String,
    /// The parsed payload.
    pub payload: T,
    /// The request body as received (what a cluster node forwards to another).
    pub body: Bytes,
}

impl<T: SignedPayload> FromRequest<AppState> for Signed<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        let env = Envelope::parse(&bytes).map_err(|e| {
            ApiError::bad_request(
                "malformed-json",
                format!("request body is not a valid signed envelope: {e}"),
            )
        })?;
        let Some(raw) = env.payload else {
            return Err(ApiError::bad_request(
                "missing-payload",
                "the signed envelope has no payload",
            ));
        };
        let verified = state
            .verifier
            .verify(
                env.client_public_key.as_deref().unwrap_or_default(),
                env.signature.as_deref().unwrap_or_default(),
                raw.get().as_bytes(),
            )
            .inspect_err(|e| state.metrics.signature_failure(e.reason()))?;
        let tree = decode::parse(raw.get().as_bytes()).map_err(|e| {
            ApiError::bad_request("invalid-payload", format!("payload is not valid JSON: {e}"))
        })?;
        if !tree.is_object() {
            return Err(ApiError::bad_request(
                "invalid-payload",
                "payload must be a JSON object",
            ));
        }
        let payload: T = parse_tree(tree, "payload")?;
        let fresh = auth::check_client_id(&verified, payload.client_id()).and_then(|()| {
            auth::check_freshness(
                payload.timestamp(),
                payload.nonce().is_some(),
                crate::time::now().timestamp_millis(),
                i64::try_from(state.config.freshness_window_secs.saturating_mul(1000))
                    .unwrap_or(i64::MAX),
                state.config.require_fresh_signatures,
            )
        });
        fresh.inspect_err(|e| state.metrics.signature_failure(e.reason()))?;
        state.check_authorized(&verified.client_id)?;
        Ok(Signed {
            client_id: verified.client_id,
            payload,
            body: bytes,
        })
    }
}
