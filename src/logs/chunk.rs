//! The encoding of a sealed chunk of records in the `log_chunks.records` BLOB.
//!
//! A chunk holds consecutive records `first_seq..=last_seq`, so seqs are implicit. Layout
//! (all integers little-endian):
//!
//! ```text
//! chunk  := version:u8 (= 1) record*
//! record := time_ns:i64 stream:u8 (1 stdout, 2 stderr) len:u32 data:[u8; len]
//! ```
//!
//! Decoding slices the blob (one allocation per chunk, none per record).

use bytes::Bytes;

use super::record::LogRecord;
use crate::model::LogStream;

/// The format version written in the first byte.
pub const FORMAT_VERSION: u8 = 1;

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

/// Bytes `encode` produces for `records`.
pub fn encoded_len(records: &[LogRecord]) -> usize {
    1 + records
        .iter()
        .map(|r| RECORD_HEADER + r.data.len())
        .sum::<usize>()
}

/// Encodes consecutive records.
pub fn encode(records: &[LogRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(records));
    out.push(FORMAT_VERSION);
    for r in records {
        out.extend_from_slice(&r.time_ns.to_le_bytes());
        out.push(r.stream.tag());
        // Records are at most 64 KiB, so the length always fits.
        let len = u32::try_from(r.data.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&r.data);
    }
    out
}

/// Decodes a chunk that covers `first_seq..=last_seq` and appends its records with
/// seq ≥ `from` to `out`. The records' data are slices of `blob`.
pub fn decode(
    first_seq: u64,
    last_seq: u64,
    blob: &Bytes,
    from: u64,
    out: &mut Vec<LogRecord>,
) -> Result<(), ChunkError> {
    let bad = |why: String| ChunkError { first_seq, why };
    match blob.first() {
        Some(&FORMAT_VERSION) => {}
        Some(v) => return Err(bad(format!("unknown format version {v}"))),
        None => return Err(bad("empty blob".into())),
    }
    let mut pos = 1;
    let mut seq = first_seq;
    while pos < blob.len() {
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
        let start = pos + RECORD_HEADER;
        let end = start.checked_add(len).filter(|&e| e <= blob.len());
        let end = end.ok_or_else(|| bad(format!("record data past the end at byte {start}")))?;
        if seq > last_seq {
            return Err(bad(format!(
                "more records than seqs {first_seq}..={last_seq}"
            )));
        }
        if seq >= from {
            out.push(LogRecord {
                seq,
                time_ns: i64::from_le_bytes(time),
                stream,
                data: blob.slice(start..end),
            });
        }
        seq += 1;
        pos = end;
    }
    if seq != last_seq + 1 {
        return Err(bad(format!(
            "{} records for seqs {first_seq}..={last_seq}",
            seq - first_seq
        )));
    }
    Ok(())
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

    #[test]
    fn records_round_trip_with_implicit_seqs() {
        let recs = vec![
            rec(5, LogStream::Stdout, "one\n"),
            rec(6, LogStream::Stderr, ""),
            rec(7, LogStream::Stdout, "no newline, \u{e9}\u{0}"),
        ];
        let blob = Bytes::from(encode(&recs));
        assert_eq!(blob.len(), encoded_len(&recs));
        assert_eq!(blob[0], FORMAT_VERSION);
        let mut out = Vec::new();
        decode(5, 7, &blob, 0, &mut out).unwrap();
        assert_eq!(out, recs);
        out.clear();
        decode(5, 7, &blob, 7, &mut out).unwrap();
        assert_eq!(out, recs[2..]);
    }

    #[test]
    fn corrupt_chunks_are_errors_not_panics() {
        let recs = vec![
            rec(0, LogStream::Stdout, "abc\n"),
            rec(1, LogStream::Stdout, "def\n"),
        ];
        let blob = encode(&recs);
        let mut out = Vec::new();
        for cut in 0..blob.len() - 1 {
            let b = Bytes::copy_from_slice(&blob[..cut]);
            let r = decode(0, 1, &b, 0, &mut out);
            assert!(r.is_err(), "cut at {cut} decoded");
        }
        assert!(
            decode(0, 0, &Bytes::from(blob.clone()), 0, &mut out).is_err(),
            "too many records"
        );
        assert!(
            decode(0, 2, &Bytes::from(blob.clone()), 0, &mut out).is_err(),
            "too few records"
        );
        let mut wrong = blob.clone();
        wrong[0] = 9;
        assert!(decode(0, 1, &Bytes::from(wrong), 0, &mut out).is_err());
        let mut tag = blob;
        tag[9] = 7;
        assert!(decode(0, 1, &Bytes::from(tag), 0, &mut out).is_err());
    }
}
