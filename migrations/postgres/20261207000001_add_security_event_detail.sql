-- What an activity event concerns: see the SQLite migration of the same name.
ALTER TABLE security_events ADD COLUMN detail TEXT;
