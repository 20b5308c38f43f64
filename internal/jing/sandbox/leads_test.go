package sandbox

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// BenchmarkSeedDefaultTenant is the whole default tenant (30 members,
// objects, 20,000 persons, 8 crowds, 3,000 leads, sends): what start-up of
// the embedded sandbox costs before any state file exists.
func BenchmarkSeedDefaultTenant(b *testing.B) {
	cfg := withDefaults(Config{Seed: 42})
	b.ReportAllocs()
	for b.Loop() {
		seedTenant(cfg)
	}
}

func BenchmarkSeedLeads(b *testing.B) {
	for b.Loop() {
		tn := &tenant{MID: "124"}
		tn.seedMembers(rngFor(1, "members"), 30)
		tn.seedObjects(rngFor(1, "objects"))
		tn.seedLeads(rngFor(1, "leads"), 3000)
	}
}

// The seeded leads look like a real team's: early stages outnumber
// conversions, some leads wait in the public pool, ids and contacts are
// unique, and everything falls in the last 180 days.
func TestSeededLeadsAreRealistic(t *testing.T) {
	t.Parallel()
	s := New(Config{Seed: 5, Persons: 300, Leads: 3000})
	tn := s.tenant
	byStage := map[string]int{}
	pooled, custom := 0, 0
	uuids, mobiles := map[string]bool{}, map[string]bool{}
	oldest := leadsEpoch.Add(-181 * 24 * time.Hour).Unix()
	for _, l := range tn.Leads.Leads {
		st := s.stageOf(l)
		byStage[st.Name]++
		if l.Fields["owner"] == "" {
			pooled++
			if l.LeadPool == "" {
				t.Fatalf("unassigned lead %s in no pool", l.JingUUID)
			}
		}
		if len(l.Custom) > 0 {
			custom++
		}
		if uuids[l.JingUUID] || (l.Fields["mobile"] != "" && mobiles[l.Fields["mobile"]]) {
			t.Fatalf("lead %s repeats an id or a mobile", l.JingUUID)
		}
		uuids[l.JingUUID], mobiles[l.Fields["mobile"]] = true, true
		if l.CreatedTimestamp < oldest || l.UpdatedTimestamp < l.CreatedTimestamp || l.UpdatedTimestamp > leadsEpoch.Unix() {
			t.Fatalf("lead %s timestamps %d..%d", l.JingUUID, l.CreatedTimestamp, l.UpdatedTimestamp)
		}
		if l.Fields["name"] == "" || (l.Fields["mobile"] == "" && l.Fields["email"] == "") || !strings.Contains(l.Fields["company_id"], "公司") {
			t.Fatalf("lead without contact or company: %+v", l.Fields)
		}
	}
	t.Logf("stages %v, pooled %d, with custom fields %d, accounts %d", byStage, pooled, custom, len(tn.Leads.Accounts))
	if byStage["新线索"] <= byStage["已转化"] || byStage["已转化"] == 0 {
		t.Fatalf("stages %v", byStage)
	}
	if pooled < 100 || pooled > 1000 || custom < 600 || len(tn.Leads.Accounts) < 200 {
		t.Fatalf("pooled %d, custom %d, accounts %d", pooled, custom, len(tn.Leads.Accounts))
	}
}

// Platform-side changes really change leads and push the matching events;
// statuses move forward, and converted leads stay converted.
func TestPlatformSideChangesArePushed(t *testing.T) {
	t.Parallel()
	s := New(Config{Seed: 9, Persons: 200, Leads: 60})
	before := map[string]int{}
	for _, l := range s.tenant.Leads.Leads {
		before[l.JingUUID] = s.stageOf(l).Sort
	}
	s.mu.Lock()
	for range 300 {
		s.platformSideLeadChange()
	}
	s.mu.Unlock()
	kinds := map[string]int{}
	for _, ev := range s.RecentLeadEvents() {
		kinds[ev.EventType]++
		if ev.ExtraData.OperatorType == jing.OperatorMember && ev.ExtraData.OperatorID < 18400 {
			t.Fatalf("operator %d is not a member", ev.ExtraData.OperatorID)
		}
	}
	for _, k := range []string{jing.EventObjectUpdateStatus, jing.EventObjectChangeOwner, jing.EventObjectAddNotes, jing.EventObjectAddTeamMember} {
		if kinds[k] == 0 {
			t.Fatalf("no %s among the last events: %v", k, kinds)
		}
	}
	forward, backward := 0, 0
	for _, l := range s.tenant.Leads.Leads {
		st := s.stageOf(l)
		switch {
		case st.Sort > before[l.JingUUID]:
			forward++
		case st.Sort < before[l.JingUUID]:
			backward++
		}
	}
	if forward < 20 || backward > 0 {
		t.Fatalf("%d leads moved forward, %d backward", forward, backward)
	}
}

// The tenant is persisted as JSON by the sandbox's state file: leads and
// metadata come back whole, and lookups work on the loaded copy.
func TestLeadsSurviveAJSONRoundTrip(t *testing.T) {
	t.Parallel()
	s := New(Config{Seed: 3, Persons: 100, Leads: 40})
	raw, err := json.Marshal(s.tenant)
	if err != nil {
		t.Fatal(err)
	}
	var back tenant
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(&back)
	if string(again) != string(raw) {
		t.Fatal("the tenant changed through JSON")
	}
	l := s.tenant.Leads.Leads[17]
	if !back.Leads.hasLead(l.JingUUID) || back.Leads.hasLead("nope") {
		t.Fatal("lookups fail on a loaded tenant")
	}
}

// An API creation pushes object_create as documented: [value] per field,
// labels for ids (the region as 国家/省/市), China time, the tenant's mid.
func TestCreationIsPushedWithLabels(t *testing.T) {
	t.Parallel()
	s := New(Config{Seed: 2, Persons: 100, Leads: 20})
	meta := &s.tenant.Objects.Lead
	bt := meta.defaultBusinessType()
	city := meta.OptionSets["country_region"][0].Child[0].Child[1]
	body, _ := json.Marshal(map[string]any{"business_type": bt.JingUUID, "name": "周思远", "mobile": "13800138000",
		"country_region": city.JingUUID, "owner": 18401})
	s.mu.Lock()
	_, err := s.createLead(&call{s: s, body: body, now: leadsEpoch})
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	evs := s.RecentLeadEvents()
	ev := evs[slices.IndexFunc(evs, func(ev jing.WebhookEvent) bool { return ev.EventType == jing.EventObjectCreate })]
	x := ev.ExtraData
	if ev.EventType != jing.EventObjectCreate || ev.MID != "124" || x.CreatedTimestamp != "2026-11-20 18:00:00" || x.Owner != "18401" {
		t.Fatalf("event %+v", ev)
	}
	region := x.MappingData["country_region"].([]any)
	want := "中国/广东省/" + city.Name
	if len(region) != 1 || region[0] != city.JingUUID || x.MappingDataText["country_region"] != want {
		t.Fatalf("region pushed as %v / %v, want %s", region, x.MappingDataText["country_region"], want)
	}
	if x.MappingDataText["lead_status"] != bt.Stages[0].Name || x.MappingDataText["business_type"] != bt.Name {
		t.Fatalf("labels %v", x.MappingDataText)
	}
}
