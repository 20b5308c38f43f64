// Package refdata keeps the platform's reference data in SQLite and turns
// the ids that records carry into names.
//
// Everything on the platform points at reference data by id: business
// types, lead statuses, select options, option-set trees, fields, members.
// The Service refreshes these sets through the platform client as a
// background job (start-up, on a TTL, on demand), keeps the last good copy
// of each set when the platform fails, and records what changed. The
// Resolver is an in-memory index built from SQLite after each refresh, so
// pages and exports resolve ids without a lock, a query or a platform call.
package refdata

import (
	"errors"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/i18n"
)

// Kinds of reference set.
const (
	KindBusinessTypes = "business_types" // per object: lead, account
	KindStatuses      = "statuses"       // lead status pipeline, per lead business type (Sort = pipeline order)
	KindFields        = "fields"         // object fields, per object and business type
	KindOptions       = "options"        // flat choices of a select/multi_select field (preset: objects.source_options; custom: objects.custom_options), per object and field code
	KindOptionTree    = "option_tree"    // tree of an option_set field (objects.option_set), per object and field code
	KindMembers       = "members"        // the tenant's members (owners, collaborators)
)

// JobKind is the kind of the refresh job on the jobs runner.
const JobKind = "refdata.refresh"

// ErrUnknownSet is returned for a set key the current connection does not have.
var ErrUnknownSet = errors.New("refdata: no such reference set")

// SetInfo is one reference set as the Settings page lists it.
type SetInfo struct {
	Key           string // stable, e.g. "lead.business_types", "lead.statuses.<bt id>", "lead.fields.<bt id>", "lead.options.source_type", "lead.tree.country_region", "members"
	Kind          string
	Object        string // "lead", "account", or "" (members)
	Scope         string // business type id or field code; "" when none
	ScopeName     string // the business type's or field's name, resolved ("" when none)
	Count         int
	FetchedAt     time.Time // zero: never loaded
	LastAttemptAt time.Time
	LastError     string  // the last failed refresh's message in English technical form; "" after a success
	LastErr       error   // the same failure (a *jing.Error when it came from the platform), for a translated message; nil after a success
	LastChange    *Change // the latest refresh that changed something; nil if none
	Stale         bool    // older than the TTL
}

// Change is what one refresh changed in a set.
type Change struct {
	At      time.Time
	Added   []ItemChange
	Renamed []ItemChange
	Removed []ItemChange
}

// Count is the number of entries the change touched.
func (c *Change) Count() int { return len(c.Added) + len(c.Renamed) + len(c.Removed) }

// ItemChange is one changed entry: Before is "" when added, After is "" when removed.
type ItemChange struct{ ID, Before, After string }

// Item is one entry of a set. Its fields are those of db.RefItem, in the
// same order, so the two convert into each other.
type Item struct {
	ID       string
	ParentID string // option trees only
	Name     string
	NameEn   string // when the platform gives an English name too
	// Sort is the pipeline order for statuses; for every other kind the
	// entry's position in the platform's answer (among its siblings, in a tree).
	Sort int
	// Fields only:
	Type string // text, textarea, number, date, select, multi_select, option_set, mobile, email, url, department, multi_department, image, look_up
	// Preset: a preset field; for business types, the tenant's default one.
	// Writable: the API may write the field (writable, and not a custom
	// type the platform refuses: jing.ObjectField.CanWrite).
	Preset, Required, Writable bool
	// Members only:
	Email, Department, Status string
}

// DisplayName is the item's name in lang.
func (it Item) DisplayName(lang string) string { return pickName(lang, it.Name, it.NameEn) }

// TreeNode is an option-set node with its children.
type TreeNode struct {
	Item
	Children []*TreeNode
}

// Unknown is how an id without a known name is shown: never blank, and
// with the id, so a user can still tell two unknown values apart.
func Unknown(lang, id string) string {
	if english(lang) {
		return "unknown (" + id + ")"
	}
	return "未知（" + id + "）"
}

// english reports whether lang asks for English ("en", "en-US", …).
func english(lang string) bool {
	return lang == i18n.English || strings.HasPrefix(lang, i18n.English+"-")
}

// pickName is the English name for English when the platform gave one,
// otherwise the platform's own (Chinese) name.
func pickName(lang, name, nameEn string) string {
	if nameEn != "" && english(lang) {
		return nameEn
	}
	return name
}

// Set keys. The key carries the object and scope, so a single-set refresh
// knows what to fetch from the key alone.
func businessTypesKey(object string) string  { return object + ".business_types" }
func statusesKey(businessType string) string { return "lead.statuses." + businessType }
func fieldsKey(object, businessType string) string {
	return object + ".fields." + businessType
}
func optionsKey(object, code string) string { return object + ".options." + code }
func treeKey(object, code string) string    { return object + ".tree." + code }

const membersKey = "members"
