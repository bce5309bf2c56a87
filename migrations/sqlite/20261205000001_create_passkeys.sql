-- Passkeys (#25): each account's WebAuthn credentials, the random handle
-- its passkeys carry instead of its id, and the ceremonies already finished.

-- The user handle every passkey of an account is created with (a random
-- UUID, so an authenticator learns nothing of the account's id); a
-- discoverable sign-in names the account by it.
CREATE TABLE passkey_handles (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle  TEXT    NOT NULL UNIQUE
);

-- One row per passkey. `credential_id` (base64url) is unique across every
-- account. `credential`: the public key, the signature counter and the
-- flags, as the WebAuthn library serialises them (JSON); never a secret.
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    credential    TEXT    NOT NULL,
    backed_up     INTEGER NOT NULL,  -- synced by its provider (the backup state flag)
    created_at    INTEGER NOT NULL,  -- Unix seconds
    last_used_at  INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A ceremony's challenge once it was finished (or refused), by a hash of
-- its state, until it would have expired: a second answer to it, from
-- any instance and however close in time, is refused.
CREATE TABLE passkey_ceremonies_done (
    state_hash TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX passkey_ceremonies_done_expiry ON passkey_ceremonies_done (expires_at);
