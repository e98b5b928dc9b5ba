-- Complaints and reports of violations (投诉举报, R-37). The reporter's identity is sealed
-- by the server (SM4-GCM under the keyring's platform key) before it reaches the store;
-- only the assigned handler may have it opened, and the server records every attempt.
-- Keep in step with ../platform-postgres/0006_complaints.sql. Times are Unix seconds (UTC).

CREATE TABLE complaints (
    id              INTEGER PRIMARY KEY,
    department      TEXT NOT NULL,               -- the department complained about
    subject         TEXT NOT NULL,               -- 事由
    details         TEXT NOT NULL,
    channel         TEXT NOT NULL,               -- hotline, letter, email, web, visit
    reporter_sealed BLOB,                        -- NULL: anonymous
    seal_account    TEXT NOT NULL,               -- what the seal is bound to
    status          TEXT NOT NULL CHECK (status IN ('received', 'assigned', 'handled')),
    received_by     TEXT NOT NULL,
    received_at     INTEGER NOT NULL,
    handler         TEXT,
    assigned_by     TEXT,
    assigned_at     INTEGER,
    result          TEXT,
    handled_at      INTEGER,
    CHECK (status = 'received' OR handler IS NOT NULL),
    CHECK (status <> 'handled' OR (result IS NOT NULL AND result <> ''))
);
CREATE UNIQUE INDEX complaints_seal ON complaints (seal_account);
