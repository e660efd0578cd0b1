//! The log hub: one [`ExecLog`] per running execution, each with its ring, its bounded
//! `RunOutput` capture and a watch that wakes followers when records arrive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::watch;

use super::record::{LogRecord, MAX_RECORD_BYTES};
use super::ring::Ring;
use crate::jobs::model::{LogStream, RunCommandResult};
use crate::time;

/// Ring sizes.
#[derive(Debug, Clone, Copy)]
pub struct RingLimits {
    /// Bytes per execution ring.
    pub bytes: usize,
    /// Lines per execution ring.
    pub lines: usize,
}

/// All live execution logs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LogHub {
    inner: Arc<HubInner>,
}

#[derive(Debug)]
struct HubInner {
    limits: RingLimits,
    /// Logs of running executions, by execution id.
    execs: Mutex<HashMap<String, Arc<ExecLog>>>,
}

/// The log of one execution while it runs.
#[derive(Debug)]
pub struct ExecLog {
    /// The job.
    pub job_id: String,
    /// The execution.
    pub execution_id: String,
    /// Ring, partial lines and captures; held briefly by writers and readers.
    state: Mutex<ExecState>,
    /// The next seq to be written, and whether the log has ended; followers wait on it.
    progress: watch::Sender<Progress>,
}

/// How far a log has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The seq the next record will get.
    pub next_seq: u64,
    /// No more records will come.
    pub ended: bool,
}

#[derive(Debug)]
struct ExecState {
    ring: Ring,
    partial: [Vec<u8>; 2],
    capture: [Capture; 2],
}

#[derive(Debug)]
struct Capture {
    data: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl Capture {
    fn add(&mut self, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.data.len());
        if bytes.len() > room {
            self.truncated = true;
        }
        self.data.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.data).into_owned();
        if self.truncated {
            // A cut may have split a multi-byte character into a replacement char: fine.
            s.shrink_to_fit();
        }
        s
    }
}

fn idx(stream: LogStream) -> usize {
    match stream {
        LogStream::Stdout => 0,
        LogStream::Stderr => 1,
    }
}

