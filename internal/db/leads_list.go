package db

import (
	"context"
	"encoding/json"
	"fmt"
)

// LeadPools are the distinct lead pools the copy's leads (not voided) sit
// in, in id order: the list's pool filter (the platform lists no names).
// They are read from the pools' counts the triggers keep (lead_pools), a
// few rows, not from the leads.
func (s *Store) LeadPools(ctx context.Context) ([]string, error) {
	return s.queryStrings(ctx, "lead pools",
		`SELECT lead_pool FROM lead_pools WHERE voided = 0 AND lead_pool != '' AND n > 0 ORDER BY lead_pool`)
}

// LeadsMatching reports which of the leads uuids f selects, by the same
// WHERE clause as ListLeads and CountLeadsByStatus (f's status included,
// its order and page ignored): an open board following changes decides
// whether a changed lead is still on it exactly as the board was drawn.
// Unknown uuids are left out of the answer.
//
// The named leads are taken first (by the uuid index) and the filter is
// applied to them alone, so the cost is that of a few hundred rows and,
// for a search, one look-up in the search index, whatever the copy's size.
func (s *Store) LeadsMatching(ctx context.Context, f LeadFilter, uuids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(uuids) == 0 {
		return out, nil
	}
	list, err := json.Marshal(uuids)
	if err != nil {
		return nil, fmt.Errorf("db: leads matching: %w", err)
	}
	where, args := leadWhere(f, leadPlan{withStatus: true})
	rows, err := s.read.QueryContext(ctx, `WITH named AS MATERIALIZED (SELECT * FROM leads WHERE uuid IN (SELECT value FROM json_each(?)))
		SELECT l.uuid FROM named l`+where, append([]any{string(list)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("db: leads matching: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uuid string
		if err := rows.Scan(&uuid); err != nil {
			return nil, fmt.Errorf("db: leads matching: %w", err)
		}
		out[uuid] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: leads matching: %w", err)
	}
	return out, nil
}
