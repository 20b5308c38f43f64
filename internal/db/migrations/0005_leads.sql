-- The local copy of the platform's leads (issue 5), for the pipeline board,
-- search and filters without a platform call per page.
--
-- The copy belongs to one platform connection, named in lead_sync. When
-- the live connection changes, the copy (leads, their history) is cleared
-- and a full sync fills it from the new platform: keying every row by
-- connection instead would keep a second tenant's leads around, unseen,
-- and make every query of the board carry a connection it never varies.
CREATE TABLE leads (
	id            INTEGER PRIMARY KEY, -- the FTS table's content rowid
	uuid          TEXT NOT NULL UNIQUE, -- the platform's jing_uuid
	business_type TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL DEFAULT '',
	life_status   TEXT NOT NULL DEFAULT '',
	lead_pool     TEXT NOT NULL DEFAULT '',
	owner         TEXT NOT NULL DEFAULT '',
	collaborators TEXT NOT NULL DEFAULT '[]', -- JSON list of member ids
	name          TEXT NOT NULL DEFAULT '',
	mobile        TEXT NOT NULL DEFAULT '',
	email         TEXT NOT NULL DEFAULT '',
	company       TEXT NOT NULL DEFAULT '', -- company_id: a name, as the platform has it
	title         TEXT NOT NULL DEFAULT '',
	source        TEXT NOT NULL DEFAULT '', -- source_type option id
	fields        TEXT NOT NULL DEFAULT '{}', -- the whole lead as the platform answered it, custom fields included
	created_at    INTEGER NOT NULL DEFAULT 0, -- platform created_timestamp
	updated_at    INTEGER NOT NULL DEFAULT 0, -- platform updated_timestamp
	status_since  INTEGER NOT NULL DEFAULT 0, -- entered its current status (first seen, or moved)
	voided        INTEGER NOT NULL DEFAULT 0, -- the platform says it is gone; kept, never deleted
	voided_at     INTEGER NOT NULL DEFAULT 0,
	synced_at     INTEGER NOT NULL DEFAULT 0, -- last written from a platform answer
	-- The full sync job that last listed it: after a complete walk, the
	-- leads it did not list are asked about one by one (voided, or not).
	seen_by_sync  INTEGER NOT NULL DEFAULT 0
);

-- The board: column counts (business_type, status) and each column's
-- newest cards, read backwards along updated_at, without a sort. Not
-- partial (WHERE voided = 0): nearly every lead is not voided, and the
-- planner would otherwise pick a partial index to scan by, reaching each
-- row through it.
CREATE INDEX leads_board ON leads(business_type, status, voided, updated_at);
-- Lists without a business type, newest first, and the other sorts.
CREATE INDEX leads_updated ON leads(updated_at);
CREATE INDEX leads_created ON leads(created_at);
CREATE INDEX leads_owner ON leads(owner, updated_at);

