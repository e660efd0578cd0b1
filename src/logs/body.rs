//! What one log stream writes, in order: the records its filter wants in its format,
//! gaps (held back while they may lie before `SinceMs`) and the control records, and the
//! body chunks made of them. Records ready together are coalesced into chunks of up to
//! [`FRAME_TARGET`]; stored text (a persisted chunk read as `text/plain`) goes out as
//! slices of the stored blob, without a copy.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

use super::chunk::Records;
use super::frame::{End, Format};
use super::record::{Filter, LogRecord};
use crate::metrics::Metrics;
use crate::model::LogStream;

/// Body chunks are flushed once they hold this much.
pub(super) const FRAME_TARGET: usize = 128 * 1024;
/// Capacity an idle follower keeps in its body buffer.
const IDLE_CAPACITY: usize = 1024;
/// Runs of stored text at least this long go out as slices of the stored chunk.
const PASS_THROUGH: usize = 16 * 1024;

/// Where a stream is in the execution's seq space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Position {
    /// The next seq to deliver.
    pub(super) next: u64,
    /// `Follow=false`: stop at this seq (the end when the request came).
    pub(super) stop_at: Option<u64>,
    /// A gap not yet written (held back while it may lie before `SinceMs`).
    gap: Option<(u64, u64)>,
}

impl Position {
    /// At `next`, stopping at `stop_at`.
    pub(super) fn new(next: u64, stop_at: Option<u64>) -> Self {
        Self {
            next,
            stop_at,
            gap: None,
        }
    }

    /// Whether the stop is reached.
    pub(super) fn stopped(&self) -> bool {
        self.stop_at.is_some_and(|stop| self.next >= stop)
    }
}

/// The body of one stream being written.
#[derive(Debug)]
pub(super) struct Body {
    format: Format,
    filter: Filter,
    metrics: Arc<Metrics>,
    /// Body chunks ready to go, before `buf`: slices of stored text.
    out: VecDeque<Bytes>,
    /// The body chunk being built.
    buf: Vec<u8>,
}

impl Body {
    /// An empty body; gaps written are counted in `metrics`.
    pub(super) fn new(format: Format, filter: Filter, metrics: Arc<Metrics>) -> Self {
        Self {
            format,
            filter,
            metrics,
            out: VecDeque::new(),
            // Nothing until something is written: most followers wait idle.
            buf: Vec::new(),
        }
    }

    /// The next body chunk, if anything is written.
    pub(super) fn take(&mut self) -> Option<Bytes> {
        if let Some(out) = self.out.pop_front() {
            return Some(out);
        }
        if self.buf.is_empty() {
            return None;
        }
        // Small chunks are copied; big ones hand over the buffer itself.
        Some(if self.buf.len() <= 4096 {
            let out = Bytes::copy_from_slice(&self.buf);
            self.buf.clear();
            out
        } else {
            Bytes::from(std::mem::replace(
                &mut self.buf,
                Vec::with_capacity(IDLE_CAPACITY),
            ))
        })
    }

    /// Whether nothing is waiting to be taken.
    pub(super) fn is_empty(&self) -> bool {
        self.out.is_empty() && self.buf.is_empty()
    }

    /// Whether enough is written for a body chunk.
    pub(super) fn is_full(&self) -> bool {
        !self.out.is_empty() || self.buf.len() >= FRAME_TARGET
    }

    /// Gives back memory while the stream is idle.
    pub(super) fn shrink(&mut self) {
        self.buf.shrink_to(IDLE_CAPACITY);
    }

    /// Writes a heartbeat.
    pub(super) fn heartbeat(&mut self) {
        self.format.heartbeat(&mut self.buf);
    }

    /// Writes the end.
    pub(super) fn end(&mut self, end: &End) {
        self.format.end(&mut self.buf, end);
    }

    /// Writes that records `from..=to` were lost (at once, whatever the filter).
    pub(super) fn lost(&mut self, from: u64, to: u64) {
        self.metrics.log_gap();
        self.format.gap(&mut self.buf, from, to);
    }

