package webhooks

import (
	"context"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// A console move keeps its actor when the platform's webhook echo of the
// same move arrives, whichever is saved first: the status history never
// credits the platform with the user's own move, and records it once.
func TestConsoleMoveKeepsItsActorWhenTheEchoArrives(t *testing.T) {
	t.Parallel()
	r := newLiveRig(t)
	ctx := context.Background()
	types, err := r.client.BusinessTypes(ctx, jing.ObjectLead)
	r.ok(err)
	bt := types[0].JingUUID
	statuses, err := r.client.LeadStatuses(ctx, bt)
	r.ok(err)
	uuid, err := r.client.CreateLead(ctx, jing.LeadInput{LeadFields: jing.LeadFields{BusinessType: bt, Name: "欧阳娜", Mobile: "13912345671"}})
	r.ok(err)
	r.settle()

	// move is what leads.Service.Move does: note the time, send the move,
	// and save the lead as moved with its actor.
	move := func(to string, echoFirst bool) {
		t.Helper()
		sent := r.clock.Now().Unix()
		r.ok(r.client.UpdateLeadStatus(ctx, uuid, to))
		if echoFirst {
			r.settle() // the webhook is applied before the console saves its move
		}
		l, _ := r.lead(uuid)
		l.Status = to
		r.ok(r.store.SaveMovedLead(ctx, l, db.LeadStatusChange{Actor: "mia", Origin: db.OriginConsole, SentAt: sent}))
		if !echoFirst {
			r.settle() // the echo comes after
		}
		h, err := r.store.LeadStatusHistory(ctx, uuid)
		r.ok(err)
		n := 0
		for _, c := range h {
			if c.To == to {
				n++
				if c.Actor != "mia" || c.Origin != db.OriginConsole {
					t.Fatalf("move to %s (echo first: %v) recorded as actor %q origin %q", to, echoFirst, c.Actor, c.Origin)
				}
			}
		}
		if n != 1 {
			t.Fatalf("move to %s (echo first: %v) recorded %d times: %+v", to, echoFirst, n, h)
		}
	}
	move(statuses[1].JingUUID, true)
	move(statuses[2].JingUUID, false)

	// A move made on the platform itself stays the platform's.
	r.ok(r.client.UpdateLeadStatus(ctx, uuid, statuses[3].JingUUID))
	r.settle()
	h, err := r.store.LeadStatusHistory(ctx, uuid)
	r.ok(err)
	if last := h[len(h)-1]; last.To != statuses[3].JingUUID || last.Origin != db.OriginWebhook || last.Actor != "" {
		t.Fatalf("the platform's own move: %+v", last)
	}
}
