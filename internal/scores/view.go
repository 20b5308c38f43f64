package scores

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/roles"
)

// Populations a view looks at.
const (
	PopCrowd = "crowd" // a crowd's members (persons)
	PopType  = "type"  // a business type's leads
	PopLeads = "leads" // leads by business type, status and owner
	PopAll   = "all"   // every lead
)

// Sorts of a view's tables.
const (
	SortScore = "score" // highest first (the default)
	SortName  = "name"  // by name, as the reader reads it
)

// Limits of what a view and a selection take from a request.
const (
	idMax          = 100 // a business type, status or owner id
	valueMax       = 64  // a grade, level, band or product
	selectionItems = 10  // values per selection parameter
)

// Shown is how many rows a view's tables hold: its top and bottom, the
// preview of a selection, who a clearing would touch.
const Shown = 20

// The platform's grades and levels, in the order the charts draw them.
var (
	Grades          = []string{"A", "B", "C", "D"}
	Levels          = []string{"inactive", "cold", "warm", "hot"}
	IntentionLevels = []string{"low", "medium", "high"}
)

// Bands are a kind's bands in order: identity's grades, activity's
// levels, intention's levels.
func Bands(kind string) []string {
	switch kind {
	case db.ScoreIdentity:
		return Grades
	case db.ScoreActive:
		return Levels
	}
	return IntentionLevels
}

// View is what a scores page looks at: a population (a crowd's members,
// or leads narrowed by business type, status and owner), a kind of score
// (for intention, one product) and the order of its tables.
type View struct {
	Pop          string
	Crowd        int64
	BusinessType string
	Status       string
	Owner        string
	Kind         string
	Product      string
	Sort         string // SortScore or SortName
}

// ParseView reads a view from a page's parameters. What it cannot use
// gives way to the defaults rather than refusing the page (an old link
// still opens): an unknown population is every lead, or the crowd when
// one is named; an unknown kind is identity; an unknown sort is by score;
// an id or product too long to be one is left out.
func ParseView(value func(string) string) View {
	field := func(key string, max int) string {
		v := strings.TrimSpace(value(key))
		if len(v) > max {
			return ""
		}
		return v
	}
	v := View{Pop: value("pop"), BusinessType: field("business_type", idMax), Status: field("status", idMax),
		Owner: field("owner", idMax), Kind: value("kind"), Product: field("product", valueMax), Sort: value("sort")}
	if id, err := strconv.ParseInt(value("crowd"), 10, 64); err == nil && id > 0 {
		v.Crowd = id
	}
	switch v.Pop {
	case PopCrowd, PopType, PopLeads, PopAll:
	default:
		v.Pop = PopAll
		if v.Crowd != 0 {
			v.Pop = PopCrowd
		}
	}
	switch v.Kind {
	case db.ScoreIdentity, db.ScoreActive, db.ScoreIntention:
	default:
		v.Kind = db.ScoreIdentity
	}
	if v.Sort != SortName {
		v.Sort = SortScore
	}
	return v
}

// IsLeads reports whether the view's ids are leads (not a crowd's persons).
func (v View) IsLeads() bool { return v.Pop != PopCrowd }

// Unchosen reports a crowd population without a crowd: there is nothing
// to show or act on until one is chosen.
func (v View) Unchosen() bool { return v.Pop == PopCrowd && v.Crowd == 0 }

// population is the view's ids as the store reads them: only the filters
// of the chosen population count (a business type left in the address
// does not narrow a crowd).
func (v View) population() db.ScorePopulation {
	var pop db.ScorePopulation
	switch v.Pop {
	case PopCrowd:
		pop.GroupID = v.Crowd
	case PopType:
		pop.Leads.BusinessType = v.BusinessType
	case PopLeads:
		pop.Leads = db.LeadFilter{BusinessType: v.BusinessType, Status: v.Status, Owner: v.Owner}
	}
	return pop
}

// query is the view as the store's query (a product only for intention).
func (v View) query() db.ScoreQuery {
	q := db.ScoreQuery{Pop: v.population(), Kind: v.Kind}
	if v.Kind == db.ScoreIntention {
		q.Product = v.Product
	}
	return q
}

// Selection is the part of a view a user picked: grades and levels (the
// heatmap's cells), bands of the kind, a score range as typed.
type Selection struct {
	Grades, Levels, Bands []string
	Min, Max              string // as typed; "" is open
}

// Refusals of a selection's parameters.
var (
	ErrSelectionTooBig = msg.Refuse(msg.Invalid, "scores.error.selection_too_big",
		msg.Int("Max", selectionItems), msg.Int("Length", valueMax))
	ErrNotAScore = msg.Refuse(msg.Invalid, "scores.error.not_a_score")
)

// ParseSelection reads a selection from a request's values. Unlike a
// view's, its parameters are refused when wrong: a selection is acted on
// (saved, exported, cleared), so it must be exactly what the user picked.
// A parameter takes at most 10 values of 64 bytes; a bound is a number.
func ParseSelection(vals url.Values) (Selection, error) {
	list := func(key string) ([]string, error) {
		var out []string
		for _, v := range vals[key] {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if len(v) > valueMax || len(out) >= selectionItems {
				return nil, ErrSelectionTooBig
			}
			out = append(out, v)
		}
		return out, nil
	}
	var sel Selection
	var err error
	if sel.Grades, err = list("grade"); err != nil {
		return sel, err
	}
	if sel.Levels, err = list("level"); err != nil {
		return sel, err
	}
	if sel.Bands, err = list("band"); err != nil {
		return sel, err
	}
	sel.Min, sel.Max = strings.TrimSpace(vals.Get("min")), strings.TrimSpace(vals.Get("max"))
	if _, _, err := sel.bounds(); err != nil {
		return sel, err
	}
	return sel, nil
}

// bounds are the score range's numbers (nil where open).
func (s Selection) bounds() (lo, hi *float64, err error) {
	num := func(v string) (*float64, error) {
		if v == "" {
			return nil, nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, ErrNotAScore
		}
		return &f, nil
	}
	if lo, err = num(s.Min); err != nil {
		return nil, nil, err
	}
	hi, err = num(s.Max)
	return lo, hi, err
}

// query is the selection as the store's. A selection that did not come
// through ParseSelection and has a bound that is not a number is refused.
func (s Selection) query() (db.ScoreSelection, error) {
	lo, hi, err := s.bounds()
	return db.ScoreSelection{Grades: s.Grades, Levels: s.Levels, Bands: s.Bands, MinScore: lo, MaxScore: hi}, err
}

// Reader is who reads a view; what they see follows their role: a
// viewer reads persons' identities masked, and only an administrator is
// shown who a clearing would touch. Statuses names lead statuses in the
// reader's language (an id it lacks is shown as it is).
type Reader struct {
	Role     string
	Statuses map[string]string
	// Level names a level code (hot, warm, …, high, …) in the reader's
	// language for an export; nil leaves codes as they are.
	Level func(code string) string
}

// level is code named for the reader.
func (r Reader) level(code string) string {
	if r.Level == nil || code == "" {
		return code
	}
	return r.Level(code)
}

func (r Reader) masked() bool { return !roles.Works(r.Role) }

// MayClear reports whether role may clear activity scores: administrators
// only (the points are gone for good).
func MayClear(role string) bool { return roles.AtLeast(role, roles.Admin) }