    /// Writes a record (if the filter wants it) and moves past it.
    pub(super) fn record(&mut self, pos: &mut Position, r: &LogRecord) {
        if self.admit(pos, r.seq, r.time_ns, r.stream) {
            self.format.record(&mut self.buf, r);
        }
    }

    /// Moves past record `seq` (writing a held-back gap before it); true when the record
    /// is to be written.
    fn admit(&mut self, pos: &mut Position, seq: u64, time_ns: i64, stream: LogStream) -> bool {
        if seq < pos.next || pos.stop_at.is_some_and(|s| seq >= s) {
            return false;
        }
        pos.next = seq + 1;
        if self.filter.too_old_at(time_ns) {
            // The held-back gap came before this record, so before SinceMs too.
            pos.gap = None;
            return false;
        }
        self.flush_gap(pos);
        self.filter.wants_stream(stream)
    }

    /// Writes the records of a persisted chunk, as [`Body::record`] does one by one. As
    /// text, the data of consecutive records written is one slice of the stored blob
    /// ([`chunk`](super::chunk) v2), which goes out as it is.
    pub(super) fn records(&mut self, pos: &mut Position, recs: &Records) {
        if self.format != Format::Text {
            for r in recs.iter() {
                self.record(pos, &r);
            }
            return;
        }
        let mut run: Option<Range<usize>> = None;
        for (seq, m) in recs.metas() {
            if pos.gap.is_some() {
                // The gap's line may go before this record, so after the run so far.
                self.text(recs, run.take());
            }
            if !self.admit(pos, seq, m.time_ns, m.stream) {
                continue;
            }
            let data = m.data();
            match &mut run {
                Some(r) if r.end == data.start => r.end = data.end,
                _ => self.text(recs, run.replace(data)),
            }
        }
        self.text(recs, run);
    }

    /// Writes stored text: a short run is copied into the body buffer, a long one is
    /// queued as a slice of the blob.
    fn text(&mut self, recs: &Records, run: Option<Range<usize>>) {
        let Some(run) = run.filter(|r| !r.is_empty()) else {
            return;
        };
        if run.len() < PASS_THROUGH {
            self.buf.extend_from_slice(recs.bytes(run));
            return;
        }
        if !self.buf.is_empty() {
            let buf = std::mem::replace(&mut self.buf, Vec::with_capacity(IDLE_CAPACITY));
            self.out.push_back(Bytes::from(buf));
        }
        self.out.push_back(recs.slice(run));
    }

    /// Records `from..=to` are not held: moves past them and holds the gap back until a
    /// record after it is written (or the end of what is there).
    pub(super) fn gap(&mut self, pos: &mut Position, from: u64, to: u64) {
        let from = from.max(pos.next);
        let to = pos.stop_at.map_or(to, |s| to.min(s.saturating_sub(1)));
        if to < from {
            return;
        }
        pos.next = to + 1;
        pos.gap = Some(match pos.gap {
            Some((f, t)) if t + 1 == from => (f, to),
            Some(_) => {
                self.flush_gap(pos);
                (from, to)
            }
            None => (from, to),
        });
    }

