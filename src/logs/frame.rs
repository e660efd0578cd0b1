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
    let _ = write!(buf, "{{\"Tag\":{},\"Data\":", r.stream.tag());
    let _ = serde_json::to_writer(&mut *buf, &*String::from_utf8_lossy(&r.data));
    let t = time::from_nanos(r.time_ns);
    let _ = write!(
        buf,
        ",\"Seq\":{},\"Time\":\"{}\"}}",
        r.seq,
        t.format("%Y-%m-%dT%H:%M:%S%.9fZ")
    );
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde_json::{json, Value};

    use super::*;
    use crate::jobs::model::LogStream;

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
