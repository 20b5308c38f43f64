// Package crowds renders the Crowds pages: the list of the platform's
// static crowds from the local copy, one crowd with the imports that fed
// it, and its members (a fragment fetched from the platform page by page).
package crowds

import (
	"context"
	"net/url"
	"strconv"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// Paths of the crowds pages.
const (
	ListPath  = "/crowds"
	TablePath = "/crowds/table"
	SyncPath  = "/crowds/sync"
)

// TableID is the element the search box, the page links and the polling
// while a refresh runs replace.
const TableID = "crowds-table"

// MembersID is the element the members fragment fills.
const MembersID = "crowd-members"

// PageSize is how many crowds (and members) a page shows.
const PageSize = 50

// Limits the platform puts on a crowd's name and description (characters;
// the crowds service owns the rule).
const (
	NameMax        = crowds.CrowdNameMax
	DescriptionMax = crowds.CrowdDescriptionMax
)

// CrowdPath is a crowd's page.
func CrowdPath(id int64) string { return ListPath + "/" + i64(id) }

// MembersPath is one page of a crowd's members.
func MembersPath(id int64, page int) string {
	p := CrowdPath(id) + "/members"
	if page > 1 {
		p += "?page=" + strconv.Itoa(page)
	}
	return p
}

// DeletePath is where a crowd's delete form posts.
func DeletePath(id int64) string { return CrowdPath(id) + "/delete" }

// ImportPath is an import's page.
func ImportPath(id int64) string { return "/imports/" + i64(id) }

// NewImportPath is the import wizard.
const NewImportPath = "/imports/new"

// Query is the list's search and page, all GET parameters.
type Query struct {
	Q    string
	Page int // 1-based; 0 or 1 is the first
}

// Values are the query's parameters (empty ones left out).
func (q Query) Values() url.Values {
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

func withQuery(path string, v url.Values) string {
	if len(v) > 0 {
		return path + "?" + v.Encode()
	}
	return path
}

// URL is the list page with this query (what the address bar shows).
func (q Query) URL() string { return withQuery(ListPath, q.Values()) }

// TableURL is the table fragment with this query.
func (q Query) TableURL() string { return withQuery(TablePath, q.Values()) }

// PollURL is the table fragment as the polling asks for it (it does not
// change the address bar).
func (q Query) PollURL() string {
	v := q.Values()
	v.Set("poll", "1")
	return withQuery(TablePath, v)
}

// AtPage is the same query on another page.
func (q Query) AtPage(p int) Query { q.Page = p; return q }

// List is the crowds page.
type List struct {
	Now   int64
	Query Query
	Rows  []Row
	Total int // crowds matching the search
	Pages int
	Fresh Freshness
	// CanEdit: marketers and administrators create crowds and refresh the list.
	CanEdit bool
	// Form is the new crowd form as submitted (kept on a refusal).
	Form Form
}

// CurrentPage is the page shown (1-based).
func (v List) CurrentPage() int { return max(v.Query.Page, 1) }

// From is the 1-based position of the page's first crowd.
func (v List) From() int { return (v.CurrentPage()-1)*PageSize + 1 }

// To is the position of the page's last crowd.
func (v List) To() int { return v.From() + len(v.Rows) - 1 }

// Freshness is how current the local list is.
type Freshness struct {
	AsOf      int64  // last complete listing; 0: never
	Stale     bool   // older than allowed, or from another connection
	Syncing   bool   // a refresh is queued or running
	LastError string // why the last refresh failed ("" when it did not)
}

// Row is one crowd of the list.
type Row struct {
	ID          int64
	Name        string
	Description string
	Members     int64
	CreatedAt   int64
	UpdatedAt   int64
	FetchedAt   int64
}

// URL is the crowd's page.
func (r Row) URL() string { return CrowdPath(r.ID) }

// Form is a crowd's name and description as typed, with what went wrong.
type Form struct {
	Name        string
	Description string
	Error       string // a refusal: the platform's message, or a check of ours
	Open        bool   // show the form open (it was just submitted)
}

// Page is one crowd's page.
type Page struct {
	Now     int64
	Crowd   Row
	CanEdit bool
	Form    Form // the edit form (marketers and administrators)
	Imports []Import
	// Delete is the delete confirmation when asked for (nil otherwise).
	Delete *Delete
}

// Import is an import that fed the crowd.
type Import struct {
	ID        int64
	FileName  string
	User      string
	CreatedAt int64
	StartedAt int64
	Total     int64
	Valid     int64
	Invalid   int64
	Duplicate int64
	Stage     string // uploaded, validated, started
	JobState  string // the job's state once started ("" before)
}

// State is the import's state as one word for its badge.
func (im Import) State() string {
	for _, s := range []string{im.JobState, im.Stage} {
		if _, known := importStates[s]; known {
			return s
		}
	}
	return "started"
}

// Delete is the confirmation a delete asks for: the crowd's name and its
// exact member count, which the user types to confirm.
type Delete struct {
	ID      int64
	Name    string
	Members int64
	Typed   string
	Error   string
}

// Members is one page of a crowd's members (the fragment).
type Members struct {
	CrowdID int64
	Page    int
	Pages   int
	Total   int // -1: not known (the platform's list has no _meta)
	Items   []Member
	Masked  bool   // mobiles and emails are masked (viewers)
	Error   string // the platform's message when the page could not be fetched
	// What the console knows of them: of this page, and of the whole crowd
	// as last listed here (KnownListedAt 0: never listed).
	KnownOnPage   int
	KnownListedAt int64
	Known         int64
	Listed        int64
}

// Member is one member of a crowd.
type Member struct {
	UUID     string
	Joined   int64
	Identity string // the identity an import resolved, masked for viewers
	Kind     string // its type: mobile, email, …
	Name     string
	Lead     string // a lead of theirs in the copy (jing_uuid)
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func itoa(n int) string { return strconv.Itoa(n) }

func boolStr(b bool) string { return strconv.FormatBool(b) }

// dateAndAgo is a moment as a date and how long ago ("—" for none).
func dateAndAgo(ctx context.Context, now, at int64) string {
	if at == 0 {
		return "—"
	}
	return ui.DateTime(ctx, at) + " (" + ui.Ago(ctx, now, at) + ")"
}

// importTime is when an import started, else when it was uploaded.
func importTime(im Import) int64 {
	if im.StartedAt > 0 {
		return im.StartedAt
	}
	return im.CreatedAt
}

// importStates are the states an import's badge can name.
var importStates = map[string]string{
	"uploaded": "", "validated": "", "started": "badge-info", "queued": "badge-info", "running": "badge-info",
	"paused": "badge-warning", "done": "badge-success", "failed": "badge-danger", "cancelled": "badge-warning",
}

func stateBadge(state string) string { return importStates[state] }

// identityKinds are the identity types an import matches on.
var identityKinds = map[string]bool{"mobile": true, "email": true, "omni_user_uuid": true, "wechat_openid": true, "wechat_unionid": true}

// kindName names an identity type (an unknown one as it is).
func kindName(ctx context.Context, kind string) string {
	if identityKinds[kind] {
		return ui.T(ctx, "crowds.kind."+kind)
	}
	return kind
}
