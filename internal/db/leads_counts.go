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
	other := f
	other.Owner, other.LeadPool = "", ""
	if !other.countable() || (f.Owner == "") == (f.LeadPool == "") {
		return 0, false, nil
	}
	var q string
	var args []any
	if f.Owner != "" {
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

// ownerCounts counts an owner's leads per status from lead_owner_counts
// when f is an owner alone, with a business type or not (ok); the
// board otherwise counts the owner's index entries.
func (s *Store) ownerCounts(ctx context.Context, f LeadFilter) (counts map[string]int, ok bool, err error) {
	other := f
	other.Owner, other.BusinessType = "", ""
	if f.Owner == "" || !other.countable() {
		return nil, false, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT status, sum(n) FROM lead_owner_counts
		WHERE owner = ? AND (? OR voided = 0) AND (? = '' OR business_type = ?) GROUP BY status`,
		f.Owner, f.IncludeVoided, f.BusinessType, f.BusinessType)
	if err != nil {
		return nil, false, fmt.Errorf("db: count an owner's leads: %w", err)
	}
	counts, _, err = statusCounts(rows)
	if err != nil {
		return nil, false, fmt.Errorf("db: count an owner's leads: %w", err)
	}
	return counts, true, nil
}
