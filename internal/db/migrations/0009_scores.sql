-- Scores (issue 8): the platform's scores of persons and leads, cached so
-- that a population of 100,000 can be charted with SQL aggregates.
--
-- score_cards holds one row per scored person or lead with its identity
-- grade and activity level side by side: the fit × engagement matrix and
-- the charts are then one scan. Intention (one score per product) has its
-- own table. *_at say when each kind was last fetched for the id, also
-- when the platform had no score for it, so that a fetch is not repeated
-- before it is stale.
CREATE TABLE score_cards (
	subject        TEXT NOT NULL CHECK (subject IN ('user','lead')),
	id             TEXT NOT NULL, -- omni_user_uuid or jing_uuid
	identity_model TEXT NOT NULL DEFAULT '',
	identity_score REAL,
	grade          TEXT NOT NULL DEFAULT '',
	active_model   TEXT NOT NULL DEFAULT '',
	active_score   REAL,
	level          TEXT NOT NULL DEFAULT '',
	identity_at    INTEGER NOT NULL DEFAULT 0,
	active_at      INTEGER NOT NULL DEFAULT 0,
	intention_at   INTEGER NOT NULL DEFAULT 0,
	-- A lead's business type, status and voided mark, copied from leads
	-- (kept by the triggers below) so that views of leads need no join.
	business_type  TEXT NOT NULL DEFAULT '',
	status         TEXT NOT NULL DEFAULT '',
	voided         INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (subject, id)
) WITHOUT ROWID;
CREATE INDEX score_cards_identity ON score_cards(subject, identity_score);
CREATE INDEX score_cards_active ON score_cards(subject, active_score);

CREATE TABLE intention_scores (
	subject       TEXT NOT NULL,
	id            TEXT NOT NULL,
	product       TEXT NOT NULL,
	score         REAL NOT NULL,
	level         TEXT NOT NULL DEFAULT '',
	business_type TEXT NOT NULL DEFAULT '', -- a lead's, as in score_cards
	status        TEXT NOT NULL DEFAULT '',
	voided        INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (subject, id, product)
) WITHOUT ROWID;
CREATE INDEX intention_product ON intention_scores(subject, product, score);

-- One row per fetch that changed a value (the first fetch included), for
-- trends and movers. model is the product for intention.
CREATE TABLE score_history (
	subject TEXT NOT NULL,
	id      TEXT NOT NULL,
	kind    TEXT NOT NULL,
	model   TEXT NOT NULL,
	score   REAL NOT NULL,
	band    TEXT NOT NULL DEFAULT '',
	at      INTEGER NOT NULL,
	PRIMARY KEY (subject, id, kind, model, at)
) WITHOUT ROWID;
CREATE INDEX score_history_at ON score_history(subject, kind, at);

-- A crowd's members as last listed by the platform (scoring a crowd needs
-- them; so does charting it).
CREATE TABLE crowd_members (
	group_id  INTEGER NOT NULL,
	uuid      TEXT NOT NULL,
	joined_at INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (group_id, uuid)
) WITHOUT ROWID;
CREATE TABLE crowd_members_fetched (
	group_id   INTEGER PRIMARY KEY,
	fetched_at INTEGER NOT NULL
);

-- Counts of score cards per cell (subject, business type, status, voided,
-- grade, level, identity bucket, activity bucket), kept by triggers as
-- lead_counts is: a view of all leads or of a business type aggregates a
-- few thousand cells instead of 100,000 rows. Buckets: identity 10 points
-- (0–9), activity 20 points (0–10, the last open), -1 without a score.
CREATE TABLE score_counts (
	subject       TEXT NOT NULL,
	business_type TEXT NOT NULL,
	status        TEXT NOT NULL,
	voided        INTEGER NOT NULL,
	grade         TEXT NOT NULL,
	level         TEXT NOT NULL,
	ib            INTEGER NOT NULL,
	ab            INTEGER NOT NULL,
	n             INTEGER NOT NULL,
	PRIMARY KEY (subject, business_type, status, voided, grade, level, ib, ab)
) WITHOUT ROWID;

