package db

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/testkit"
)

func uuids(ls []Lead) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.UUID
	}
	return out
}

// leadFixture is a small copy: two business types, three statuses.
func leadFixture() []Lead {
	return []Lead{
		{UUID: "L1", BusinessType: "bt1", Status: "new", Owner: "18401", LeadPool: "", Source: "web", Name: "王小明",
			Mobile: "13800138001", Email: "wang@example.cn", Company: "杭州云栖科技有限公司", Title: "市场总监",
			Collaborators: []string{"18402"}, Fields: []byte(`{"jing_uuid":"L1","c_input_x":"a"}`), CreatedAt: 100, UpdatedAt: 1000},
		{UUID: "L2", BusinessType: "bt1", Status: "new", Owner: "18402", Source: "expo", Name: "李娜",
			Mobile: "13900139002", Email: "lina@corp.cn", Company: "上海浦江数据服务有限公司", Title: "采购经理", CreatedAt: 200, UpdatedAt: 900},
		{UUID: "L3", BusinessType: "bt1", Status: "contacted", Owner: "18401", Source: "web", Name: "张伟",
			Mobile: "13700137003", Email: "zw@cloud.cn", Company: "北京云栖网络有限公司", Title: "CTO", CreatedAt: 300, UpdatedAt: 1100},
		{UUID: "L4", BusinessType: "bt2", Status: "new", LeadPool: "pool1", Source: "web", Name: "Anna Smith",
			Mobile: "13600136004", Email: "anna@smith.io", Company: "Smith GmbH", Title: "CEO", CreatedAt: 400, UpdatedAt: 800},
		{UUID: "L5", BusinessType: "bt1", Status: "won", Owner: "18403", Source: "ads", Name: "赵云",
			Mobile: "13500135005", Email: "zy@shu.cn", Company: "成都蜀汉贸易公司", Title: "总经理", CreatedAt: 500, UpdatedAt: 1200},
	}
}

