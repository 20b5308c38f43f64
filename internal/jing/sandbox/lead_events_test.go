package sandbox

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// documentedEvents are the event types webhooks.md lists per object.
var documentedEvents = map[string][]string{
	jing.ObjectLead: {jing.EventObjectCreate, jing.EventObjectUpdate, jing.EventObjectUpdateStatus,
		jing.EventObjectUpdateLifeCycle, jing.EventObjectVoids, jing.EventObjectRestore, jing.EventObjectChangeOwner,
		jing.EventObjectAddNotes, jing.EventObjectAddTeamMember, jing.EventObjectRemoveTeamMember,
		jing.EventObjectChangeLeadPool, jing.EventObjectRelation, jing.EventObjectSourceInfo},
	jing.ObjectAccount: {jing.EventObjectCreate, jing.EventObjectUpdate, jing.EventObjectChangeOwner,
		jing.EventObjectVoids, jing.EventObjectRelation},
	"user": {jing.EventAddOmniUserSuccess},
}

// queued decodes the events waiting for delivery (nothing delivers them:
// the background loop is not started).
func queued(t *testing.T, s *Server) []jing.WebhookEvent {
	t.Helper()
	q := s.events
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]jing.WebhookEvent, len(q.pending))
	for i, b := range q.pending {
		ev, err := jing.DecodeWebhook(b)
		if err != nil {
			t.Fatalf("undecodable event %s: %v", b, err)
		}
		out[i] = ev
	}
	q.pending = nil
	return out
}

func eventTypes(evs []jing.WebhookEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ExtraData.ObjectName + ":" + ev.EventType
	}
	return out
}

func newEventSandbox(seed int64) *Server {
	return New(Config{Seed: seed, Persons: 300, Leads: 80, WebhookURL: "http://127.0.0.1:1/not-delivered",
		Now: func() time.Time { return leadsEpoch.Add(time.Hour) }})
}

// Over many platform-side changes every event type the documentation lists
// for leads and accounts is emitted, and none other.
func TestPlatformSideChangesEmitEveryDocumentedEventType(t *testing.T) {
	t.Parallel()
	s := newEventSandbox(11)
	s.mu.Lock()
	for range 3000 {
		s.platformSideChange()
	}
	s.mu.Unlock()
	seen := map[string]int{}
	for _, ev := range queued(t, s) {
		x := ev.ExtraData
		if !slices.Contains(documentedEvents[x.ObjectName], ev.EventType) {
			t.Fatalf("%s is not documented for a %s", ev.EventType, x.ObjectName)
		}
		seen[x.ObjectName+":"+ev.EventType]++
	}
	for _, object := range []string{jing.ObjectLead, jing.ObjectAccount} {
		for _, typ := range documentedEvents[object] {
			if object == jing.ObjectLead && typ == jing.EventObjectCreate {
				continue // leads are created through the API (TestLeadCreationEmitsTheDocumentedSequence)
			}
			if seen[object+":"+typ] == 0 {
				t.Errorf("no %s %s among 3,000 platform-side changes: %v", object, typ, seen)
			}
		}
	}
}

