-- Mail (#24): verified addresses, single-use links and the outbox (see the
-- SQLite migration of the same name).
CREATE TABLE email_addresses (
    user_id           BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    address           TEXT    NOT NULL,
    address_key       TEXT    NOT NULL UNIQUE,
    verified_at       BIGINT  NOT NULL,
    new_device_alerts BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE email_links (
    token_hash           TEXT   PRIMARY KEY,
    purpose              TEXT   NOT NULL,
    user_id              BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address              TEXT,
    address_key          TEXT,
    session_handle       TEXT,
    password_fingerprint TEXT   NOT NULL,
    created_at           BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL
);
CREATE INDEX email_links_user ON email_links (user_id, purpose);
CREATE INDEX email_links_expiry ON email_links (expires_at);

CREATE TABLE mail_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      TEXT   NOT NULL,
    recipient       TEXT   NOT NULL,
    subject         TEXT   NOT NULL,
    body            TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claim           TEXT,
    claimed_until   BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at);
