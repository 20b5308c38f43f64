package db

import (
	"context"
	"fmt"
)

// LeadPools are the distinct lead pools the copy's leads (not voided) sit
// in, in id order: the list's pool filter (the platform lists no names).
func (s *Store) LeadPools(ctx context.Context) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT DISTINCT lead_pool FROM leads WHERE voided = 0 AND lead_pool != '' ORDER BY lead_pool`)
	if err != nil {
		return nil, fmt.Errorf("db: lead pools: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("db: lead pools: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
