//! Unit tests of the hub, the execution log and persistence, against a real SQLite file.

use std::sync::Arc;

use bytes::Bytes;

use super::exec_log::{Slot, TailCounter, TailScan};
use super::hub::{LogHub, Persisted, RingLimits};
use super::record::{Filter, LogRecord, MAX_RECORD_BYTES};
use super::ExecLog;
use crate::metrics::Metrics;
use crate::model::LogStream;
use crate::store::{Store, StoreOptions};

struct Fixture {
    hub: LogHub,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn fixture(ring_bytes: usize, ring_lines: usize, max_bytes: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreOptions::in_dir(dir.path()))
        .await
        .unwrap();
    let hub = LogHub::new(
        RingLimits {
            bytes: ring_bytes,
            lines: ring_lines,
        },
        max_bytes,
        store.clone(),
        Arc::new(Metrics::new()),
    );
    Fixture {
        hub,
        store,
        _dir: dir,
    }
}

/// Everything readable from seq 0, as a follower reads it: records and gaps.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Rec(u64, LogStream, Bytes),
    Gap(u64, u64),
}

async fn read_all(hub: &LogHub, exec: &str, log: Option<&ExecLog>) -> Vec<Seen> {
    let mut out = Vec::new();
    let mut next = 0;
    loop {
        let slot = match log {
            Some(l) => {
                let mut recs = Vec::new();
                let slot = l.read_at(next, 4096, &mut recs);
                for r in recs {
                    assert_eq!(r.seq, next, "records come in order without holes");
                    next = r.seq + 1;
                    out.push(Seen::Rec(r.seq, r.stream, r.data));
                }
                slot
            }
            None => Slot::Db { upto: u64::MAX },
        };
        match slot {
            Slot::Records => {}
            Slot::Gap { to } => {
                out.push(Seen::Gap(next, to - 1));
                next = to;
            }
            Slot::CaughtUp { .. } => return out,
            Slot::Db { upto } => {
                let items = hub.persisted_from(exec, next, 2).await.unwrap();
                if items.is_empty() {
                    assert_eq!(upto, u64::MAX, "the database holds everything below {upto}");
                    return out;
                }
                for item in items {
                    match item {
                        Persisted::Records(recs) => {
                            for r in recs.iter().filter(|r| r.seq < upto) {
                                assert_eq!(r.seq, next, "persisted records continue the seq space");
                                next = r.seq + 1;
                                out.push(Seen::Rec(r.seq, r.stream, r.data));
                            }
                        }
                        Persisted::Gap { from, to } => {
                            out.push(Seen::Gap(from, to));
                            next = to + 1;
                        }
                    }
                }
            }
        }
    }
}

fn recs(seen: &[Seen]) -> Vec<(u64, LogStream, Bytes)> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Rec(seq, st, d) => Some((*seq, *st, d.clone())),
            Seen::Gap(..) => None,
        })
        .collect()
}

#[tokio::test]
async fn lines_split_across_writes_become_one_record_each() {
    let f = fixture(1 << 20, 1000, u64::MAX).await;
    let sink = f.hub.open("j", "e", 1024);
    sink.write(LogStream::Stdout, b"hel");
    sink.write(LogStream::Stdout, b"lo\nwor");
    sink.write(LogStream::Stderr, b"oops\n");
    sink.write(LogStream::Stdout, b"ld\n");
    let seen = read_all(&f.hub, "e", Some(sink.log())).await;
    assert_eq!(
        recs(&seen),
        vec![
            (0, LogStream::Stdout, Bytes::from("hello\n")),
            (1, LogStream::Stderr, Bytes::from("oops\n")),
            (2, LogStream::Stdout, Bytes::from("world\n")),
        ]
    );
}

#[tokio::test]
async fn a_line_longer_than_64k_is_split_and_the_capture_is_bounded() {
    let f = fixture(1 << 20, 1000, u64::MAX).await;
    let sink = f.hub.open("j", "e", 16);
    let long = vec![b'x'; MAX_RECORD_BYTES * 2 + 10];
    sink.write(LogStream::Stdout, &long);
    sink.write(LogStream::Stdout, b"\n");
    let seen = recs(&read_all(&f.hub, "e", Some(sink.log())).await);
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen.iter().map(|r| r.2.len()).sum::<usize>(),
        long.len() + 1
    );
    let cap = sink.capture();
    assert!(cap.stdouttruncated);
    assert_eq!(cap.stdout.len(), 16);
}

#[tokio::test]
async fn end_flushes_the_unterminated_last_line_and_wakes_followers() {
    let f = fixture(1 << 20, 1000, u64::MAX).await;
    let sink = f.hub.open("j", "e", 1024);
    sink.write(LogStream::Stdout, b"no newline");
    let rx = sink.log().subscribe();
    sink.end();
    assert!(rx.borrow().ended);
    let seen = recs(&read_all(&f.hub, "e", Some(sink.log())).await);
    assert_eq!(seen.last().unwrap().2, Bytes::from("no newline"));
    sink.write(LogStream::Stdout, b"late\n");
    assert_eq!(
        sink.log().progress().next_seq,
        1,
        "writes after the end are ignored"
    );
}

