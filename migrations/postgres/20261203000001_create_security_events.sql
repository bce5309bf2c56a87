-- The security activity of each account (see the SQLite migration of the
-- same name).
CREATE TABLE security_events (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at             BIGINT NOT NULL,
    kind           TEXT   NOT NULL,
    device         TEXT   NOT NULL,
    client         TEXT   NOT NULL,
    session_handle TEXT
);
CREATE INDEX security_events_user ON security_events (user_id, id);
CREATE INDEX security_events_at ON security_events (at);
