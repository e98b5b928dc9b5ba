-- The asset inventory (数据资产清单, R-01): one row per scan of a source, per table seen in
-- that scan and per column graded. Only names, types, levels and counts are kept — never a
-- scanned value.

CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,            -- display name, password removed
    profile     TEXT NOT NULL,            -- grading profile name
    sample_size INTEGER NOT NULL,         -- values sampled per column
    scanned_at  TEXT NOT NULL             -- UTC, RFC 3339
        DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX scans_by_source ON scans (source, id);

CREATE TABLE scanned_tables (
    id           INTEGER PRIMARY KEY,
    scan_id      INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    rows_scanned INTEGER NOT NULL,
    row_count    INTEGER,                 -- NULL when the source cannot tell cheaply
    level        TEXT NOT NULL,
    level_rank   INTEGER NOT NULL,
    catalogue    INTEGER NOT NULL,        -- 1: belongs in the important-data catalogue (R-03)
    reason       TEXT NOT NULL,
    UNIQUE (scan_id, name)
);

CREATE TABLE scanned_columns (
    id             INTEGER PRIMARY KEY,
    table_id       INTEGER NOT NULL REFERENCES scanned_tables (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    name           TEXT NOT NULL,
    declared_type  TEXT,
    data_type      TEXT,                  -- detector id, NULL when nothing sensitive
    label          TEXT,
    category       TEXT,
    level          TEXT NOT NULL,
    level_rank     INTEGER NOT NULL,
    confidence     REAL NOT NULL,
    reason         TEXT NOT NULL,
    values_seen    INTEGER NOT NULL,
    values_matched INTEGER NOT NULL
);
CREATE INDEX scanned_columns_by_table ON scanned_columns (table_id, position);
