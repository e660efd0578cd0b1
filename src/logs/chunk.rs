//! The encoding of a sealed chunk of records in the `log_chunks.records` BLOB.
//!
//! A chunk holds consecutive records `first_seq..=last_seq`, so seqs are implicit. Two
//! layouts are read (all integers little-endian); version 2 is written:
//!
//! ```text
//! v1 := 1:u8 (time_ns:i64 stream:u8 len:u32 data:[u8; len])*
//! v2 := 2:u8 (time_ns:i64 stream:u8 len:u32)* data*
//! ```
//!
//! where stream is 1 (stdout) or 2 (stderr). Version 2 puts every record's header first
//! and the data after, in seq order, so the text of consecutive records is one contiguous
//! slice of the blob: a text/plain reader sends it as it is stored ([`Records::runs`]).
//!
//! Decoding reads the headers only; records' data are slices of the blob (one allocation
//! per chunk, none per record).

use std::ops::Range;

use bytes::Bytes;

use super::record::LogRecord;
use crate::model::LogStream;

/// The format version written in the first byte.
pub const FORMAT_VERSION: u8 = 2;
/// The first layout (header and data interleaved), still read.
const FORMAT_V1: u8 = 1;

/// Bytes of each record's header.
const RECORD_HEADER: usize = 8 + 1 + 4;

/// A stored chunk that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt log chunk at seq {first_seq}: {why}")]
pub struct ChunkError {
    /// The chunk's first seq.
    pub first_seq: u64,
    /// What is wrong.
    pub why: String,
}

/// A record's header, and where its data lies in the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Arrival time, unix nanoseconds.
    pub time_ns: i64,
    /// stdout or stderr.
    pub stream: LogStream,
    /// Start of the data in the blob.
    start: u32,
    /// End of the data in the blob (exclusive).
    end: u32,
}

impl Meta {
    /// The data's byte range in the blob.
    pub fn data(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The records of a decoded chunk from some seq on: the blob and the records' headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Records {
    blob: Bytes,
    /// Seq of `metas[0]`.
    first_seq: u64,
    metas: Vec<Meta>,
}

impl Records {
    /// How many records.
    pub fn len(&self) -> usize {
        self.metas.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }

    /// The records' seqs and headers, in seq order.
    pub fn metas(&self) -> impl DoubleEndedIterator<Item = (u64, Meta)> + '_ {
        let first = self.first_seq;
        self.metas
            .iter()
            .enumerate()
            .map(move |(i, m)| (first + i as u64, *m))
    }

    /// The records, in seq order (their data are slices of the blob).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = LogRecord> + '_ {
        self.metas().map(|(seq, m)| LogRecord {
            seq,
            time_ns: m.time_ns,
            stream: m.stream,
            data: self.blob.slice(m.data()),
        })
    }

    /// The bytes `range` of the blob (a range of [`Meta::data`], or of consecutive ones).
    pub fn bytes(&self, range: Range<usize>) -> &[u8] {
        &self.blob[range]
    }

    /// [`Records::bytes`] without a copy.
    pub fn slice(&self, range: Range<usize>) -> Bytes {
        self.blob.slice(range)
    }
}

/// Bytes `encode` produces for `records`.
pub fn encoded_len(records: &[LogRecord]) -> usize {
    1 + records
        .iter()
        .map(|r| RECORD_HEADER + r.data.len())
        .sum::<usize>()
}

/// Encodes consecutive records (version 2: the headers, then the data).
pub fn encode(records: &[LogRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(records));
    out.push(FORMAT_VERSION);
    for r in records {
        out.extend_from_slice(&r.time_ns.to_le_bytes());
        out.push(r.stream.tag());
        // Records are at most 64 KiB, so the length always fits.
        let len = u32::try_from(r.data.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
    }
    for r in records {
        out.extend_from_slice(&r.data);
    }
    out
}

/// Encodes records in the version 1 layout (each header followed by its data), as hake
/// wrote chunks before version 2: for the tests that read old chunks.
#[cfg(test)]
pub(super) fn encode_v1(records: &[LogRecord]) -> Vec<u8> {
    let mut out = vec![FORMAT_V1];
    for r in records {
        out.extend_from_slice(&r.time_ns.to_le_bytes());
        out.push(r.stream.tag());
        out.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&r.data);
    }
    out
}

