-- What an activity event concerns, when its kind alone does not say (#35):
-- the name of a passkey added or removed, so that the owner sees which
-- passkeys a recovery removed.
ALTER TABLE security_events ADD COLUMN detail TEXT;
