-- Session ids replaced by rotation, kept as hashes (see the SQLite migration
-- of the same name).
CREATE TABLE retired_session_ids (
    id_hash      TEXT   PRIMARY KEY NOT NULL,
    handle       TEXT   NOT NULL REFERENCES user_sessions (handle) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL,
    successor_id TEXT   NOT NULL,
    retired_at   BIGINT NOT NULL
);
CREATE INDEX retired_session_ids_handle ON retired_session_ids (handle);
