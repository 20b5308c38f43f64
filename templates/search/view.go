// Package search draws the results of the header's search box (issue 20).
package search

import "net/url"

// Path is the search page; the header's box is a GET form to it.
const Path = "/search"

// InputID is the header's search box (static/app.js focuses it on "/" and
// Ctrl+K).
const InputID = "global-search"

// Results are the matches, grouped by kind, sentences already resolved.
type Results struct {
	Query  string
	Error  string // a refused query, in the reader's language
	Groups []Group
	Masked bool // contact data hidden (viewers)
}

// Group is one kind of result.
type Group struct {
	Kind  string // leads, accounts, crowds, sends, imports
	Title string
	Total int    // 0 when unknown (sends and imports show their first few)
	All   string // a page listing every match ("" when none)
	Items []Item
}

// Item is one result: a link and a line under it.
type Item struct {
	Title, Detail, Link string
}

// URL is the search page for q.
func URL(q string) string { return Path + "?q=" + url.QueryEscape(q) }
