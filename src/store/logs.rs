//! Persisted execution logs (`log_chunks`): the rows the writer inserts and the chunks
//! followers read back. The store sees chunks as opaque blobs; their encoding lives in
//! `crate::logs::chunk`.

/// A sealed chunk (or a gap row) to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunkRow {
    /// The execution.
    pub execution_id: String,
    /// Its job.
    pub job_id: String,
    /// Seq of the first record.
    pub first_seq: u64,
    /// Seq of the last record (inclusive).
    pub last_seq: u64,
    /// Data bytes of the records (0 for a gap row).
    pub bytes: u64,
    /// Whether this row stands for records dropped past the cap (no records).
    pub gap: bool,
    /// The encoded records (empty for a gap row).
    pub records: Vec<u8>,
}

/// A chunk as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogChunk {
    /// Seq of the first record.
    pub first_seq: u64,
    /// Seq of the last record (inclusive).
    pub last_seq: u64,
    /// Data bytes of the records.
    pub bytes: u64,
    /// Records dropped past the cap: report `first_seq..=last_seq` as a gap.
    pub gap: bool,
    /// The encoded records (empty for a gap row).
    pub records: bytes::Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn row(first: u64, last: u64, gap: bool) -> LogChunkRow {
        LogChunkRow {
            execution_id: "e-1".into(),
            job_id: "j".into(),
            first_seq: first,
            last_seq: last,
            bytes: if gap { 0 } else { (last - first + 1) * 10 },
            gap,
            records: if gap { Vec::new() } else { vec![1, 2, 3] },
        }
    }

    #[tokio::test]
    async fn chunks_round_trip_and_are_found_by_seq() {
        for t in &crate::store::testdb::each().await {
            chunks_round_trip_on(&t.store).await;
        }
    }

    async fn chunks_round_trip_on(store: &Store) {
        assert_eq!(store.log_last_seq("e-1").await.unwrap(), None);
        assert_eq!(store.log_persisted_bytes("e-1").await.unwrap(), 0);
        store
            .append_log_chunks(std::sync::Arc::new(vec![
                row(0, 9, false),
                row(10, 19, false),
                row(20, 29, true),
            ]))
            .await
            .unwrap();
        let from = store.log_chunks_from("e-1", 12, 10).await.unwrap();
        assert_eq!(
            from.iter().map(|c| c.first_seq).collect::<Vec<_>>(),
            vec![10, 20]
        );
        assert!(from[1].gap && from[1].records.is_empty());
        assert_eq!(from[0].records, vec![1, 2, 3]);
        let before = store.log_chunks_before("e-1", 20, 10).await.unwrap();
        assert_eq!(
            before.iter().map(|c| c.first_seq).collect::<Vec<_>>(),
            vec![10, 0]
        );
        assert_eq!(store.log_last_seq("e-1").await.unwrap(), Some(29));
        assert_eq!(store.log_persisted_bytes("e-1").await.unwrap(), 200);
        assert!(store
            .log_chunks_from("e-2", 0, 10)
            .await
            .unwrap()
            .is_empty());
    }
}
