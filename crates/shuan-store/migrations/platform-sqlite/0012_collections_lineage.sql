-- The collection register (数据采集登记, R-04) with its compliance reviews, and lineage
-- (溯源, R-06): derivations with their input datasets. Keep in step with
-- ../platform-postgres/0012_collections_lineage.sql. Times are Unix seconds (UTC).

CREATE TABLE collections (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL,
    department           TEXT NOT NULL REFERENCES departments (code),
    purpose              TEXT NOT NULL,
    use_for              TEXT NOT NULL,
    legal_basis          TEXT NOT NULL,
    channel              TEXT NOT NULL,
    process              TEXT NOT NULL,
    format               TEXT NOT NULL,
    frequency            TEXT NOT NULL,
    owner                TEXT NOT NULL REFERENCES users (username),
    review_interval_days INTEGER NOT NULL CHECK (review_interval_days > 0),
    next_review_at       INTEGER NOT NULL,
    stopped              INTEGER NOT NULL CHECK (stopped IN (0, 1)),
    created_by           TEXT NOT NULL,
    created_at           INTEGER NOT NULL
);

CREATE TABLE collection_fields (
    collection_id INTEGER NOT NULL REFERENCES collections (id),
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    data_type     TEXT,
    source        TEXT,
    table_name    TEXT,
    column_name   TEXT,
    PRIMARY KEY (collection_id, position)
);

CREATE TABLE collection_reviews (
    id            INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections (id),
    reviewed_at   INTEGER NOT NULL,
    reviewer      TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('continue', 'modify', 'stop')),
    note          TEXT NOT NULL
);
CREATE INDEX collection_reviews_by_collection ON collection_reviews (collection_id);

CREATE TABLE derivations (
    id          INTEGER PRIMARY KEY,
    operation   TEXT NOT NULL,
    output      TEXT NOT NULL,
    department  TEXT,
    parameters  TEXT NOT NULL,
    automatic   INTEGER NOT NULL CHECK (automatic IN (0, 1)),
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX derivations_by_output ON derivations (output);
CREATE INDEX derivations_recorded ON derivations (recorded_at);

CREATE TABLE derivation_inputs (
    derivation_id INTEGER NOT NULL REFERENCES derivations (id),
    position      INTEGER NOT NULL,
    dataset       TEXT NOT NULL,
    PRIMARY KEY (derivation_id, position)
);
CREATE INDEX derivation_inputs_by_dataset ON derivation_inputs (dataset);