// A lead created through the API is announced as the lead-creation page
// lists it: the new person, the lead, its lifecycle, its source.
func TestLeadCreationEmitsTheDocumentedSequence(t *testing.T) {
	t.Parallel()
	s := newEventSandbox(12)
	bt := s.tenant.Objects.Lead.defaultBusinessType()
	src := s.tenant.Objects.Lead.Options["source_type"][0]
	createLeadNow(t, s, map[string]any{"business_type": bt.JingUUID, "name": "周思远", "mobile": "13800138111",
		"source_type": src.JingUUID, "source_name": "官网-预约演示", "utm_source": "baidu"})
	evs := queued(t, s)
	want := []string{"user:" + jing.EventAddOmniUserSuccess, "lead:" + jing.EventObjectCreate,
		"lead:" + jing.EventObjectUpdateLifeCycle, "lead:" + jing.EventObjectSourceInfo}
	if got := eventTypes(evs); !slices.Equal(got, want) {
		t.Fatalf("creation emitted %v, want %v", got, want)
	}
	src0 := evs[3].ExtraData.Changes()
	if src0["source_type"].After != src.JingUUID || src0["utm_source"].After != "baidu" || len(src0) != 3 {
		t.Fatalf("object_source_info carries %v", src0)
	}
	if lc := evs[2].ExtraData.Changes()["life_status"]; lc.After != "baby_lead" {
		t.Fatalf("object_update_life_cycle carries %+v", lc)
	}
	if evs[0].ExtraData.OmniUserUUID == "" || evs[0].ExtraData.OmniUserUUID != evs[1].ExtraData.LeadOmniUserUUID {
		t.Fatalf("the person event names %q, the lead's person is %q", evs[0].ExtraData.OmniUserUUID, evs[1].ExtraData.LeadOmniUserUUID)
	}
	if evs[1].ExtraData.OmniUserUUID != "" {
		t.Errorf("extra_data.omni_user_uuid is the operator's bound person, not the lead's: %q", evs[1].ExtraData.OmniUserUUID)
	}

	// A lead of a known person, without source information: neither a
	// person event nor a source event.
	other := s.tenant.Objects.Lead.BusinessTypes[1].JingUUID
	createLeadNow(t, s, map[string]any{"business_type": other, "name": "周思远", "mobile": "13800138111"})
	if got := eventTypes(queued(t, s)); !slices.Equal(got, []string{"lead:" + jing.EventObjectCreate, "lead:" + jing.EventObjectUpdateLifeCycle}) {
		t.Fatalf("a lead of a known person emitted %v", got)
	}
}

// createLeadNow is leads.create with body, as the API would call it.
func createLeadNow(t *testing.T, s *Server, body map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.createLead(&call{s: s, body: raw, now: leadsEpoch}); err != nil {
		t.Fatal(err)
	}
}

// Owner and pool changes are separate events: a lead that leaves its owner
// for the pool, one moved between pools, and one taken from the pool.
func TestOwnerAndPoolChangesAreSeparateEvents(t *testing.T) {
	t.Parallel()
	s := newEventSandbox(13)
	pools := s.LeadPools()
	var owned *lead
	for _, l := range s.tenant.Leads.Leads {
		if l.Fields["owner"] != "" {
			owned = l
			break
		}
	}
	queued(t, s)
	if err := s.MoveLeadToPool(owned.JingUUID, pools[1].JingUUID); err != nil {
		t.Fatal(err)
	}
	evs := queued(t, s)
	if got := eventTypes(evs); !slices.Equal(got, []string{"lead:" + jing.EventObjectChangeOwner, "lead:" + jing.EventObjectChangeLeadPool}) {
		t.Fatalf("back to the pool: %v", got)
	}
	if ch := evs[1].ExtraData.Changes()["lead_pool"]; ch.Before != nil || ch.After != pools[1].JingUUID {
		t.Fatalf("lead_pool change %+v", ch)
	}
	if err := s.MoveLeadToPool(owned.JingUUID, pools[0].JingUUID); err != nil {
		t.Fatal(err)
	}
	if got := eventTypes(queued(t, s)); !slices.Equal(got, []string{"lead:" + jing.EventObjectChangeLeadPool}) {
		t.Fatalf("between pools: %v", got)
	}
	s.mu.Lock()
	err := s.writeLead(owned, s.leadType(owned), leadWrite{fields: map[string]string{"owner": "18401"}}, backOffice, s.cfg.Now())
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	evs = queued(t, s)
	if got := eventTypes(evs); !slices.Equal(got, []string{"lead:" + jing.EventObjectChangeOwner, "lead:" + jing.EventObjectChangeLeadPool}) {
		t.Fatalf("taken from the pool: %v", got)
	}
	if ch := evs[1].ExtraData.Changes()["lead_pool"]; ch.Before != pools[0].JingUUID || ch.After != nil {
		t.Fatalf("lead_pool change %+v", ch)
	}
}

