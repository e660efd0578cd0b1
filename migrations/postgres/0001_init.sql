-- The PostgreSQL schema: the same tables as the SQLite side after its migration 0004.
-- Times are unix nanoseconds (BIGINT). Ids compare byte-wise (COLLATE "C"), as SQLite's
-- BINARY collation does, so id prefixes and id ordering behave the same on both.

CREATE TABLE jobs (
    seq         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- submit order
    id          TEXT    COLLATE "C" NOT NULL UNIQUE,
    client_id   TEXT    COLLATE "C" NOT NULL,
    created_at  BIGINT  NOT NULL,
    job         TEXT    NOT NULL,                  -- the Job as returned by submit (JSON)
    state       TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    update_time BIGINT  NOT NULL,
    timeout_at  BIGINT                             -- NULL until started with a timeout
);
CREATE INDEX jobs_by_client ON jobs (client_id, created_at);
CREATE INDEX jobs_by_created ON jobs (created_at);
CREATE INDEX jobs_unfinished ON jobs (state) WHERE state IN ('New', 'Queued', 'InProgress');

CREATE TABLE executions (
    job_seq     BIGINT  NOT NULL REFERENCES jobs (seq),
    ordinal     BIGINT  NOT NULL,                  -- position in JobState.Executions
    id          TEXT    COLLATE "C" NOT NULL,      -- e-<uuid>
    state       TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    body        TEXT    NOT NULL,                  -- the ExecutionState (JSON)
    PRIMARY KEY (job_seq, ordinal)
);

CREATE TABLE job_history (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_seq     BIGINT  NOT NULL REFERENCES jobs (seq),
    level       TEXT    NOT NULL,                  -- JobLevel | ExecutionLevel
    time        BIGINT  NOT NULL,
    body        TEXT    NOT NULL                   -- the JobHistory record (JSON)
);
CREATE INDEX job_history_by_job ON job_history (job_seq, id);

-- Freshness: (client, nonce) pairs seen within the window, the route that used each and
-- the job it created or acted on.
CREATE TABLE nonces (
    client_id   TEXT    COLLATE "C" NOT NULL,
    nonce       TEXT    COLLATE "C" NOT NULL,
    job_id      TEXT    COLLATE "C",
    expires_at  BIGINT  NOT NULL,
    route       TEXT    NOT NULL DEFAULT 'submit',
    PRIMARY KEY (client_id, nonce)
);
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

-- Persisted execution logs: sealed chunks of consecutive records (see the SQLite side's
-- 0002 for the encoding of `records`); a gap row stands for records dropped past the cap.
CREATE TABLE log_chunks (
    execution_id TEXT    COLLATE "C" NOT NULL,
    first_seq    BIGINT  NOT NULL,
    job_id       TEXT    COLLATE "C" NOT NULL,
    last_seq     BIGINT  NOT NULL,
    bytes        BIGINT  NOT NULL,
    gap          BOOLEAN NOT NULL DEFAULT false,
    records      BYTEA   NOT NULL,
    PRIMARY KEY (execution_id, first_seq),
    CHECK (last_seq >= first_seq)
);
CREATE INDEX log_chunks_by_last ON log_chunks (execution_id, last_seq);
CREATE INDEX log_chunks_by_job ON log_chunks (job_id);
-- Chunks are read back whole and in order: keep them out of line but uncompressed, so a
-- catch-up reads them without decompressing.
ALTER TABLE log_chunks ALTER COLUMN records SET STORAGE EXTERNAL;
