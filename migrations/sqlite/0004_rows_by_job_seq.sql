-- Executions and history rows are keyed by their job's seq (its submit order) rather than
-- by its random UUID: the rows written for the jobs in flight then share a few pages at
-- the end of each index instead of dirtying one random page per row, which is most of
-- what every commit writes to the WAL.

CREATE TABLE executions_by_seq (
    job_seq     INTEGER NOT NULL REFERENCES jobs (seq),
    ordinal     INTEGER NOT NULL,                   -- position in JobState.Executions
    id          TEXT    NOT NULL,                   -- e-<uuid>
    state       TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT    NOT NULL,                   -- the ExecutionState (JSON)
    PRIMARY KEY (job_seq, ordinal)
);
INSERT INTO executions_by_seq (job_seq, ordinal, id, state, version, body)
    SELECT j.seq, e.ordinal, e.id, e.state, e.version, e.body
    FROM executions e JOIN jobs j ON j.id = e.job_id;
DROP TABLE executions;
ALTER TABLE executions_by_seq RENAME TO executions;

CREATE TABLE job_history_by_seq (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_seq     INTEGER NOT NULL REFERENCES jobs (seq),
    level       TEXT    NOT NULL,                   -- JobLevel | ExecutionLevel
    time        INTEGER NOT NULL,
    body        TEXT    NOT NULL                    -- the JobHistory record (JSON)
);
INSERT INTO job_history_by_seq (id, job_seq, level, time, body)
    SELECT h.id, j.seq, h.level, h.time, h.body
    FROM job_history h JOIN jobs j ON j.id = h.job_id;
DROP TABLE job_history;
ALTER TABLE job_history_by_seq RENAME TO job_history;
CREATE INDEX job_history_by_job ON job_history (job_seq, id);
