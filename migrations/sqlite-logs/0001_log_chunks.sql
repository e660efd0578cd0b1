-- Persisted execution logs, in a database file of their own beside the main one
-- (`<main file>-logs`), so log writes never wait for the job writer's lock. The rows
-- index the chunks; the encoded records themselves are appended to segment files
-- (`<main file>-logs.d/NNNNNNNN.seg`, src/store/sqlite/segments.rs), which a history
-- read takes in large reads. The table is the one 0002_log_chunks.sql of the main
-- database defined, plus where the records are; that table's rows move here once,
-- records included (src/store/sqlite/logs.rs).
--
-- A chunk covers the seqs first_seq..=last_seq with no hole, its records in the binary
-- format of src/logs/chunk.rs. A "gap row" (gap = 1, no records, bytes = 0) stands for
-- records that were dropped past the per-execution cap (--log-max-bytes): readers
-- report it as a Gap, never hide it.

CREATE TABLE log_chunks (
    execution_id TEXT    NOT NULL,
    first_seq    INTEGER NOT NULL,
    job_id       TEXT    NOT NULL,
    last_seq     INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,                  -- data bytes of the records (0 for a gap row)
    gap          INTEGER NOT NULL DEFAULT 0,        -- 1: records dropped past the cap
    records      BLOB    NOT NULL,                  -- encoded records moved from the main database, else empty
    segment      INTEGER,                           -- the segment holding the records (NULL: in `records`)
    seg_offset   INTEGER,                           -- their offset in it
    seg_len      INTEGER,                           -- their length
    PRIMARY KEY (execution_id, first_seq),
    CHECK (last_seq >= first_seq),
    CHECK ((segment IS NULL) = (seg_offset IS NULL) AND (segment IS NULL) = (seg_len IS NULL))
);
CREATE INDEX log_chunks_by_last ON log_chunks (execution_id, last_seq);
CREATE INDEX log_chunks_by_job ON log_chunks (job_id);