#[tokio::test]
async fn evicted_records_are_persisted_and_history_has_no_hole_at_any_time() {
    let f = fixture(4096, 50, u64::MAX).await;
    let sink = f.hub.open("j", "e", 1024);
    for i in 0..2000 {
        let stream = if i % 3 == 0 {
            LogStream::Stderr
        } else {
            LogStream::Stdout
        };
        sink.write(stream, format!("line {i:05}\n").as_bytes());
        if i % 250 == 0 {
            let seen = read_all(&f.hub, "e", Some(sink.log())).await;
            assert_eq!(seen.len(), i + 1, "every record so far is readable");
        }
    }
    sink.end();
    f.hub.close().await;
    assert!(
        f.hub.get("e").is_none(),
        "the log leaves the hub once its tail is committed"
    );
    let from_db = read_all(&f.hub, "e", None).await;
    assert_eq!(from_db.len(), 2000);
    for (i, (seq, stream, data)) in recs(&from_db).into_iter().enumerate() {
        assert_eq!(seq, i as u64);
        assert_eq!(
            stream,
            if i % 3 == 0 {
                LogStream::Stderr
            } else {
                LogStream::Stdout
            }
        );
        assert_eq!(data, Bytes::from(format!("line {i:05}\n")));
    }
    let chunks = f.store.log_chunks_from("e", 0, 10_000).await.unwrap();
    assert!(
        chunks.len() > 10 && chunks.len() < 200,
        "batched into chunks, not rows per line: {}",
        chunks.len()
    );
    assert_eq!(f.hub.persisted_end("e").await.unwrap(), 2000);
    assert_eq!(f.store.log_persisted_bytes("e").await.unwrap(), 2000 * 11);
}

#[tokio::test]
async fn records_past_the_cap_are_dropped_and_reported_as_one_gap() {
    // 11-byte lines, cap 1100 bytes: exactly seqs 0..=99 are kept.
    let f = fixture(4096, 20, 1100).await;
    let sink = f.hub.open("j", "e", 1024);
    for i in 0..500 {
        sink.write(LogStream::Stdout, format!("line {i:05}\n").as_bytes());
    }
    let live = read_all(&f.hub, "e", Some(sink.log())).await;
    assert_eq!(
        live[99],
        Seen::Rec(99, LogStream::Stdout, Bytes::from("line 00099\n"))
    );
    assert_eq!(
        live[100],
        Seen::Gap(100, 479),
        "the ring still holds the newest 20"
    );
    assert_eq!(live.len(), 100 + 1 + 20);
    sink.end();
    f.hub.close().await;
    let done = read_all(&f.hub, "e", None).await;
    assert_eq!(done.len(), 101);
    assert_eq!(
        done[100],
        Seen::Gap(100, 499),
        "after the end everything past the cap is a gap"
    );
    assert_eq!(f.store.log_persisted_bytes("e").await.unwrap(), 1100);
}

#[tokio::test]
async fn tail_counts_matching_records_through_memory_and_the_database() {
    let f = fixture(4096, 30, u64::MAX).await;
    let sink = f.hub.open("j", "e", 1024);
    for i in 0..300u64 {
        let stream = if i % 10 == 0 {
            LogStream::Stderr
        } else {
            LogStream::Stdout
        };
        sink.write(stream, format!("{i}\n").as_bytes());
    }
    f.hub.close().await; // sealed chunks are committed; the ring and a few spill records are not
    let all = TailCounter {
        remaining: 5,
        filter: Filter::default(),
    };
    assert_eq!(sink.log().tail_scan(all), TailScan::Found(295));
    let errs = TailCounter {
        remaining: 15,
        filter: Filter {
            stream: Some(LogStream::Stderr),
            since_ns: None,
        },
    };
    let TailScan::Need { remaining, below } = sink.log().tail_scan(errs) else {
        panic!("memory holds too few")
    };
    sink.end();
    f.hub.close().await;
    let start = f
        .hub
        .persisted_tail("e", below, TailCounter { remaining, ..errs })
        .await
        .unwrap();
    assert_eq!(start, Some(150), "the 15th stderr line from the end");
    let from_db = f.hub.persisted_tail("e", u64::MAX, errs).await.unwrap();
    assert_eq!(from_db, Some(150));
    let too_many = TailCounter {
        remaining: 1000,
        filter: Filter::default(),
    };
    assert_eq!(
        f.hub.persisted_tail("e", u64::MAX, too_many).await.unwrap(),
        None
    );
}

#[test]
fn the_tail_counter_stops_at_records_older_than_since() {
    let r = |seq, t| LogRecord {
        seq,
        time_ns: t,
        stream: LogStream::Stdout,
        data: Bytes::new(),
    };
    let mut c = TailCounter {
        remaining: 10,
        filter: Filter {
            stream: None,
            since_ns: Some(100),
        },
    };
    assert_eq!(c.visit(&r(9, 150)), None);
    assert_eq!(c.visit(&r(8, 99)), Some(9));
}
