package webhooks

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// liveRig is a sandbox delivering its webhooks to the service's receiver,
// and a client of the sandbox's API.
type liveRig struct {
	t      *testing.T
	svc    *Service
	store  *db.Store
	sb     *sandbox.Server
	client *jing.Client
	// clock moves a minute at each settle, so that every change has an
	// event time of its own (create_time is in whole seconds).
	clock *testkit.Clock
}

func newLiveRig(t *testing.T) *liveRig {
	t.Helper()
	svc, store := newService(t)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := svc.Receive(r.Context(), body); err != nil {
			t.Errorf("receive: %v\n%s", err, body)
		}
	}))
	t.Cleanup(receiver.Close)
	clock := testkit.NewClock(time.Now())
	running := fixture.Sandbox(t, sandbox.Config{Seed: 21, Persons: 300, Leads: 60, WebhookURL: receiver.URL, Now: clock.Now})
	client := fixture.Client(t, running.URL, jing.Catalog{})
	return &liveRig{t: t, svc: svc, store: store, sb: running.Server, client: client, clock: clock}
}

// settle waits until the sandbox delivered everything, applies it, and
// moves the clock on.
func (r *liveRig) settle() {
	r.t.Helper()
	testkit.WaitFor(r.t, "the sandbox to deliver its events", func() bool { return r.sb.PendingEvents() == 0 })
	applyAll(r.t, r.svc)
	r.clock.Advance(time.Minute)
}

func (r *liveRig) lead(uuid string) (db.Lead, map[string]any) {
	r.t.Helper()
	l, err := r.store.Lead(context.Background(), uuid)
	if err != nil {
		r.t.Fatalf("lead %s in the copy: %v", uuid, err)
	}
	var fields map[string]any
	json.Unmarshal(l.Fields, &fields)
	return l, fields
}

func (r *liveRig) ok(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}

