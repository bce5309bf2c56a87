-- Session ids replaced by rotation, kept as hashes (blake2s-256, hex) so that
-- a replaced id that comes back is recognised: within the grace, or before
-- its successor was ever presented, it leads to the successor; otherwise it
-- is a reuse and the session ends. One row per replaced id, deleted with the
-- session (its index row: sign-out, revocation, expiry, the purge).
CREATE TABLE retired_session_ids (
    id_hash       TEXT    PRIMARY KEY NOT NULL,
    handle        TEXT    NOT NULL REFERENCES user_sessions (handle) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    successor_id  TEXT    NOT NULL,  -- the id that replaced it (live, or retired in turn)
    retired_at    INTEGER NOT NULL   -- Unix seconds
);
CREATE INDEX retired_session_ids_handle ON retired_session_ids (handle);
