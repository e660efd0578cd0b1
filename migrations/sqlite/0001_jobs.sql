-- Jobs, their executions and their history. Times are unix nanoseconds.

CREATE TABLE jobs (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT, -- submit order
    id          TEXT    NOT NULL UNIQUE,
    client_id   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    job         TEXT    NOT NULL,                  -- the Job as returned by submit (JSON)
    state       TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    timeout_at  INTEGER                             -- NULL until started with a timeout
);
CREATE INDEX jobs_by_client ON jobs (client_id, created_at);
CREATE INDEX jobs_by_created ON jobs (created_at);
CREATE INDEX jobs_unfinished ON jobs (state) WHERE state IN ('New', 'Queued', 'InProgress');

CREATE TABLE executions (
    id          TEXT    PRIMARY KEY,                -- e-<uuid>
    job_id      TEXT    NOT NULL REFERENCES jobs (id),
    ordinal     INTEGER NOT NULL,                   -- position in JobState.Executions
    state       TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT    NOT NULL,                   -- the ExecutionState (JSON)
    UNIQUE (job_id, ordinal)
);

CREATE TABLE job_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      TEXT    NOT NULL REFERENCES jobs (id),
    level       TEXT    NOT NULL,                   -- JobLevel | ExecutionLevel
    time        INTEGER NOT NULL,
    body        TEXT    NOT NULL                    -- the JobHistory record (JSON)
);
CREATE INDEX job_history_by_job ON job_history (job_id, id);

-- Freshness: (client, nonce) pairs seen within the window, and the job a submit made.
CREATE TABLE nonces (
    client_id   TEXT    NOT NULL,
    nonce       TEXT    NOT NULL,
    job_id      TEXT,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (client_id, nonce)
);
CREATE INDEX nonces_by_expiry ON nonces (expires_at);
