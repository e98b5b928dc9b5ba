-- Risk assessments (风险评估, R-33), emergency plans and drills (应急预案、应急演练, R-34),
-- and the rectification items (整改事项) both raise. An item's origin is an assessment
-- or a drill (origin_kind, origin_id). Keep in step with
-- ../platform-postgres/0011_risk_emergency.sql. Times are Unix seconds (UTC).

CREATE TABLE risk_assessments (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    scope       TEXT NOT NULL,
    department  TEXT NOT NULL REFERENCES departments (code),
    assessor    TEXT NOT NULL,
    assessed_at INTEGER NOT NULL,
    conclusion  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX risk_assessments_assessed ON risk_assessments (assessed_at);

CREATE TABLE emergency_plans (
    id                  INTEGER PRIMARY KEY,
    title               TEXT NOT NULL,
    scope               TEXT NOT NULL,
    department          TEXT NOT NULL REFERENCES departments (code),
    version             TEXT NOT NULL,
    summary             TEXT NOT NULL,
    drill_interval_days INTEGER NOT NULL CHECK (drill_interval_days > 0),
    adopted_at          INTEGER NOT NULL,
    created_by          TEXT NOT NULL,
    created_at          INTEGER NOT NULL
);

CREATE TABLE emergency_drills (
    id           INTEGER PRIMARY KEY,
    plan_id      INTEGER NOT NULL REFERENCES emergency_plans (id),
    held_at      INTEGER NOT NULL,
    scenario     TEXT NOT NULL,
    form         TEXT NOT NULL CHECK (form IN ('tabletop', 'live')),
    participants TEXT NOT NULL,
    evaluation   TEXT NOT NULL,
    lessons      TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX emergency_drills_by_plan ON emergency_drills (plan_id, held_at);

CREATE TABLE rectifications (
    id          INTEGER PRIMARY KEY,
    origin_kind TEXT NOT NULL CHECK (origin_kind IN ('risk_assessment', 'emergency_drill')),
    origin_id   INTEGER NOT NULL,
    department  TEXT NOT NULL REFERENCES departments (code),
    finding     TEXT NOT NULL,
    severity    TEXT NOT NULL CHECK (severity IN ('high', 'medium', 'low')),
    owner       TEXT NOT NULL REFERENCES users (username),
    due_at      INTEGER NOT NULL,
    closed_at   INTEGER,
    closed_by   TEXT,
    evidence    TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX rectifications_by_origin ON rectifications (origin_kind, origin_id);
CREATE INDEX rectifications_due ON rectifications (due_at);
