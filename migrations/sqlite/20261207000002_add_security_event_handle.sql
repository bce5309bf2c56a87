-- The public name of an activity event (#35): a random number per event,
-- shown as its `id` and used as the page cursor, so that neither tells how
-- many events the whole site records (the row `id` is a site-wide counter
-- and stays inside). Events recorded before get one at random here.
ALTER TABLE security_events ADD COLUMN handle INTEGER NOT NULL DEFAULT 0;
UPDATE security_events SET handle = (random() & 9007199254740991) + 1;
CREATE INDEX security_events_handle ON security_events (user_id, handle);
