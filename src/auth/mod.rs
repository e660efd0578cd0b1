//! Client identity and request signatures (DESIGN §2). Pure: no axum, no sqlx.
//!
//! A signed request carries `client_public_key` and `signature` (both base64) beside the
//! `payload`; the signature covers the exact payload bytes as sent. The scheme is told
//! apart by the decoded key: 32 bytes is Ed25519, a DER SEQUENCE is RSA (PKCS#1, or SPKI).

mod keys;

pub use keys::{KeyError, Signer};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};

/// The signature schemes hake accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Ed25519 over the raw payload bytes (hake's default).
    Ed25519,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (Bacalhau's clients).
    Rsa,
}

/// A verified caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Lower-case hex SHA-256 of the key material.
    pub client_id: String,
    /// Which scheme signed.
    pub scheme: Scheme,
}

/// Why a signature check failed. Each variant maps to a distinct error code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A required envelope field is empty.
    #[error("{0} is required")]
    Missing(&'static str),
    /// A field is not valid standard base64.
    #[error("{0} is not valid base64")]
    BadBase64(&'static str),
    /// The key decodes but is not a usable key.
    #[error("client_public_key is not a valid key: {0}")]
    BadKey(String),
    /// The signature does not verify over the payload bytes.
    #[error("signature does not verify over the payload bytes")]
    BadSignature,
    /// The payload's ClientID is not the key's.
    #[error("payload ClientID {given:?} does not match the public key (expected {expected})")]
    ClientIdMismatch {
        /// What the payload said.
        given: String,
        /// What the key gives.
        expected: String,
    },
    /// The payload's Timestamp is outside the accepted window.
    #[error("payload Timestamp is {skew_ms} ms away from the server clock (limit {limit_ms} ms)")]
    Stale {
        /// How far off the clock was.
        skew_ms: i64,
        /// The window.
        limit_ms: i64,
    },
    /// The server requires Timestamp and Nonce and the payload lacks them.
    #[error("this server requires payload Timestamp and Nonce")]
    FreshnessRequired,
}

impl AuthError {
    /// A stable machine-readable reason, used in error codes and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing(_) => "missing-field",
            Self::BadBase64(_) => "bad-base64",
            Self::BadKey(_) => "bad-key",
            Self::BadSignature => "bad-signature",
            Self::ClientIdMismatch { .. } => "client-id-mismatch",
            Self::Stale { .. } => "stale-timestamp",
            Self::FreshnessRequired => "freshness-required",
        }
    }
}

/// Verifies `signature_b64` over `message` with `public_key_b64`.
pub fn verify(
    public_key_b64: &str,
    signature_b64: &str,
    message: &[u8],
) -> Result<Verified, AuthError> {
    if public_key_b64.is_empty() {
        return Err(AuthError::Missing("client_public_key"));
    }
    if signature_b64.is_empty() {
        return Err(AuthError::Missing("signature"));
    }
    let key = B64
        .decode(public_key_b64.trim())
        .map_err(|_| AuthError::BadBase64("client_public_key"))?;
    let sig = B64
        .decode(signature_b64.trim())
        .map_err(|_| AuthError::BadBase64("signature"))?;
    if key.len() == 32 {
        verify_ed25519(&key, &sig, message)
    } else if key.first() == Some(&0x30) {
        verify_rsa(&key, &sig, message)
    } else {
        Err(AuthError::BadKey(format!(
            "{} bytes is neither a 32-byte Ed25519 key nor a DER RSA key",
            key.len()
        )))
    }
}

/// The ClientID of a base64 public key, without verifying anything.
pub fn client_id_of(public_key_b64: &str) -> Result<String, AuthError> {
    let key = B64
        .decode(public_key_b64.trim())
        .map_err(|_| AuthError::BadBase64("client_public_key"))?;
    if key.len() == 32 {
        Ok(hex::encode(Sha256::digest(&key)))
    } else {
        Ok(rsa_client_id(&parse_rsa(&key)?))
    }
}

/// Checks that the payload's ClientID is the verified one (exact, lower-case hex).
pub fn check_client_id(verified: &Verified, given: &str) -> Result<(), AuthError> {
    if given.is_empty() {
        return Err(AuthError::Missing("payload ClientID"));
    }
    if given != verified.client_id {
        return Err(AuthError::ClientIdMismatch {
            given: given.to_owned(),
            expected: verified.client_id.clone(),
        });
    }
    Ok(())
}

