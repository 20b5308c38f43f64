package leads

import "strconv"

// ViewsPath is where saved views are created; ViewPath(id) opens one.
const ViewsPath = "/leads/views"

// ViewPath is a saved view: GET opens it, POST edits it.
func ViewPath(id int64) string { return ViewsPath + "/" + strconv.FormatInt(id, 10) }

// ViewsBar is the saved views of the board or the list, above the page:
// the views the reader may open, the one open (if any) and the form that
// saves what the page shows now.
type ViewsBar struct {
	Page    string // "board" or "list"
	Views   []SavedView
	Active  *SavedView // the view the page was opened from
	Query   string     // the page's query now, saved by "Save view"
	NoneURL string     // the page without the reader's default view ("" without a default)
}

// SavedView is one view as the bar lists it.
type SavedView struct {
	ID       int64
	Name     string
	Owner    string // the owner's name ("" when the reader's)
	Shared   bool
	Default  bool // the reader's default
	Editable bool // the reader may rename, re-save, share, delete
}
