package leads

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ListPath is the list of leads: a table with search, filters, sort and pages.
const ListPath = "/leads/list"

// ListTableID is the element the list's filter form and page links swap.
const ListTableID = "leads-table"

// ListPageSize is how many leads a page of the list shows.
const ListPageSize = 50

// Sorts of the list, in the order the sort menu offers them.
var ListSorts = []string{"updated", "created", "name", "status_since"}

// ListFilter is everything that narrows and orders the list, all GET
// parameters, so a filtered view can be bookmarked. Dates are as typed
// (YYYY-MM-DD, in the server's zone).
type ListFilter struct {
	Filter // shared with the board
	Status string
	Sort   string // "" is "updated"
	Page   int    // 1-based; 0 or 1 is the first
	// Columns are the columns shown besides the name, in ListColumns'
	// order; nil: all of them.
	Columns []string
}

// ListColumns are the list's columns a reader may hide (the name always
// shows), in the table's order.
var ListColumns = []string{"company", "title", "status", "owner", "business_type", "mobile", "email", "updated", "created"}

// ReadColumns reads the shown columns from the "cols" parameter's values
// (each a comma-separated list): unknown names are dropped; none, or
// all, is nil (every column).
func ReadColumns(values []string) []string {
	var out []string
	for _, col := range ListColumns {
		for _, v := range values {
			if slices.Contains(strings.Split(v, ","), col) {
				out = append(out, col)
				break
			}
		}
	}
	if len(out) == len(ListColumns) {
		return nil
	}
	return out
}

// Shows reports whether the list shows column col.
func (f ListFilter) Shows(col string) bool {
	return f.Columns == nil || slices.Contains(f.Columns, col)
}

// Values are the list's filter as query parameters (empty ones left out).
func (f ListFilter) Values() url.Values {
	v := f.Filter.Values()
	if f.Status != "" {
		v.Set("status", f.Status)
	}
	if f.Sort != "" && f.Sort != "updated" {
		v.Set("sort", f.Sort)
	}
	if f.Columns != nil {
		v.Set("cols", strings.Join(f.Columns, ","))
	}
	if f.Page > 1 {
		v.Set("page", strconv.Itoa(f.Page))
	}
	return v
}

// Active reports whether anything narrows the list.
func (f ListFilter) Active() bool {
	return f.BusinessType != "" || f.Filter.Active() || f.Status != ""
}

// ListURL is the list with a filter.
func ListURL(f ListFilter) string {
	if v := f.Values(); len(v) > 0 {
		return ListPath + "?" + v.Encode()
	}
	return ListPath
}

// ExportPath exports the list (POST, with the list's query).
const ExportPath = "/leads/export"

// ExportURL is the export of the list as filtered (every page).
func ExportURL(f ListFilter) string {
	f.Page, f.Columns = 0, nil
	if v := f.Values(); len(v) > 0 {
		return ExportPath + "?" + v.Encode()
	}
	return ExportPath
}

// PageURL is another page of the same list.
func PageURL(f ListFilter, page int) string {
	f.Page = page
	return ListURL(f)
}

// LeadPath is a lead's own page.
func LeadPath(uuid string) string { return "/leads/" + url.PathEscape(uuid) }

// URL is the lead's own page.
func (r Row) URL() string { return LeadPath(r.UUID) }

// List is the whole list page.
type List struct {
	Now    int64
	Filter ListFilter
	FilterChoices
	Statuses []Choice // of the chosen business type (none without one)
	Rows     []Row
	Total    int
	Pages    int
	// Masked: mobile and email are shown masked (viewers).
	Masked bool
	// Bulk is the bulk bar's choices; nil for viewers (no checkboxes).
	Bulk *BulkBar
	// AsOf is when the local copy was last brought up to date (0: never).
	AsOf int64
	// Unavailable: no reference data or no local copy yet.
	Unavailable bool
	// Views is the saved views bar.
	Views ViewsBar
	// Dropped are the filters the URL named that no longer exist (a
	// status or business type gone from the pipeline since it was saved):
	// their ids, shown in a notice; the list opens without them.
	Dropped []string
}

// Row is one lead of the list, its ids resolved to names.
type Row struct {
	UUID         string
	Name         string
	Company      string
	Title        string
	Status       string
	StatusName   string
	Owner        string // the owner's name ("" when unassigned)
	BusinessType string // the business type's name
	Mobile       string // masked for viewers
	Email        string // masked for viewers
	UpdatedAt    int64
	CreatedAt    int64
}

// PageLinks are the page numbers to link to around the current page: the
// first, the last and two either side; 0 stands for a gap.
func (v List) PageLinks() []int {
	cur := max(v.Filter.Page, 1)
	var out []int
	for p := 1; p <= v.Pages; p++ {
		if p == 1 || p == v.Pages || (p >= cur-2 && p <= cur+2) {
			out = append(out, p)
		} else if len(out) > 0 && out[len(out)-1] != 0 {
			out = append(out, 0)
		}
	}
	return out
}

// CurrentPage is the page shown (1-based).
func (v List) CurrentPage() int { return max(v.Filter.Page, 1) }

// From and To are the 1-based positions of the page's first and last lead.
func (v List) From() int { return (v.CurrentPage()-1)*ListPageSize + 1 }

// To is the position of the page's last lead.
func (v List) To() int { return v.From() + len(v.Rows) - 1 }

// ListFromBoard is the list with the board's filter (for the view toggle).
func ListFromBoard(f Filter) string { return ListURL(ListFilter{Filter: f}) }

// BoardFromList is the board with the list's filters the board knows.
func BoardFromList(f ListFilter) string { return BoardURL(f.Filter) }

// BulkPreviewPath and BulkPath are where the bulk bar posts: the preview,
// then the confirmed change (which starts the job).
const (
	BulkPreviewPath = "/leads/bulk/preview"
	BulkPath        = "/leads/bulk"
)

// BulkBar is what the bulk bar offers (marketers and administrators).
type BulkBar struct {
	Actions  []string
	Members  []Choice
	Statuses []StatusGroup // every pipeline's statuses, closing ones left out
}

// StatusGroup is one business type's statuses.
type StatusGroup struct {
	Label    string
	Statuses []Choice
}

// BulkPreview shows exactly what a bulk change will do, and confirms it.
type BulkPreview struct {
	Count  int
	Names  []string // the first BulkPreviewNames leads' names
	More   int      // how many more are not named
	Change string   // the change, in words
	// The confirmed form's fields, as posted.
	Leads   []string
	Action  string
	Owner   string
	Members []string
	Status  string
	Back    string // the list to go back to
}

// BulkPreviewNames is how many leads the preview names.
const BulkPreviewNames = 50
