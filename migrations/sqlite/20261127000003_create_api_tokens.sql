-- Bearer tokens (issue #13). A user's token generation travels in each token;
-- "sign out everywhere" and a password change move it on, which refuses every
-- older token. Issued tokens are recorded only to count those outstanding.
ALTER TABLE users ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;

CREATE TABLE api_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX api_tokens_by_user ON api_tokens (user_id, expires_at);
