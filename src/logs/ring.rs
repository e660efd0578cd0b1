//! A ring buffer of log records capped by bytes and by lines. Pure: pushing returns what
//! was evicted so the caller can persist it; reading from a seq tells about the gap when
//! that seq is no longer held.

use std::collections::VecDeque;

use super::record::LogRecord;

/// The newest records of one execution.
#[derive(Debug)]
pub struct Ring {
    records: VecDeque<LogRecord>,
    bytes: usize,
    max_bytes: usize,
    max_lines: usize,
    next_seq: u64,
}

impl Ring {
    /// An empty ring holding at most `max_bytes` and `max_lines` (each at least one record).
    pub fn new(max_bytes: usize, max_lines: usize) -> Self {
        Self {
            records: VecDeque::new(),
            bytes: 0,
            max_bytes: max_bytes.max(1),
            max_lines: max_lines.max(1),
            next_seq: 0,
        }
    }

    /// The seq the next record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The oldest seq still held (equals `next_seq` when empty).
    pub fn first_seq(&self) -> u64 {
        self.records.front().map_or(self.next_seq, |r| r.seq)
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends a record, assigning its seq; evicted records are appended to `evicted`.
    pub fn push(&mut self, mut rec: LogRecord, evicted: &mut Vec<LogRecord>) -> u64 {
        rec.seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += rec.cost();
        self.records.push_back(rec);
        while self.records.len() > 1
            && (self.bytes > self.max_bytes || self.records.len() > self.max_lines)
        {
            let old = self.records.pop_front().expect("non-empty ring");
            self.bytes -= old.cost();
            evicted.push(old);
        }
        self.next_seq - 1
    }

    /// Up to `max_bytes` of records with seq ≥ `from` (at least one when any is available).
    /// When `from` is older than what is held, the first element of the answer is the
    /// seq the ring really starts at.
    pub fn read_from(&self, from: u64, max_bytes: usize, out: &mut Vec<LogRecord>) -> u64 {
        let first = self.first_seq();
        let start = from.max(first);
        let skip = usize::try_from(start - first).unwrap_or(usize::MAX);
        let mut used = 0;
        for r in self.records.iter().skip(skip) {
            if !out.is_empty() && used + r.cost() > max_bytes {
                break;
            }
            used += r.cost();
            out.push(r.clone());
        }
        start
    }

    /// Every record held, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &LogRecord> {
        self.records.iter()
    }

    /// Moves every record held to `out`, oldest first; seqs keep counting from where
    /// they were.
    pub fn drain_into(&mut self, out: &mut Vec<LogRecord>) {
        out.extend(self.records.drain(..));
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LogStream;

    fn rec(text: &str) -> LogRecord {
        LogRecord {
            seq: 0,
            time_ns: 0,
            stream: LogStream::Stdout,
            data: text.to_owned().into(),
        }
    }

    #[test]
    fn seqs_count_from_zero_and_lines_cap_evicts_oldest() {
        let mut r = Ring::new(1 << 20, 3);
        let mut ev = Vec::new();
        for i in 0..5 {
            assert_eq!(r.push(rec(&format!("{i}\n")), &mut ev), i);
        }
        assert_eq!(r.len(), 3);
        assert_eq!(r.first_seq(), 2);
        assert_eq!(ev.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![0, 1]);
    }

    #[test]
    fn byte_cap_evicts_but_keeps_the_newest_record() {
        let mut r = Ring::new(10, 100);
        let mut ev = Vec::new();
        r.push(rec("a big line that alone exceeds the cap\n"), &mut ev);
        assert_eq!(r.len(), 1);
        r.push(rec("b\n"), &mut ev);
        assert_eq!(r.len(), 1);
        assert_eq!(r.first_seq(), 1);
        assert!(r.bytes() > 0);
    }

    #[test]
    fn read_from_an_evicted_seq_reports_where_the_ring_starts() {
        let mut r = Ring::new(1 << 20, 2);
        let mut ev = Vec::new();
        for i in 0..4 {
            r.push(rec(&format!("{i}\n")), &mut ev);
        }
        let mut out = Vec::new();
        assert_eq!(r.read_from(0, 1 << 20, &mut out), 2);
        assert_eq!(out.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3]);
        out.clear();
        assert_eq!(r.read_from(3, 1 << 20, &mut out), 3);
        assert_eq!(out.len(), 1);
        out.clear();
        r.read_from(9, 1 << 20, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn drain_empties_the_ring_but_keeps_the_seq_count() {
        let mut r = Ring::new(1 << 20, 10);
        let mut ev = Vec::new();
        for i in 0..3 {
            r.push(rec(&format!("{i}\n")), &mut ev);
        }
        let mut out = Vec::new();
        r.drain_into(&mut out);
        assert_eq!(out.len(), 3);
        assert!(r.is_empty());
        assert_eq!((r.first_seq(), r.next_seq(), r.bytes()), (3, 3, 0));
        assert_eq!(r.push(rec("x\n"), &mut ev), 3);
    }
}
