-- The security activity of each account, for its owner (#23): sign-ins and
-- failed ones, sign-outs, sessions ended, password changes, tokens,
-- confirmations, stolen-session detection. Deleted with the user, and after
-- `security.activity_retention_days` by the purge. `id` orders them (newest
-- last) and is the page cursor; `session_handle` is the session it happened
-- on, so the page can say "this device".
CREATE TABLE security_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at             INTEGER NOT NULL,  -- Unix seconds
    kind           TEXT    NOT NULL,  -- ActivityKind's wire name
    device         TEXT    NOT NULL,  -- browser and OS, from the User-Agent
    client         TEXT    NOT NULL,  -- client address
    session_handle TEXT               -- the session's public handle, if any
);
CREATE INDEX security_events_user ON security_events (user_id, id);
CREATE INDEX security_events_at ON security_events (at);
