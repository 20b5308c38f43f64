-- Console accounts (people who sign in to jingdesk, not platform contacts).
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
	display_name  TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('admin','marketer','viewer')),
	disabled      INTEGER NOT NULL DEFAULT 0,
	lang          TEXT NOT NULL DEFAULT '',
	-- Bumped on password change or disable: sessions carrying an older epoch end.
	session_epoch INTEGER NOT NULL DEFAULT 1,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	last_login_at INTEGER
);

-- Who did what, when, from where. Append-only.
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	user_id     INTEGER,
	username    TEXT NOT NULL DEFAULT '',
	remote_addr TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	object      TEXT NOT NULL DEFAULT '',
	summary     TEXT NOT NULL DEFAULT '',
	outcome     TEXT NOT NULL DEFAULT 'ok',
	request_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at DESC);

-- Background jobs: one row per job, advanced by workers holding a lease.
CREATE TABLE jobs (
	id              INTEGER PRIMARY KEY,
	kind            TEXT NOT NULL,
	title           TEXT NOT NULL DEFAULT '',
	owner_id        INTEGER REFERENCES users(id),
	state           TEXT NOT NULL CHECK (state IN ('queued','running','paused','done','failed','cancelled')),
	params          TEXT NOT NULL DEFAULT '{}',
	checkpoint      TEXT NOT NULL DEFAULT '',
	total           INTEGER NOT NULL DEFAULT 0,
	done            INTEGER NOT NULL DEFAULT 0,
	failed          INTEGER NOT NULL DEFAULT 0,
	error           TEXT NOT NULL DEFAULT '',
	-- A pause or cancel asked for while running; the worker honours it at its next step.
	requested_state TEXT NOT NULL DEFAULT '',
	lease_owner     TEXT NOT NULL DEFAULT '',
	lease_until     INTEGER NOT NULL DEFAULT 0,
	attempts        INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	started_at      INTEGER,
	finished_at     INTEGER
);
CREATE INDEX jobs_state ON jobs(state, id);
CREATE INDEX jobs_recent ON jobs(updated_at DESC);

-- Per-item errors of a job, so a user sees exactly what was not done.
CREATE TABLE job_errors (
	id      INTEGER PRIMARY KEY,
	job_id  INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	at      INTEGER NOT NULL,
	item    TEXT NOT NULL DEFAULT '',
	message TEXT NOT NULL
);
CREATE INDEX job_errors_job ON job_errors(job_id, id);

-- Console settings as key/value; secret values are stored encrypted by the caller.
CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
