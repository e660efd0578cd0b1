//! The serde `Deserializer` over a [`Tree`]. Only `deserialize_struct` differs from a
//! plain JSON decoder: there every member's key is matched to the struct's field names as
//! Go matches it ([`field_index`]), and a field filled twice keeps the later member (a
//! later object merges into the earlier one, as Go decodes into the existing value).
//! Map keys (`deserialize_map`, `serde_json::Value`) are passed through untouched.

use std::borrow::Cow;

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, VariantAccess, Visitor,
};
use serde_json::Error;

use super::field_index;
use super::tree::{invalid, Tree};

impl<'de> IntoDeserializer<'de, Error> for Tree {
    type Deserializer = Tree;

    fn into_deserializer(self) -> Tree {
        self
    }
}

impl<'de> Deserializer<'de> for Tree {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self {
            Tree::Null => v.visit_unit(),
            Tree::Bool(b) => v.visit_bool(b),
            Tree::Number(n) => n.deserialize_any(v),
            Tree::String(s) => v.visit_string(s),
            Tree::Array(items) => visit_array(items, v),
            Tree::Object(members) => {
                visit_object(members.into_iter().map(|(k, t)| (Cow::Owned(k), t)), v)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self {
            Tree::Null => v.visit_none(),
            t => v.visit_some(t),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match self {
            Tree::Object(members) => visit_object(canonical(members, fields).into_iter(), v),
            t => t.deserialize_any(v),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match self {
            Tree::String(s) => v.visit_enum(IntoDeserializer::<Error>::into_deserializer(s)),
            Tree::Object(mut members) if members.len() == 1 => {
                let (name, value) = members.pop().expect("one member");
                v.visit_enum(Variant { name, value })
            }
            t => Err(invalid(&t, &"a string or an object with one member")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

fn visit_array<'de, V: Visitor<'de>>(items: Vec<Tree>, v: V) -> Result<V::Value, Error> {
    let mut seq = SeqDeserializer::<_, Error>::new(items.into_iter());
    let out = v.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(out)
}

fn visit_object<'de, V, I>(members: I, v: V) -> Result<V::Value, Error>
where
    V: Visitor<'de>,
    I: Iterator<Item = (Cow<'static, str>, Tree)>,
{
    let mut map = MapDeserializer::<_, Error>::new(members);
    let out = v.visit_map(&mut map)?;
    map.end()?;
    Ok(out)
}

/// The members of a struct's object with each key that names a field replaced by that
/// field's exact name, one member per field. Unknown keys stay as they are (serde ignores
/// them, or `flatten` collects them).
fn canonical(
    members: Vec<(String, Tree)>,
    fields: &'static [&'static str],
) -> Vec<(Cow<'static, str>, Tree)> {
    const NONE: usize = usize::MAX;
    let mut out: Vec<(Cow<'static, str>, Tree)> = Vec::with_capacity(members.len());
    let mut slot = [NONE; 32];
    let mut wide = Vec::new();
    let slots: &mut [usize] = if fields.len() <= slot.len() {
        &mut slot[..fields.len()]
    } else {
        wide.resize(fields.len(), NONE);
        &mut wide
    };
    for (key, value) in members {
        match field_index(fields, &key) {
            Some(i) if slots[i] != NONE => merge(&mut out[slots[i]].1, value),
            Some(i) => {
                slots[i] = out.len();
                out.push((Cow::Borrowed(fields[i]), value));
            }
            None => out.push((Cow::Owned(key), value)),
        }
    }
    out
}

/// Decodes `later` over `earlier` as Go does when a field is filled twice: an object
/// fills the existing struct or map member by member (so the later member wins per
/// field), an array decodes into the existing elements, anything else replaces.
fn merge(earlier: &mut Tree, later: Tree) {
    match (earlier, later) {
        (Tree::Object(a), Tree::Object(b)) => a.extend(b),
        (Tree::Array(a), Tree::Array(b)) => {
            let mut old = std::mem::take(a).into_iter();
            *a = b
                .into_iter()
                .map(|new| match old.next() {
                    Some(mut prev) => {
                        merge(&mut prev, new);
                        prev
                    }
                    None => new,
                })
                .collect();
        }
        (earlier, later) => *earlier = later,
    }
}

/// An enum written as `{"Variant": value}`.
struct Variant {
    name: String,
    value: Tree,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = Tree;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Tree), Error> {
        let variant = seed.deserialize(IntoDeserializer::<Error>::into_deserializer(self.name))?;
        Ok((variant, self.value))
    }
}

impl<'de> VariantAccess<'de> for Tree {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self {
            Tree::Null => Ok(()),
            t => Err(invalid(&t, &"a unit variant")),
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_struct("", fields, v)
    }
}
