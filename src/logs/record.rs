//! One log record: a line (or a piece of a long line) of one stream.

use bytes::Bytes;

use crate::jobs::model::LogStream;

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
