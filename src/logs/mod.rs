//! Execution logs: every output line becomes a [`LogRecord`] with a per-execution `seq`;
//! records live in a bounded [`ring::Ring`] per running execution, and the sink keeps the
//! bounded stdout/stderr copies that end up in `RunOutput`.

pub mod hub;
pub mod record;
pub mod ring;

pub use hub::{ExecLog, LogHub, LogSink};
pub use record::LogRecord;
