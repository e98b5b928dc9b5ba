-- The platform's records (平台记录) for one node: departments, accounts, grants, sessions,
-- API keys, failed sign-ins, settings, policies, elevations, jobs and the audit copy.
-- Keep in step with ../platform-postgres/0001_platform.sql: both backends pass one
-- contract suite. Times are Unix seconds (UTC). No password, TOTP seed or API key is ever
-- stored in clear: only hashes and ciphertexts.

CREATE TABLE departments (
    code       TEXT PRIMARY KEY,                        -- 机构代码
    name       TEXT NOT NULL,
    parent     TEXT REFERENCES departments (code),      -- NULL for a root
    created_at INTEGER NOT NULL
);
CREATE INDEX departments_by_parent ON departments (parent);

CREATE TABLE users (
    username             TEXT PRIMARY KEY,
    display_name         TEXT NOT NULL,
    department           TEXT NOT NULL REFERENCES departments (code),
    vendor               INTEGER NOT NULL,
    contract_end         TEXT,                          -- YYYY-MM-DD, vendors
    password_hash        TEXT NOT NULL,                 -- argon2id PHC
    password_changed_at  INTEGER NOT NULL,
    must_change_password INTEGER NOT NULL,
    totp_secret_enc      BLOB,                          -- NULL: no TOTP
    totp_confirmed       INTEGER NOT NULL DEFAULT 0,
    -- The last accepted TOTP step. Kept across re-enrolment and reset so that a code seen
    -- once can never be accepted again.
    totp_last_step       INTEGER,
    disabled             INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    last_login_at        INTEGER
);
CREATE INDEX users_by_department ON users (department);

CREATE TABLE password_history (
    id            INTEGER PRIMARY KEY,                  -- higher is newer
    username      TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    replaced_at   INTEGER NOT NULL
);
CREATE INDEX password_history_by_user ON password_history (username, id);

CREATE TABLE grants (
    id         INTEGER PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    role       TEXT NOT NULL,                           -- shuan_access::Role id
    department TEXT NOT NULL REFERENCES departments (code),
    scope      TEXT NOT NULL,                           -- DataScope as JSON (sets sorted)
    granted_by TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    UNIQUE (username, role, department, scope)
);
CREATE INDEX grants_by_department ON grants (department);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,                      -- SM3 of the bearer token, hex
    id           TEXT NOT NULL UNIQUE,                  -- public id
    username     TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    address      TEXT NOT NULL,
    user_agent   TEXT,
    restricted   INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (username);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- No foreign key: failures of names that do not exist are counted too. A good sign-in or
-- an unlock clears an account's count but not its address's: otherwise the owner of an
-- attacked account signing in would reset the attacker's address lockout.
CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    address  TEXT NOT NULL,
    at       INTEGER NOT NULL,
    user_cleared INTEGER NOT NULL DEFAULT 0  -- counted for the address only
);
CREATE INDEX login_failures_by_user ON login_failures (username, at) WHERE user_cleared = 0;
CREATE INDEX login_failures_by_address ON login_failures (address, at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    key_hash     TEXT NOT NULL UNIQUE,                  -- SM3 of the whole key, hex
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    department   TEXT NOT NULL REFERENCES departments (code),
    scope        TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_keys_by_department ON api_keys (department);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,                           -- JSON
    updated_at INTEGER NOT NULL
);

CREATE TABLE policies (
    id          TEXT PRIMARY KEY,
    text        TEXT NOT NULL,                          -- Cedar
    description TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One row; bumped in the transaction that adds or removes a policy, so every node sees
-- the policies move by polling one number.
CREATE TABLE policy_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO policy_generation (id, generation) VALUES (1, 0);

CREATE TABLE elevations (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    department      TEXT NOT NULL,
    scope           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    duration_secs   INTEGER NOT NULL,
    requested_at    INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by      TEXT,
    decided_at      INTEGER,
    decision_note   TEXT,
    expires_at      INTEGER
);
CREATE INDEX elevations_by_user ON elevations (username, status, expires_at);
CREATE INDEX elevations_by_status ON elevations (status, id);

CREATE TABLE jobs (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    owner      TEXT NOT NULL,
    department TEXT NOT NULL,
    status     TEXT NOT NULL,
    progress   REAL,
    params     TEXT NOT NULL,                           -- JSON, no secrets
    result     TEXT,                                    -- JSON
    error      TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_by_owner ON jobs (owner, id);

-- Every node's audit records. (node, seq) makes copying idempotent; request_id is taken
-- out of the record's JSON when copied, so searching by it uses an index.
CREATE TABLE audit_mirror (
    node        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    time        INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    request_id  TEXT,
    record_json TEXT NOT NULL,
    PRIMARY KEY (node, seq)
);
CREATE INDEX audit_mirror_by_time ON audit_mirror (time, node, seq);
CREATE INDEX audit_mirror_by_node_time ON audit_mirror (node, time);
CREATE INDEX audit_mirror_by_actor ON audit_mirror (actor, time);
CREATE INDEX audit_mirror_by_action ON audit_mirror (action, time);
CREATE INDEX audit_mirror_by_request ON audit_mirror (request_id);

CREATE TABLE audit_checkpoints (
    node            TEXT NOT NULL,
    size            INTEGER NOT NULL,
    checkpoint_json TEXT NOT NULL,
    PRIMARY KEY (node, size)
);
