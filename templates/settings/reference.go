package settings

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jingdesk/jingdesk/templates/ui"
)

// Reference data: the statuses, fields, options and members copied from
// the platform, as Settings → Reference data shows them.

// Kinds of reference set (the same strings as internal/refdata's).
const (
	RefKindBusinessTypes = "business_types"
	RefKindStatuses      = "statuses"
	RefKindFields        = "fields"
	RefKindOptions       = "options"
	RefKindOptionTree    = "option_tree"
	RefKindMembers       = "members"
)

// ReferencePath is the page; its fragments and actions live under it.
const ReferencePath = "/settings/reference"

// ReferenceSets is everything below the tabs: the sets grouped by object,
// the refresh buttons and, while a refresh runs, its progress. GET
// /settings/reference/sets answers with it, and so does a refresh request
// from htmx.
type ReferenceSets struct {
	Now    int64 // the request's clock, Unix seconds, for the ages
	Groups []RefGroup
	// Refresh is the queued or running refresh job; nil when none. Only
	// while it is set does the fragment poll.
	Refresh *RefRefresh
	// CanRefresh is false for viewers: they see no buttons at all.
	CanRefresh bool
}

// Live reports whether the fragment should poll.
func (v ReferenceSets) Live() bool { return v.Refresh != nil }

// Empty reports whether there is no set at all.
func (v ReferenceSets) Empty() bool {
	for _, g := range v.Groups {
		if len(g.Sets) > 0 {
			return false
		}
	}
	return true
}

// Failing lists the sets whose last refresh failed.
func (v ReferenceSets) Failing() int {
	n := 0
	for _, g := range v.Groups {
		for _, s := range g.Sets {
			if s.Error != "" {
				n++
			}
		}
	}
	return n
}

// LatestFailure is the set whose refresh failed last, nil when none did.
func (v ReferenceSets) LatestFailure() *RefSet {
	var latest *RefSet
	for gi := range v.Groups {
		for si := range v.Groups[gi].Sets {
			s := &v.Groups[gi].Sets[si]
			if s.Error != "" && (latest == nil || s.LastAttemptAt > latest.LastAttemptAt) {
				latest = s
			}
		}
	}
	return latest
}

// RefGroup is the sets of one object: "lead", "account", or "" (members).
type RefGroup struct {
	Object string
	Sets   []RefSet
}

// RefSet is one reference set's row.
type RefSet struct {
	Key       string
	Kind      string
	Object    string
	Scope     string
	ScopeName string
	Count     int
	FetchedAt int64 // 0: never loaded
	Stale     bool
	// Error is the last failed refresh, already in the user's language
	// (never Go error text; a platform error's sentence carries its
	// request_id for support).
	Error         string
	LastAttemptAt int64
	Change        *RefChange
}

// Loaded reports whether the set was ever fetched.
func (s RefSet) Loaded() bool { return s.FetchedAt != 0 }

// RefChange is what the latest refresh that changed something changed.
type RefChange struct {
	At      int64
	Added   []RefItemChange
	Renamed []RefItemChange
	Removed []RefItemChange
}

// Total counts every change.
func (c RefChange) Total() int { return len(c.Added) + len(c.Renamed) + len(c.Removed) }

// RefItemChange is one entry: Before is "" when added, After when removed.
type RefItemChange struct{ ID, Before, After string }

// RefRefresh is the refresh job in progress.
type RefRefresh struct {
	JobID int64
	State string // queued or running (paused too, if someone paused it)
	Total int64  // sets to refresh; 0 while unknown
	Done  int64
	// Failed counts sets whose refresh failed in this run.
	Failed int64
}

// Processed counts the sets done or failed.
func (r RefRefresh) Processed() int64 { return r.Done + r.Failed }

// ReferenceSetPage is one set's items: a table, the fields table, or the
// tree browser of an option set.
type ReferenceSetPage struct {
	Now   int64
	Set   RefSet
	Items []RefItem
	Tree  []*RefNode
	// CanRefresh shows the set's refresh button.
	CanRefresh bool
	Refreshing bool // a refresh job is active: the button is disabled
}

// RefItem is one entry of a set.
type RefItem struct {
	ID       string
	Name     string
	NameEn   string
	Sort     int
	Type     string
	Preset   bool
	Required bool
	Writable bool
	// Members only.
	Email, Department, Status string
}

// RefNode is an option-set node with its children.
type RefNode struct {
	RefItem
	Children []*RefNode
}

