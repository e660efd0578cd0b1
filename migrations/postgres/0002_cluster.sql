-- The cluster: nodes that share this database, executions placed on them, and the jobs
-- whose executions still wait for a node. Liveness is judged with the database's clock.

CREATE TABLE nodes (
    id          TEXT        COLLATE "C" PRIMARY KEY,
    info        TEXT        NOT NULL,              -- labels, engines, capacity, URL (JSON)
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The node an execution runs on, when that node last renewed its claim, and how many log
-- records it had written then (what a reader misses when the node dies is known).
ALTER TABLE executions ADD COLUMN node_id TEXT COLLATE "C";
ALTER TABLE executions ADD COLUMN lease_at TIMESTAMPTZ;
ALTER TABLE executions ADD COLUMN log_next BIGINT;
CREATE INDEX executions_running_on ON executions (node_id)
    WHERE state NOT IN ('Completed', 'Failed', 'Cancelled', 'AskForBidRejected',
                        'BidRejected', 'ResultRejected');

-- One row per job with executions not yet claimed by a node, in submit order.
-- `placement` is what choosing a node needs (JSON: NodeSelectors, Resources, Concurrency),
-- so a claim reads a few bytes per candidate rather than whole jobs.
CREATE TABLE pending (
    job_seq     BIGINT  PRIMARY KEY REFERENCES jobs (seq),
    engine      TEXT    NOT NULL,
    remaining   INT     NOT NULL CHECK (remaining > 0),
    placement   TEXT    NOT NULL
);

-- Jobs submitted before this migration that never started wait for a node like new ones.
INSERT INTO pending (job_seq, engine, remaining, placement)
SELECT seq,
       COALESCE(spec ->> 'Engine', 'Noop'),
       GREATEST(COALESCE((spec -> 'Deal' ->> 'Concurrency')::int, 1), 1),
       jsonb_build_object('NodeSelectors', COALESCE(spec -> 'NodeSelectors', '[]'::jsonb),
                          'Resources', COALESCE(spec -> 'Resources', '{}'::jsonb),
                          'Concurrency', GREATEST(COALESCE((spec -> 'Deal' ->> 'Concurrency')::int, 1), 1))::text
FROM (SELECT seq, (job::jsonb) -> 'Spec' AS spec FROM jobs WHERE state IN ('New', 'Queued')) AS waiting;
