-- Security (issue 16).

-- Each sign-in, kept server-side: the session cookie carries a random
-- token whose SHA-256 is token_hash, so signing out, a password change,
-- disabling the account or an administrator's "sign out everywhere"
-- deletes the row and a copied cookie is refused at once. The idle and
-- absolute timeouts count from last_seen_at and created_at.
CREATE TABLE sessions (
	id           INTEGER PRIMARY KEY,
	token_hash   BLOB NOT NULL UNIQUE,
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	user_agent   TEXT NOT NULL DEFAULT '', -- at sign-in, cut to 256 bytes
	remote_addr  TEXT NOT NULL DEFAULT ''  -- the address of the last use
);
CREATE INDEX sessions_user ON sessions(user_id, last_seen_at);
CREATE INDEX sessions_last_seen ON sessions(last_seen_at);

-- Webhook events are pruned by age per final state (applied_at, or
-- received_at for events never finished).
CREATE INDEX webhook_events_state_received ON webhook_events(state, received_at);
