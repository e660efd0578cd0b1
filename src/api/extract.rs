//! Request extractors: lenient JSON bodies and signed envelopes.
//!
//! Bodies are read as bytes whatever their Content-Type (curl sends form encoding by
//! default). JSON `null` means "absent", as Go's zero values do. A signed envelope is
//! checked in the order of DESIGN §2: envelope parses → key decodes → signature verifies
//! over the raw payload bytes → payload parses → ClientID matches → freshness →
//! authorized keys.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::error::ApiError;
use super::AppState;
use crate::auth;

/// A JSON body parsed leniently (any Content-Type; an empty body or `null` = `{}`; null
/// members dropped).
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
        let mut value: Value = serde_json::from_slice(text).map_err(|e| {
            ApiError::bad_request(
                "malformed-json",
                format!("request body is not valid JSON: {e}"),
            )
        })?;
        if value.is_null() {
            // What Go sends for a nil request: the same as no body.
            value = Value::Object(serde_json::Map::new());
        }
        parse_value(value, "request body").map(JsonBody)
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

/// Parses a JSON value into `T` after removing null members (Go's zero values).
pub fn parse_value<T: DeserializeOwned>(mut value: Value, what: &str) -> Result<T, ApiError> {
    strip_nulls(&mut value);
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request("invalid-request", format!("{what} is invalid: {e}")))
}

fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
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

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    client_public_key: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    payload: Option<Box<RawValue>>,
}

/// A verified signed request.
#[derive(Debug)]
pub struct Signed<T> {
    /// The verified ClientID.
    pub client_id: String,
    /// The parsed payload.
    pub payload: T,
}

impl<T: SignedPayload> FromRequest<AppState> for Signed<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        let env: Envelope = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(
                "malformed-json",
                format!("request body is not a valid signed envelope: {e}"),
            )
        })?;
        let raw = match env.payload {
            Some(p) if p.get() != "null" => p,
            _ => {
                return Err(ApiError::bad_request(
                    "missing-payload",
                    "the signed envelope has no payload",
                ))
            }
        };
        let verified = state
            .verifier
            .verify(
                env.client_public_key.as_deref().unwrap_or_default(),
                env.signature.as_deref().unwrap_or_default(),
                raw.get().as_bytes(),
            )
            .inspect_err(|e| state.metrics.signature_failure(e.reason()))?;
        let value: Value = serde_json::from_str(raw.get()).map_err(|e| {
            ApiError::bad_request("invalid-payload", format!("payload is not valid JSON: {e}"))
        })?;
        if !value.is_object() {
            return Err(ApiError::bad_request(
                "invalid-payload",
                "payload must be a JSON object",
            ));
        }
        let payload: T = parse_value(value, "payload")?;
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
        })
    }
}
