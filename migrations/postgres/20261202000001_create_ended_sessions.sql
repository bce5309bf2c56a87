-- Sessions the server ended on its own, so that their owner can be told why
-- (see the SQLite migration of the same name).
CREATE TABLE ended_sessions (
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device       TEXT   NOT NULL,
    client       TEXT   NOT NULL,
    signed_in_at BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    ended_at     BIGINT NOT NULL,
    reason       TEXT   NOT NULL
);
CREATE INDEX ended_sessions_user ON ended_sessions (user_id, ended_at);
