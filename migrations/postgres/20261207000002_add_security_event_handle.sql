-- The public name of an activity event (see the SQLite migration of the
-- same name).
ALTER TABLE security_events ADD COLUMN handle BIGINT NOT NULL DEFAULT 0;
UPDATE security_events SET handle = 1 + floor(random() * 9007199254740990)::BIGINT;
CREATE INDEX security_events_handle ON security_events (user_id, handle);
