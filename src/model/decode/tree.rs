//! [`Tree`]: a parsed JSON (or YAML) document that keeps object members in document
//! order, duplicates included, so the decoder can resolve repeated keys as Go does (the
//! last one wins). Null object members are dropped while parsing: to Go a `null` member
//! leaves the field at its zero value, which is what an absent member does here.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};

/// A JSON value whose objects are ordered lists of members.
#[derive(Clone, Debug, PartialEq)]
pub enum Tree {
    /// `null` (only as a whole document or an array element; null members are dropped).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Tree>),
    /// An object's members in document order, repeated keys included.
    Object(Vec<(String, Tree)>),
}

impl Tree {
    /// An object with no members.
    pub fn empty_object() -> Self {
        Self::Object(Vec::new())
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Self::Object(_))
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
}

impl From<Value> for Tree {
    /// Converts a `Value` (whose objects have already lost document order), dropping
    /// null members as parsing does.
    fn from(v: Value) -> Self {
        match v {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(b),
            Value::Number(n) => Self::Number(n),
            Value::String(s) => Self::String(s),
            Value::Array(items) => Self::Array(items.into_iter().map(Self::from).collect()),
            Value::Object(map) => Self::Object(
                map.into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k, Self::from(v)))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Tree, E> {
        Ok(Tree::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Tree, E> {
        Ok(Tree::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Tree, E> {
        // As serde_json's Value does: a non-finite float (YAML's .nan, .inf) is null.
        Ok(Number::from_f64(n).map_or(Tree::Null, Tree::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Tree, E> {
        Ok(Tree::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Tree, E> {
        Ok(Tree::String(s))
    }

    fn visit_unit<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }

    fn visit_none<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
        Tree::deserialize(d)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
        Tree::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some(key) = map.next_key::<String>()? {
            let value: Tree = map.next_value()?;
            if !value.is_null() {
                members.push((key, value));
            }
        }
        Ok(Tree::Object(members))
    }
}

impl Serialize for Tree {
    /// Writes the document back in its order, repeated keys included.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => s.serialize_unit(),
            Self::Bool(b) => s.serialize_bool(*b),
            Self::Number(n) => n.serialize(s),
            Self::String(v) => s.serialize_str(v),
            Self::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Parses JSON text into a [`Tree`].
pub fn parse(bytes: &[u8]) -> Result<Tree, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// The "invalid type" error for `tree` where `exp` was expected.
pub(super) fn invalid<E: de::Error>(tree: &Tree, exp: &dyn de::Expected) -> E {
    let unexp = match tree {
        Tree::Null => de::Unexpected::Unit,
        Tree::Bool(b) => de::Unexpected::Bool(*b),
        Tree::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => de::Unexpected::Unsigned(u),
            (_, Some(i), _) => de::Unexpected::Signed(i),
            (_, _, Some(f)) => de::Unexpected::Float(f),
            _ => de::Unexpected::Other("number"),
        },
        Tree::String(s) => de::Unexpected::Str(s),
        Tree::Array(_) => de::Unexpected::Seq,
        Tree::Object(_) => de::Unexpected::Map,
    };
    E::invalid_type(unexp, exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_keep_document_order_and_repeats_and_drop_null_members() {
        let t = parse(br#"{"b":1,"a":null,"B":[null,{"x":null}],"b":"two"}"#).unwrap();
        let Tree::Object(m) = &t else {
            panic!("object")
        };
        let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "B", "b"]);
        assert_eq!(m[1].1, Tree::Array(vec![Tree::Null, Tree::empty_object()]));
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"b":1,"B":[null,{}],"b":"two"}"#
        );
    }

    #[test]
    fn yaml_parses_into_the_same_tree() {
        let y: Tree = serde_norway::from_str("Engine: noop\nDeal:\n  concurrency: 1\n").unwrap();
        let j = parse(br#"{"Engine":"noop","Deal":{"concurrency":1}}"#).unwrap();
        assert_eq!(y, j);
    }
}