impl LogHub {
    /// A hub whose rings hold at most `limits`.
    pub fn new(limits: RingLimits) -> Self {
        Self {
            inner: Arc::new(HubInner {
                limits,
                execs: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Opens the log of a starting execution and returns its sink.
    pub fn open(&self, job_id: &str, execution_id: &str, capture_bytes: usize) -> LogSink {
        let log = Arc::new(ExecLog {
            job_id: job_id.to_owned(),
            execution_id: execution_id.to_owned(),
            state: Mutex::new(ExecState {
                ring: Ring::new(self.inner.limits.bytes, self.inner.limits.lines),
                partial: [Vec::new(), Vec::new()],
                capture: [
                    Capture {
                        data: Vec::new(),
                        limit: capture_bytes,
                        truncated: false,
                    },
                    Capture {
                        data: Vec::new(),
                        limit: capture_bytes,
                        truncated: false,
                    },
                ],
            }),
            progress: watch::channel(Progress {
                next_seq: 0,
                ended: false,
            })
            .0,
        });
        self.inner
            .execs
            .lock()
            .expect("log hub")
            .insert(execution_id.to_owned(), log.clone());
        LogSink {
            log,
            hub: self.clone(),
        }
    }

    /// The live log of an execution, while it runs.
    pub fn get(&self, execution_id: &str) -> Option<Arc<ExecLog>> {
        self.inner
            .execs
            .lock()
            .expect("log hub")
            .get(execution_id)
            .cloned()
    }

    /// Live execution logs.
    pub fn live_count(&self) -> usize {
        self.inner.execs.lock().expect("log hub").len()
    }
}

impl ExecLog {
    /// Watches progress (new records, the end).
    pub fn subscribe(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// Copies records with seq ≥ `from`, up to about `max_bytes`. Returns the first seq the
    /// ring still holds at or after `from`.
    pub fn read_from(&self, from: u64, max_bytes: usize, out: &mut Vec<LogRecord>) -> u64 {
        self.state
            .lock()
            .expect("exec log")
            .ring
            .read_from(from, max_bytes, out)
    }

    fn append(&self, stream: LogStream, data: Bytes) {
        let mut evicted = Vec::new();
        let next = {
            let mut st = self.state.lock().expect("exec log");
            let rec = LogRecord {
                seq: 0,
                time_ns: time::to_nanos(time::now()),
                stream,
                data,
            };
            st.ring.push(rec, &mut evicted);
            st.ring.next_seq()
        };
        self.progress.send_modify(|p| p.next_seq = next);
    }
}

/// The writing end of an execution's log, shared by the stream pumps. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LogSink {
    log: Arc<ExecLog>,
    hub: LogHub,
}

impl LogSink {
    /// Adds output bytes of one stream; complete lines become records at once, longer
    /// than 64 KiB lines are split.
    pub fn write(&self, stream: LogStream, bytes: &[u8]) {
        let mut lines = Vec::new();
        {
            let mut st = self.log.state.lock().expect("exec log");
            st.capture[idx(stream)].add(bytes);
            let partial = &mut st.partial[idx(stream)];
            let mut rest = bytes;
            while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
                let (line, tail) = rest.split_at(pos + 1);
                if partial.is_empty() {
                    lines.push(Bytes::copy_from_slice(line));
                } else {
                    partial.extend_from_slice(line);
                    lines.push(Bytes::from(std::mem::take(partial)));
                }
                rest = tail;
            }
            partial.extend_from_slice(rest);
            while partial.len() >= MAX_RECORD_BYTES {
                let tail = partial.split_off(MAX_RECORD_BYTES);
                lines.push(Bytes::from(std::mem::replace(partial, tail)));
            }
        }
        for line in lines {
            for piece in split(line) {
                self.log.append(stream, piece);
            }
        }
    }

    /// Emits the stream's unterminated last line, if any.
    pub fn flush(&self, stream: LogStream) {
        let rest = {
            let mut st = self.log.state.lock().expect("exec log");
            std::mem::take(&mut st.partial[idx(stream)])
        };
        if !rest.is_empty() {
            self.log.append(stream, Bytes::from(rest));
        }
    }

    /// The bounded copy of stdout and stderr so far.
    pub fn capture(&self) -> RunCommandResult {
        let st = self.log.state.lock().expect("exec log");
        RunCommandResult {
            stdout: st.capture[0].text(),
            stdouttruncated: st.capture[0].truncated,
            stderr: st.capture[1].text(),
            stderrtruncated: st.capture[1].truncated,
            exit_code: 0,
            runner_error: String::new(),
        }
    }

    /// Ends the log: flushes partial lines, wakes followers, releases the ring.
    pub fn end(&self) {
        self.flush(LogStream::Stdout);
        self.flush(LogStream::Stderr);
        self.log.progress.send_modify(|p| p.ended = true);
        self.hub
            .inner
            .execs
            .lock()
            .expect("log hub")
            .remove(&self.log.execution_id);
    }

    /// The log this sink writes.
    pub fn log(&self) -> &Arc<ExecLog> {
        &self.log
    }
}

fn split(line: Bytes) -> Vec<Bytes> {
    if line.len() <= MAX_RECORD_BYTES {
        return vec![line];
    }
    (0..line.len())
        .step_by(MAX_RECORD_BYTES)
        .map(|i| line.slice(i..(i + MAX_RECORD_BYTES).min(line.len())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> LogHub {
        LogHub::new(RingLimits {
            bytes: 1 << 20,
            lines: 1000,
        })
    }

    fn all(log: &ExecLog) -> Vec<LogRecord> {
        let mut out = Vec::new();
        log.read_from(0, usize::MAX, &mut out);
        out
    }

    #[test]
    fn lines_split_across_writes_become_one_record_each() {
        let sink = hub().open("j", "e", 1024);
        sink.write(LogStream::Stdout, b"hel");
        sink.write(LogStream::Stdout, b"lo\nwor");
        sink.write(LogStream::Stderr, b"oops\n");
        sink.write(LogStream::Stdout, b"ld\n");
        let recs = all(sink.log());
        let texts: Vec<_> = recs
            .iter()
            .map(|r| (r.seq, r.stream, r.data.clone()))
            .collect();
        assert_eq!(
            texts,
            vec![
                (0, LogStream::Stdout, Bytes::from("hello\n")),
                (1, LogStream::Stderr, Bytes::from("oops\n")),
                (2, LogStream::Stdout, Bytes::from("world\n")),
            ]
        );
    }

    #[test]
    fn a_line_longer_than_64k_is_split() {
        let sink = hub().open("j", "e", 16);
        let long = vec![b'x'; MAX_RECORD_BYTES * 2 + 10];
        sink.write(LogStream::Stdout, &long);
        sink.write(LogStream::Stdout, b"\n");
        let recs = all(sink.log());
        assert_eq!(recs.len(), 3);
        assert_eq!(
            recs.iter().map(|r| r.data.len()).sum::<usize>(),
            long.len() + 1
        );
        let cap = sink.capture();
        assert!(cap.stdouttruncated);
        assert_eq!(cap.stdout.len(), 16);
    }

    #[test]
    fn end_flushes_the_unterminated_last_line() {
        let sink = hub().open("j", "e", 1024);
        sink.write(LogStream::Stdout, b"no newline");
        let rx = sink.log().subscribe();
        sink.end();
        assert_eq!(
            all(sink.log()).last().unwrap().data,
            Bytes::from("no newline")
        );
        assert!(rx.borrow().ended);
    }
}
