// Package search is the header's one search box (issue 20): leads (the
// copy's full-text index: any substring of three characters or more,
// Chinese included, two through the index's terms, one by a scan),
// accounts, crowds, sends and imports (small tables: substrings by LIKE),
// grouped by kind, a few of each. Contact data is masked for those who do
// not work leads (viewers), as everywhere else.
package search

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/roles"
)

// PerKind is how many results each kind shows; MaxQuery the longest query
// in characters.
const (
	PerKind  = 8
	MaxQuery = 100
)

// ErrTooLong refuses a query over MaxQuery characters.
var ErrTooLong = msg.Refuse(msg.Invalid, "search.error.too_long", msg.Int("Max", MaxQuery)).On("q")

// Store is the local copy (a *db.Store).
type Store interface {
	SearchLeads(ctx context.Context, q string, limit int) ([]db.Lead, bool, error)
	ListAccounts(ctx context.Context, f db.AccountFilter) ([]db.AccountRow, int, error)
	ListCrowds(ctx context.Context, f db.CrowdFilter) ([]db.Crowd, int, error)
	SearchSends(ctx context.Context, q string, limit int) ([]db.Send, error)
	SearchImports(ctx context.Context, q string, limit int) ([]db.Import, error)
}

// Service searches the local copy.
type Service struct{ store Store }

// New is a Service on store.
func New(store Store) *Service { return &Service{store: store} }

// Results are the matches of one query, a few per kind, with the totals
// the store can tell cheaply (accounts, crowds); for leads only whether
// there are more (counting every lead a common substring matches would
// cost more than the whole search: the leads list counts them).
type Results struct {
	Query                    string
	Leads                    []db.Lead // contact data masked for viewers
	Accounts                 []db.AccountRow
	Crowds                   []db.Crowd
	Sends                    []db.Send
	Imports                  []db.Import
	AccountTotal, CrowdTotal int
	MoreLeads, Masked        bool
}

// Empty reports whether nothing matched.
func (r Results) Empty() bool {
	return len(r.Leads)+len(r.Accounts)+len(r.Crowds)+len(r.Sends)+len(r.Imports) == 0
}

// Search finds q for a user of role. An empty query finds nothing.
func (s *Service) Search(ctx context.Context, q, role string) (Results, error) {
	q = strings.TrimSpace(q)
	r := Results{Query: q, Masked: !roles.Works(role)}
	if q == "" {
		return r, nil
	}
	if utf8.RuneCountInString(q) > MaxQuery {
		return r, ErrTooLong
	}
	var err error
	if r.Leads, r.MoreLeads, err = s.store.SearchLeads(ctx, q, PerKind); err != nil {
		return r, err
	}
	if r.Masked {
		for i := range r.Leads {
			r.Leads[i].Mobile, r.Leads[i].Email = leads.Mask(r.Leads[i].Mobile), leads.Mask(r.Leads[i].Email)
		}
	}
	if r.Accounts, r.AccountTotal, err = s.store.ListAccounts(ctx, db.AccountFilter{Query: q, Limit: PerKind}); err != nil {
		return r, err
	}
	if r.Crowds, r.CrowdTotal, err = s.store.ListCrowds(ctx, db.CrowdFilter{Query: q, Limit: PerKind}); err != nil {
		return r, err
	}
	if r.Sends, err = s.store.SearchSends(ctx, q, PerKind); err != nil {
		return r, err
	}
	r.Imports, err = s.store.SearchImports(ctx, q, PerKind)
	return r, err
}
