-- Governance records (数据治理): destructions (数据销毁, R-26) from request through the chief
-- data officer's approval to execution and certificate, and legal holds (法律保全) that keep
-- data from destruction. Keep in step with ../platform-postgres/0004_governance.sql: both
-- backends pass one contract suite. Times are Unix seconds (UTC).
--
-- A target (`target_key`: `key:mask/v2`, `table:SOURCE/TABLE`, `rows:SOURCE/TABLE?SM3`) has
-- at most one live destruction — pending, approved, executing or executed — so of two
-- nodes accepting the same request one files it, and what is destroyed is not destroyed
-- twice. A rejected or failed one may be asked again.

CREATE TABLE destructions (
    id            INTEGER PRIMARY KEY,
    target        TEXT NOT NULL,                 -- JSON, as requested
    target_key    TEXT NOT NULL,
    hold_keys     TEXT NOT NULL,                 -- JSON [hold key], the scopes containing it
    department    TEXT,                          -- whose data (none for a key)
    label         TEXT NOT NULL,                 -- the target in Chinese
    method        TEXT NOT NULL,                 -- crypto_shred, delete_rows, drop_table
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'executing', 'executed', 'failed')),
    requested_by  TEXT NOT NULL,
    requested_at  INTEGER NOT NULL,
    matched       INTEGER,                       -- rows matching when requested
    decided_by    TEXT,
    decided_at    INTEGER,
    decision_note TEXT,
    executed_by   TEXT,
    executed_at   INTEGER,
    outcome       TEXT,                          -- JSON: what was and was not destroyed, the check
    certificate   TEXT,                          -- the signed certificate (executed only)
    CHECK (status <> 'rejected' OR (decision_note IS NOT NULL AND decision_note <> '')),
    CHECK (status <> 'executed' OR certificate IS NOT NULL),
    CHECK (decided_by IS NULL OR decided_by <> requested_by)
);
CREATE UNIQUE INDEX destructions_live ON destructions (target_key)
    WHERE status IN ('pending', 'approved', 'executing', 'executed');
CREATE INDEX destructions_by_status ON destructions (status, requested_at);

CREATE TABLE legal_holds (
    id           INTEGER PRIMARY KEY,
    hold_key     TEXT NOT NULL,                  -- key:ID, key:ID/vN, source:NAME, table:NAME/TABLE
    scope        TEXT NOT NULL,                  -- JSON, as placed
    label        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    placed_by    TEXT NOT NULL,
    placed_at    INTEGER NOT NULL,
    released_by  TEXT,
    released_at  INTEGER,
    release_note TEXT,
    CHECK (released_at IS NULL OR (release_note IS NOT NULL AND release_note <> ''))
);
CREATE INDEX legal_holds_active ON legal_holds (hold_key) WHERE released_at IS NULL;
