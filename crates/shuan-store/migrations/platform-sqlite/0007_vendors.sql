-- Vendors and outsourcing (外包服务商, R-32): the vendor, its contracts with their data
-- security clauses, the data it holds that must be returned or destroyed at the end, and
-- the vendor accounts of its personnel, disabled when the contract ends. Keep in step with
-- ../platform-postgres/0007_vendors.sql. Times are Unix seconds (UTC).

CREATE TABLE vendors (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    credit_code TEXT NOT NULL,                   -- 统一社会信用代码
    contact     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE vendor_contracts (
    id                INTEGER PRIMARY KEY,
    vendor_id         INTEGER NOT NULL REFERENCES vendors (id),
    number            TEXT NOT NULL UNIQUE,      -- 合同编号
    department        TEXT NOT NULL,             -- the contracting department
    scope             TEXT NOT NULL,             -- 服务内容
    data_clauses      TEXT NOT NULL,             -- 数据安全条款
    data_items        TEXT NOT NULL,             -- JSON [text]: data to return or destroy at the end
    personnel         TEXT NOT NULL,             -- JSON [username]: the vendor's accounts
    starts_at         INTEGER NOT NULL,
    ends_at           INTEGER NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('active', 'ended')),
    ended_at          INTEGER,
    disabled_accounts TEXT,                      -- JSON [username] disabled when it ended
    created_by        TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (status = 'active' OR ended_at IS NOT NULL)
);
CREATE INDEX vendor_contracts_due ON vendor_contracts (ends_at) WHERE status = 'active';