/// Decodes a chunk that covers `first_seq..=last_seq`: its records with seq ≥ `from`.
pub fn decode(
    first_seq: u64,
    last_seq: u64,
    blob: Bytes,
    from: u64,
) -> Result<Records, ChunkError> {
    let bad = |why: String| ChunkError { first_seq, why };
    let interleaved = match blob.first() {
        Some(&FORMAT_VERSION) => false,
        Some(&FORMAT_V1) => true,
        Some(v) => return Err(bad(format!("unknown format version {v}"))),
        None => return Err(bad("empty blob".into())),
    };
    if blob.len() > u32::MAX as usize {
        return Err(bad(format!("{} bytes", blob.len())));
    }
    let count = last_seq
        .checked_sub(first_seq)
        .and_then(|n| usize::try_from(n).ok())
        .map(|n| n + 1)
        .ok_or_else(|| bad(format!("bad seqs {first_seq}..={last_seq}")))?;
    let skip = usize::try_from(from.saturating_sub(first_seq)).unwrap_or(usize::MAX);
    let mut metas = Vec::with_capacity(count.saturating_sub(skip).min(blob.len() / RECORD_HEADER));
    // Where the next header is, and (v2) where the next record's data starts.
    let mut pos = 1;
    let mut data = if interleaved {
        0
    } else {
        count
            .checked_mul(RECORD_HEADER)
            .and_then(|h| h.checked_add(1))
            .filter(|&d| d <= blob.len())
            .ok_or_else(|| bad(format!("fewer than {count} record headers")))?
    };
    let headers_end = if interleaved { blob.len() } else { data };
    let mut n = 0;
    while pos < headers_end {
        let header = blob
            .get(pos..pos + RECORD_HEADER)
            .ok_or_else(|| bad(format!("truncated record header at byte {pos}")))?;
        let mut time = [0u8; 8];
        time.copy_from_slice(&header[..8]);
        let stream = match header[8] {
            1 => LogStream::Stdout,
            2 => LogStream::Stderr,
            t => return Err(bad(format!("unknown stream tag {t}"))),
        };
        let mut len = [0u8; 4];
        len.copy_from_slice(&header[9..13]);
        let len = usize::try_from(u32::from_le_bytes(len)).unwrap_or(usize::MAX);
        pos += RECORD_HEADER;
        let start = if interleaved { pos } else { data };
        let end = start.checked_add(len).filter(|&e| e <= blob.len());
        let end = end.ok_or_else(|| bad(format!("record data past the end at byte {start}")))?;
        if n == count {
            return Err(bad(format!(
                "more records than seqs {first_seq}..={last_seq}"
            )));
        }
        if n >= skip {
            // Both fit: the blob is at most u32::MAX bytes.
            metas.push(Meta {
                time_ns: i64::from_le_bytes(time),
                stream,
                start: start as u32,
                end: end as u32,
            });
        }
        n += 1;
        if interleaved {
            pos = end;
        } else {
            data = end;
        }
    }
    if n != count {
        return Err(bad(format!(
            "{n} records for seqs {first_seq}..={last_seq}"
        )));
    }
    if !interleaved && data != blob.len() {
        return Err(bad(format!(
            "{} bytes after the last record",
            blob.len() - data
        )));
    }
    Ok(Records {
        blob,
        first_seq: first_seq.max(from),
        metas,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64, stream: LogStream, text: &str) -> LogRecord {
        LogRecord {
            seq,
            time_ns: 1_700_000_000_000_000_000 + seq as i64,
            stream,
            data: Bytes::from(text.to_owned()),
        }
    }

    fn all(first: u64, last: u64, blob: &[u8], from: u64) -> Result<Vec<LogRecord>, ChunkError> {
        decode(first, last, Bytes::copy_from_slice(blob), from).map(|r| r.iter().collect())
    }

    #[test]
    fn records_round_trip_with_implicit_seqs() {
        let recs = vec![
            rec(5, LogStream::Stdout, "one\n"),
            rec(6, LogStream::Stderr, ""),
            rec(7, LogStream::Stdout, "no newline, \u{e9}\u{0}"),
        ];
        let blob = encode(&recs);
        assert_eq!(blob.len(), encoded_len(&recs));
        assert_eq!(blob[0], FORMAT_VERSION);
        assert_eq!(all(5, 7, &blob, 0).unwrap(), recs);
        assert_eq!(all(5, 7, &blob, 7).unwrap(), recs[2..]);
        assert!(all(5, 7, &blob, 8).unwrap().is_empty());
    }

    #[test]
    fn the_text_of_consecutive_records_is_one_slice_of_the_blob() {
        let recs = vec![
            rec(0, LogStream::Stdout, "one\n"),
            rec(1, LogStream::Stderr, "two\n"),
            rec(2, LogStream::Stdout, "three\n"),
        ];
        let blob = Bytes::from(encode(&recs));
        let got = decode(0, 2, blob, 1).unwrap();
        let ranges: Vec<_> = got.metas().map(|(_, m)| m.data()).collect();
        assert_eq!(ranges[0].end, ranges[1].start);
        assert_eq!(got.bytes(ranges[0].start..ranges[1].end), b"two\nthree\n");
        assert_eq!(&got.slice(ranges[1].clone())[..], b"three\n");
    }

    #[test]
    fn version_one_chunks_still_decode() {
        let recs = vec![
            rec(3, LogStream::Stderr, "abc\n"),
            rec(4, LogStream::Stdout, "de"),
        ];
        let v1 = encode_v1(&recs);
        assert_eq!(all(3, 4, &v1, 0).unwrap(), recs);
        assert_eq!(all(3, 4, &v1, 4).unwrap(), recs[1..]);
        for cut in 0..v1.len() {
            assert!(all(3, 4, &v1[..cut], 0).is_err(), "cut at {cut} decoded");
        }
    }

    #[test]
    fn corrupt_chunks_are_errors_not_panics() {
        let recs = vec![
            rec(0, LogStream::Stdout, "abc\n"),
            rec(1, LogStream::Stdout, "def\n"),
        ];
        let blob = encode(&recs);
        for cut in 0..blob.len() {
            assert!(all(0, 1, &blob[..cut], 0).is_err(), "cut at {cut} decoded");
        }
        assert!(all(0, 0, &blob, 0).is_err(), "too many records");
        assert!(all(0, 2, &blob, 0).is_err(), "too few records");
        assert!(all(1, 0, &blob, 0).is_err(), "seqs backwards");
        let mut long = blob.clone();
        long.push(b'x');
        assert!(all(0, 1, &long, 0).is_err(), "bytes after the data");
        let mut wrong = blob.clone();
        wrong[0] = 9;
        assert!(all(0, 1, &wrong, 0).is_err());
        let mut tag = blob;
        tag[9] = 7;
        assert!(all(0, 1, &tag, 0).is_err());
    }
}
