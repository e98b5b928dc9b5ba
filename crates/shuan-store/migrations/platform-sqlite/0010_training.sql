-- Security training (安全培训, R-36): sessions with their attendees and each attendee's
-- evaluation (考核), so that who has not passed a training within the year can be listed.
-- Keep in step with ../platform-postgres/0010_training.sql. Times are Unix seconds (UTC).

CREATE TABLE training_sessions (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    topic      TEXT NOT NULL,
    department TEXT NOT NULL REFERENCES departments (code),
    held_at    INTEGER NOT NULL,
    trainer    TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX training_sessions_held ON training_sessions (held_at);

CREATE TABLE training_attendance (
    session_id INTEGER NOT NULL REFERENCES training_sessions (id),
    username   TEXT NOT NULL REFERENCES users (username),
    score      INTEGER CHECK (score IS NULL OR (score >= 0 AND score <= 100)),
    passed     INTEGER NOT NULL CHECK (passed IN (0, 1)),
    PRIMARY KEY (session_id, username)
);
CREATE INDEX training_attendance_by_user ON training_attendance (username);
