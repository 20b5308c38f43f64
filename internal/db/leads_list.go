package db

import (
	"context"
)

// LeadPools are the distinct lead pools the copy's leads (not voided) sit
// in, in id order: the list's pool filter (the platform lists no names).
func (s *Store) LeadPools(ctx context.Context) ([]string, error) {
	return s.queryStrings(ctx, "lead pools",
		`SELECT DISTINCT lead_pool FROM leads WHERE voided = 0 AND lead_pool != '' ORDER BY lead_pool`)
}
