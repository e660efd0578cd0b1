//! Decoding request JSON the way Bacalhau's Go server does (`encoding/json`): an object
//! key fills the struct field whose name equals it, else the field whose name equals it
//! case-insensitively (`clientid`, `CLIENTID` and `ClientID` all fill `ClientID`); when
//! two keys fill one field the later one wins; unknown keys are ignored; a `null` member
//! leaves the field at its default. Only struct field names are matched this way: map
//! keys (`EnvironmentVariables`, `Params`, `Metadata`) and values are kept as sent (enum
//! values already parse case-insensitively).
//!
//! This is the one decoder of every request object hake reads: bodies are parsed into a
//! [`Tree`] (document order and repeated keys kept) and then decoded into the serde
//! types of the wire model by the `Deserializer` in `de.rs`, so no type needs aliases.

mod de;
mod tree;

#[cfg(test)]
mod tests;

use serde::de::DeserializeOwned;

pub use tree::Tree;

/// Parses JSON text and decodes it into `T` with Go's key matching.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    from_tree(tree::parse(bytes)?)
}

/// Parses JSON text into a [`Tree`] (null members dropped, order and repeats kept).
pub fn parse(bytes: &[u8]) -> Result<Tree, serde_json::Error> {
    tree::parse(bytes)
}

/// Decodes a parsed document into `T` with Go's key matching.
pub fn from_tree<T: DeserializeOwned>(tree: Tree) -> Result<T, serde_json::Error> {
    T::deserialize(tree)
}

/// The field a JSON object key fills, as Go's `encoding/json` picks it: the field named
/// exactly `key`, else the first whose name folds to the same text (ASCII letters
/// without case; other characters as Go's `unicode.ToUpper(unicode.ToLower(r))`, so the
/// Kelvin sign matches `k` and `ſ` matches `s`).
pub fn field_index(fields: &[&str], key: &str) -> Option<usize> {
    fields
        .iter()
        .position(|f| *f == key)
        .or_else(|| fields.iter().position(|f| folds_equal(key, f)))
}

fn folds_equal(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    let mut bs = b.chars();
    for ca in a.chars() {
        match bs.next() {
            Some(cb) if fold(ca) == fold(cb) => {}
            _ => return false,
        }
    }
    bs.next().is_none()
}

/// Go's per-rune fold of a field name.
fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    // Rust's lower case of U+0130 is two characters; Go's simple mapping is 'i'.
    if c == '\u{130}' {
        return 'I';
    }
    let lower = single(c.to_lowercase(), c);
    single(lower.to_uppercase(), lower)
}

/// The one character of a case mapping, or `or` when the mapping has several (Go's simple
/// case mappings never expand).
fn single(mut mapped: impl Iterator<Item = char>, or: char) -> char {
    match (mapped.next(), mapped.next()) {
        (Some(c), None) => c,
        _ => or,
    }
}
