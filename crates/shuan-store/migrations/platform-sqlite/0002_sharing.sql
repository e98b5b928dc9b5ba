-- Data sharing (数据共享, issue 12): registered data sources, the resource catalogue
-- (政务数据资源目录), share requests and each approval step, agreements (共享协议), data
-- services (数据服务) and per-agreement usage counts. Keep in step with
-- ../platform-postgres/0002_sharing.sql: both backends pass one contract suite. Times are
-- Unix seconds (UTC). A source's connection URL is stored only sealed (SM4-GCM under the
-- keyring's platform-secrets key); `display` is the URL without its password.

CREATE TABLE share_sources (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    department TEXT NOT NULL REFERENCES departments (code),   -- 提供方
    kind       TEXT NOT NULL,                                 -- postgres, mysql, sqlite, file
    display    TEXT NOT NULL,                                 -- no password
    url_sealed BLOB NOT NULL,
    profile    TEXT NOT NULL,                                 -- grading profile of its scan
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    scanned_at INTEGER
);
CREATE INDEX share_sources_by_department ON share_sources (department);

-- One entry per dataset (资源). 共享条件 is required for 有条件共享 and the legal basis
-- (依据) for 不予共享: the database refuses an entry without them.
CREATE TABLE catalogue_entries (
    code             TEXT PRIMARY KEY,                        -- 资源代码
    source_id        INTEGER NOT NULL REFERENCES share_sources (id),
    locator          TEXT NOT NULL,                           -- the table as the source names it
    name             TEXT NOT NULL,                           -- table name
    title            TEXT NOT NULL,                           -- 资源名称
    department       TEXT NOT NULL REFERENCES departments (code),
    summary          TEXT NOT NULL,                           -- 摘要
    format           TEXT NOT NULL,                           -- 格式分类
    fields           TEXT NOT NULL,                           -- JSON: name, types, levels
    profile          TEXT NOT NULL,
    level            TEXT NOT NULL,                           -- 数据分级
    level_rank       INTEGER NOT NULL,
    important        INTEGER NOT NULL,                        -- in the important-data catalogue
    personal         INTEGER NOT NULL,                        -- holds personal information
    share_type       TEXT NOT NULL CHECK (share_type IN ('unconditional', 'conditional', 'none')),
    share_conditions TEXT,
    share_basis      TEXT,
    open_type        TEXT NOT NULL CHECK (open_type IN ('unconditional', 'conditional', 'none')),
    open_conditions  TEXT,
    share_method     TEXT NOT NULL,                           -- 共享方式
    update_cycle     TEXT NOT NULL,                           -- 更新周期
    row_count        INTEGER,
    published_at     INTEGER NOT NULL,                         -- 发布日期
    updated_at       INTEGER NOT NULL,
    updated_by       TEXT NOT NULL,
    version          INTEGER NOT NULL,
    UNIQUE (source_id, locator),
    CHECK (share_type <> 'conditional' OR share_conditions IS NOT NULL),
    CHECK (share_type <> 'none' OR share_basis IS NOT NULL)
);
CREATE INDEX catalogue_entries_by_department ON catalogue_entries (department);

CREATE TABLE share_requests (
    id           INTEGER PRIMARY KEY,
    resource     TEXT NOT NULL REFERENCES catalogue_entries (code),
    requester    TEXT NOT NULL,
    department   TEXT NOT NULL,                               -- the requesting department
    provider     TEXT NOT NULL,
    fields       TEXT NOT NULL,                               -- JSON array
    row_filter   TEXT NOT NULL,                               -- JSON, null for none
    purpose      TEXT NOT NULL,                               -- 用途
    scenario     TEXT NOT NULL,                               -- 应用场景 (masking scenario)
    basis        TEXT NOT NULL,                               -- 履职依据
    safeguards   TEXT,
    valid_days   INTEGER NOT NULL,
    steps        TEXT NOT NULL,                               -- JSON array of step names
    next_step    INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'refused')),
    created_at   INTEGER NOT NULL,
    deadline     INTEGER,                                      -- answer due (working days)
    decided_at   INTEGER,
    reason       TEXT,                                        -- a refusal's reason
    agreement_id INTEGER,
    CHECK (status NOT IN ('rejected', 'refused') OR reason IS NOT NULL)
);
CREATE INDEX share_requests_by_requester ON share_requests (requester, id);
CREATE INDEX share_requests_by_status ON share_requests (status, deadline);

-- Each decision of each step. One row per (request, step): of two approvers deciding the
-- same step at once, one wins.
CREATE TABLE share_approvals (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES share_requests (id),
    step       TEXT NOT NULL,
    approver   TEXT NOT NULL,
    approve    INTEGER NOT NULL,
    comment    TEXT,
    at         INTEGER NOT NULL,
    UNIQUE (request_id, step)
);

-- 共享协议: in force on [valid_from, valid_until); `status` active, suspended or revoked
-- (revocation is final).
CREATE TABLE share_agreements (
    id             INTEGER PRIMARY KEY,
    request_id     INTEGER NOT NULL UNIQUE REFERENCES share_requests (id),
    resource       TEXT NOT NULL REFERENCES catalogue_entries (code),
    provider       TEXT NOT NULL,
    recipient      TEXT NOT NULL,
    requester      TEXT NOT NULL,
    fields         TEXT NOT NULL,
    row_filter     TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    scenario       TEXT NOT NULL,
    basis          TEXT NOT NULL,
    method         TEXT NOT NULL,
    valid_from     INTEGER NOT NULL,
    valid_until    INTEGER NOT NULL,
    rate_per_minute INTEGER NOT NULL,
    rows_per_day   INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    status_by      TEXT,
    status_at      INTEGER,
    status_reason  TEXT,
    created_at     INTEGER NOT NULL,
    CHECK (valid_from < valid_until)
);
CREATE INDEX share_agreements_by_recipient ON share_agreements (recipient, resource);
CREATE INDEX share_agreements_by_resource ON share_agreements (resource);

-- 数据服务: a provider's interface on one resource; `params` declares every parameter a
-- call may give (JSON).
CREATE TABLE data_services (
    name       TEXT PRIMARY KEY,
    resource   TEXT NOT NULL REFERENCES catalogue_entries (code),
    department TEXT NOT NULL,
    fields     TEXT NOT NULL,
    params     TEXT NOT NULL,
    max_rows   INTEGER NOT NULL,
    timeout_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled   INTEGER NOT NULL
);
CREATE INDEX data_services_by_resource ON data_services (resource);

-- Calls per minute and rows per day of each agreement (rate and volume limits), counted
-- in the transaction that admits a call.
CREATE TABLE share_usage (
    agreement_id INTEGER NOT NULL REFERENCES share_agreements (id),
    kind         TEXT NOT NULL CHECK (kind IN ('minute', 'day')),
    window_start INTEGER NOT NULL,
    calls        INTEGER NOT NULL,
    row_total    INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, kind, window_start)
);
