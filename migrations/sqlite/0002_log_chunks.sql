-- Persisted execution logs: sealed chunks of consecutive records, in one seq space per
-- execution (seq counts from 0 over stdout and stderr together).
--
-- A chunk covers the seqs first_seq..=last_seq with no hole. `records` holds them in the
-- binary format of src/logs/chunk.rs (version byte 1, then per record: time_ns i64 LE,
-- stream u8 (1 stdout, 2 stderr), length u32 LE, data). A "gap row" (gap = 1, empty
-- `records`, bytes = 0) stands for records that were dropped past the per-execution cap
-- (--log-max-bytes): readers report it as a Gap, never hide it.

CREATE TABLE log_chunks (
    execution_id TEXT    NOT NULL,
    first_seq    INTEGER NOT NULL,
    job_id       TEXT    NOT NULL,
    last_seq     INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,                  -- data bytes of the records (0 for a gap row)
    gap          INTEGER NOT NULL DEFAULT 0,        -- 1: records dropped past the cap
    records      BLOB    NOT NULL,                  -- encoded records (empty for a gap row)
    PRIMARY KEY (execution_id, first_seq),
    CHECK (last_seq >= first_seq)
);
CREATE INDEX log_chunks_by_last ON log_chunks (execution_id, last_seq);
CREATE INDEX log_chunks_by_job ON log_chunks (job_id);
