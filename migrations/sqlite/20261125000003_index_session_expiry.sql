-- The session table of tower-sessions-sqlx-store (same columns as its own
-- `migrate`, which then finds it present), plus an index on the expiry so the
-- expired-session purge reads only expired rows instead of the whole table.
-- `expiry_date` holds RFC 3339 UTC text, which sorts by time.
CREATE TABLE IF NOT EXISTS tower_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BLOB NOT NULL,
    expiry_date INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tower_sessions_expiry_date ON tower_sessions (expiry_date);
