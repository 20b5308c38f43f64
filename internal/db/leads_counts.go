package db

import (
	"context"
	"fmt"
)

// keptCount counts the leads f selects from a tally the triggers keep,
// when one holds them (ok): under an owner alone (with a business type and
// a status or not) from lead_owner_counts, in a pool alone from
// lead_pools. The list otherwise counts the filter's index entries on
// every page.
func (s *Store) keptCount(ctx context.Context, f LeadFilter) (n int, ok bool, err error) {
	rest := f
	rest.LeadPool = ""
	poolAlone := f.LeadPool != "" && rest.countable()
	if !f.ownerTallied() && !poolAlone {
		return 0, false, nil
	}
	var q string
	var args []any
	if f.ownerTallied() {
		q, args = `SELECT COALESCE(SUM(n), 0) FROM lead_owner_counts WHERE owner = ? AND (? OR voided = 0)`, []any{f.Owner, f.IncludeVoided}
		if f.BusinessType != "" {
			q, args = q+` AND business_type = ?`, append(args, f.BusinessType)
		}
		if f.Status != "" {
			q, args = q+` AND status = ?`, append(args, f.Status)
		}
	} else {
		if f.BusinessType != "" || f.Status != "" {
			return 0, false, nil // lead_pools holds neither
		}
		q, args = `SELECT COALESCE(SUM(n), 0) FROM lead_pools WHERE lead_pool = ? AND (? OR voided = 0)`, []any{f.LeadPool, f.IncludeVoided}
	}
	if err := s.read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("db: count leads: %w", err)
	}
	return n, true, nil
}
