package leads

import (
	"net/url"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
)

// Filter is the lead filter of the board, the list and live updates: what
// a person asked for, as a query string carries it. Dates are days as
// typed (YYYY-MM-DD), in the console's zone.
//
// It is defined once. Its parameters are one table (filterParams) that
// both reads a query (ReadFilter) and writes one (Values); Select is its
// one translation into the store's filter; and the store's SQL
// (db.LeadFilter) is the one predicate: the board's columns and counts
// and the list select with it, and live updates ask it which changed
// leads still match (db.Store.LeadsMatching) instead of testing leads in
// Go, so the three cannot drift apart.
type Filter struct {
	BusinessType string
	Query        string
	Owner        string
	Source       string
	LeadPool     string
	CreatedFrom  string
	CreatedTo    string
	UpdatedFrom  string
	UpdatedTo    string
}

// Bounds of a filter's values. A longer value is dropped, not refused, so
// an old bookmark still opens.
const (
	FilterIDMax    = 100 // a business type, owner, source or pool id
	FilterQueryMax = 100 // the search text, in bytes
)

// filterParam is one parameter of the filter: its name in the query
// string, the field it fills and how a raw value is read ("": dropped).
type filterParam struct {
	name  string
	field func(*Filter) *string
	read  func(string) string
}

var filterParams = []filterParam{
	{"business_type", func(f *Filter) *string { return &f.BusinessType }, readID},
	{"q", func(f *Filter) *string { return &f.Query }, readQuery},
	{"owner", func(f *Filter) *string { return &f.Owner }, readID},
	{"source", func(f *Filter) *string { return &f.Source }, readID},
	{"lead_pool", func(f *Filter) *string { return &f.LeadPool }, readID},
	{"created_from", func(f *Filter) *string { return &f.CreatedFrom }, readDay},
	{"created_to", func(f *Filter) *string { return &f.CreatedTo }, readDay},
	{"updated_from", func(f *Filter) *string { return &f.UpdatedFrom }, readDay},
	{"updated_to", func(f *Filter) *string { return &f.UpdatedTo }, readDay},
}

func readID(v string) string { return within(v, FilterIDMax) }

func readQuery(v string) string { return within(strings.TrimSpace(v), FilterQueryMax) }

// readDay keeps a YYYY-MM-DD day; anything else is no day.
func readDay(v string) string {
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return ""
	}
	return v
}

func within(v string, max int) string {
	if len(v) > max {
		return ""
	}
	return v
}

// ReadFilter reads the filter from value (a query's, or a form's: a
// board's move carries the board's filter). Overlong values and bad dates
// are dropped.
func ReadFilter(value func(name string) string) Filter {
	var f Filter
	for _, p := range filterParams {
		*p.field(&f) = p.read(value(p.name))
	}
	return f
}

// Values are the filter as query parameters, empty ones left out:
// ReadFilter reads them back as they are.
func (f Filter) Values() url.Values {
	v := url.Values{}
	for _, p := range filterParams {
		if s := *p.field(&f); s != "" {
			v.Set(p.name, s)
		}
	}
	return v
}

// Active reports whether anything beyond the business type narrows the leads.
func (f Filter) Active() bool {
	rest := f
	rest.BusinessType = ""
	return rest != Filter{}
}

// Select is the filter as the store applies it: days become the first
// and the last second of the day in zone.
func (f Filter) Select(zone *time.Location) db.LeadFilter {
	return db.LeadFilter{BusinessType: f.BusinessType, Query: f.Query, Owner: f.Owner, Source: f.Source, LeadPool: f.LeadPool,
		CreatedFrom: dayStart(f.CreatedFrom, zone), CreatedTo: dayEnd(f.CreatedTo, zone),
		UpdatedFrom: dayStart(f.UpdatedFrom, zone), UpdatedTo: dayEnd(f.UpdatedTo, zone)}
}

// dayStart is the first second of a YYYY-MM-DD day in zone; 0 for no day.
func dayStart(day string, zone *time.Location) int64 {
	t, err := time.ParseInLocation(time.DateOnly, day, zone)
	if err != nil {
		return 0
	}
	return t.Unix()
}

// dayEnd is the last second of a YYYY-MM-DD day in zone; 0 for no day.
func dayEnd(day string, zone *time.Location) int64 {
	t, err := time.ParseInLocation(time.DateOnly, day, zone)
	if err != nil {
		return 0
	}
	return t.AddDate(0, 0, 1).Unix() - 1
}
