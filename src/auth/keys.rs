//! Client keys: generating, loading and saving them, and signing payloads. Used by the
//! CLI and by tests; the server only verifies.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::Signer as _;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::LineEnding;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};

/// A key that can sign payloads.
#[derive(Clone)]
pub enum Signer {
    /// An Ed25519 key (hake's default).
    Ed25519(Box<ed25519_dalek::SigningKey>),
    /// An RSA key, as Bacalhau's `user_id.pem`.
    Rsa(Box<RsaPrivateKey>),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("client_id", &self.client_id())
            .finish()
    }
}

/// Why a key could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// File I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file holds no key hake understands.
    #[error("{0}: not a PKCS#8 Ed25519 or PKCS#1 RSA private key in PEM")]
    Unreadable(String),
    /// Key generation failed.
    #[error("key generation failed: {0}")]
    Generate(String),
}

impl Signer {
    /// A fresh Ed25519 key.
    pub fn generate_ed25519() -> Self {
        Self::Ed25519(Box::new(ed25519_dalek::SigningKey::generate(
            &mut rand::rngs::OsRng,
        )))
    }

    /// A fresh RSA key of `bits` bits with e = 65537.
    pub fn generate_rsa(bits: usize) -> Result<Self, KeyError> {
        RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
            .map(|k| Self::Rsa(Box::new(k)))
            .map_err(|e| KeyError::Generate(e.to_string()))
    }

    /// Parses a PEM private key: PKCS#8 Ed25519, or PKCS#1 RSA (Bacalhau's `user_id.pem`).
    pub fn from_pem(pem: &str, origin: &str) -> Result<Self, KeyError> {
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Ok(Self::Ed25519(Box::new(k)));
        }
        if let Ok(k) = RsaPrivateKey::from_pkcs1_pem(pem) {
            return Ok(Self::Rsa(Box::new(k)));
        }
        if let Ok(k) = <RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(pem) {
            return Ok(Self::Rsa(Box::new(k)));
        }
        Err(KeyError::Unreadable(origin.to_owned()))
    }

    /// Reads a PEM key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_pem(&pem, &path.display().to_string())
    }

    /// The key as PEM (PKCS#8 for Ed25519, PKCS#1 for RSA).
    pub fn to_pem(&self) -> String {
        match self {
            Self::Ed25519(k) => k
                .to_pkcs8_pem(LineEnding::LF)
                .map(|p| p.to_string())
                .expect("encoding an Ed25519 key cannot fail"),
            Self::Rsa(k) => k
                .to_pkcs1_pem(LineEnding::LF)
                .map(|p| p.to_string())
                .expect("encoding an RSA key cannot fail"),
        }
    }

    /// Writes the key to `path` with mode 0600, creating parent directories.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(path, self.to_pem()).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        Ok(())
    }

    /// The `client_public_key` value: base64 of the raw Ed25519 key or the PKCS#1 DER.
    pub fn public_key_b64(&self) -> String {
        match self {
            Self::Ed25519(k) => B64.encode(k.verifying_key().as_bytes()),
            Self::Rsa(k) => B64.encode(
                k.to_public_key()
                    .to_pkcs1_der()
                    .expect("encoding an RSA public key cannot fail")
                    .as_bytes(),
            ),
        }
    }

    /// The ClientID: hex SHA-256 of the key bytes (Ed25519) or of the modulus (RSA).
    pub fn client_id(&self) -> String {
        match self {
            Self::Ed25519(k) => hex::encode(Sha256::digest(k.verifying_key().as_bytes())),
            Self::Rsa(k) => hex::encode(Sha256::digest(k.n().to_bytes_be())),
        }
    }

    /// Signs `message`, returning standard base64.
    pub fn sign(&self, message: &[u8]) -> String {
        match self {
            Self::Ed25519(k) => B64.encode(k.sign(message).to_bytes()),
            Self::Rsa(k) => B64.encode(
                k.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
                    .expect("PKCS#1 v1.5 signing with a valid key cannot fail"),
            ),
        }
    }

    /// A signed envelope `{client_public_key, signature, payload}` around `payload`, as JSON text.
    pub fn envelope(&self, payload: &str) -> String {
        format!(
            "{{\"client_public_key\":\"{}\",\"signature\":\"{}\",\"payload\":{}}}",
            self.public_key_b64(),
            self.sign(payload.as_bytes()),
            payload
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_keeps_the_client_id() {
        for s in [
            Signer::generate_ed25519(),
            Signer::generate_rsa(2048).unwrap(),
        ] {
            let back = Signer::from_pem(&s.to_pem(), "mem").unwrap();
            assert_eq!(back.client_id(), s.client_id());
        }
    }

    #[test]
    fn envelope_embeds_the_payload_verbatim() {
        let s = Signer::generate_ed25519();
        let payload = r#"{"ClientID": "x",  "JobID": "y"}"#;
        let env = s.envelope(payload);
        assert!(env.contains(payload));
        let v: serde_json::Value = serde_json::from_str(&env).unwrap();
        assert!(super::super::verify(
            v["client_public_key"].as_str().unwrap(),
            v["signature"].as_str().unwrap(),
            payload.as_bytes()
        )
        .is_ok());
    }
}