// Leaves counts the choices at the bottom of a node.
func (n *RefNode) Leaves() int {
	if len(n.Children) == 0 {
		return 1
	}
	total := 0
	for _, c := range n.Children {
		total += c.Leaves()
	}
	return total
}

// unwritableTypes are the field types the platform's API refuses to write
// in a custom field (leads.create: "custom fields of type department,
// multi_department, image, look_up cannot be written"). Preset fields of
// these types (owner, department) follow their own writable flag.
var unwritableTypes = map[string]bool{"department": true, "multi_department": true, "image": true, "look_up": true}

// Unwritable reports whether a field is a custom one of a type the API cannot write.
func Unwritable(f RefItem) bool { return !f.Preset && unwritableTypes[f.Type] }

// fieldTypes are the types with a translated name; others show their code.
var fieldTypes = map[string]bool{
	"text": true, "textarea": true, "number": true, "date": true, "select": true, "multi_select": true,
	"option_set": true, "mobile": true, "email": true, "url": true, "department": true,
	"multi_department": true, "image": true, "look_up": true,
}

func fieldTypeName(ctx context.Context, t string) string {
	if fieldTypes[t] {
		return ui.T(ctx, "refdata.type."+t)
	}
	return t
}

var refKinds = map[string]bool{
	RefKindBusinessTypes: true, RefKindStatuses: true, RefKindFields: true,
	RefKindOptions: true, RefKindOptionTree: true, RefKindMembers: true,
}

// SetName composes a set's name from its kind and scope: "状态 · 展会线索",
// "选项 · 来源类型 (source_type)", "选项集 · 国家/地区", "成员".
func SetName(ctx context.Context, s RefSet) string {
	kind := s.Kind
	if refKinds[kind] {
		kind = ui.T(ctx, "refdata.kind."+kind)
	}
	scope := s.ScopeName
	switch {
	case scope == "" && s.Scope == "":
		return kind
	case scope == "":
		scope = s.Scope
	case s.Kind == RefKindOptions && s.Scope != "" && s.Scope != scope:
		scope += " (" + s.Scope + ")"
	}
	return kind + " · " + scope
}

// ObjectName is a group's heading: 线索, 客户, or 成员 for the sets of no object.
func ObjectName(ctx context.Context, object string) string {
	switch object {
	case "lead", "account":
		return ui.T(ctx, "refdata.object."+object)
	case "":
		return ui.T(ctx, "refdata.object.none")
	}
	return object
}

// SetURL is a set's own page.
func SetURL(key string) string { return ReferencePath + "/set?key=" + url.QueryEscape(key) }

// setRowID is an HTML id for a set's row (keys hold dots and ids).
func setRowID(key string) string {
	b := []byte("refset-" + key)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	return string(b)
}

func jobURL(id int64) string { return fmt.Sprintf("/jobs/%d", id) }

// changeSummary is "3 changed: 1 added, 1 renamed, 1 removed".
func changeSummary(ctx context.Context, c RefChange) string {
	var parts []any
	parts = append(parts, "Count", ui.Num(ctx, c.Total()))
	detail := ""
	add := func(n int, id string) {
		if n == 0 {
			return
		}
		part := ui.T(ctx, id, "Count", ui.Num(ctx, n))
		if detail != "" {
			detail += ui.T(ctx, "refdata.change.sep")
		}
		detail += part
	}
	add(len(c.Added), "refdata.change.added")
	add(len(c.Renamed), "refdata.change.renamed")
	add(len(c.Removed), "refdata.change.removed")
	parts = append(parts, "Detail", detail)
	return ui.T(ctx, "refdata.change.summary", parts...)
}

// failingText says how many sets failed to refresh, and that their copies stay in use.
func failingText(ctx context.Context, n int) string {
	if n == 1 {
		return ui.T(ctx, "refdata.failing_one")
	}
	return ui.T(ctx, "refdata.failing", "Count", ui.Num(ctx, n))
}

func refreshTrigger(live bool) string {
	if live {
		return "every 2s"
	}
	return ""
}

func yesNo(ctx context.Context, b bool) string {
	if b {
		return ui.T(ctx, "refdata.yes")
	}
	return ui.T(ctx, "refdata.no")
}

// memberStatus translates the statuses the platform reports; others show as given.
func memberStatus(ctx context.Context, s string) string {
	switch s {
	case "active", "inactive":
		return ui.T(ctx, "refdata.member."+s)
	}
	return s
}
