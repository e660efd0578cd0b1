//! What a request for an immutable file asks for, by RFC 9110: its validators (a strong
//! `ETag` and `Last-Modified`), the preconditions (`If-Match`, `If-Unmodified-Since`,
//! `If-None-Match`, `If-Modified-Since`, evaluated in the order of §13.2.2) and a byte
//! `Range` (§14.2) with `If-Range`.
//!
//! A `Range` that does not parse, names another unit or comes with a failed `If-Range` is
//! ignored (the whole file is sent). One satisfiable range is a 206; none is a 416;
//! several are answered with the whole file (RFC 9110 lets a server ignore `Range`), so
//! no `multipart/byteranges` is ever sent.

use std::os::unix::fs::MetadataExt as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap, Method};

/// The validators of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// The strong entity tag, quoted: inode, length and modification time in nanoseconds
    /// (a published result is renamed into place once and never written again).
    pub etag: String,
    /// The modification time to the second, as `Last-Modified` carries it.
    pub last_modified: Option<SystemTime>,
    /// The length in bytes.
    pub len: u64,
}

impl Validators {
    /// The validators of a file from its metadata.
    pub fn of(meta: &std::fs::Metadata) -> Self {
        let modified = meta.modified().ok();
        let since_epoch = modified.and_then(|t| t.duration_since(UNIX_EPOCH).ok());
        let nanos = since_epoch.map_or(0, |d| d.as_nanos());
        Self {
            etag: format!("\"{:x}-{:x}-{:x}\"", meta.ino(), meta.len(), nanos),
            last_modified: since_epoch.map(|d| UNIX_EPOCH + Duration::from_secs(d.as_secs())),
            len: meta.len(),
        }
    }

    /// The tag without its quotes.
    fn opaque(&self) -> &str {
        self.etag.trim_matches('"')
    }
}

/// How to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// 412: `If-Match` or `If-Unmodified-Since` failed.
    PreconditionFailed,
    /// 304: `If-None-Match` or `If-Modified-Since` says the client has it.
    NotModified,
    /// 200 with the whole file.
    Full,
    /// 206 with the bytes `start..=end`.
    Partial {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// 416: a byte range was asked and none of it is in the file.
    Unsatisfiable,
}

/// Decides the answer to a GET or HEAD of the file `v` describes.
pub fn decide(method: &Method, headers: &HeaderMap, v: &Validators) -> Decision {
    let text = |name| headers.get(name).and_then(|h| h.to_str().ok());
    let date = |name| text(name).and_then(|t| httpdate::parse_http_date(t).ok());
    if let Some(tags) = text(header::IF_MATCH) {
        if !matches(tags, v, true) {
            return Decision::PreconditionFailed;
        }
    } else if let Some(since) = date(header::IF_UNMODIFIED_SINCE) {
        if v.last_modified.is_none_or(|m| m > since) {
            return Decision::PreconditionFailed;
        }
    }
    if let Some(tags) = text(header::IF_NONE_MATCH) {
        if matches(tags, v, false) {
            return Decision::NotModified;
        }
    } else if let Some(since) = date(header::IF_MODIFIED_SINCE) {
        if v.last_modified.is_some_and(|m| m <= since) {
            return Decision::NotModified;
        }
    }
    if method != Method::GET {
        return Decision::Full;
    }
    let Some(specs) = text(header::RANGE).and_then(parse_range) else {
        return Decision::Full;
    };
    if let Some(cond) = headers.get(header::IF_RANGE) {
        if !if_range_holds(cond.to_str().unwrap_or(""), v) {
            return Decision::Full;
        }
    }
    let mut satisfiable = specs.iter().filter_map(|s| s.resolve(v.len));
    match (satisfiable.next(), satisfiable.next()) {
        (None, _) => Decision::Unsatisfiable,
        (Some((start, end)), None) => Decision::Partial { start, end },
        (Some(_), Some(_)) => Decision::Full,
    }
}

