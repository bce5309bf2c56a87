-- Failed sign-ins per account and per client address, and sign-ups per
-- address. In the database so that a restart does not reset them.
CREATE TABLE throttle (
    scope           TEXT    NOT NULL,  -- 'sign_in_account', 'sign_in_address', 'sign_up_address'
    subject         TEXT    NOT NULL,  -- normalised username or client IP
    count           INTEGER NOT NULL,
    last_at         INTEGER NOT NULL,  -- Unix seconds of the last counted event
    blocked_until   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, subject)
);
