-- Speed as a user meets it (issue 18): every page of the leads and the
-- scores answers from an index or a kept count, never by reading the
-- whole copy. internal/db's query-plan test (TestHotPathsUseIndexes) fails
-- when one of these paths scans leads again.

-- The lead pools the copy's leads sit in, with how many leads each
-- (voided apart), kept by the triggers below in the writing transaction:
-- the pool menus of the board and the list read this instead of
-- SELECT DISTINCT over every lead (47 ms at 100,000 leads, 508 ms at
-- 1,000,000, on every uncached board and every list page since b44bc2e).
CREATE TABLE lead_pools (
	lead_pool TEXT NOT NULL,
	voided    INTEGER NOT NULL,
	n         INTEGER NOT NULL,
	PRIMARY KEY (lead_pool, voided)
) WITHOUT ROWID;
INSERT INTO lead_pools(lead_pool, voided, n) SELECT lead_pool, voided, count(*) FROM leads GROUP BY lead_pool, voided;

CREATE TRIGGER lead_pools_insert AFTER INSERT ON leads BEGIN
	INSERT INTO lead_pools(lead_pool, voided, n) VALUES (new.lead_pool, new.voided, 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER lead_pools_delete AFTER DELETE ON leads BEGIN
	UPDATE lead_pools SET n = n - 1 WHERE lead_pool = old.lead_pool AND voided = old.voided;
END;
CREATE TRIGGER lead_pools_update AFTER UPDATE OF lead_pool, voided ON leads
WHEN old.lead_pool IS NOT new.lead_pool OR old.voided IS NOT new.voided BEGIN
	UPDATE lead_pools SET n = n - 1 WHERE lead_pool = old.lead_pool AND voided = old.voided;
	INSERT INTO lead_pools(lead_pool, voided, n) VALUES (new.lead_pool, new.voided, 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- The list's sorts over leads not voided: each index starts with voided,
-- so a page deep in the list skips index entries, not rows (page 1,000 of
-- 2,000 read 50,000 whole rows through leads_updated), and carries the
-- business type, the status and the other date, so those filters are
-- checked in the index too. They replace leads_updated and leads_created.
DROP INDEX leads_updated;
DROP INDEX leads_created;
CREATE INDEX leads_by_updated ON leads(voided, updated_at, business_type, status, created_at);
CREATE INDEX leads_by_created ON leads(voided, created_at, business_type, status, updated_at);
CREATE INDEX leads_by_status_since ON leads(voided, status_since, business_type, status);
CREATE INDEX leads_by_name ON leads(voided, name, business_type, status);

-- The board's columns, as in 0005, with the creation date: a column under
-- a creation range is read in the index until it has its cards.
DROP INDEX leads_board;
CREATE INDEX leads_board ON leads(business_type, status, voided, updated_at, created_at);

-- The board's and the list's other filters. The list under an owner, a
-- source or a pool walks these newest first; a board column walks them
-- until it has its cards, and the board's counts are read from them,
-- all without reading a row (without them an owner's board read every
-- lead of the business type: 60,000 rows at 100,000 leads). The pool's
-- is partial: most leads are in no pool, and a filter names one.
DROP INDEX leads_owner;
CREATE INDEX leads_owner ON leads(owner, voided, updated_at, business_type, status, created_at);
CREATE INDEX leads_source ON leads(source, voided, updated_at, business_type, status, created_at);
CREATE INDEX leads_pool ON leads(lead_pool, voided, updated_at, business_type, status, created_at) WHERE lead_pool != '';
