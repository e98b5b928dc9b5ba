-- Security incidents (安全事件, R-34): a record from the report through the response, the
-- report to the supervisor, the end of the response and the supplementary report due
-- within 15 days after it (XY 36), to closing with lessons learnt. Keep in step with
-- ../platform-postgres/0005_incidents.sql: both backends pass one contract suite. Times
-- are Unix seconds (UTC).

CREATE TABLE incidents (
    id                     INTEGER PRIMARY KEY,
    title                  TEXT NOT NULL,
    grade                  TEXT NOT NULL CHECK (grade IN ('especially_major', 'major', 'larger', 'general')),
    department             TEXT NOT NULL,
    description            TEXT NOT NULL,
    occurred_at            INTEGER NOT NULL,
    handler                TEXT NOT NULL,        -- the responsible person (an account)
    alerts                 TEXT NOT NULL,        -- JSON [alert id]
    audit_refs             TEXT NOT NULL,        -- JSON [request id]
    status                 TEXT NOT NULL CHECK (status IN ('responding', 'response_ended', 'closed')),
    reported_by            TEXT NOT NULL,
    reported_at            INTEGER NOT NULL,
    supervisor_reported_by TEXT,
    supervisor_reported_at INTEGER,
    response_ended_at      INTEGER,
    supplementary_due      INTEGER,
    supplementary_report   TEXT,
    supplementary_by       TEXT,
    supplementary_at       INTEGER,
    lessons                TEXT,
    closed_by              TEXT,
    closed_at              INTEGER,
    CHECK (status = 'responding' OR (response_ended_at IS NOT NULL AND supplementary_due IS NOT NULL)),
    CHECK (status <> 'closed' OR (supplementary_report IS NOT NULL AND lessons IS NOT NULL))
);
CREATE INDEX incidents_due ON incidents (supplementary_due)
    WHERE status = 'response_ended' AND supplementary_report IS NULL;

CREATE TABLE incident_events (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,                   -- reported, note, supervisor_reported, response_ended, supplementary, closed
    note        TEXT NOT NULL
);
CREATE INDEX incident_events_of ON incident_events (incident_id, id);
