-- Browsers that have signed in to an account (OWASP device cookies; see
-- src/auth/ssr/devices.rs). Only a hash of each cookie's token is kept.
CREATE TABLE trusted_devices (
    token_hash      TEXT    NOT NULL,
    username_key    TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,  -- Unix seconds; trusted for a year from here
    PRIMARY KEY (token_hash, username_key)
);
CREATE INDEX trusted_devices_created_at ON trusted_devices (created_at);