/// Checks an optional payload `Timestamp` (unix ms) against `now_ms`.
pub fn check_freshness(
    timestamp_ms: Option<i64>,
    has_nonce: bool,
    now_ms: i64,
    window_ms: i64,
    required: bool,
) -> Result<(), AuthError> {
    if required && (timestamp_ms.is_none() || !has_nonce) {
        return Err(AuthError::FreshnessRequired);
    }
    if let Some(ts) = timestamp_ms {
        let skew = now_ms.saturating_sub(ts).saturating_abs();
        if skew > window_ms {
            return Err(AuthError::Stale {
                skew_ms: skew,
                limit_ms: window_ms,
            });
        }
    }
    Ok(())
}

fn verify_ed25519(key: &[u8], sig: &[u8], message: &[u8]) -> Result<Verified, AuthError> {
    let bytes: [u8; 32] = key
        .try_into()
        .map_err(|_| AuthError::BadKey("length".into()))?;
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|e| AuthError::BadKey(format!("Ed25519: {e}")))?;
    let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| AuthError::BadSignature)?;
    vk.verify_strict(message, &sig)
        .map_err(|_| AuthError::BadSignature)?;
    Ok(Verified {
        client_id: hex::encode(Sha256::digest(key)),
        scheme: Scheme::Ed25519,
    })
}

fn parse_rsa(der: &[u8]) -> Result<RsaPublicKey, AuthError> {
    let key = RsaPublicKey::from_pkcs1_der(der)
        .or_else(|_| RsaPublicKey::from_public_key_der(der))
        .map_err(|e| AuthError::BadKey(format!("RSA: {e}")))?;
    let bits = key.n().bits();
    if !(2048..=4096).contains(&bits) {
        return Err(AuthError::BadKey(format!(
            "RSA key has {bits} bits; 2048 to 4096 are accepted"
        )));
    }
    Ok(key)
}

fn rsa_client_id(key: &RsaPublicKey) -> String {
    hex::encode(Sha256::digest(key.n().to_bytes_be()))
}

fn verify_rsa(der: &[u8], sig: &[u8], message: &[u8]) -> Result<Verified, AuthError> {
    let key = parse_rsa(der)?;
    let digest = Sha256::digest(message);
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, sig)
        .map_err(|_| AuthError::BadSignature)?;
    Ok(Verified {
        client_id: rsa_client_id(&key),
        scheme: Scheme::Rsa,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_signature_verifies_over_exact_bytes_only() {
        let s = Signer::generate_ed25519();
        let msg = br#"{"ClientID": "x", "Spec": {"a": "<&>"}}"#;
        let sig = s.sign(msg);
        let v = verify(&s.public_key_b64(), &sig, msg).unwrap();
        assert_eq!(v.client_id, s.client_id());
        assert_eq!(v.scheme, Scheme::Ed25519);
        let compact = br#"{"ClientID":"x","Spec":{"a":"<&>"}}"#;
        assert_eq!(
            verify(&s.public_key_b64(), &sig, compact),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn rsa_pkcs1_signature_verifies_and_client_id_hashes_the_modulus() {
        let s = Signer::generate_rsa(2048).unwrap();
        assert!(s.public_key_b64().starts_with("MIIBCgKCAQEA"));
        let msg = b"{\"ClientID\": \"abc\"}";
        let v = verify(&s.public_key_b64(), &s.sign(msg), msg).unwrap();
        assert_eq!(v.scheme, Scheme::Rsa);
        assert_eq!(v.client_id, s.client_id());
        assert_eq!(client_id_of(&s.public_key_b64()).unwrap(), v.client_id);
    }

    #[test]
    fn bad_inputs_have_distinct_reasons() {
        let s = Signer::generate_ed25519();
        assert_eq!(verify("", "x", b"m").unwrap_err().reason(), "missing-field");
        assert_eq!(
            verify("!!", "AA==", b"m").unwrap_err().reason(),
            "bad-base64"
        );
        assert_eq!(
            verify("AAAA", "AA==", b"m").unwrap_err().reason(),
            "bad-key"
        );
        assert_eq!(
            verify(&s.public_key_b64(), "AA==", b"m")
                .unwrap_err()
                .reason(),
            "bad-signature"
        );
    }

    #[test]
    fn freshness_window_is_enforced_both_ways() {
        assert!(check_freshness(Some(1_000), true, 1_000 + 299_000, 300_000, false).is_ok());
        assert!(
            check_freshness(Some(1_000_000), true, 1_000_000 - 301_000, 300_000, false).is_err()
        );
        assert!(check_freshness(None, false, 0, 300_000, false).is_ok());
        assert_eq!(
            check_freshness(None, false, 0, 300_000, true),
            Err(AuthError::FreshnessRequired)
        );
    }
}
