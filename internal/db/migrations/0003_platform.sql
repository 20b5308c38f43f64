-- The platform's token pair, so a restart does not ask for a new one. The
-- tokens are sealed with the data directory's secret.key by the caller; the
-- scope names the platform and app_id the pair belongs to, so a pair from
-- another deployment (or the sandbox) is never sent to this one.
CREATE TABLE platform_token (
	id                 INTEGER PRIMARY KEY CHECK (id = 1),
	scope              TEXT NOT NULL,
	access_token       TEXT NOT NULL,
	refresh_token      TEXT NOT NULL,
	expires_at         INTEGER NOT NULL,
	refresh_expires_at INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL
);

-- Calls per endpoint per platform day (China time), so the daily quota the
-- client keeps under survives restarts.
CREATE TABLE platform_usage (
	day      TEXT NOT NULL,
	endpoint TEXT NOT NULL,
	calls    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day, endpoint)
);
