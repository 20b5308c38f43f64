-- Retention of what only history needs (issue 18).

-- An import's row records (one per data row of its file) are kept for its
-- report and its page while they may be wanted; past the retention set on
-- the System page they are deleted. Their counts are kept first, one row
-- per (state, created, reason), so the import's page and the history still
-- say exactly what it did. rows_pruned_at says when (0: the rows are there).
ALTER TABLE imports ADD COLUMN rows_pruned_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE import_row_tallies (
	import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
	state     TEXT NOT NULL,
	created   INTEGER NOT NULL,
	reason    TEXT NOT NULL,
	n         INTEGER NOT NULL,
	PRIMARY KEY (import_id, state, created, reason)
) WITHOUT ROWID;