/// Whether an `If-Match`/`If-None-Match` value (`*` or a list of entity tags) names the
/// file: by strong comparison (both tags strong and equal) or weak (equal ignoring `W/`).
fn matches(value: &str, v: &Validators, strong: bool) -> bool {
    if value.trim() == "*" {
        return true;
    }
    entity_tags(value).any(|(weak, tag)| tag == v.opaque() && !(strong && weak))
}

/// Whether `If-Range` holds: a strong tag equal to the file's, or exactly its
/// `Last-Modified` date. A weak tag never holds.
fn if_range_holds(value: &str, v: &Validators) -> bool {
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        let mut tags = entity_tags(value);
        return matches!((tags.next(), tags.next()), (Some((false, tag)), None) if tag == v.opaque());
    }
    httpdate::parse_http_date(value).is_ok_and(|d| v.last_modified == Some(d))
}

/// The entity tags of a comma-separated list as (weak, opaque tag without quotes). A
/// malformed list ends where it stops parsing.
fn entity_tags(value: &str) -> impl Iterator<Item = (bool, &str)> {
    let mut rest = value;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        let weak = rest.starts_with("W/");
        let quoted = rest.strip_prefix("W/").unwrap_or(rest).strip_prefix('"')?;
        let close = quoted.find('"')?;
        rest = &quoted[close + 1..];
        Some((weak, &quoted[..close]))
    })
}

/// One range of a `Range: bytes=` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// `first-last` or `first-`.
    From(u64, Option<u64>),
    /// `-n`: the last n bytes.
    Suffix(u64),
}

impl RangeSpec {
    /// The inclusive bounds in a file of `len` bytes, or None when unsatisfiable.
    fn resolve(self, len: u64) -> Option<(u64, u64)> {
        match self {
            RangeSpec::From(first, last) if first < len => {
                Some((first, last.map_or(len - 1, |l| l.min(len - 1))))
            }
            RangeSpec::Suffix(n) if n > 0 && len > 0 => Some((len.saturating_sub(n), len - 1)),
            _ => None,
        }
    }
}

