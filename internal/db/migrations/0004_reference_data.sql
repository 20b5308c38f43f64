-- The platform's reference data (business types, lead statuses, fields,
-- select options, option-set trees, members), cached so pages never wait on
-- the platform for a name.
--
-- One items table serves every kind instead of a table per kind: a set of
-- any kind is replaced by the same statement pair (delete the set's items,
-- insert the new ones) in one transaction, the diff is computed the same
-- way, and one primary key indexes every lookup. The columns that only some
-- kinds use (type and flags for fields, email and department for members,
-- parent_id for trees) cost an empty default elsewhere.
--
-- Each set belongs to one platform connection (base URL + app_id, or the
-- embedded sandbox): after a switch, the old connection's sets are kept
-- but never shown as the new one's.
CREATE TABLE ref_sets (
	id                INTEGER PRIMARY KEY,
	connection        TEXT NOT NULL,
	key               TEXT NOT NULL,
	kind              TEXT NOT NULL,
	object            TEXT NOT NULL DEFAULT '',
	scope             TEXT NOT NULL DEFAULT '',
	-- The last successful fetch; 0 while never loaded.
	fetched_at        INTEGER NOT NULL DEFAULT 0,
	last_attempt_at   INTEGER NOT NULL DEFAULT 0,
	-- Why the last attempt failed ('' after a success), and the same failure
	-- in a form the service layer can turn back into a typed error.
	last_error        TEXT NOT NULL DEFAULT '',
	last_error_detail TEXT NOT NULL DEFAULT '',
	item_count        INTEGER NOT NULL DEFAULT 0,
	UNIQUE (connection, key)
);

CREATE TABLE ref_items (
	set_id     INTEGER NOT NULL REFERENCES ref_sets(id) ON DELETE CASCADE,
	id         TEXT NOT NULL,
	-- Position in the platform's answer (pre-order for trees): the display order.
	pos        INTEGER NOT NULL,
	parent_id  TEXT NOT NULL DEFAULT '',
	name       TEXT NOT NULL DEFAULT '',
	name_en    TEXT NOT NULL DEFAULT '',
	sort       INTEGER NOT NULL DEFAULT 0,
	type       TEXT NOT NULL DEFAULT '',
	preset     INTEGER NOT NULL DEFAULT 0,
	required   INTEGER NOT NULL DEFAULT 0,
	writable   INTEGER NOT NULL DEFAULT 0,
	email      TEXT NOT NULL DEFAULT '',
	department TEXT NOT NULL DEFAULT '',
	status     TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (set_id, id)
);

-- What each refresh changed, as JSON lists of {id, before, after}. Not tied
-- to ref_sets by a foreign key: the record of a set that disappeared from
-- the platform outlives the set.
CREATE TABLE ref_changes (
	id         INTEGER PRIMARY KEY,
	connection TEXT NOT NULL,
	set_key    TEXT NOT NULL,
	at         INTEGER NOT NULL,
	added      TEXT NOT NULL DEFAULT '[]',
	renamed    TEXT NOT NULL DEFAULT '[]',
	removed    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX ref_changes_set ON ref_changes(connection, set_key, at DESC, id DESC);