// A lead linked to an account is object_relation on both sides, not an update.
func TestARelationIsAnnouncedForTheLeadAndBothAccounts(t *testing.T) {
	t.Parallel()
	s := newEventSandbox(14)
	l := s.tenant.Leads.Leads[0]
	before := l.Fields["account_id"]
	accounts := s.SampleAccounts(100)
	target := accounts[len(accounts)-1].UUID
	queued(t, s)
	if err := s.LinkLeadToAccount(l.JingUUID, target); err != nil {
		t.Fatal(err)
	}
	evs := queued(t, s)
	want := []string{"lead:" + jing.EventObjectRelation, "account:" + jing.EventObjectRelation}
	if before != "" {
		want = append(want, "account:"+jing.EventObjectRelation)
	}
	if got := eventTypes(evs); !slices.Equal(got, want) {
		t.Fatalf("relation emitted %v, want %v", got, want)
	}
	if ch := evs[0].ExtraData.Changes()["account_id"]; ch.After != target {
		t.Fatalf("lead relation %+v", ch)
	}
	for _, ev := range evs[1:] {
		ch := ev.ExtraData.Changes()["lead_id"]
		joined := ev.ExtraData.EntityID == target
		if joined && (ch.Before != nil || ch.After != l.JingUUID) || !joined && (ch.Before != l.JingUUID || ch.After != nil) {
			t.Fatalf("account %s relation %+v", ev.ExtraData.EntityID, ch)
		}
	}
}

// A voided lead leaves the API and comes back whole when restored, in its
// place in object_id order; both are announced, and both survive a save.
func TestAVoidedLeadIsRestored(t *testing.T) {
	t.Parallel()
	s := newEventSandbox(15)
	l := s.tenant.Leads.Leads[5]
	queued(t, s)
	if err := s.VoidLead(l.JingUUID); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	_, err := s.requireLead(l.JingUUID)
	s.mu.Unlock()
	if err == nil {
		t.Fatal("a voided lead is still served")
	}
	raw, _ := json.Marshal(s.tenant)
	var back tenant
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Leads.Voided) != 1 || back.Leads.hasLead(l.JingUUID) {
		t.Fatalf("the voided lead through JSON: %v", err)
	}
	if err := s.RestoreLead(l.JingUUID); err != nil {
		t.Fatal(err)
	}
	if got := eventTypes(queued(t, s)); !slices.Equal(got, []string{"lead:" + jing.EventObjectVoids, "lead:" + jing.EventObjectRestore}) {
		t.Fatalf("void and restore emitted %v", got)
	}
	if s.tenant.Leads.find(l.JingUUID) != l || s.tenant.Leads.Leads[5] != l || len(s.tenant.Leads.Voided) != 0 {
		t.Fatal("the restored lead is not back in its place")
	}
	if err := s.RestoreLead(l.JingUUID); err == nil {
		t.Fatal("a lead that is not voided was restored")
	}
}

// Account changes on the platform's console are delivered as the account
// events of seed 004: create, update, owner change, void.
func TestAccountChangesAreAnnounced(t *testing.T) {
	t.Parallel()
	s := newEventSandbox(16)
	uuid, err := s.CreateAccount("杭州云帆数据服务有限公司")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateAccount(uuid, map[string]string{"industry": "金融", "owner": "18402"}); err != nil {
		t.Fatal(err)
	}
	if err := s.VoidAccount(uuid); err != nil {
		t.Fatal(err)
	}
	evs := queued(t, s)
	want := []string{"account:" + jing.EventObjectCreate, "account:" + jing.EventObjectUpdate,
		"account:" + jing.EventObjectChangeOwner, "account:" + jing.EventObjectVoids}
	if got := eventTypes(evs); !slices.Equal(got, want) {
		t.Fatalf("account changes emitted %v, want %v", got, want)
	}
	create := evs[0].ExtraData
	if create.EntityID != uuid || create.MappingData["name"].([]any)[0] != "杭州云帆数据服务有限公司" || create.ObjectID == "" ||
		create.BusinessTypeName == "" {
		t.Fatalf("object_create %+v", create)
	}
	if ch := evs[2].ExtraData.Changes()["owner"]; ch.After != "18402" || evs[2].ActionKeyword != jing.ActionManualDistribution {
		t.Fatalf("owner change %+v (%s)", ch, evs[2].ActionKeyword)
	}
	if _, ok := evs[1].ExtraData.Changes()["owner"]; ok {
		t.Fatal("the owner change was folded into object_update")
	}
	if err := s.LinkLeadToAccount(s.tenant.Leads.Leads[0].JingUUID, uuid); err == nil {
		t.Fatal("a lead was linked to a voided account")
	}
}