    /// Writes the held-back gap, if any.
    pub(super) fn flush_gap(&mut self, pos: &mut Position) {
        if let Some((from, to)) = pos.gap.take() {
            self.lost(from, to);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::chunk;
    use crate::logs::hub::Persisted;

    const T0: i64 = 1_767_225_600_000_000_000;

    /// Chunks of a log with both streams: long stdout runs, interleaved short lines, a
    /// lost range in the middle, and a chunk in the old interleaved layout.
    fn log() -> Vec<Persisted> {
        let rec = |seq: u64, stream, len: usize| LogRecord {
            seq,
            time_ns: T0 + seq as i64 * 1000,
            stream,
            data: Bytes::from(format!("{seq:06} {}\n", "x".repeat(len)).into_bytes()),
        };
        let chunk = |recs: Vec<LogRecord>| {
            let (first, last) = (recs[0].seq, recs[recs.len() - 1].seq);
            Persisted::Records(chunk::decode(first, last, chunk::encode(&recs).into(), 0).unwrap())
        };
        let mut items = vec![
            // 0..100: 1 KB stdout lines with a stderr line every 25.
            chunk(
                (0..100)
                    .map(|s| match s % 25 {
                        24 => rec(s, LogStream::Stderr, 30),
                        _ => rec(s, LogStream::Stdout, 1000),
                    })
                    .collect(),
            ),
            // 100..200: alternating short lines.
            chunk(
                (100..200)
                    .map(|s| match s % 2 {
                        0 => rec(s, LogStream::Stdout, 10),
                        _ => rec(s, LogStream::Stderr, 2000),
                    })
                    .collect(),
            ),
            Persisted::Gap { from: 200, to: 249 },
            chunk((250..300).map(|s| rec(s, LogStream::Stderr, 900)).collect()),
        ];
        // 300..340 in the old layout: nothing is contiguous.
        let old: Vec<_> = (300..340).map(|s| rec(s, LogStream::Stdout, 700)).collect();
        let v1 = chunk::encode_v1(&old);
        items.push(Persisted::Records(
            chunk::decode(300, 339, v1.into(), 0).unwrap(),
        ));
        items.push(Persisted::Gap { from: 340, to: 341 });
        items
    }

    /// The whole body written for `items` from `pos`, by records one by one or by chunks.
    fn body(
        items: &[Persisted],
        format: Format,
        filter: Filter,
        mut pos: Position,
        by_chunk: bool,
    ) -> (Vec<u8>, Vec<Bytes>) {
        let mut body = Body::new(format, filter, Arc::new(Metrics::new()));
        let mut taken = Vec::new();
        for item in items {
            match item {
                Persisted::Records(recs) if by_chunk => body.records(&mut pos, recs),
                Persisted::Records(recs) => {
                    for r in recs.iter() {
                        body.record(&mut pos, &r);
                    }
                }
                Persisted::Gap { from, to } => body.gap(&mut pos, *from, *to),
            }
            while body.is_full() {
                taken.extend(body.take());
            }
        }
        body.flush_gap(&mut pos);
        while let Some(b) = body.take() {
            taken.push(b);
        }
        (taken.concat(), taken)
    }

    #[test]
    fn stored_text_sent_as_it_is_stored_is_what_the_records_would_write() {
        let items = log();
        let streams = [None, Some(LogStream::Stdout), Some(LogStream::Stderr)];
        let since = [
            None,
            Some(T0 + 50_500),
            Some(T0 + 260_000),
            Some(T0 + 400_000),
        ];
        let starts = [
            (0, None),
            (37, None),
            (0, Some(150)),
            (120, Some(330)),
            (210, None),
        ];
        for stream in streams {
            for since_ns in since {
                for (next, stop_at) in starts {
                    let filter = Filter { stream, since_ns };
                    let pos = Position::new(next, stop_at);
                    let (want, _) = body(&items, Format::Text, filter, pos, false);
                    let (got, _) = body(&items, Format::Text, filter, pos, true);
                    assert!(
                        want == got,
                        "{filter:?} from {next} to {stop_at:?}: {} bytes by record, {} by chunk",
                        want.len(),
                        got.len()
                    );
                    let (want, _) = body(&items, Format::Ndjson, filter, pos, false);
                    let (got, _) = body(&items, Format::Ndjson, filter, pos, true);
                    assert!(want == got, "NDJSON {filter:?} from {next}");
                }
            }
        }
        let (all, taken) = body(
            &items,
            Format::Text,
            Filter::default(),
            Position::new(0, None),
            true,
        );
        let text = String::from_utf8(all).unwrap();
        assert!(text.contains("[hake: log records 200..=249 were dropped]\n000250 "));
        assert!(text.ends_with("[hake: log records 340..=341 were dropped]\n"));
        // The first chunk's text went out as one slice of its blob.
        let Persisted::Records(first) = &items[0] else {
            unreachable!()
        };
        let start = first.iter().next().unwrap().data;
        assert!(taken
            .iter()
            .any(|b| b.as_ptr() == start.as_ptr() && b.len() > 90_000));
    }
}
