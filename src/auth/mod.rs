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
    check_present(public_key_b64, signature_b64)?;
    parse_key(public_key_b64)?.verify(signature_b64, message)
}

fn check_present(public_key_b64: &str, signature_b64: &str) -> Result<(), AuthError> {
    if public_key_b64.is_empty() {
        return Err(AuthError::Missing("client_public_key"));
    }
    if signature_b64.is_empty() {
        return Err(AuthError::Missing("signature"));
    }
    Ok(())
}

/// A decoded client public key and its ClientID.
#[derive(Debug)]
pub struct ParsedKey {
    key: PublicKey,
    client_id: String,
}

#[derive(Debug)]
enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(Box<RsaPublicKey>),
}

/// Decodes a base64 public key: 32 bytes is Ed25519, a DER SEQUENCE is RSA.
pub fn parse_key(public_key_b64: &str) -> Result<ParsedKey, AuthError> {
    let bytes = B64
        .decode(public_key_b64.trim())
        .map_err(|_| AuthError::BadBase64("client_public_key"))?;
    if let Ok(raw) = <[u8; 32]>::try_from(bytes.as_slice()) {
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw)
            .map_err(|e| AuthError::BadKey(format!("Ed25519: {e}")))?;
        Ok(ParsedKey {
            key: PublicKey::Ed25519(vk),
            client_id: hex::encode(Sha256::digest(raw)),
        })
    } else if bytes.first() == Some(&0x30) {
        let key = parse_rsa(&bytes)?;
        let client_id = rsa_client_id(&key);
        Ok(ParsedKey {
            key: PublicKey::Rsa(Box::new(key)),
            client_id,
        })
    } else {
        Err(AuthError::BadKey(format!(
            "{} bytes is neither a 32-byte Ed25519 key nor a DER RSA key",
            bytes.len()
        )))
    }
}

impl ParsedKey {
    /// The key's ClientID.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Verifies a base64 signature over `message`.
    pub fn verify(&self, signature_b64: &str, message: &[u8]) -> Result<Verified, AuthError> {
        let sig = B64
            .decode(signature_b64.trim())
            .map_err(|_| AuthError::BadBase64("signature"))?;
        let scheme = match &self.key {
            PublicKey::Ed25519(vk) => {
                let sig = ed25519_dalek::Signature::from_slice(&sig)
                    .map_err(|_| AuthError::BadSignature)?;
                vk.verify_strict(message, &sig)
                    .map_err(|_| AuthError::BadSignature)?;
                Scheme::Ed25519
            }
            PublicKey::Rsa(key) => {
                key.verify(
                    Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(message),
                    &sig,
                )
                .map_err(|_| AuthError::BadSignature)?;
                Scheme::Rsa
            }
        };
        Ok(Verified {
            client_id: self.client_id.clone(),
            scheme,
        })
    }
}

/// Verifies signatures, keeping recently used keys decoded (an Ed25519 point
/// decompression or an RSA DER parse per request is measurable under load).
#[derive(Debug)]
pub struct Verifier {
    /// Decoded keys by their base64 text; locked only to look up or insert.
    cache: std::sync::Mutex<lru::LruCache<String, std::sync::Arc<ParsedKey>>>,
}

impl Verifier {
    /// A verifier remembering up to `keys` keys.
    pub fn new(keys: usize) -> Self {
        let cap = std::num::NonZeroUsize::new(keys.max(1)).expect("non-zero");
        Self {
            cache: std::sync::Mutex::new(lru::LruCache::new(cap)),
        }
    }

    /// As [`verify`], with the key decoded at most once while it stays cached.
    pub fn verify(
        &self,
        public_key_b64: &str,
        signature_b64: &str,
        message: &[u8],
    ) -> Result<Verified, AuthError> {
        check_present(public_key_b64, signature_b64)?;
        let cached = self
            .cache
            .lock()
            .expect("key cache")
            .get(public_key_b64)
            .cloned();
        let key = match cached {
            Some(k) => k,
            None => {
                let k = std::sync::Arc::new(parse_key(public_key_b64)?);
                self.cache
                    .lock()
                    .expect("key cache")
                    .put(public_key_b64.to_owned(), k.clone());
                k
            }
        };
        key.verify(signature_b64, message)
    }
}

/// The ClientID of a base64 public key, without verifying anything.
pub fn client_id_of(public_key_b64: &str) -> Result<String, AuthError> {
    parse_key(public_key_b64).map(|k| k.client_id)
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
    fn cached_verifier_agrees_with_the_plain_one() {
        let v = Verifier::new(2);
        for s in [
            Signer::generate_ed25519(),
            Signer::generate_rsa(2048).unwrap(),
        ] {
            let msg = b"payload";
            for _ in 0..2 {
                assert_eq!(
                    v.verify(&s.public_key_b64(), &s.sign(msg), msg)
                        .unwrap()
                        .client_id,
                    s.client_id()
                );
                assert_eq!(
                    v.verify(&s.public_key_b64(), &s.sign(b"other"), msg),
                    Err(AuthError::BadSignature)
                );
            }
        }
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
