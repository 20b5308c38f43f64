-- Saved views of the leads board and list (issue 20): a named URL with
-- an owner. query is the page's own query string, as the page writes it
-- (the URL stays the source of truth); shared views are listed to the
-- whole team, private ones to their owner only.
CREATE TABLE saved_views (
	id         INTEGER PRIMARY KEY,
	owner_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	page       TEXT NOT NULL CHECK (page IN ('board', 'list')),
	name       TEXT NOT NULL,
	query      TEXT NOT NULL DEFAULT '',
	shared     INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX saved_views_owner ON saved_views(owner_id, page);
CREATE INDEX saved_views_shared ON saved_views(page, shared);

-- Each user's default view of a page (theirs or one shared with the
-- team): opening the page without a query opens it. One per user and
-- page; deleting the view clears it.
CREATE TABLE saved_view_defaults (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	page    TEXT NOT NULL,
	view_id INTEGER NOT NULL REFERENCES saved_views(id) ON DELETE CASCADE,
	PRIMARY KEY (user_id, page)
);
CREATE INDEX saved_view_defaults_view ON saved_view_defaults(view_id);