CREATE TRIGGER score_counts_insert AFTER INSERT ON score_cards BEGIN
	INSERT INTO score_counts VALUES (new.subject, new.business_type, new.status, new.voided, new.grade, new.level,
		COALESCE(MIN(CAST(new.identity_score / 10 AS INTEGER), 9), -1), COALESCE(MIN(CAST(new.active_score / 20 AS INTEGER), 10), -1), 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER score_counts_delete AFTER DELETE ON score_cards BEGIN
	UPDATE score_counts SET n = n - 1 WHERE subject = old.subject AND business_type = old.business_type AND status = old.status
		AND voided = old.voided AND grade = old.grade AND level = old.level
		AND ib = COALESCE(MIN(CAST(old.identity_score / 10 AS INTEGER), 9), -1) AND ab = COALESCE(MIN(CAST(old.active_score / 20 AS INTEGER), 10), -1);
END;
CREATE TRIGGER score_counts_update AFTER UPDATE OF business_type, status, voided, grade, level, identity_score, active_score ON score_cards BEGIN
	UPDATE score_counts SET n = n - 1 WHERE subject = old.subject AND business_type = old.business_type AND status = old.status
		AND voided = old.voided AND grade = old.grade AND level = old.level
		AND ib = COALESCE(MIN(CAST(old.identity_score / 10 AS INTEGER), 9), -1) AND ab = COALESCE(MIN(CAST(old.active_score / 20 AS INTEGER), 10), -1);
	INSERT INTO score_counts VALUES (new.subject, new.business_type, new.status, new.voided, new.grade, new.level,
		COALESCE(MIN(CAST(new.identity_score / 10 AS INTEGER), 9), -1), COALESCE(MIN(CAST(new.active_score / 20 AS INTEGER), 10), -1), 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- The same for intention, per product (bucket of 10 points).
CREATE TABLE intention_counts (
	subject       TEXT NOT NULL,
	business_type TEXT NOT NULL,
	status        TEXT NOT NULL,
	voided        INTEGER NOT NULL,
	product       TEXT NOT NULL,
	level         TEXT NOT NULL,
	bucket        INTEGER NOT NULL,
	n             INTEGER NOT NULL,
	PRIMARY KEY (subject, business_type, status, voided, product, level, bucket)
) WITHOUT ROWID;
CREATE TRIGGER intention_counts_insert AFTER INSERT ON intention_scores BEGIN
	INSERT INTO intention_counts VALUES (new.subject, new.business_type, new.status, new.voided, new.product, new.level,
		MIN(CAST(new.score / 10 AS INTEGER), 9), 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER intention_counts_delete AFTER DELETE ON intention_scores BEGIN
	UPDATE intention_counts SET n = n - 1 WHERE subject = old.subject AND business_type = old.business_type AND status = old.status
		AND voided = old.voided AND product = old.product AND level = old.level AND bucket = MIN(CAST(old.score / 10 AS INTEGER), 9);
END;
CREATE TRIGGER intention_counts_update AFTER UPDATE OF business_type, status, voided, level, score ON intention_scores BEGIN
	UPDATE intention_counts SET n = n - 1 WHERE subject = old.subject AND business_type = old.business_type AND status = old.status
		AND voided = old.voided AND product = old.product AND level = old.level AND bucket = MIN(CAST(old.score / 10 AS INTEGER), 9);
	INSERT INTO intention_counts VALUES (new.subject, new.business_type, new.status, new.voided, new.product, new.level,
		MIN(CAST(new.score / 10 AS INTEGER), 9), 1)
	ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- A lead's business type, status and voided mark follow it into its scores.
CREATE TRIGGER leads_scores_insert AFTER INSERT ON leads BEGIN
	UPDATE score_cards SET business_type = new.business_type, status = new.status, voided = new.voided
		WHERE subject = 'lead' AND id = new.uuid;
	UPDATE intention_scores SET business_type = new.business_type, status = new.status, voided = new.voided
		WHERE subject = 'lead' AND id = new.uuid;
END;
CREATE TRIGGER leads_scores_update AFTER UPDATE OF business_type, status, voided ON leads
WHEN old.business_type IS NOT new.business_type OR old.status IS NOT new.status OR old.voided IS NOT new.voided BEGIN
	UPDATE score_cards SET business_type = new.business_type, status = new.status, voided = new.voided
		WHERE subject = 'lead' AND id = new.uuid;
	UPDATE intention_scores SET business_type = new.business_type, status = new.status, voided = new.voided
		WHERE subject = 'lead' AND id = new.uuid;
END;
