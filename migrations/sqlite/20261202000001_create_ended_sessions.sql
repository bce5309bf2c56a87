-- Sessions the server ended on its own, so that their owner can be told why:
-- today the least recently active session, ended when a new sign-in passed
-- `session.max_per_user`. Written in the transaction that ends the session;
-- the purge deletes rows older than a month. Only what the account page
-- shows: no session id, no handle.
CREATE TABLE ended_sessions (
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device        TEXT    NOT NULL,
    client        TEXT    NOT NULL,
    signed_in_at  INTEGER NOT NULL,  -- Unix seconds
    last_seen     INTEGER NOT NULL,  -- Unix seconds
    ended_at      INTEGER NOT NULL,  -- Unix seconds
    reason        TEXT    NOT NULL   -- 'session_limit'
);
CREATE INDEX ended_sessions_user ON ended_sessions (user_id, ended_at);
