-- The index from a user to their sessions (the account page, revocation).
-- One row per signed-in session record, written in the same transaction as the
-- record and deleted with it (ON DELETE CASCADE): sign-out, expiry, revocation
-- and the purge all delete the record, never the row alone. `handle` is the
-- session's public name for pages and the API; the session id (the cookie's
-- bearer secret) never leaves the server. A user with sessions cannot be
-- deleted before them (no cascade from `users`).
CREATE TABLE user_sessions (
    session_id    TEXT    PRIMARY KEY NOT NULL REFERENCES tower_sessions (id) ON DELETE CASCADE,
    handle        TEXT    NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    device        TEXT    NOT NULL,  -- browser and OS from the User-Agent
    client        TEXT    NOT NULL,  -- client IP address at sign-in
    remember      INTEGER NOT NULL,  -- "keep me signed in" ticked
    signed_in_at  INTEGER NOT NULL,  -- Unix seconds
    last_seen     INTEGER NOT NULL   -- Unix seconds, moved with the sliding expiry
);
CREATE INDEX user_sessions_user ON user_sessions (user_id, last_seen);
