-- Mail (#24): each account's verified email address, the single-use links
-- sent by mail, and the outbox the background sender delivers from.

-- An account's verified address: one per account, unique among accounts
-- (`address_key` is the normalised form). An address waiting for its link
-- is a row of `email_links`, so the verified one stays in use until the new
-- one is proven. `new_device_alerts`: whether a sign-in from a new browser
-- is mailed to it.
CREATE TABLE email_addresses (
    user_id           INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    address           TEXT    NOT NULL,         -- as the user typed it
    address_key       TEXT    NOT NULL UNIQUE,  -- normalised
    verified_at       INTEGER NOT NULL,         -- Unix seconds
    new_device_alerts INTEGER NOT NULL DEFAULT 1
);

-- Single-use links sent by mail, stored only as the hash of their token.
-- `purpose`: `verify_email` (proves `address`), `reset_password`, `not_me`
-- (ends `session_handle`). `password_fingerprint`: the hash of the
-- password hash the link was sent under, so that any change of the
-- password kills it.
CREATE TABLE email_links (
    token_hash           TEXT    PRIMARY KEY,
    purpose              TEXT    NOT NULL,
    user_id              INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address              TEXT,
    address_key          TEXT,
    session_handle       TEXT,
    password_fingerprint TEXT    NOT NULL,
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL
);
CREATE INDEX email_links_user ON email_links (user_id, purpose);
CREATE INDEX email_links_expiry ON email_links (expires_at);

-- Messages waiting to be delivered, written in the transaction of the
-- change that causes them and deleted once the mail server accepts them.
-- A sender claims one (`claim`, until `claimed_until`) before sending, so
-- that two instances never send it twice; a failure is retried at
-- `next_attempt_at`, later each time.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      TEXT    NOT NULL,  -- the Message-ID header, the same on every try
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claim           TEXT,
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at);