-- Full-text search with the trigram tokenizer: any substring of three
-- characters or more (Chinese included, which has no spaces to split
-- words on) of name, mobile, email, company and title. External content:
-- the text lives once, in leads; the triggers keep the index in step in
-- the writing transaction, and only when one of these columns changes.
--
-- Each value is indexed with a space before and after it, so that every
-- two-character substring, even at the end of a value or a whole
-- two-character name (李娜), begins some indexed trigram: a two-character
-- search is the OR of the trigrams it begins (found in leads_fts_terms)
-- instead of a scan. Because the index holds padded values, never run
-- the FTS 'rebuild' command (it would index leads' unpadded columns and
-- the triggers' deletes would no longer match): rebuild by re-inserting.
CREATE VIRTUAL TABLE leads_fts USING fts5(
	name, mobile, email, company, title,
	content = 'leads', content_rowid = 'id', tokenize = 'trigram');
CREATE VIRTUAL TABLE leads_fts_terms USING fts5vocab(leads_fts, 'row');

CREATE TRIGGER leads_fts_insert AFTER INSERT ON leads BEGIN
	INSERT INTO leads_fts(rowid, name, mobile, email, company, title)
	VALUES (new.id, ' ' || new.name || ' ', ' ' || new.mobile || ' ', ' ' || new.email || ' ',
		' ' || new.company || ' ', ' ' || new.title || ' ');
END;
CREATE TRIGGER leads_fts_delete AFTER DELETE ON leads BEGIN
	INSERT INTO leads_fts(leads_fts, rowid, name, mobile, email, company, title)
	VALUES ('delete', old.id, ' ' || old.name || ' ', ' ' || old.mobile || ' ', ' ' || old.email || ' ',
		' ' || old.company || ' ', ' ' || old.title || ' ');
END;
CREATE TRIGGER leads_fts_update AFTER UPDATE OF name, mobile, email, company, title ON leads BEGIN
	INSERT INTO leads_fts(leads_fts, rowid, name, mobile, email, company, title)
	VALUES ('delete', old.id, ' ' || old.name || ' ', ' ' || old.mobile || ' ', ' ' || old.email || ' ',
		' ' || old.company || ' ', ' ' || old.title || ' ');
	INSERT INTO leads_fts(rowid, name, mobile, email, company, title)
	VALUES (new.id, ' ' || new.name || ' ', ' ' || new.mobile || ' ', ' ' || new.email || ' ',
		' ' || new.company || ' ', ' ' || new.title || ' ');
END;

-- How many leads each (business type, status, voided) has, kept by the
-- triggers below in the writing transaction: the board's column counts
-- and column totals are read here instead of counted (a column may hold
-- tens of thousands of leads). Filters beyond business type and status
-- still count the leads.
CREATE TABLE lead_counts (
	business_type TEXT NOT NULL,
	status        TEXT NOT NULL,
	voided        INTEGER NOT NULL,
	n             INTEGER NOT NULL,
	PRIMARY KEY (business_type, status, voided)
) WITHOUT ROWID;

CREATE TRIGGER lead_counts_insert AFTER INSERT ON leads BEGIN
	INSERT INTO lead_counts(business_type, status, voided, n) VALUES (new.business_type, new.status, new.voided, 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER lead_counts_delete AFTER DELETE ON leads BEGIN
	UPDATE lead_counts SET n = n - 1
	WHERE business_type = old.business_type AND status = old.status AND voided = old.voided;
END;
CREATE TRIGGER lead_counts_update AFTER UPDATE OF business_type, status, voided ON leads
WHEN old.business_type IS NOT new.business_type OR old.status IS NOT new.status OR old.voided IS NOT new.voided BEGIN
	UPDATE lead_counts SET n = n - 1
	WHERE business_type = old.business_type AND status = old.status AND voided = old.voided;
	INSERT INTO lead_counts(business_type, status, voided, n) VALUES (new.business_type, new.status, new.voided, 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- Each status change the console learnt of: a move it made (console), one
-- a sync found (sync), or one a webhook announced (webhook).
CREATE TABLE lead_status_history (
	id          INTEGER PRIMARY KEY,
	lead_uuid   TEXT NOT NULL,
	at          INTEGER NOT NULL,
	from_status TEXT NOT NULL DEFAULT '',
	to_status   TEXT NOT NULL DEFAULT '',
	actor       TEXT NOT NULL DEFAULT '',
	origin      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX lead_status_history_lead ON lead_status_history(lead_uuid, at, id);

-- Whose copy this is and how fresh: one row.
CREATE TABLE lead_sync (
	id             INTEGER PRIMARY KEY CHECK (id = 1),
	connection     TEXT NOT NULL DEFAULT '',
	-- The end of the last complete full sync; 0 while the copy was never
	-- filled (incremental syncs need a complete copy to add to).
	full_synced_at INTEGER NOT NULL DEFAULT 0,
	-- The platform updated_timestamp up to which the copy is known complete;
	-- the next incremental sync asks for updated_since this minus an overlap.
	high_water     INTEGER NOT NULL DEFAULT 0,
	last_synced_at INTEGER NOT NULL DEFAULT 0
);
INSERT INTO lead_sync(id) VALUES (1);
