-- Speed as a user meets it (issue 18), the scores page and the list.
--
-- How fresh a view's scores are, kept: per kind of score, the cards
-- fetched at each moment (at > 0, a fetch's second), under the views'
-- filters (subject, voided mark, business type, status), kept by the
-- triggers below in the writing transaction as score_counts is. The
-- freshness line of a view of all leads (or of a business type or
-- status) sums these rows: one per fetch batch and status, where it
-- walked every card of the population in score_cards_*_at (100,000
-- index entries for all leads: most of the page's 66 ms). A row whose
-- count falls to 0 is deleted, so the table holds only moments some
-- card was last fetched at.
CREATE TABLE score_fetch_counts (
	kind          TEXT NOT NULL, -- identity, active, intention
	subject       TEXT NOT NULL,
	voided        INTEGER NOT NULL,
	business_type TEXT NOT NULL,
	status        TEXT NOT NULL,
	at            INTEGER NOT NULL,
	n             INTEGER NOT NULL,
	PRIMARY KEY (kind, subject, voided, business_type, status, at)
) WITHOUT ROWID;

INSERT INTO score_fetch_counts SELECT 'identity', subject, voided, business_type, status, identity_at, count(*)
	FROM score_cards WHERE identity_at > 0 GROUP BY subject, voided, business_type, status, identity_at;
INSERT INTO score_fetch_counts SELECT 'active', subject, voided, business_type, status, active_at, count(*)
	FROM score_cards WHERE active_at > 0 GROUP BY subject, voided, business_type, status, active_at;
INSERT INTO score_fetch_counts SELECT 'intention', subject, voided, business_type, status, intention_at, count(*)
	FROM score_cards WHERE intention_at > 0 GROUP BY subject, voided, business_type, status, intention_at;

-- A card counts once per kind it was fetched for (its *_at > 0), in its
-- cell and at its moment. An update moves it only for the kinds whose
-- moment or whose cell changed.
CREATE TRIGGER score_fetch_counts_insert AFTER INSERT ON score_cards BEGIN
	INSERT INTO score_fetch_counts(kind, subject, voided, business_type, status, at, n)
	SELECT k.kind, new.subject, new.voided, new.business_type, new.status, k.at, 1
	FROM (SELECT 'identity' AS kind, new.identity_at AS at UNION ALL SELECT 'active', new.active_at
		UNION ALL SELECT 'intention', new.intention_at) k WHERE k.at > 0
	ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER score_fetch_counts_delete AFTER DELETE ON score_cards BEGIN
	UPDATE score_fetch_counts SET n = n - 1
	WHERE kind = 'identity' AND subject = old.subject AND voided = old.voided AND business_type = old.business_type
		AND status = old.status AND at = old.identity_at;
	UPDATE score_fetch_counts SET n = n - 1
	WHERE kind = 'active' AND subject = old.subject AND voided = old.voided AND business_type = old.business_type
		AND status = old.status AND at = old.active_at;
	UPDATE score_fetch_counts SET n = n - 1
	WHERE kind = 'intention' AND subject = old.subject AND voided = old.voided AND business_type = old.business_type
		AND status = old.status AND at = old.intention_at;
	DELETE FROM score_fetch_counts WHERE n <= 0 AND kind IN ('identity', 'active', 'intention') AND subject = old.subject
		AND voided = old.voided AND business_type = old.business_type AND status = old.status
		AND at IN (old.identity_at, old.active_at, old.intention_at);
END;

CREATE TRIGGER score_fetch_counts_update AFTER UPDATE OF identity_at, active_at, intention_at, business_type, status, voided ON score_cards
WHEN old.identity_at IS NOT new.identity_at OR old.active_at IS NOT new.active_at OR old.intention_at IS NOT new.intention_at
	OR old.business_type IS NOT new.business_type OR old.status IS NOT new.status OR old.voided IS NOT new.voided BEGIN
	-- The kinds that move: all of them when the cell changed, else those
	-- whose moment did.
	UPDATE score_fetch_counts SET n = n - 1
	WHERE kind = 'identity' AND subject = old.subject AND voided = old.voided AND business_type = old.business_type
		AND status = old.status AND at = old.identity_at
		AND (old.identity_at IS NOT new.identity_at OR old.business_type IS NOT new.business_type OR old.status IS NOT new.status
			OR old.voided IS NOT new.voided);
	UPDATE score_fetch_counts SET n = n - 1
	WHERE kind = 'active' AND subject = old.subject AND voided = old.voided AND business_type = old.business_type
		AND status = old.status AND at = old.active_at
		AND (old.active_at IS NOT new.active_at OR old.business_type IS NOT new.business_type OR old.status IS NOT new.status
			OR old.voided IS NOT new.voided);
	UPDATE score_fetch_counts SET n = n - 1
	WHERE kind = 'intention' AND subject = old.subject AND voided = old.voided AND business_type = old.business_type
		AND status = old.status AND at = old.intention_at
		AND (old.intention_at IS NOT new.intention_at OR old.business_type IS NOT new.business_type OR old.status IS NOT new.status
			OR old.voided IS NOT new.voided);
	DELETE FROM score_fetch_counts WHERE n <= 0 AND kind IN ('identity', 'active', 'intention') AND subject = old.subject
		AND voided = old.voided AND business_type = old.business_type AND status = old.status
		AND at IN (old.identity_at, old.active_at, old.intention_at);
	INSERT INTO score_fetch_counts(kind, subject, voided, business_type, status, at, n)
	SELECT k.kind, new.subject, new.voided, new.business_type, new.status, k.at, 1
	FROM (SELECT 'identity' AS kind, new.identity_at AS at, old.identity_at AS was UNION ALL SELECT 'active', new.active_at, old.active_at
		UNION ALL SELECT 'intention', new.intention_at, old.intention_at) k
	WHERE k.at > 0 AND (k.at IS NOT k.was OR old.business_type IS NOT new.business_type OR old.status IS NOT new.status
		OR old.voided IS NOT new.voided)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- The same moments for all of a subject's cards, whatever their business
-- type and status: the freshness of all leads sums a row per fetch moment
-- (about one per second of a refresh), not one per moment and status.
CREATE TABLE score_fetch_totals (
	kind    TEXT NOT NULL,
	subject TEXT NOT NULL,
	voided  INTEGER NOT NULL,
	at      INTEGER NOT NULL,
	n       INTEGER NOT NULL,
	PRIMARY KEY (kind, subject, voided, at)
) WITHOUT ROWID;
INSERT INTO score_fetch_totals SELECT kind, subject, voided, at, sum(n) FROM score_fetch_counts GROUP BY kind, subject, voided, at;

-- Kept from score_fetch_counts' own changes: a cell's count that rises
-- raises the total, one that falls lowers it.
CREATE TRIGGER score_fetch_totals_insert AFTER INSERT ON score_fetch_counts BEGIN
	INSERT INTO score_fetch_totals(kind, subject, voided, at, n) VALUES (new.kind, new.subject, new.voided, new.at, new.n)
	ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER score_fetch_totals_update AFTER UPDATE OF n ON score_fetch_counts BEGIN
	UPDATE score_fetch_totals SET n = n + new.n - old.n
	WHERE kind = new.kind AND subject = new.subject AND voided = new.voided AND at = new.at;
	DELETE FROM score_fetch_totals WHERE kind = new.kind AND subject = new.subject AND voided = new.voided AND at = new.at AND n <= 0;
END;

-- The list of an owner's leads sorted by name, an index walk: the
-- owner's index (0015) holds no name, so a page of it read every lead of
-- the owner and sorted them (54 ms for page 3 at 100,000 leads). This one
-- gives them in the list's order (name, business type, status, id), and
-- holds the business type and status its filters test.
CREATE INDEX leads_owner_name ON leads(owner, voided, name, business_type, status);

-- The list's count under an owner (with a business type and status or
-- not), kept as lead_counts is: the owner's leads per business type,
-- status and voided mark. The list counted the owner's index entries on
-- every page (3,000 at 100,000 leads, 30,000 at 1,000,000); it reads a
-- few cells. (A pool alone is counted from lead_pools, 0015.)
CREATE TABLE lead_owner_counts (
	owner         TEXT NOT NULL,
	voided        INTEGER NOT NULL,
	business_type TEXT NOT NULL,
	status        TEXT NOT NULL,
	n             INTEGER NOT NULL,
	PRIMARY KEY (owner, voided, business_type, status)
) WITHOUT ROWID;
INSERT INTO lead_owner_counts(owner, voided, business_type, status, n)
	SELECT owner, voided, business_type, status, count(*) FROM leads GROUP BY owner, voided, business_type, status;

CREATE TRIGGER lead_owner_counts_insert AFTER INSERT ON leads BEGIN
	INSERT INTO lead_owner_counts(owner, voided, business_type, status, n) VALUES (new.owner, new.voided, new.business_type, new.status, 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER lead_owner_counts_delete AFTER DELETE ON leads BEGIN
	UPDATE lead_owner_counts SET n = n - 1
	WHERE owner = old.owner AND voided = old.voided AND business_type = old.business_type AND status = old.status;
END;
CREATE TRIGGER lead_owner_counts_update AFTER UPDATE OF owner, voided, business_type, status ON leads
WHEN old.owner IS NOT new.owner OR old.voided IS NOT new.voided OR old.business_type IS NOT new.business_type
	OR old.status IS NOT new.status BEGIN
	UPDATE lead_owner_counts SET n = n - 1
	WHERE owner = old.owner AND voided = old.voided AND business_type = old.business_type AND status = old.status;
	INSERT INTO lead_owner_counts(owner, voided, business_type, status, n) VALUES (new.owner, new.voided, new.business_type, new.status, 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;
