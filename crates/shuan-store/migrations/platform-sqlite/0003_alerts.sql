-- Misuse alerts (滥用告警, R-19): what shuan-watch raised over the audit stream, and how a
-- security administrator handled each. Keep in step with ../platform-postgres/0003_alerts.sql:
-- both backends pass one contract suite. Times are Unix seconds (UTC). `key` is the
-- engine's `rule:window-start:actor`: unique, so a node replaying recent records after a
-- restart, or two nodes raising the same alert, file it once.

CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY,
    key            TEXT NOT NULL UNIQUE,
    rule           TEXT NOT NULL,                            -- volume_spike, enumeration …
    label          TEXT NOT NULL,                            -- 调用量突增 …
    severity       TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    actor          TEXT NOT NULL,
    department     TEXT,
    window_start   INTEGER NOT NULL,
    window_end     INTEGER NOT NULL,
    fired_at       INTEGER NOT NULL,                         -- the record that fired it
    summary_zh     TEXT NOT NULL,
    summary_en     TEXT NOT NULL,
    evidence       TEXT NOT NULL,                            -- JSON [{node, seq}]
    evidence_count INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'closed')),
    handled_by     TEXT,
    note           TEXT,                                     -- required to close
    updated_at     INTEGER NOT NULL,
    CHECK (status <> 'closed' OR (note IS NOT NULL AND note <> ''))
);
CREATE INDEX alerts_by_time ON alerts (fired_at, id);
CREATE INDEX alerts_by_status ON alerts (status, fired_at);
CREATE INDEX alerts_by_rule ON alerts (rule, fired_at);
