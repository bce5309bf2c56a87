-- Passkey sign-ins (#25) waiting for their answer: the ceremony's state
-- (JSON: when it began and the challenge) under the hash of the random
-- token in the browser's `passkey` cookie, deleted by its one answer or,
-- unanswered, after it expires. A sign-in page's challenge is kept here
-- rather than in a session, so it never sets the session cookie (a password
-- sign-in answered while it is under way keeps its new session id).
CREATE TABLE passkey_sign_ins (
    token_hash TEXT    PRIMARY KEY,
    ceremony   TEXT    NOT NULL,
    expires_at INTEGER NOT NULL  -- Unix seconds
);
CREATE INDEX passkey_sign_ins_expiry ON passkey_sign_ins (expires_at);
