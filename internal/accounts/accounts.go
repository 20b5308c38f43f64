// Package accounts is what the console knows of the platform's accounts
// (客户, issue 20). The catalog has no account endpoint (see
// jing-api/endpoints.md), so nothing here asks the platform: an account
// is known from the webhooks that deliver it (its fields, as of the last
// event) or only as the id its leads carry in account_id. Every view says
// which, and how fresh.
package accounts

import (
	"context"
	"errors"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// PageSize is how many accounts a page of the list holds; LeadsShown how
// many of an account's leads its page lists.
const (
	PageSize   = 50
	LeadsShown = 100
)

// Sources of what the console knows of an account.
const (
	SourceWebhook = "webhook" // delivered by webhooks: fields as of ChangedAt
	SourceLeads   = "leads"   // only its id, seen on leads
)

// ErrUnknown: neither a webhook nor a lead of the copy names the account.
var ErrUnknown = msg.Refuse(msg.NotFound, "accounts.error.unknown")

// Store is the local copy (a *db.Store).
type Store interface {
	Account(ctx context.Context, uuid string) (db.Account, error)
	ListAccounts(ctx context.Context, f db.AccountFilter) ([]db.AccountRow, int, error)
	AccountLeads(ctx context.Context, uuid string, limit int) ([]db.Lead, int, error)
}

// Service reads the accounts of the local copy.
type Service struct{ store Store }

// New is a Service on store.
func New(store Store) *Service { return &Service{store: store} }

// List returns a page of accounts (page counts from 1) and how many match.
func (s *Service) List(ctx context.Context, f db.AccountFilter, page int) ([]db.AccountRow, int, error) {
	f.Limit, f.Offset = PageSize, (max(page, 1)-1)*PageSize
	return s.store.ListAccounts(ctx, f)
}

// Detail is one account as the console knows it.
type Detail struct {
	Account db.Account // UUID only, when Source is SourceLeads
	Source  string
	Leads   []db.Lead // the first LeadsShown
	// LeadCount counts every lead of the copy naming it, voided ones included.
	LeadCount int
}

// Account returns what the console knows of an account: ErrUnknown when
// no webhook delivered it and no lead names it.
func (s *Service) Account(ctx context.Context, uuid string) (Detail, error) {
	d := Detail{Source: SourceWebhook}
	a, err := s.store.Account(ctx, uuid)
	switch {
	case errors.Is(err, db.ErrNotFound):
		a, d.Source = db.Account{UUID: uuid}, SourceLeads
	case err != nil:
		return Detail{}, err
	}
	d.Account = a
	d.Leads, d.LeadCount, err = s.store.AccountLeads(ctx, uuid, LeadsShown)
	if err != nil {
		return Detail{}, err
	}
	if d.Source == SourceLeads && d.LeadCount == 0 {
		return Detail{}, ErrUnknown
	}
	return d, nil
}
