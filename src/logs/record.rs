//! One log record: a line (or a piece of a long line) of one stream, and the filter
//! readers apply to records.

use bytes::Bytes;

use crate::model::LogStream;

/// Longest record; longer lines are split.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// A line of output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// Position in the execution's log, from 0, over both streams.
    pub seq: u64,
    /// Arrival time, unix nanoseconds.
    pub time_ns: i64,
    /// stdout or stderr.
    pub stream: LogStream,
    /// The bytes, including the trailing newline when there was one.
    pub data: Bytes,
}

impl LogRecord {
    /// Bytes this record accounts for in buffers (data plus a fixed overhead).
    pub fn cost(&self) -> usize {
        self.data.len() + 32
    }
}

/// Which records a reader wants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this stream, when set.
    pub stream: Option<LogStream>,
    /// Only records that arrived at or after this time (unix ns), when set.
    pub since_ns: Option<i64>,
}

impl Filter {
    /// Whether the record is wanted.
    pub fn matches(&self, r: &LogRecord) -> bool {
        self.wants_stream(r.stream) && !self.too_old(r)
    }

    /// Whether the record arrived before `since_ns`.
    pub fn too_old(&self, r: &LogRecord) -> bool {
        self.too_old_at(r.time_ns)
    }

    /// Whether records of `stream` are wanted (as far as the stream goes).
    pub fn wants_stream(&self, stream: LogStream) -> bool {
        self.stream.is_none_or(|s| s == stream)
    }

    /// Whether a record that arrived at `time_ns` came before `since_ns`.
    pub fn too_old_at(&self, time_ns: i64) -> bool {
        self.since_ns.is_some_and(|t| time_ns < t)
    }
}