func TestLeadsUpsertListFilterSortPage(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	clock := time.Unix(1_800_000_000, 0)
	s.SetClock(func() time.Time { return clock })
	if err := s.UpsertLeads(ctx, leadFixture()); err != nil {
		t.Fatal(err)
	}
	l, err := s.Lead(ctx, "L1")
	if err != nil || l.Name != "王小明" || l.StatusSince != clock.Unix() || !slices.Equal(l.Collaborators, []string{"18402"}) ||
		string(l.Fields) != `{"jing_uuid":"L1","c_input_x":"a"}` || l.SyncedAt != clock.Unix() {
		t.Fatalf("lead %+v, %v", l, err)
	}
	if _, err := s.Lead(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown lead: %v", err)
	}

	cases := []struct {
		name string
		f    LeadFilter
		want []string
		tot  int
	}{
		{"all, newest update first", LeadFilter{}, []string{"L5", "L3", "L1", "L2", "L4"}, 5},
		{"business type", LeadFilter{BusinessType: "bt2"}, []string{"L4"}, 1},
		{"status", LeadFilter{BusinessType: "bt1", Status: "new"}, []string{"L1", "L2"}, 2},
		{"owner", LeadFilter{Owner: "18401"}, []string{"L3", "L1"}, 2},
		{"pool", LeadFilter{LeadPool: "pool1"}, []string{"L4"}, 1},
		{"source", LeadFilter{Source: "web", Sort: "created"}, []string{"L4", "L3", "L1"}, 3},
		{"created range", LeadFilter{CreatedFrom: 200, CreatedTo: 400, Sort: "created"}, []string{"L4", "L3", "L2"}, 3},
		{"updated range", LeadFilter{UpdatedFrom: 900, UpdatedTo: 1000}, []string{"L1", "L2"}, 2},
		{"by name (code point order)", LeadFilter{Sort: "name", Limit: 3}, []string{"L4", "L3", "L2"}, 5},
		{"second page", LeadFilter{Limit: 2, Offset: 2}, []string{"L1", "L2"}, 5},
		{"past the end", LeadFilter{Limit: 2, Offset: 10}, []string{}, 5},
		// Trigram search: a Chinese substring inside company names, a mobile fragment, an email part.
		{"chinese substring", LeadFilter{Query: "云栖科"}, []string{"L1"}, 1},
		{"chinese substring, two companies", LeadFilter{Query: "云栖网"}, []string{"L3"}, 1},
		{"chinese substring in title", LeadFilter{Query: "总经理"}, []string{"L5"}, 1},
		{"mobile fragment", LeadFilter{Query: "0139"}, []string{"L2"}, 1},
		{"email, any case", LeadFilter{Query: "SMITH.IO"}, []string{"L4"}, 1},
		{"search and filter", LeadFilter{Query: "有限公司", Owner: "18401"}, []string{"L3", "L1"}, 2},
		// Shorter than a trigram: a scan.
		{"two characters", LeadFilter{Query: "云栖"}, []string{"L3", "L1"}, 2},
		{"a whole two-character name", LeadFilter{Query: "李娜"}, []string{"L2"}, 1},
		{"two characters ending a value", LeadFilter{Query: "总监"}, []string{"L1"}, 1},
		{"two digits ending a mobile", LeadFilter{Query: "05"}, []string{"L5"}, 1},
		{"two letters, any case", LeadFilter{Query: "Ce"}, []string{"L4"}, 1},
		{"two characters nowhere", LeadFilter{Query: "蜀魏"}, []string{}, 0},
		{"a quote and a character", LeadFilter{Query: `"云`}, []string{}, 0},
		{"one character", LeadFilter{Query: "娜"}, []string{"L2"}, 1},
		{"like wildcards are literal", LeadFilter{Query: "%"}, []string{}, 0},
		{"quotes in a query", LeadFilter{Query: `"云栖`}, []string{}, 0},
	}
	for _, c := range cases {
		got, total, err := s.ListLeads(ctx, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if g := uuids(got); !slices.Equal(g, c.want) || total != c.tot {
			t.Errorf("%s: got %v (total %d), want %v (total %d)", c.name, g, total, c.want, c.tot)
		}
	}

	counts, err := s.CountLeadsByStatus(ctx, LeadFilter{BusinessType: "bt1", Status: "ignored"})
	if err != nil || len(counts) != 3 || counts["new"] != 2 || counts["contacted"] != 1 || counts["won"] != 1 {
		t.Fatalf("counts %v, %v", counts, err)
	}
	// The tally the triggers keep agrees with counting the leads.
	counted, _ := s.CountLeadsByStatus(ctx, LeadFilter{BusinessType: "bt1", CreatedFrom: 1})
	if !maps.Equal(counts, counted) {
		t.Fatalf("tally %v, counted %v", counts, counted)
	}
	counts, _ = s.CountLeadsByStatus(ctx, LeadFilter{BusinessType: "bt1", Query: "云栖"})
	if len(counts) != 2 || counts["new"] != 1 || counts["contacted"] != 1 {
		t.Fatalf("counts of a search %v", counts)
	}
}

func TestLeadsStatusChangesVoidsAndOlderAnswers(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	clock := time.Unix(1_800_000_000, 0)
	s.SetClock(func() time.Time { return clock })
	testkit.Must(t, s.UpsertLeads(ctx, leadFixture()))

	// A sync sees L1 in another status: it entered it now, recorded as "sync".
	clock = clock.Add(time.Hour)
	l1 := leadFixture()[0]
	l1.Status, l1.UpdatedAt, l1.Company = "contacted", 2000, "杭州云栖智能有限公司"
	testkit.Must(t, s.UpsertLeads(ctx, []Lead{l1}))
	got, _ := s.Lead(ctx, "L1")
	if got.Status != "contacted" || got.StatusSince != clock.Unix() || got.Company != "杭州云栖智能有限公司" {
		t.Fatalf("after a status change %+v", got)
	}
	hist, err := s.LeadStatusHistory(ctx, "L1")
	if err != nil || len(hist) != 1 || hist[0] != (LeadStatusChange{At: clock.Unix(), From: "new", To: "contacted", Origin: OriginSync}) {
		t.Fatalf("history %+v, %v", hist, err)
	}
	// The index follows the new company name.
	if ls, _, _ := s.ListLeads(ctx, LeadFilter{Query: "云栖智能"}); !slices.Equal(uuids(ls), []string{"L1"}) {
		t.Fatalf("search after a rename: %v", uuids(ls))
	}
	if ls, _, _ := s.ListLeads(ctx, LeadFilter{Query: "云栖科技"}); len(ls) != 0 {
		t.Fatalf("the old name still matches: %v", uuids(ls))
	}

	// An older answer does not overwrite.
	stale := leadFixture()[0]
	testkit.Must(t, s.UpsertLeads(ctx, []Lead{stale}))
	if got, _ := s.Lead(ctx, "L1"); got.Status != "contacted" || got.UpdatedAt != 2000 {
		t.Fatalf("an older answer overwrote the copy: %+v", got)
	}

	// The console's move: its own history entry, with the actor.
	clock = clock.Add(time.Hour)
	l1.Status, l1.UpdatedAt = "won", 3000
	testkit.Must(t, s.SaveMovedLead(ctx, l1, LeadStatusChange{Actor: "alice", Origin: OriginConsole}))
	hist, _ = s.LeadStatusHistory(ctx, "L1")
	if len(hist) != 2 || hist[1] != (LeadStatusChange{At: clock.Unix(), From: "contacted", To: "won", Actor: "alice", Origin: OriginConsole}) {
		t.Fatalf("history after a move %+v", hist)
	}
	testkit.Must(t, s.RecordLeadStatusChange(ctx, "L1", LeadStatusChange{From: "won", To: "won", Origin: OriginWebhook}))
	if hist, _ = s.LeadStatusHistory(ctx, "L1"); len(hist) != 3 || hist[2].At != clock.Unix() {
		t.Fatalf("recorded change %+v", hist)
	}

	// Voided: kept, left out of lists and counts unless asked for.
	testkit.Must(t, s.MarkLeadVoided(ctx, "L2", clock.Unix()))
	if err := s.MarkLeadVoided(ctx, "nope", 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("voiding an unknown lead: %v", err)
	}
	if got, err := s.Lead(ctx, "L2"); err != nil || !got.Voided {
		t.Fatalf("voided lead %+v, %v", got, err)
	}
	if ls, total, _ := s.ListLeads(ctx, LeadFilter{BusinessType: "bt1"}); slices.Contains(uuids(ls), "L2") || total != 3 {
		t.Fatalf("voided lead listed: %v (%d)", uuids(ls), total)
	}
	if ls, _, _ := s.ListLeads(ctx, LeadFilter{BusinessType: "bt1", IncludeVoided: true}); !slices.Contains(uuids(ls), "L2") {
		t.Fatalf("voided lead not listed when asked for: %v", uuids(ls))
	}
	if counts, _ := s.CountLeadsByStatus(ctx, LeadFilter{BusinessType: "bt1"}); counts["new"] != 0 {
		t.Fatalf("voided lead counted: %v", counts)
	}
	if ls, _, _ := s.ListLeads(ctx, LeadFilter{Query: "浦江数据"}); len(ls) != 0 {
		t.Fatalf("voided lead found by search: %v", uuids(ls))
	}
	// Listed again by the platform (restored): no longer voided.
	testkit.Must(t, s.UpsertLeads(ctx, []Lead{leadFixture()[1]}))
	if got, _ := s.Lead(ctx, "L2"); got.Voided {
		t.Fatal("a lead the platform lists again stays voided")
	}
	tally, _ := s.CountLeadsByStatus(ctx, LeadFilter{IncludeVoided: true})
	counted, _ := s.CountLeadsByStatus(ctx, LeadFilter{IncludeVoided: true, CreatedFrom: 1})
	if !maps.Equal(tally, counted) || tally["contacted"] != 1 || tally["won"] != 2 {
		t.Fatalf("tally %v, counted %v", tally, counted)
	}
}

func TestLeadsCopyFollowsTheConnection(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	if reset, err := s.ResetLeads(ctx, "sandbox"); err != nil || !reset {
		t.Fatalf("first adoption: %v, %v", reset, err)
	}
	// A sync of a connection that no longer owns the copy is refused.
	if err := s.UpsertSyncedLeads(ctx, "other", 7, leadFixture()); !errors.Is(err, ErrLeadCopyMoved) {
		t.Fatalf("sync of another connection: %v", err)
	}
	testkit.Must(t, s.UpsertSyncedLeads(ctx, "sandbox", 7, leadFixture()[:3]))
	testkit.Must(t, s.UpsertSyncedLeads(ctx, "sandbox", 8, leadFixture()[1:]))
	if missing, err := s.LeadsNotSeenBy(ctx, 8); err != nil || !slices.Equal(missing, []string{"L1"}) {
		t.Fatalf("not seen by sync 8: %v, %v", missing, err)
	}
	testkit.Must(t, s.SaveLeadSync(ctx, LeadSyncState{Connection: "sandbox", FullSyncedAt: 10, HighWater: 1200, LastSyncedAt: 10}))
	testkit.Must(t, s.SaveLeadSync(ctx, LeadSyncState{Connection: "sandbox", HighWater: 900, LastSyncedAt: 20}))
	if st, err := s.LeadSync(ctx); err != nil || st != (LeadSyncState{"sandbox", 10, 1200, 20}) {
		t.Fatalf("sync state %+v, %v", st, err)
	}
	if reset, _ := s.ResetLeads(ctx, "sandbox"); reset {
		t.Fatal("the same connection reset the copy")
	}
	if reset, _ := s.ResetLeads(ctx, "https://open.example.cn#app"); !reset {
		t.Fatal("another connection did not reset the copy")
	}
	if n, _ := s.CountLeads(ctx); n != 0 {
		t.Fatalf("%d leads left after a switch", n)
	}
	if ls, _, _ := s.ListLeads(ctx, LeadFilter{Query: "云栖科技"}); len(ls) != 0 {
		t.Fatal("the search index kept the cleared leads")
	}
	if st, _ := s.LeadSync(ctx); st != (LeadSyncState{Connection: "https://open.example.cn#app"}) {
		t.Fatalf("sync state after a switch %+v", st)
	}
}

func TestLeadStatusClosing(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	set := RefSet{Connection: "sandbox", Key: "lead.statuses.bt1", Kind: "statuses", Object: "lead", Scope: "bt1"}
	if _, err := s.ReplaceRefSet(ctx, set, []RefItem{{ID: "new", Name: "新线索"}, {ID: "lost", Name: "无效"}, {ID: "won", Name: "已转化"}}); err != nil {
		t.Fatal(err)
	}
	testkit.Must(t, s.UpsertLeads(ctx, []Lead{{UUID: "X", BusinessType: "bt1", Status: "deal", LifeStatus: "customer"}}))
	for st, want := range map[string]bool{"new": false, "lost": true, "won": true, "deal": true, "unknown": false} {
		if got, err := s.LeadStatusClosing(ctx, "sandbox", "bt1", st); err != nil || got != want {
			t.Errorf("%s closing: %v (%v), want %v", st, got, err, want)
		}
	}
	if got, _ := s.LeadStatusClosing(ctx, "other", "bt1", "lost"); got {
		t.Error("another connection's reference data counted")
	}
}
