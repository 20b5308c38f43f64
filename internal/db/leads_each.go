package db

import (
	"context"
	"fmt"
)

// EachLead calls fn with every lead f selects, in f's order (f's page
// ignored), by the same WHERE clause as ListLeads, CountLeadsByStatus and
// LeadsMatching: an export holds exactly what the list shows. Rows are
// streamed, never all in memory; an error from fn stops and is returned.
func (s *Store) EachLead(ctx context.Context, f LeadFilter, fn func(Lead) error) error {
	where, args := leadWhere(f, true)
	rows, err := s.read.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads l`+where+leadOrder(f.Sort), args...)
	if err != nil {
		return fmt.Errorf("db: each lead: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return fmt.Errorf("db: each lead: %w", err)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: each lead: %w", err)
	}
	return nil
}
