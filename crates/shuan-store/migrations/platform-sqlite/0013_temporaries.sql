-- Temporary data (临时数据, R-27): files the platform made that expire, each with the
-- destruction filed for it once expired. Keep in step with
-- ../platform-postgres/0013_temporaries.sql. Times are Unix seconds (UTC).

CREATE TABLE temporaries (
    id             INTEGER PRIMARY KEY,
    node           TEXT NOT NULL,
    path           TEXT NOT NULL,
    department     TEXT NOT NULL REFERENCES departments (code),
    origin_kind    TEXT NOT NULL,
    origin_id      INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    destruction_id INTEGER REFERENCES destructions (id)
);
CREATE INDEX temporaries_expiry ON temporaries (expires_at);
