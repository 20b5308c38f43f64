package leads

import (
	"context"
	"errors"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

// "All N matching" plans the filter's leads in the copy now, with the
// bulk rules: an incomplete change, none matching, or more than MaxBulk
// are refused.
func TestPlanBulkMatching(t *testing.T) {
	t.Parallel()
	svc := bulkService(t, MaxBulk+1)
	ctx := context.Background()
	owner := BulkChange{Action: BulkOwner, Owner: "18401"}
	p, err := svc.PlanBulkMatching(ctx, db.LeadFilter{Query: "线索100"}, owner)
	// 线索100, 线索1000
	if err != nil || len(p.Leads) != 2 {
		t.Fatalf("plan %v, %v", p.UUIDs(), err)
	}
	for _, c := range []struct {
		name   string
		f      db.LeadFilter
		change BulkChange
		want   error
	}{
		{"more than MaxBulk", db.LeadFilter{BusinessType: "bt"}, owner, ErrBulkTooMany},
		{"none matching", db.LeadFilter{Query: "没有这个"}, owner, ErrBulkNone},
		{"no owner", db.LeadFilter{Query: "线索100"}, BulkChange{Action: BulkOwner}, ErrBadBulk},
	} {
		if _, err := svc.PlanBulkMatching(ctx, c.f, c.change); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
