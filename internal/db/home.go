package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// PipelineWeek is how one business type's leads moved since a moment:
// leads created, status changes, and changes into a converted status
// (named 已转化 in the reference data, the name LeadStatusClosing knows).
type PipelineWeek struct {
	BusinessType string
	New          int
	Moves        int
	Converted    int
}

// PipelineSince counts, per business type, the leads (not voided) created
// since since and the status changes the console learnt of since then,
// on connection's reference data: by the created_at index and the
// status history's time index, so it costs the week's rows, not the copy's.
func (s *Store) PipelineSince(ctx context.Context, connection string, since int64) ([]PipelineWeek, error) {
	byType := map[string]*PipelineWeek{}
	row := func(bt string) *PipelineWeek {
		if byType[bt] == nil {
			byType[bt] = &PipelineWeek{BusinessType: bt}
		}
		return byType[bt]
	}
	// By the created_at index: the week's leads only (the planner would
	// rather walk the whole copy in business type order for the GROUP BY).
	fresh, err := s.read.QueryContext(ctx, `SELECT business_type, count(*) FROM leads INDEXED BY leads_created
		WHERE created_at >= ? AND voided = 0 GROUP BY business_type`, since)
	if err != nil {
		return nil, fmt.Errorf("db: pipeline since: %w", err)
	}
	defer fresh.Close()
	for fresh.Next() {
		var bt string
		var n int
		if err := fresh.Scan(&bt, &n); err != nil {
			return nil, fmt.Errorf("db: pipeline since: %w", err)
		}
		row(bt).New = n
	}
	if err := fresh.Err(); err != nil {
		return nil, fmt.Errorf("db: pipeline since: %w", err)
	}
	// The converted statuses are read once (MATERIALIZED), not per change.
	moved, err := s.read.QueryContext(ctx, `
		WITH converted AS MATERIALIZED (SELECT DISTINCT i.id FROM ref_items i JOIN ref_sets r ON r.id = i.set_id
			WHERE r.connection = ? AND r.kind = 'statuses' AND r.object = 'lead' AND i.name = '已转化')
		SELECT l.business_type, count(*), coalesce(sum(h.to_status IN converted), 0)
		FROM lead_status_history h INDEXED BY lead_status_history_recent
		JOIN leads l INDEXED BY leads_uuid_business_type ON l.uuid = h.lead_uuid
		WHERE h.at >= ? AND h.from_status != h.to_status GROUP BY l.business_type`, connection, since)
	if err != nil {
		return nil, fmt.Errorf("db: pipeline since: %w", err)
	}
	defer moved.Close()
	for moved.Next() {
		var bt string
		var n, won int
		if err := moved.Scan(&bt, &n, &won); err != nil {
			return nil, fmt.Errorf("db: pipeline since: %w", err)
		}
		r := row(bt)
		r.Moves, r.Converted = n, won
	}
	if err := moved.Err(); err != nil {
		return nil, fmt.Errorf("db: pipeline since: %w", err)
	}
	out := make([]PipelineWeek, 0, len(byType))
	for _, r := range byType {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b PipelineWeek) int { return strings.Compare(a.BusinessType, b.BusinessType) })
	return out, nil
}

// LastJobOf is the newest job of kind; ErrNotFound when there is none.
func (s *Store) LastJobOf(ctx context.Context, kind string) (Job, error) {
	jobs, err := s.queryJobs(ctx, `SELECT `+jobColumns+` WHERE j.kind = ? ORDER BY j.id DESC LIMIT 1`, kind)
	if err != nil {
		return Job{}, fmt.Errorf("db: last job of %s: %w", kind, err)
	}
	if len(jobs) == 0 {
		return Job{}, fmt.Errorf("db: last job of %s: %w", kind, ErrNotFound)
	}
	return jobs[0], nil
}
