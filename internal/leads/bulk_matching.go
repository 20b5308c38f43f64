package leads

import (
	"context"

	"github.com/jingdesk/jingdesk/internal/db"
)

// PlanBulkMatching plans a bulk change of every lead the filter f matches
// in the copy now ("select all N matching" across the list's pages), with
// PlanBulk's rules: ErrBadBulk for an incomplete change, ErrBulkTooMany
// when more than MaxBulk match, ErrBulkNone when none does. The plan names
// the leads, so what is confirmed is what the preview showed.
func (s *Service) PlanBulkMatching(ctx context.Context, f db.LeadFilter, c BulkChange) (BulkPlan, error) {
	if err := c.Check(); err != nil {
		return BulkPlan{Change: c}, err
	}
	f.Limit, f.Offset = MaxBulk, 0
	page, total, err := s.store.ListLeads(ctx, f)
	if err != nil {
		return BulkPlan{Change: c}, err
	}
	if total > MaxBulk {
		return BulkPlan{Change: c}, ErrBulkTooMany
	}
	uuids := make([]string, len(page))
	for i, l := range page {
		uuids[i] = l.UUID
	}
	return s.PlanBulk(ctx, uuids, c)
}
