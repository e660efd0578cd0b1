//! The signed envelope `{"client_public_key", "signature", "payload"}`, read with Go's key
//! matching ([`crate::model::decode::field_index`]: `Payload`, `SIGNATURE` and
//! `Client_Public_Key` count; the last member of a field wins) while keeping the payload
//! as its raw bytes, which the signature covers and which are verified before the
//! payload is decoded.

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::model::decode::field_index;

/// A signed request's envelope, borrowing the payload's bytes from the body.
#[derive(Debug, Default)]
pub struct Envelope<'a> {
    /// base64 public key, when present and not null.
    pub client_public_key: Option<String>,
    /// base64 signature, when present and not null.
    pub signature: Option<String>,
    /// The payload exactly as sent, when present and not null.
    pub payload: Option<&'a RawValue>,
}

const FIELDS: &[&str] = &["client_public_key", "signature", "payload"];

impl<'a> Envelope<'a> {
    /// Parses the envelope from a request body.
    pub fn parse(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Envelope<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(
            "Envelope",
            FIELDS,
            EnvelopeVisitor(std::marker::PhantomData),
        )
    }
}

struct EnvelopeVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for EnvelopeVisitor<'a> {
    type Value = Envelope<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object with client_public_key, signature and payload")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'a>, A::Error> {
        let mut env = Envelope::default();
        while let Some(key) = map.next_key::<String>()? {
            // A null member leaves the field as it was, as Go's decoder does.
            match field_index(FIELDS, &key) {
                Some(0) => {
                    if let Some(v) = map.next_value::<Option<String>>()? {
                        env.client_public_key = Some(v);
                    }
                }
                Some(1) => {
                    if let Some(v) = map.next_value::<Option<String>>()? {
                        env.signature = Some(v);
                    }
                }
                Some(_) => {
                    let raw: &'de RawValue = map.next_value()?;
                    if raw.get() != "null" {
                        env.payload = Some(raw);
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_match_without_case_and_the_payload_keeps_its_bytes() {
        let body =
            br#"{"CLIENT_PUBLIC_KEY": "k", "Signature": "s", "Payload": {"b": 1,  "a" : [2]}}"#;
        let env = Envelope::parse(body).unwrap();
        assert_eq!(env.client_public_key.as_deref(), Some("k"));
        assert_eq!(env.signature.as_deref(), Some("s"));
        assert_eq!(env.payload.unwrap().get(), r#"{"b": 1,  "a" : [2]}"#);
    }

    #[test]
    fn the_last_member_of_a_field_wins_and_null_changes_nothing() {
        let body = br#"{"payload": {"x": 1}, "signature": "a", "SIGNATURE": "b",
                        "PAYLOAD": {"y": 2}, "client_public_key": "k", "Client_Public_Key": null,
                        "payload": null, "other": [1]}"#;
        let env = Envelope::parse(body).unwrap();
        assert_eq!(env.signature.as_deref(), Some("b"));
        assert_eq!(env.client_public_key.as_deref(), Some("k"));
        assert_eq!(env.payload.unwrap().get(), r#"{"y": 2}"#);
    }

    #[test]
    fn wrong_shapes_are_errors() {
        assert!(Envelope::parse(b"[1]").is_err());
        assert!(Envelope::parse(br#"{"signature": 5}"#).is_err());
        assert!(Envelope::parse(br#"{"payload": }"#).is_err());
        let empty = Envelope::parse(b"{}").unwrap();
        assert!(empty.payload.is_none() && empty.signature.is_none());
    }
}
