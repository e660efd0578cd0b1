//! How a log stream is written, by `Accept` (DESIGN §4):
//!
//! - `application/x-ndjson` (default): one JSON object per line. Records are
//!   `{"Tag":1|2,"Data":"text\n","Seq":17,"Time":"2026-01-01T00:00:00.000000123Z"}` (Data is
//!   the line, lossy UTF-8); control records have `Tag` 0: `{"Tag":0,"Gap":{"From":a,"To":b}}`
//!   (records `a..=b` are not held), `{"Tag":0,"Heartbeat":true}`, and always last
//!   `{"Tag":0,"End":{"Reason":..,"State":..,"ExitCode":n}}` (`ExitCode` only when the
//!   execution has a RunOutput).
//! - `text/event-stream`: SSE; each record is an event with `id: <seq>` and `data:` the
//!   same JSON; control events are named `gap` (with `id: <To>`, so `Last-Event-ID`
//!   resumes after it), `heartbeat` and `end`.
//! - `text/plain`: the raw bytes merged in seq order; a gap is reported in a line of its
//!   own (`[hake: log records a..=b were dropped]`); heartbeats and the end write nothing.

use std::io::Write as _;

use super::record::LogRecord;
use crate::time;

/// A representation of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/x-ndjson`.
    Ndjson,
    /// `text/plain`.
    Text,
    /// `text/event-stream`.
    Sse,
}

/// Why a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The execution completed.
    Completed,
    /// The execution failed (non-zero exit, engine error, interrupted).
    Failed,
    /// The job was cancelled.
    Cancelled,
    /// The execution hit the job's timeout.
    TimedOut,
    /// The server is shutting down.
    ServerShutdown,
    /// `Follow=false`: everything that existed was sent; the execution still runs.
    CaughtUp,
    /// `Follow=false` and the job has no execution yet.
    NotStarted,
    /// The server could not read the log or the job's state (logged on the server).
    Error,
}

impl EndReason {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timed_out",
            Self::ServerShutdown => "server_shutdown",
            Self::CaughtUp => "caught_up",
            Self::NotStarted => "not_started",
            Self::Error => "error",
        }
    }
}

/// The last record of every stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    /// Why.
    pub reason: EndReason,
    /// The execution's state (the job's when there is no execution).
    pub state: String,
    /// The execution's exit code, when it has a RunOutput.
    pub exit_code: Option<i32>,
}

impl Format {
    /// The representation an `Accept` header asks for: the supported media range with
    /// the highest `q` (first listed wins ties); NDJSON when none is supported.
    pub fn from_accept(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return Self::Ndjson;
        };
        let mut best: Option<(f32, Self)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let format = match media.as_str() {
                "text/event-stream" => Self::Sse,
                "text/plain" | "text/*" => Self::Text,
                "application/x-ndjson"
                | "application/jsonl"
                | "application/json"
                | "application/*"
                | "*/*" => Self::Ndjson,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, format));
            }
        }
        best.map_or(Self::Ndjson, |(_, f)| f)
    }

    /// The response's Content-Type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Ndjson => "application/x-ndjson",
            Self::Text => "text/plain; charset=utf-8",
            Self::Sse => "text/event-stream",
        }
    }

    /// Writes one record.
    pub fn record(self, buf: &mut Vec<u8>, r: &LogRecord) {
        match self {
            Self::Text => buf.extend_from_slice(&r.data),
            Self::Ndjson => {
                record_json(buf, r);
                buf.push(b'\n');
            }
            Self::Sse => {
                let _ = write!(buf, "id: {}\ndata: ", r.seq);
                record_json(buf, r);
                buf.extend_from_slice(b"\n\n");
            }
        }
    }

    /// Writes a gap: records `from..=to` are not held.
    pub fn gap(self, buf: &mut Vec<u8>, from: u64, to: u64) {
        let _ = match self {
            Self::Text => writeln!(buf, "[hake: log records {from}..={to} were dropped]"),
            Self::Ndjson => writeln!(buf, "{{\"Tag\":0,\"Gap\":{{\"From\":{from},\"To\":{to}}}}}"),
            Self::Sse => write!(buf, "event: gap\nid: {to}\ndata: {{\"Tag\":0,\"Gap\":{{\"From\":{from},\"To\":{to}}}}}\n\n"),
        };
    }

    /// Writes a heartbeat (nothing for text).
    pub fn heartbeat(self, buf: &mut Vec<u8>) {
        match self {
            Self::Text => {}
            Self::Ndjson => buf.extend_from_slice(b"{\"Tag\":0,\"Heartbeat\":true}\n"),
            Self::Sse => {
                buf.extend_from_slice(b"event: heartbeat\ndata: {\"Tag\":0,\"Heartbeat\":true}\n\n")
            }
        }
    }

    /// Writes the end (nothing for text).
    pub fn end(self, buf: &mut Vec<u8>, end: &End) {
        let mut json = Vec::with_capacity(96);
        json.extend_from_slice(b"{\"Tag\":0,\"End\":{\"Reason\":\"");
        json.extend_from_slice(end.reason.as_str().as_bytes());
        json.extend_from_slice(b"\",\"State\":");
        let _ = serde_json::to_writer(&mut json, &end.state);
        if let Some(code) = end.exit_code {
            let _ = write!(json, ",\"ExitCode\":{code}");
        }
        json.extend_from_slice(b"}}");
        match self {
            Self::Text => {}
            Self::Ndjson => {
                buf.extend_from_slice(&json);
                buf.push(b'\n');
            }
            Self::Sse => {
                buf.extend_from_slice(b"event: end\ndata: ");
                buf.extend_from_slice(&json);
                buf.extend_from_slice(b"\n\n");
            }
        }
    }
}

