-- Lead timeline, accounts and search (issue 20, part B).

-- What happened to a lead besides its status (lead_status_history keeps
-- those): every note, owner change and collaborator change the console
-- learnt of, from its own writes (console, with the user), a webhook
-- (webhook) or a sync (sync). The platform keeps only the latest remark
-- in the lead's field, so this table is the only place older notes live.
CREATE TABLE lead_events (
	id          INTEGER PRIMARY KEY,
	lead_uuid   TEXT NOT NULL,
	at          INTEGER NOT NULL, -- when it happened: the platform's time when known
	recorded_at INTEGER NOT NULL, -- when the console stored it (its own clock)
	kind        TEXT NOT NULL CHECK (kind IN ('note','owner','collaborators')),
	before      TEXT NOT NULL DEFAULT '', -- owner: member id; collaborators: JSON list
	after       TEXT NOT NULL DEFAULT '', -- note: its text; owner: member id; collaborators: JSON list
	actor       TEXT NOT NULL DEFAULT '', -- the console user; '' when made on the platform
	origin      TEXT NOT NULL DEFAULT ''  -- 'console', 'webhook', 'sync'
);
CREATE INDEX lead_events_lead ON lead_events(lead_uuid, at, id);

-- The timeline lists the sends that reached a lead's mobile or email.
CREATE INDEX send_records_recipient ON send_records(recipient, status);

-- Accounts: the leads of an account, and the accounts only known by the
-- ids leads carry (account_id inside the lead's fields).
CREATE INDEX leads_account ON leads(json_extract(fields, '$.account_id'))
	WHERE json_extract(fields, '$.account_id') IS NOT NULL;
