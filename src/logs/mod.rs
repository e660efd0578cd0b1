//! Execution logs: every output line becomes a [`LogRecord`] with a per-execution `seq`;
//! records live in a bounded [`ring::Ring`] per live execution, records evicted from it
//! are sealed into chunks ([`chunk`]) that the persister writes to SQLite in batches, and
//! [`stream`] serves them to followers (history from the database, then the ring, then
//! live). The sink also keeps the bounded stdout/stderr copies that end up in `RunOutput`,
//! and (for executions that publish) copies the complete streams into a [`spool`].

mod body;
pub mod chunk;
pub mod exec_log;
pub mod frame;
pub mod hub;
mod persist;
pub mod record;
pub mod ring;
pub mod slots;
pub mod spool;
pub mod stream;
#[cfg(test)]
mod tests;

pub use exec_log::{ExecLog, Progress};
pub use hub::{LogHub, LogSink, Persisted, RingLimits};
pub use record::{Filter, LogRecord};
pub use slots::{StreamSlot, StreamSlots, TooManyStreams};
