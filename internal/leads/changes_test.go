package leads

import (
	"context"
	"fmt"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

// The change feed: what changed after a seq, as the copy has it now, in
// pages of ChangesMax; with a board's filter, which leads are on it (the
// store's predicate) and the columns' counts; a lead gone from the copy
// is reported gone.
func TestChangesAfter(t *testing.T) {
	t.Parallel()
	svc := bulkService(t, 0)
	ctx := context.Background()
	start, err := svc.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := svc.ChangesAfter(ctx, start, nil); err != nil || len(ch.Leads) != 0 || ch.More || ch.Last != start {
		t.Fatalf("nothing changed: %+v, %v", ch, err)
	}
	var ls []db.Lead
	for i := range ChangesMax + 5 {
		owner := "18401"
		if i%2 == 1 {
			owner = "18402"
		}
		ls = append(ls, db.Lead{UUID: fmt.Sprintf("C%03d", i), BusinessType: "bt", Status: fmt.Sprint("st", i%3), Owner: owner})
	}
	testkit.Must(t, svc.store.UpsertLeads(ctx, ls))
	last, _ := svc.LastChange(ctx)

	board := db.LeadFilter{BusinessType: "bt", Owner: "18402"}
	first, err := svc.ChangesAfter(ctx, start, &board)
	if err != nil || len(first.Leads) != ChangesMax || !first.More || first.Last != first.Leads[ChangesMax-1].Seq {
		t.Fatalf("first page: %d leads, more %t, last %d, %v", len(first.Leads), first.More, first.Last, err)
	}
	for i, c := range first.Leads {
		if c.UUID != ls[i].UUID || c.Lead.Owner != ls[i].Owner || c.Gone || c.OnBoard != (ls[i].Owner == "18402") {
			t.Fatalf("change %d: %+v", i, c)
		}
	}
	want, _ := svc.store.CountLeadsByStatus(ctx, board)
	if fmt.Sprint(first.Counts) != fmt.Sprint(want) {
		t.Fatalf("counts %v, store %v", first.Counts, want)
	}
	rest, err := svc.ChangesAfter(ctx, first.Last, nil)
	if err != nil || len(rest.Leads) != 5 || rest.More || rest.Last != last || rest.Counts != nil || rest.Leads[0].OnBoard {
		t.Fatalf("second page: %+v, %v", rest, err)
	}

	// The copy given to another connection: its leads are gone.
	if _, err := svc.store.ResetLeads(ctx, "another"); err != nil {
		t.Fatal(err)
	}
	gone, err := svc.ChangesAfter(ctx, first.Last, &board)
	if err != nil || len(gone.Leads) != 5 || !gone.Leads[0].Gone || gone.Leads[0].OnBoard || len(gone.Counts) != 0 {
		t.Fatalf("after the copy was cleared: %+v, %v", gone, err)
	}
}
