-- Data quality (数据质量, R-07): rule sets on a registered source's table, run on demand
-- or every `interval_hours` (the node that moves `next_run_at` on first runs it: one run
-- per due time on several nodes), and each run's counts with masked samples. Keep in step
-- with ../platform-postgres/0008_quality.sql. Times are Unix seconds (UTC).

CREATE TABLE quality_rule_sets (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    source_id      INTEGER NOT NULL REFERENCES share_sources (id),
    table_locator  TEXT NOT NULL,                -- the catalogue's locator of the table
    department     TEXT NOT NULL,                -- the source's department
    key_column     TEXT,                         -- samples are keyed by it
    rules          TEXT NOT NULL,                -- JSON [rule]
    interval_hours INTEGER CHECK (interval_hours IS NULL OR interval_hours > 0),
    next_run_at    INTEGER,                      -- NULL: on demand only
    created_by     TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX quality_rule_sets_due ON quality_rule_sets (next_run_at)
    WHERE next_run_at IS NOT NULL;

CREATE TABLE quality_runs (
    id           INTEGER PRIMARY KEY,
    rule_set_id  INTEGER NOT NULL REFERENCES quality_rule_sets (id),
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('passed', 'violations', 'failed')),
    rows_checked INTEGER NOT NULL,
    violations   INTEGER NOT NULL,
    report       TEXT,                           -- JSON: per rule, counts and masked samples
    error        TEXT,                           -- why a failed run failed
    run_by       TEXT NOT NULL,                  -- an account, or "scheduler"
    alert_id     INTEGER                         -- the alert the violations raised
);
CREATE INDEX quality_runs_by_set ON quality_runs (rule_set_id, id);
