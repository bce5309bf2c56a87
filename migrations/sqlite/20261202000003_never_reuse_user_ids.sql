-- A user id is never given out twice. `INTEGER PRIMARY KEY` alone lets SQLite
-- hand the highest id to the next row once its user is deleted, and a bearer
-- token or a session of the deleted user names its user by id: the next
-- account registered would inherit them. `AUTOINCREMENT` keeps the highest id
-- ever used (in `sqlite_sequence`); PostgreSQL's identity column already does.
--
-- SQLite cannot add AUTOINCREMENT to a table, and this runs in one transaction
-- with foreign keys on, so a dropped `users` would cascade into its children.
-- So the users table and every table under it are built anew beside the old
-- ones, filled, and the old ones dropped children first (nothing refers to
-- them then); renaming a table rewrites the references to it.

CREATE TABLE users_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    username         TEXT    NOT NULL,
    username_key     TEXT    NOT NULL UNIQUE,
    password_hash    TEXT    NOT NULL,
    created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    token_generation INTEGER NOT NULL DEFAULT 0
);
INSERT INTO users_new (id, username, username_key, password_hash, created_at, token_generation)
    SELECT id, username, username_key, password_hash, created_at, token_generation FROM users;

CREATE TABLE user_sessions_new (
    session_id    TEXT    PRIMARY KEY NOT NULL REFERENCES tower_sessions (id) ON DELETE CASCADE,
    handle        TEXT    NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users_new (id),
    device        TEXT    NOT NULL,
    client        TEXT    NOT NULL,
    remember      INTEGER NOT NULL,
    signed_in_at  INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL
);
INSERT INTO user_sessions_new SELECT
    session_id, handle, user_id, device, client, remember, signed_in_at, last_seen
    FROM user_sessions;

CREATE TABLE retired_session_ids_new (
    id_hash       TEXT    PRIMARY KEY NOT NULL,
    handle        TEXT    NOT NULL REFERENCES user_sessions_new (handle) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    successor_id  TEXT    NOT NULL,
    retired_at    INTEGER NOT NULL
);
INSERT INTO retired_session_ids_new SELECT
    id_hash, handle, user_id, successor_id, retired_at FROM retired_session_ids;

CREATE TABLE api_tokens_new (
    jti        TEXT    PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users_new (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
INSERT INTO api_tokens_new SELECT jti, user_id, generation, issued_at, expires_at FROM api_tokens;

CREATE TABLE ended_sessions_new (
    user_id       INTEGER NOT NULL REFERENCES users_new (id) ON DELETE CASCADE,
    device        TEXT    NOT NULL,
    client        TEXT    NOT NULL,
    signed_in_at  INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    ended_at      INTEGER NOT NULL,
    reason        TEXT    NOT NULL
);
INSERT INTO ended_sessions_new SELECT
    user_id, device, client, signed_in_at, last_seen, ended_at, reason FROM ended_sessions;

DROP TABLE retired_session_ids;
DROP TABLE api_tokens;
DROP TABLE ended_sessions;
DROP TABLE user_sessions;
DROP TABLE users;

ALTER TABLE users_new RENAME TO users;
ALTER TABLE user_sessions_new RENAME TO user_sessions;
ALTER TABLE retired_session_ids_new RENAME TO retired_session_ids;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
ALTER TABLE ended_sessions_new RENAME TO ended_sessions;

CREATE INDEX user_sessions_user ON user_sessions (user_id, last_seen);
CREATE INDEX retired_session_ids_handle ON retired_session_ids (handle);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, expires_at);
CREATE INDEX ended_sessions_user ON ended_sessions (user_id, ended_at);
