-- Passkey sign-ins (#25) waiting for their answer: see the SQLite migration
-- of the same name.
CREATE TABLE passkey_sign_ins (
    token_hash TEXT   PRIMARY KEY,
    ceremony   TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX passkey_sign_ins_expiry ON passkey_sign_ins (expires_at);
