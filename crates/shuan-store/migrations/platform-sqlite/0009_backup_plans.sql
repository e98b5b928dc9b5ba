-- Backup plans and restore drills (备份与恢复演练, R-10): a plan backs the node up every
-- `backup_interval_hours`, keeps the newest `retention` archives and drills a restore of
-- the newest every `drill_interval_hours`; each due time is claimed by compare-and-set so
-- it runs once across nodes. An archive lives on the node that made it (`node`); a drill
-- runs there. Keep in step with ../platform-postgres/0009_backup_plans.sql. Times are
-- Unix seconds (UTC).

CREATE TABLE backup_plans (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT NOT NULL UNIQUE,
    backup_interval_hours INTEGER NOT NULL CHECK (backup_interval_hours > 0),
    retention             INTEGER NOT NULL CHECK (retention > 0),
    drill_interval_hours  INTEGER NOT NULL CHECK (drill_interval_hours > 0),
    next_backup_at        INTEGER NOT NULL,
    next_drill_at         INTEGER NOT NULL,
    created_by            TEXT NOT NULL,
    created_at            INTEGER NOT NULL
);

CREATE TABLE plan_backups (
    id          INTEGER PRIMARY KEY,
    plan_id     INTEGER NOT NULL REFERENCES backup_plans (id),
    node        TEXT NOT NULL,                   -- the node whose data directory holds it
    archive     TEXT NOT NULL,                   -- its path on that node
    created_at  INTEGER NOT NULL,
    archive_sm3 TEXT NOT NULL,
    files       INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    pruned_at   INTEGER                          -- removed by the plan's retention
);
CREATE INDEX plan_backups_by_plan ON plan_backups (plan_id, id);

CREATE TABLE restore_drills (
    id           INTEGER PRIMARY KEY,
    plan_id      INTEGER REFERENCES backup_plans (id),
    node         TEXT NOT NULL,
    archive      TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('passed', 'failed')),
    files        INTEGER,
    file_bytes   INTEGER,
    tree_sm3     TEXT,                           -- content digest of the restored tree
    archive_sm3  TEXT,
    error        TEXT,
    run_by       TEXT NOT NULL,                  -- an account, or "scheduler"
    alert_id     INTEGER
);
CREATE INDEX restore_drills_by_plan ON restore_drills (plan_id, id);