// Every lead and account event the sandbox emits (webhooks.md's list) is
// delivered to the console's receiver and applied to the copy: each
// change shows in the lead or account it names.
func TestEveryEventTheSandboxEmitsIsApplied(t *testing.T) {
	t.Parallel()
	r := newLiveRig(t)
	ctx := context.Background()
	types, err := r.client.BusinessTypes(ctx, jing.ObjectLead)
	r.ok(err)
	bt := types[0].JingUUID
	sources, err := r.client.SourceOptions(ctx, jing.ObjectLead, "source_type")
	r.ok(err)
	statuses, err := r.client.LeadStatuses(ctx, bt)
	r.ok(err)
	all, err := r.client.AllMembers(ctx)
	r.ok(err)
	var m []string // active members
	for _, x := range all {
		if x.Active() {
			m = append(m, string(x.ID))
		}
	}

	// object_create, object_update_life_cycle, object_source_info (and add_omni_user_success, skipped)
	uuid, err := r.client.CreateLead(ctx, jing.LeadInput{LeadFields: jing.LeadFields{BusinessType: bt, Name: "欧阳娜",
		Mobile: "13912345670", SourceType: sources[0].JingUUID, SourceName: "官网-预约演示", Owner: jing.MemberID(m[0])}})
	r.ok(err)
	r.settle()
	l, fields := r.lead(uuid)
	if l.Name != "欧阳娜" || l.Mobile != "13912345670" || l.LifeStatus != "baby_lead" || l.Source != sources[0].JingUUID ||
		fields["source_name"] != "官网-预约演示" || l.Owner != m[0] {
		t.Fatalf("created: %+v %v", l, fields)
	}

	// object_update_status and object_update_life_cycle
	var later jing.LeadStatus
	for _, st := range statuses {
		if st.Sort == 3 {
			later = st
		}
	}
	r.ok(r.client.UpdateLeadStatus(ctx, uuid, later.JingUUID))
	r.settle()
	if l, _ = r.lead(uuid); l.Status != later.JingUUID || l.LifeStatus == "baby_lead" {
		t.Fatalf("status: %+v", l)
	}

	// object_update
	r.ok(r.client.UpdateLead(ctx, uuid, jing.LeadInput{LeadFields: jing.LeadFields{Title: "市场总监"}}))
	r.settle()
	if l, _ = r.lead(uuid); l.Title != "市场总监" {
		t.Fatalf("update: %+v", l)
	}

	// object_add_team_member, object_remove_team_member
	r.ok(r.client.UpdateCollaborators(ctx, uuid, []jing.MemberID{jing.MemberID(m[1]), jing.MemberID(m[2])}, nil))
	r.settle()
	r.ok(r.client.UpdateCollaborators(ctx, uuid, nil, []jing.MemberID{jing.MemberID(m[1])}))
	r.settle()
	if l, _ = r.lead(uuid); !slices.Equal(l.Collaborators, []string{m[2]}) {
		t.Fatalf("collaborators: %v", l.Collaborators)
	}

	// object_add_notes
	r.ok(r.sb.AddLeadNote(uuid, "客户下周三来访"))
	r.settle()
	if _, fields = r.lead(uuid); fields["remark"] != "客户下周三来访" {
		t.Fatalf("note: %v", fields["remark"])
	}

	// object_change_owner + object_change_lead_pool: back to the pool, then taken from it
	pool := r.sb.LeadPools()[1].JingUUID
	r.ok(r.sb.MoveLeadToPool(uuid, pool))
	r.settle()
	if l, _ = r.lead(uuid); l.Owner != "" || l.LeadPool != pool {
		t.Fatalf("into the pool: owner %q, pool %q", l.Owner, l.LeadPool)
	}
	r.ok(r.client.UpdateLead(ctx, uuid, jing.LeadInput{LeadFields: jing.LeadFields{Owner: jing.MemberID(m[3])}}))
	r.settle()
	if l, _ = r.lead(uuid); l.Owner != m[3] || l.LeadPool != "" {
		t.Fatalf("out of the pool: owner %q, pool %q", l.Owner, l.LeadPool)
	}

	// object_relation, for the lead and the account
	account := r.sb.SampleAccounts(1)[0].UUID
	r.ok(r.sb.LinkLeadToAccount(uuid, account))
	r.settle()
	if _, fields = r.lead(uuid); fields["account_id"] != account {
		t.Fatalf("relation: account_id %v", fields["account_id"])
	}
	if a, err := r.store.Account(ctx, account); err != nil || !jsonHas(a.Fields, "lead_id", uuid) {
		t.Fatalf("the account's side of the relation: %+v %v", a, err)
	}

	// object_source_info on its own
	r.ok(r.client.UpdateLead(ctx, uuid, jing.LeadInput{LeadFields: jing.LeadFields{SourceName: "官网-免费试用", UTMSource: "baidu"}}))
	r.settle()
	if _, fields = r.lead(uuid); fields["source_name"] != "官网-免费试用" || fields["utm_source"] != "baidu" {
		t.Fatalf("source info: %v", fields)
	}

	// object_voids, object_restore
	r.ok(r.sb.VoidLead(uuid))
	r.settle()
	if l, _ = r.lead(uuid); !l.Voided {
		t.Fatal("the voided lead is not voided in the copy")
	}
	r.ok(r.sb.RestoreLead(uuid))
	r.settle()
	if l, _ = r.lead(uuid); l.Voided {
		t.Fatal("the restored lead is still voided in the copy")
	}

	// Accounts: object_create, object_update, object_change_owner, object_voids
	acc, err := r.sb.CreateAccount("苏州恒瑞精密制造有限公司")
	r.ok(err)
	r.settle()
	r.ok(r.sb.UpdateAccount(acc, map[string]string{"industry": "智能制造", "owner": m[4]}))
	r.settle()
	a, err := r.store.Account(ctx, acc)
	if err != nil || a.Name != "苏州恒瑞精密制造有限公司" || a.Owner != m[4] || !jsonHas(a.Fields, "industry", "智能制造") {
		t.Fatalf("account: %+v %v", a, err)
	}
	r.ok(r.sb.VoidAccount(acc))
	r.settle()
	if a, _ = r.store.Account(ctx, acc); !a.Voided {
		t.Fatal("the voided account is not voided in the copy")
	}

	// Every documented type arrived; nothing failed or was unknown.
	evs, err := r.store.ListWebhookEvents(ctx, db.WebhookFilter{Limit: 500})
	r.ok(err)
	got := map[string]string{}
	for _, ev := range evs {
		if ev.State == db.EventFailed || ev.State == db.EventUnknown || ev.State == db.EventPending {
			t.Errorf("event %s %s: %s %s", ev.ObjectName, ev.EventType, ev.State, ev.Reason)
		}
		got[ev.ObjectName+":"+ev.EventType] = ev.State
	}
	for _, typ := range knownEvents {
		if got["lead:"+typ] != db.EventApplied {
			t.Errorf("lead %s: %q", typ, got["lead:"+typ])
		}
	}
	for _, typ := range []string{jing.EventObjectCreate, jing.EventObjectUpdate, jing.EventObjectChangeOwner, jing.EventObjectVoids, jing.EventObjectRelation} {
		if got["account:"+typ] != db.EventApplied {
			t.Errorf("account %s: %q", typ, got["account:"+typ])
		}
	}
	if got["user:"+jing.EventAddOmniUserSuccess] != db.EventSkipped {
		t.Errorf("add_omni_user_success: %q", got["user:"+jing.EventAddOmniUserSuccess])
	}
}

func jsonHas(raw json.RawMessage, key, want string) bool {
	var m map[string]any
	return json.Unmarshal(raw, &m) == nil && m[key] == want
}