/// Parses `bytes=<range-set>` (unit case-insensitive, optional whitespace around
/// commas). None when it is not a valid byte range set: such a header is ignored.
fn parse_range(value: &str) -> Option<Vec<RangeSpec>> {
    let (unit, set) = value.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Too many digits for u64: past any file, which still makes it a valid range.
        Some(s.parse().unwrap_or(u64::MAX))
    };
    let mut specs = Vec::new();
    for item in set.split(',') {
        let item = item.trim_matches([' ', '\t']);
        if item.is_empty() {
            continue;
        }
        let (first, last) = item.split_once('-')?;
        let spec = if first.is_empty() {
            RangeSpec::Suffix(number(last)?)
        } else {
            let first = number(first)?;
            let last = if last.is_empty() {
                None
            } else {
                Some(number(last)?)
            };
            if last.is_some_and(|l| l < first) {
                return None;
            }
            RangeSpec::From(first, last)
        };
        specs.push(spec);
    }
    (!specs.is_empty()).then_some(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(len: u64) -> Validators {
        Validators {
            etag: "\"1-2-3\"".into(),
            last_modified: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            len,
        }
    }

    fn ask(headers: &[(&'static str, &str)]) -> Decision {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(*k, v.parse().unwrap());
        }
        decide(&Method::GET, &h, &file(1000))
    }

    const LAST_MODIFIED: &str = "Tue, 14 Nov 2023 22:13:20 GMT";

    #[test]
    fn byte_ranges_resolve_as_rfc_9110_says() {
        let part = |start, end| Decision::Partial { start, end };
        assert_eq!(ask(&[("range", "bytes=0-99")]), part(0, 99));
        assert_eq!(ask(&[("range", "bytes=990-")]), part(990, 999));
        assert_eq!(ask(&[("range", "bytes=990-5000")]), part(990, 999));
        assert_eq!(ask(&[("range", "bytes=-10")]), part(990, 999));
        assert_eq!(ask(&[("range", "bytes=-5000")]), part(0, 999));
        assert_eq!(ask(&[("range", "BYTES = 5-5")]), part(5, 5));
        assert_eq!(ask(&[("range", "bytes=1000-, 5-6")]), part(5, 6));
        assert_eq!(ask(&[("range", "bytes=1000-")]), Decision::Unsatisfiable);
        assert_eq!(ask(&[("range", "bytes=-0")]), Decision::Unsatisfiable);
        assert_eq!(
            ask(&[("range", "bytes=99999999999999999999999-")]),
            Decision::Unsatisfiable
        );
        assert_eq!(ask(&[("range", "bytes=0-1,5-6")]), Decision::Full);
    }

    #[test]
    fn malformed_or_foreign_ranges_are_ignored() {
        for bad in [
            "bytes=5-2",
            "bytes=abc",
            "bytes=",
            "bytes=1-2-3",
            "bytes=+1-2",
            "items=0-1",
            "0-1",
        ] {
            assert_eq!(ask(&[("range", bad)]), Decision::Full, "{bad}");
        }
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, "bytes=0-1".parse().unwrap());
        assert_eq!(decide(&Method::HEAD, &h, &file(10)), Decision::Full);
    }

    #[test]
    fn if_none_match_compares_weakly_and_wins_over_if_modified_since() {
        assert_eq!(
            ask(&[("if-none-match", "\"1-2-3\"")]),
            Decision::NotModified
        );
        assert_eq!(
            ask(&[("if-none-match", "\"x\", W/\"1-2-3\"")]),
            Decision::NotModified
        );
        assert_eq!(ask(&[("if-none-match", "*")]), Decision::NotModified);
        assert_eq!(
            ask(&[
                ("if-none-match", "\"other\""),
                ("if-modified-since", LAST_MODIFIED)
            ]),
            Decision::Full
        );
        assert_eq!(
            ask(&[("if-modified-since", LAST_MODIFIED)]),
            Decision::NotModified
        );
        assert_eq!(
            ask(&[("if-modified-since", "Tue, 14 Nov 2023 22:13:19 GMT")]),
            Decision::Full
        );
        assert_eq!(ask(&[("if-modified-since", "garbage")]), Decision::Full);
    }

    #[test]
    fn if_match_compares_strongly_and_if_unmodified_since_checks_the_date() {
        assert_eq!(ask(&[("if-match", "\"1-2-3\"")]), Decision::Full);
        assert_eq!(
            ask(&[("if-match", "W/\"1-2-3\"")]),
            Decision::PreconditionFailed
        );
        assert_eq!(ask(&[("if-match", "\"9\"")]), Decision::PreconditionFailed);
        assert_eq!(
            ask(&[("if-unmodified-since", "Tue, 14 Nov 2023 22:13:19 GMT")]),
            Decision::PreconditionFailed
        );
        assert_eq!(
            ask(&[("if-unmodified-since", LAST_MODIFIED)]),
            Decision::Full
        );
    }

    #[test]
    fn if_range_serves_the_range_only_for_the_same_file() {
        let part = Decision::Partial { start: 0, end: 9 };
        let range = ("range", "bytes=0-9");
        assert_eq!(ask(&[range, ("if-range", "\"1-2-3\"")]), part);
        assert_eq!(ask(&[range, ("if-range", LAST_MODIFIED)]), part);
        assert_eq!(ask(&[range, ("if-range", "\"old\"")]), Decision::Full);
        assert_eq!(ask(&[range, ("if-range", "W/\"1-2-3\"")]), Decision::Full);
        assert_eq!(
            ask(&[range, ("if-range", "Tue, 14 Nov 2023 22:13:19 GMT")]),
            Decision::Full
        );
    }
}
