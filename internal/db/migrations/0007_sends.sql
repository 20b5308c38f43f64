-- SMS and email sends (issue 7): a ledger row per send, written before
-- the platform is called, moving
--   draft → awaiting_approval → approved → submitting → submitted → done
-- or from submitting to unknown (the platform may or may not have acted:
-- settled by looking on the platform, or by a person), failed (the
-- platform refused: nothing was sent) or cancelled.
CREATE TABLE sends (
	id             INTEGER PRIMARY KEY,
	send_key       TEXT NOT NULL UNIQUE, -- embedded in the platform's name of the send
	attempt        INTEGER NOT NULL DEFAULT 1, -- a person's "send again" after an unknown outcome makes a new attempt
	channel        TEXT NOT NULL CHECK (channel IN ('sms','edm')),
	test           INTEGER NOT NULL DEFAULT 0, -- a test send to the allow-listed recipients
	state          TEXT NOT NULL CHECK (state IN ('draft','awaiting_approval','approved','submitting','submitted',
	                                              'done','unknown','failed','cancelled')),
	connection     TEXT NOT NULL DEFAULT '',
	name           TEXT NOT NULL,
	sms_id         TEXT NOT NULL DEFAULT '',
	content        TEXT NOT NULL DEFAULT '', -- sms: the message's text as approved; edm: the HTML body
	signature      TEXT NOT NULL DEFAULT '',
	subject        TEXT NOT NULL DEFAULT '',
	mailbox_id     TEXT NOT NULL DEFAULT '',
	sender         TEXT NOT NULL DEFAULT '', -- the mailbox's address, as shown when confirmed
	group_ids      TEXT NOT NULL DEFAULT '[]', -- JSON: the crowds
	mobiles        TEXT NOT NULL DEFAULT '[]', -- JSON: a pasted list (sms)
	excluded       TEXT NOT NULL DEFAULT '[]', -- JSON: mobiles left out by the consent check
	audience_count INTEGER NOT NULL DEFAULT 0, -- frozen when confirmed
	send_time      INTEGER NOT NULL DEFAULT 0, -- 0: at once
	created_by     INTEGER NOT NULL REFERENCES users(id),
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	confirmed_by   INTEGER REFERENCES users(id),
	confirmed_at   INTEGER NOT NULL DEFAULT 0,
	approved_by    INTEGER REFERENCES users(id),
	approved_at    INTEGER NOT NULL DEFAULT 0,
	submit_at      INTEGER NOT NULL DEFAULT 0, -- the submitting transition
	submitted_at   INTEGER NOT NULL DEFAULT 0,
	platform_id    TEXT NOT NULL DEFAULT '', -- sms task_id or edm_id
	platform_status TEXT NOT NULL DEFAULT '',
	total          INTEGER NOT NULL DEFAULT 0,
	sent           INTEGER NOT NULL DEFAULT 0,
	delivered      INTEGER NOT NULL DEFAULT 0,
	failed         INTEGER NOT NULL DEFAULT 0,
	opened         INTEGER NOT NULL DEFAULT 0,
	clicked        INTEGER NOT NULL DEFAULT 0,
	bounced        INTEGER NOT NULL DEFAULT 0,
	checked_at     INTEGER NOT NULL DEFAULT 0, -- the platform's counts last fetched
	last_error     TEXT NOT NULL DEFAULT '',
	request_id     TEXT NOT NULL DEFAULT '', -- of the platform call that settled the last step
	evidence       TEXT NOT NULL DEFAULT ''  -- what the console found when it looked for an unknown outcome
);
CREATE INDEX sends_channel ON sends(channel, id DESC);
CREATE INDEX sends_state ON sends(state) WHERE state IN ('submitting','submitted','unknown');

-- A send's recipients as the platform reports them, fetched page by page,
-- so they can be searched and exported.
CREATE TABLE send_records (
	send_id   INTEGER NOT NULL REFERENCES sends(id) ON DELETE CASCADE,
	recipient TEXT NOT NULL, -- mobile or email
	status    TEXT NOT NULL,
	error     TEXT NOT NULL DEFAULT '',
	at        INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (send_id, recipient)
) WITHOUT ROWID;
CREATE INDEX send_records_status ON send_records(send_id, status, error);
