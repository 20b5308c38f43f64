// Package leads holds the lead pages: the board (one column per status of
// a business type's pipeline) with its columns and cards as fragments.
package leads

import (
	"net/url"
	"strconv"

	"github.com/jingdesk/jingdesk/internal/leads"
)

// BoardPath is the board; its fragments live under it.
const BoardPath = "/leads/board"

// Choice is one entry of a select or a tab.
type Choice struct {
	Value, Label string
}

// Filter is what narrows every column: the same GET parameters as the list
// (the list adds a status, a sort and a page). It is the one lead filter
// of internal/leads, which the board, the list and live updates share.
type Filter = leads.Filter

// FilterChoices are what the filter offers, on the board and the list alike.
type FilterChoices struct {
	BusinessTypes []Choice
	Owners        []Choice
	Sources       []Choice
	Pools         []Choice
}

// Board is the whole page.
type Board struct {
	Now    int64 // the request's clock, for ages
	Filter Filter
	FilterChoices
	Columns []Column
	// CanMove: marketers and administrators move cards; viewers only look
	// (no drag, no menu).
	CanMove bool
	// Total counts the leads on the board (every column); with AtLeast,
	// a lower bound (some column's count is: db.Board).
	Total   int
	AtLeast bool
	// AsOf is when the local copy was last brought up to date (0: never).
	AsOf int64
	// Seq is the change log's seq the board was drawn at: board.js asks
	// GET /leads/changes for what changed after it (issue 9).
	Seq int64
	// Unavailable: no pipeline to show (no reference data or no local copy
	// yet); the page says what to do instead of showing empty columns.
	Unavailable bool
}

// Column is one status of the pipeline.
type Column struct {
	Status string
	Name   string
	Count  int
	// AtLeast: Count is a lower bound (a broad filter is not counted to
	// the end: db.Board).
	AtLeast bool
	Closing bool
	Cards   []Card
	// More is the offset of the next page of cards; 0 when all are shown.
	More   int
	Filter Filter
}

// Card is one lead on the board. Mobile and email are never on a card.
type Card struct {
	UUID         string
	BusinessType string
	Status       string
	Name         string
	Company      string
	Owner        string // the owner's name ("" when unassigned)
	UpdatedAt    int64
	Now          int64 // the request's clock, for the age in stage
	// StageSince is when the lead entered its status and StagePrecision
	// how well that is known (leads.Stage: "exact", "about", "at_least").
	StageSince     int64
	StagePrecision string
	// Movable: the user may move the card (drag, "Move to…").
	Movable bool
	// Targets are the other statuses of the pipeline, for "Move to…":
	// only in the menu's own answer (MoveMenu), not on the board.
	Targets []Target
	// Error is why the last move was refused (the platform's own message,
	// in the user's language); Notice says the lead changed on the platform.
	Error  string
	Notice string
	// NeedsNote is the closing status the user tried to move to without a
	// note: the card asks for one.
	NeedsNote *Target
}

// Target is a status a card can be moved to.
type Target struct {
	Status  string
	Name    string
	Closing bool
}

// CanMove reports whether the card has move controls.
func (c Card) CanMove() bool { return c.Movable }

// MenuPath is a card's "Move to…" list (asked for when opened).
func MenuPath(uuid string) string { return "/leads/" + url.PathEscape(uuid) + "/moves" }

// ColumnURL is the next page of a column's cards.
func ColumnURL(col Column) string {
	v := col.Filter.Values()
	v.Set("status", col.Status)
	v.Set("offset", strconv.Itoa(col.More))
	return BoardPath + "/column?" + v.Encode()
}

// BoardURL is the board with a filter.
func BoardURL(f Filter) string {
	if v := f.Values(); len(v) > 0 {
		return BoardPath + "?" + v.Encode()
	}
	return BoardPath
}

// TabURL is the board of another business type, keeping the other filters.
func TabURL(f Filter, businessType string) string {
	f.BusinessType = businessType
	return BoardURL(f)
}

// MovePath is where a card's move is posted.
func MovePath(uuid string) string { return "/leads/" + url.PathEscape(uuid) + "/move" }

// CardID and friends are the HTML ids the move's answer swaps by.
func CardID(uuid string) string { return "card-" + htmlID(uuid) }

// CardsID is a column's list of cards.
func CardsID(status string) string { return "cards-" + htmlID(status) }

// CountID is a column's count in its header.
func CountID(status string) string { return "count-" + htmlID(status) }

// htmlID keeps letters, digits, '-' and '_' (platform ids are UUIDs, but be safe).
func htmlID(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// MoveResult is the answer to a move: the card in the column it now
// belongs to, and every column's count.
type MoveResult struct {
	Card   Card
	Counts []Column // Status, Count and AtLeast only
	Total  int
	// AtLeast: Total is a lower bound (some column's count is).
	AtLeast bool
}

func itoa(n int) string { return strconv.Itoa(n) }

func i64(n int64) string { return strconv.FormatInt(n, 10) }
