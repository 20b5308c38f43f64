-- Crowds and imports (issue 6).

-- A job that cannot go on before a known time (the platform's daily quota
-- is used up) waits paused with resume_at set; the runner queues it again
-- by itself once the time has come. 0: no automatic resumption.
ALTER TABLE jobs ADD COLUMN resume_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_resume ON jobs(resume_at) WHERE state = 'paused' AND resume_at > 0;

-- The local copy of the platform's static crowds, for the list and the
-- pickers without a platform call per page. Like the lead copy it belongs
-- to one platform connection (crowd_sync.connection) and is cleared when
-- the connection changes.
CREATE TABLE crowds (
	group_id    INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	user_count  INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL DEFAULT 0, -- platform created_timestamp (seconds)
	updated_at  INTEGER NOT NULL DEFAULT 0, -- platform updated_timestamp (seconds)
	fetched_at  INTEGER NOT NULL DEFAULT 0  -- last written from a platform answer
);
CREATE INDEX crowds_name ON crowds(name);

CREATE TABLE crowd_sync (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	connection TEXT NOT NULL DEFAULT '',
	synced_at  INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);

-- One import: a file, how it is read, how it maps, where it goes, and its
-- counts. The wizard fills it step by step (stage), the job runs it.
CREATE TABLE imports (
	id             INTEGER PRIMARY KEY,
	user_id        INTEGER NOT NULL REFERENCES users(id),
	connection     TEXT NOT NULL DEFAULT '',
	stage          TEXT NOT NULL CHECK (stage IN ('uploaded','validated','started')),
	file_name      TEXT NOT NULL,
	file_path      TEXT NOT NULL, -- within the data directory; '' once the file is removed
	file_size      INTEGER NOT NULL,
	file_sha256    TEXT NOT NULL,
	format         TEXT NOT NULL DEFAULT '',
	encoding       TEXT NOT NULL DEFAULT '',
	delimiter      TEXT NOT NULL DEFAULT '',
	sheet          TEXT NOT NULL DEFAULT '',
	header         TEXT NOT NULL DEFAULT '[]', -- JSON list of the header cells
	mapping        TEXT NOT NULL DEFAULT '[]', -- JSON list: a role per column ('' = ignored)
	identity_type  TEXT NOT NULL DEFAULT '',   -- the role matched on
	rows_total     INTEGER NOT NULL DEFAULT 0, -- data rows read (empty ones included)
	rows_empty     INTEGER NOT NULL DEFAULT 0,
	rows_invalid   INTEGER NOT NULL DEFAULT 0,
	rows_duplicate INTEGER NOT NULL DEFAULT 0,
	rows_valid     INTEGER NOT NULL DEFAULT 0,
	crowd_id       INTEGER NOT NULL DEFAULT 0,
	crowd_name     TEXT NOT NULL DEFAULT '',
	crowd_new      INTEGER NOT NULL DEFAULT 0, -- the import created the crowd
	create_missing INTEGER NOT NULL DEFAULT 0,
	job_id         INTEGER REFERENCES jobs(id),
	created_at     INTEGER NOT NULL,
	validated_at   INTEGER NOT NULL DEFAULT 0,
	started_at     INTEGER NOT NULL DEFAULT 0,
	seen_at        INTEGER NOT NULL DEFAULT 0  -- the owner saw it finished (the nav badge)
);
CREATE INDEX imports_recent ON imports(id DESC);
CREATE INDEX imports_sha ON imports(file_sha256);
CREATE INDEX imports_crowd ON imports(crowd_id);
CREATE INDEX imports_job ON imports(job_id);

-- Every data row of an imported file that was not empty, with its state:
-- the row's state is the import's checkpoint, so a killed import resumes
-- exactly where it stopped and reports every row.
--   invalid, duplicate                      rejected by validation (never sent)
--   pending                                 valid, not resolved yet
--   unknown                                 the platform does not know the identity (yet)
--   resolved                                uuid known, not in the crowd yet
--   not_found                               unknown and not created (skipped)
--   already_member, imported, failed        final
CREATE TABLE import_rows (
	import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
	line      INTEGER NOT NULL, -- in the file, header = 1
	raw       TEXT NOT NULL,    -- the identity cell as read
	value     TEXT NOT NULL DEFAULT '', -- normalised; '' when invalid
	name      TEXT NOT NULL DEFAULT '', -- the name column, when mapped
	state     TEXT NOT NULL,
	reason    TEXT NOT NULL DEFAULT '', -- a reason code, or the platform's words
	uuid      TEXT NOT NULL DEFAULT '',
	created   INTEGER NOT NULL DEFAULT 0, -- the person was created by this import
	PRIMARY KEY (import_id, line)
) WITHOUT ROWID;
CREATE INDEX import_rows_state ON import_rows(import_id, state, line);
CREATE INDEX import_rows_value ON import_rows(import_id, value);
CREATE INDEX import_rows_uuid ON import_rows(uuid) WHERE uuid != '';

-- Each crowd import call of an import and what the platform answered
-- (success_number / error_number), for the progress page.
CREATE TABLE import_batches (
	id        INTEGER PRIMARY KEY,
	import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
	at        INTEGER NOT NULL,
	size      INTEGER NOT NULL,
	success   INTEGER NOT NULL,
	errors    INTEGER NOT NULL
);
CREATE INDEX import_batches_import ON import_batches(import_id, id);