fn record_json(buf: &mut Vec<u8>, r: &LogRecord) {
    buf.extend_from_slice(b"{\"Tag\":");
    push_u64(buf, u64::from(r.stream.tag()));
    buf.extend_from_slice(b",\"Data\":");
    push_json_str(buf, &r.data);
    buf.extend_from_slice(b",\"Seq\":");
    push_u64(buf, r.seq);
    buf.extend_from_slice(b",\"Time\":\"");
    push_time(buf, r.time_ns);
    buf.extend_from_slice(b"\"}");
}

/// Writes `n` in decimal.
fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Writes `n` in decimal with at least `width` digits.
fn push_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut n = n;
    while i > tmp.len() - width || n > 0 {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Writes bytes as a JSON string: ASCII is escaped here, eight bytes at a time where
/// none needs it; anything else goes through serde_json after a lossy UTF-8 conversion.
fn push_json_str(buf: &mut Vec<u8>, data: &[u8]) {
    let mark = buf.len();
    buf.reserve(data.len() + 2);
    buf.push(b'"');
    // `data[start..i]` is plain and not copied yet.
    let (mut start, mut i) = (0, 0);
    while i < data.len() {
        if let Some(word) = data.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            if is_plain(u64::from_le_bytes(w)) {
                i += 8;
                continue;
            }
        }
        let b = data[i];
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            0x80.. => {
                buf.truncate(mark);
                let _ = serde_json::to_writer(&mut *buf, &*String::from_utf8_lossy(data));
                return;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        buf.extend_from_slice(&data[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            buf.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            buf.extend_from_slice(escape);
        }
        i += 1;
        start = i;
    }
    buf.extend_from_slice(&data[start..]);
    buf.push(b'"');
}

/// Whether none of the eight bytes of `w` needs a look: no control character, quote,
/// backslash or non-ASCII byte.
fn is_plain(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below 0x20, or a zero byte (after the xor: a quote or a backslash).
    let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v;
    let flags = w | below(w, 0x20) | below(w ^ (ONES * 0x22), 1) | below(w ^ (ONES * 0x5c), 1);
    flags & HIGH == 0
}

/// Writes unix nanoseconds as RFC 3339 UTC with nine fractional digits.
fn push_time(buf: &mut Vec<u8>, ns: i64) {
    const NS: i64 = 1_000_000_000;
    let (secs, nanos) = (ns.div_euclid(NS), ns.rem_euclid(NS));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let Ok(year) = u64::try_from(year) else {
        // Before year 0: never a real log time; keep chrono's spelling.
        let _ = write!(
            buf,
            "{}",
            time::from_nanos(ns).format("%Y-%m-%dT%H:%M:%S%.9fZ")
        );
        return;
    };
    let parts = [
        (year, 4, b'-'),
        (month as u64, 2, b'-'),
        (day as u64, 2, b'T'),
    ];
    for (v, w, sep) in parts {
        push_padded(buf, v, w);
        buf.push(sep);
    }
    let sod = sod as u64;
    for (v, sep) in [(sod / 3600, b':'), (sod / 60 % 60, b':'), (sod % 60, b'.')] {
        push_padded(buf, v, 2);
        buf.push(sep);
    }
    push_padded(buf, nanos as u64, 9);
    buf.push(b'Z');
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde_json::{json, Value};

    use super::*;
    use crate::model::LogStream;

    fn rec() -> LogRecord {
        LogRecord {
            seq: 17,
            time_ns: 1_767_225_600_000_000_123,
            stream: LogStream::Stderr,
            data: Bytes::from_static(b"caf\xc3\xa9 \"q\" \xff\n"),
        }
    }

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut buf = Vec::new();
        f(&mut buf);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn ndjson_records_carry_tag_lossy_data_seq_and_nanosecond_time() {
        let line = text(|b| Format::Ndjson.record(b, &rec()));
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "{line:?}"
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            json!({"Tag": 2, "Data": "café \"q\" \u{fffd}\n", "Seq": 17, "Time": "2026-01-01T00:00:00.000000123Z"})
        );
    }

    #[test]
    fn control_records_are_tag_zero_json() {
        let gap: Value = serde_json::from_str(&text(|b| Format::Ndjson.gap(b, 3, 9))).unwrap();
        assert_eq!(gap, json!({"Tag": 0, "Gap": {"From": 3, "To": 9}}));
        let hb: Value = serde_json::from_str(&text(|b| Format::Ndjson.heartbeat(b))).unwrap();
        assert_eq!(hb, json!({"Tag": 0, "Heartbeat": true}));
        let end = End {
            reason: EndReason::TimedOut,
            state: "Failed".into(),
            exit_code: Some(143),
        };
        let v: Value = serde_json::from_str(&text(|b| Format::Ndjson.end(b, &end))).unwrap();
        assert_eq!(
            v,
            json!({"Tag": 0, "End": {"Reason": "timed_out", "State": "Failed", "ExitCode": 143}})
        );
        let end = End {
            reason: EndReason::ServerShutdown,
            state: "BidAccepted".into(),
            exit_code: None,
        };
        let v: Value = serde_json::from_str(&text(|b| Format::Ndjson.end(b, &end))).unwrap();
        assert_eq!(
            v,
            json!({"Tag": 0, "End": {"Reason": "server_shutdown", "State": "BidAccepted"}})
        );
    }

    #[test]
    fn sse_events_have_ids_names_and_the_ndjson_payload() {
        let ev = text(|b| Format::Sse.record(b, &rec()));
        let (head, data) = ev.split_once("\ndata: ").unwrap();
        assert_eq!(head, "id: 17");
        assert!(data.ends_with("\n\n"));
        let v: Value = serde_json::from_str(data.trim_end()).unwrap();
        assert_eq!(v["Seq"], 17);
        assert_eq!(
            text(|b| Format::Sse.gap(b, 3, 9)),
            "event: gap\nid: 9\ndata: {\"Tag\":0,\"Gap\":{\"From\":3,\"To\":9}}\n\n"
        );
        assert!(text(|b| Format::Sse.heartbeat(b)).starts_with("event: heartbeat\ndata: "));
        let end = End {
            reason: EndReason::Completed,
            state: "Completed".into(),
            exit_code: Some(0),
        };
        assert!(
            text(|b| Format::Sse.end(b, &end)).starts_with("event: end\ndata: {\"Tag\":0,\"End\"")
        );
    }

    #[test]
    fn text_is_the_raw_bytes_and_reports_gaps_only() {
        let mut buf = Vec::new();
        Format::Text.record(&mut buf, &rec());
        assert_eq!(buf, b"caf\xc3\xa9 \"q\" \xff\n");
        assert_eq!(text(|b| Format::Text.heartbeat(b)), "");
        let end = End {
            reason: EndReason::Completed,
            state: "Completed".into(),
            exit_code: Some(0),
        };
        assert_eq!(text(|b| Format::Text.end(b, &end)), "");
        assert_eq!(
            text(|b| Format::Text.gap(b, 1, 2)),
            "[hake: log records 1..=2 were dropped]\n"
        );
    }

    #[test]
    fn the_fast_writers_agree_with_serde_json_and_chrono() {
        for ns in [
            0,
            1,
            999_999_999,
            1_767_225_600_000_000_123,
            951_782_400_123_456_789,
            4_102_444_799_999_999_999,
            -1,
        ] {
            let mut buf = Vec::new();
            push_time(&mut buf, ns);
            let want = time::from_nanos(ns)
                .format("%Y-%m-%dT%H:%M:%S%.9fZ")
                .to_string();
            assert_eq!(String::from_utf8(buf).unwrap(), want, "{ns}");
        }
        let long = "0123456789 abcdefgh ".repeat(5);
        for text in [
            "plain\n".to_owned(),
            "q\"b\\s\r\t\u{1}\u{1f}\u{7f}".to_owned(),
            String::new(),
            "caf\u{e9}\n".to_owned(),
            format!("{long}\n"),
            format!("{long}\"{long}\\x\u{0}{long}\u{1f} !#/[]{{}}~\u{7f}"),
            format!("{long}caf\u{e9}{long}"),
            format!("{long}\u{1}2345678"),
        ] {
            let mut buf = Vec::new();
            push_json_str(&mut buf, text.as_bytes());
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                serde_json::to_string(&text).unwrap()
            );
        }
        // One byte that needs a look at every place of, and around, several 8-byte words.
        for special in ["\"", "\\", "\u{1}", "\n", "\u{e9}"] {
            for at in 0..=70 {
                let text = format!("{}{special}{}", "a".repeat(at), "b".repeat(70 - at));
                let mut buf = Vec::new();
                push_json_str(&mut buf, text.as_bytes());
                assert_eq!(
                    String::from_utf8(buf).unwrap(),
                    serde_json::to_string(&text).unwrap()
                );
            }
        }
        // Bytes that are not UTF-8 anywhere in a long string: lossy, as serde_json does.
        for at in [0, 7, 8, 9, 60, 99] {
            let mut bytes = "x\"".repeat(50).into_bytes();
            bytes[at] = 0xff;
            let mut buf = b"before".to_vec();
            push_json_str(&mut buf, &bytes);
            let want = serde_json::to_string(&String::from_utf8_lossy(&bytes)).unwrap();
            assert_eq!(buf, [&b"before"[..], want.as_bytes()].concat());
        }
        let mut buf = Vec::new();
        push_u64(&mut buf, u64::MAX);
        push_padded(&mut buf, 7, 4);
        assert_eq!(buf, format!("{}0007", u64::MAX).into_bytes());
    }

    #[test]
    fn accept_picks_the_best_supported_representation() {
        assert_eq!(Format::from_accept(None), Format::Ndjson);
        assert_eq!(Format::from_accept(Some("text/event-stream")), Format::Sse);
        assert_eq!(Format::from_accept(Some("text/plain")), Format::Text);
        assert_eq!(Format::from_accept(Some("*/*")), Format::Ndjson);
        assert_eq!(Format::from_accept(Some("image/png")), Format::Ndjson);
        assert_eq!(
            Format::from_accept(Some("text/plain;q=0.5, text/event-stream")),
            Format::Sse
        );
        assert_eq!(
            Format::from_accept(Some("application/x-ndjson, text/plain")),
            Format::Ndjson
        );
        assert_eq!(
            Format::from_accept(Some("text/plain;q=0, */*;q=0.1")),
            Format::Ndjson
        );
    }
}
