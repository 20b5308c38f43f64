package db

import (
	"context"
	"fmt"
	"testing"
)

// The list's count under an owner or a pool comes from kept tallies
// (keptCount); it stays what COUNT(*) over the leads gives through syncs
// that change owners, pools, statuses and business types, voids, webhook
// events, a lead listed again and a copy reset.
func TestKeptListCountsStayExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, leads, ids := leadStore(t, 150, func(l *Lead, i int) {
		l.Status, l.Owner, l.UpdatedAt = fmt.Sprintf("st%d", i%3), fmt.Sprint("o", i%4), 10
		if i%5 == 0 {
			l.Owner, l.LeadPool = "", fmt.Sprint("pool", i%2)
		}
	})
	check := func(when string) {
		t.Helper()
		for _, f := range []LeadFilter{{Owner: "o1"}, {Owner: "o2", BusinessType: "bt0"}, {Owner: "o3", BusinessType: "bt1", Status: "st2"},
			{Owner: "o1", IncludeVoided: true}, {Owner: "o9"}, {LeadPool: "pool0"}, {LeadPool: "pool1", IncludeVoided: true}} {
			kept, ok, err := s.keptCount(ctx, f)
			if err != nil || !ok {
				t.Fatalf("%s: %+v is not kept (%v)", when, f, err)
			}
			where, args := leadWhere(f, leadPlan{withStatus: true})
			var counted int
			if err := s.read.QueryRow(`SELECT COUNT(*) FROM leads l`+where, args...).Scan(&counted); err != nil {
				t.Fatal(err)
			}
			_, listed, err := s.ListLeads(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if kept != counted || listed != counted {
				t.Fatalf("%s: %+v: kept %d, the list %d, COUNT(*) %d", when, f, kept, listed, counted)
			}
		}
	}
	check("after the first sync")
	leads[1].Owner, leads[2].Status, leads[3].BusinessType, leads[5].LeadPool, leads[6].Voided = "o2", "st9", "bt0", "pool1", true
	syncLeads(t, s, 20, leads[:7]...)
	check("after a sync changed owners, a pool, a status, a business type and voided one")
	leads[6].Voided = false
	syncLeads(t, s, 30, leads[6])
	if err := s.MarkLeadVoided(ctx, ids[9], 40); err != nil {
		t.Fatal(err)
	}
	check("after a lead was listed again and another voided")
	applyLeadEvents(t, s,
		ObjectEvent{Object: "lead", UUID: ids[13], At: 50, Tie: "a", Set: map[string]any{"owner": "o1"}},
		ObjectEvent{Object: "lead", UUID: ids[17], At: 50, Tie: "b", Void: true},
		ObjectEvent{Object: "lead", UUID: "new-by-webhook", At: 50, Tie: "c", Create: true, BusinessType: "bt0", Set: map[string]any{"owner": "o1"}})
	check("after webhook events")
	if _, err := s.ResetLeads(ctx, "another"); err != nil {
		t.Fatal(err)
	}
	check("after the copy was reset")
	// Filters the tallies do not hold are counted as before.
	for _, f := range []LeadFilter{{Owner: "o1", Source: "web"}, {Owner: "o1", LeadPool: "pool0"}, {LeadPool: "pool0", BusinessType: "bt0"}, {}} {
		if _, ok, _ := s.keptCount(ctx, f); ok {
			t.Errorf("%+v was counted from a tally that does not hold it", f)
		}
	}
}

// syncLeads writes leads as a sync that found them updated at at.
func syncLeads(t *testing.T, s *Store, at int64, leads ...Lead) {
	t.Helper()
	for i := range leads {
		leads[i].UpdatedAt = at
	}
	if err := s.UpsertLeads(context.Background(), leads); err != nil {
		t.Fatal(err)
	}
}

// applyLeadEvents stores and applies webhook events of leads.
func applyLeadEvents(t *testing.T, s *Store, evs ...ObjectEvent) {
	t.Helper()
	for i, ev := range evs {
		id, _, err := s.StoreWebhookEvent(context.Background(), NewWebhookEvent{DedupKey: fmt.Sprint(ev.UUID, ev.Tie, i),
			EventType: "object_update", ObjectName: "lead", State: EventPending})
		if err != nil {
			t.Fatal(err)
		}
		ev.EventID = id
		if _, err := s.ApplyObjectEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
}
