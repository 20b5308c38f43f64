-- The platform's webhooks (issue 9).

-- Every event received, stored first (deduplicated by a stable key), then
-- applied: pending → applied | skipped (nothing to do: older than the
-- copy, an object the console does not keep) | unknown (an event type the
-- console does not know) | failed (could not be read or applied). The
-- last two can be queued again after an upgrade.
CREATE TABLE webhook_events (
	id          INTEGER PRIMARY KEY,
	dedup_key   TEXT NOT NULL UNIQUE,
	received_at INTEGER NOT NULL,
	event_type  TEXT NOT NULL DEFAULT '',
	object_name TEXT NOT NULL DEFAULT '',
	entity_id   TEXT NOT NULL DEFAULT '',
	event_time  INTEGER NOT NULL DEFAULT 0, -- create_time
	body        TEXT NOT NULL,
	state       TEXT NOT NULL CHECK (state IN ('pending','applied','skipped','unknown','failed')),
	reason      TEXT NOT NULL DEFAULT '',
	applied_at  INTEGER NOT NULL DEFAULT 0,
	duplicates  INTEGER NOT NULL DEFAULT 0 -- how often it arrived again
);
CREATE INDEX webhook_events_pending ON webhook_events(event_time, id) WHERE state = 'pending';
CREATE INDEX webhook_events_state ON webhook_events(state, id);

-- The time and key of the event that last set each field of an object:
-- an event older than the field's version does not overwrite it, so
-- events applied in any order give the same state. A field without a row
-- has the version of the object's last sync (leads.updated_at).
CREATE TABLE field_versions (
	object TEXT NOT NULL, -- 'lead' | 'account'
	uuid   TEXT NOT NULL,
	field  TEXT NOT NULL, -- a column, a fields key, 'collaborator:<id>', 'voided'
	at     INTEGER NOT NULL,
	tie    TEXT NOT NULL, -- the event's dedup key: orders events of the same second
	PRIMARY KEY (object, uuid, field)
) WITHOUT ROWID;

-- The local copy of accounts, kept by webhooks only (the API has no
-- account list in this console's catalog).
CREATE TABLE accounts (
	uuid          TEXT PRIMARY KEY,
	business_type TEXT NOT NULL DEFAULT '',
	name          TEXT NOT NULL DEFAULT '',
	owner         TEXT NOT NULL DEFAULT '',
	voided        INTEGER NOT NULL DEFAULT 0,
	fields        TEXT NOT NULL DEFAULT '{}',
	created_at    INTEGER NOT NULL DEFAULT 0,
	changed_at    INTEGER NOT NULL DEFAULT 0 -- the newest event applied
);

-- Every write to a lead of the copy, in order: open boards and lead pages
-- ask for what changed after the last seq they saw.
CREATE TABLE lead_changes (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	uuid TEXT NOT NULL,
	at   INTEGER NOT NULL
);
CREATE TRIGGER lead_changes_insert AFTER INSERT ON leads BEGIN
	INSERT INTO lead_changes(uuid, at) VALUES (new.uuid, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER lead_changes_update AFTER UPDATE OF business_type, status, life_status, lead_pool, owner, collaborators, name,
	mobile, email, company, title, source, fields, voided ON leads BEGIN
	INSERT INTO lead_changes(uuid, at) VALUES (new.uuid, CAST(strftime('%s', 'now') AS INTEGER));
END;
