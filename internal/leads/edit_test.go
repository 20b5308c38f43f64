package leads

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// activeMembers are the sandbox's active members' ids.
func (r *rig) activeMembers() []string {
	r.t.Helper()
	ms, err := r.client.AllMembers(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if m.Active() {
			out = append(out, string(m.ID))
		}
	}
	return out
}

func TestSetOwnerAndCollaborators(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	ctx := context.Background()
	r.sync(true)
	members := r.activeMembers()

	t.Run("owner", func(t *testing.T) {
		l, _ := r.openLead()
		to := ""
		for _, m := range members {
			if m != l.Owner {
				to = m
				break
			}
		}
		got, err := r.svc.SetOwner(ctx, "alice", l.UUID, to, l.UpdatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if p := r.remote(l.UUID); string(p.Owner) != to || got.Owner != to || r.local(l.UUID).Owner != to || got.UpdatedAt != p.UpdatedTimestamp {
			t.Fatalf("owner: platform %s, answered %s, want %s", p.Owner, got.Owner, to)
		}
		r.mu.Lock()
		last := r.audits[len(r.audits)-1]
		r.mu.Unlock()
		if last.Endpoint != "leads.update" || last.Actor != "alice" || last.RequestID == "" {
			t.Fatalf("audited write %+v", last)
		}
	})

	t.Run("collaborators", func(t *testing.T) {
		l, _ := r.openLead()
		add := ""
		for _, m := range members {
			if m != l.Owner && !slices.Contains(l.Collaborators, m) {
				add = m
				break
			}
		}
		got, err := r.svc.SetCollaborators(ctx, "alice", l.UUID, append(slices.Clone(l.Collaborators), add), l.UpdatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(got.Collaborators, add) || !slices.Contains(r.remote(l.UUID).Collaborators, jing.MemberID(add)) {
			t.Fatalf("collaborator %s not added: %v", add, got.Collaborators)
		}
		got, err = r.svc.SetCollaborators(ctx, "alice", l.UUID, slices.DeleteFunc(slices.Clone(got.Collaborators), func(m string) bool { return m == add }), got.UpdatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(got.Collaborators, add) {
			t.Fatalf("collaborator %s not removed: %v", add, got.Collaborators)
		}
	})

	t.Run("changed upstream", func(t *testing.T) {
		l, _ := r.openLead()
		if err := r.client.UpdateLead(ctx, l.UUID, jing.LeadInput{LeadFields: jing.LeadFields{Title: "市场经理"}}); err != nil {
			t.Fatal(err)
		}
		p := r.remote(l.UUID)
		_, err := r.svc.SetOwner(ctx, "alice", l.UUID, members[0], l.UpdatedAt-1)
		var cu *ChangedUpstream
		if !errors.As(err, &cu) || cu.Current.Title != "市场经理" {
			t.Fatalf("stale owner change: %v", err)
		}
		if now := r.remote(l.UUID); now.Owner != p.Owner || now.UpdatedTimestamp != p.UpdatedTimestamp {
			t.Fatalf("the platform was written: %+v", now)
		}
	})
}
