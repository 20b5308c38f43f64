package db

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/testkit"
)

// LeadsMatching (what live updates ask) and ListLeads and
// CountLeadsByStatus (what the board and the list draw) agree on every
// filter of a table, for every lead of a copy that has voided leads,
// mixed case, one-, two- and three-character searches and dates on the
// edges of ranges.
func TestLeadsMatchingAgreesWithTheLists(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	s.SetClock(func() time.Time { return time.Unix(1_800_000_000, 0) })
	ls := append(leadFixture(),
		Lead{UUID: "L6", BusinessType: "bt1", Status: "new", Owner: "18401", Source: "web", Name: "Émile Zola",
			Email: "EMILE@Example.FR", Company: "Éditions Charpentier", CreatedAt: 300, UpdatedAt: 1000},
		Lead{UUID: "L7", BusinessType: "bt1", Status: "contacted", LeadPool: "pool1", Name: "王小明", Mobile: "13800138007",
			Company: "杭州云栖科技有限公司", CreatedAt: 100, UpdatedAt: 1200},
		Lead{UUID: "L8", BusinessType: "bt2", Status: "won", Owner: "18403", Source: "ads", Name: "100% 云", Title: "a_b",
			CreatedAt: 401, UpdatedAt: 799})
	testkit.Must(t, s.UpsertLeads(ctx, ls))
	testkit.Must(t, s.MarkLeadVoided(ctx, "L7", 1300))
	all := append(uuids(ls), "no-such-lead")

	filters := []LeadFilter{
		{}, {IncludeVoided: true},
		{BusinessType: "bt1"}, {BusinessType: "bt2"}, {BusinessType: "bt9"},
		{BusinessType: "bt1", Status: "new"}, {Status: "contacted", IncludeVoided: true},
		{Owner: "18401"}, {Owner: "18403", BusinessType: "bt2"}, {LeadPool: "pool1"}, {LeadPool: "pool1", IncludeVoided: true},
		{Source: "web"}, {Source: "ads", Owner: "18403"},
		{CreatedFrom: 300}, {CreatedTo: 300}, {CreatedFrom: 200, CreatedTo: 400}, {CreatedFrom: 401, CreatedTo: 401},
		{UpdatedFrom: 1000}, {UpdatedTo: 900}, {UpdatedFrom: 800, UpdatedTo: 1000, BusinessType: "bt1"},
		// Searches of three characters and more (the trigram index), of
		// two (the trigrams they begin), of one (a scan), in any case.
		{Query: "云栖科"}, {Query: "有限公司"}, {Query: "有限公司", Owner: "18401"}, {Query: "0139"}, {Query: "SMITH.IO"},
		{Query: "example.fr"}, {Query: "émile"}, {Query: "ÉMILE"}, {Query: "Émi"},
		{Query: "云栖"}, {Query: "总监"}, {Query: "05"}, {Query: "Ce"}, {Query: "ce"}, {Query: "蜀魏"},
		{Query: "娜"}, {Query: "云"}, {Query: "%"}, {Query: "_"}, {Query: "é"}, {Query: "É"}, {Query: "e"},
		{Query: `"云`}, {Query: `"云栖`}, {Query: "  李娜  "},
		{Query: "云", IncludeVoided: true}, {Query: "王小明", IncludeVoided: true},
	}
	for _, f := range filters {
		listed, total, err := s.ListLeads(ctx, LeadFilter{BusinessType: f.BusinessType, Status: f.Status, Owner: f.Owner,
			LeadPool: f.LeadPool, Source: f.Source, Query: f.Query, CreatedFrom: f.CreatedFrom, CreatedTo: f.CreatedTo,
			UpdatedFrom: f.UpdatedFrom, UpdatedTo: f.UpdatedTo, IncludeVoided: f.IncludeVoided, Limit: MaxLeadLimit})
		if err != nil {
			t.Fatalf("%+v: list: %v", f, err)
		}
		want := map[string]bool{}
		for _, l := range listed {
			want[l.UUID] = true
		}
		got, err := s.LeadsMatching(ctx, f, all)
		if err != nil {
			t.Fatalf("%+v: matching: %v", f, err)
		}
		if !maps.Equal(got, want) || total != len(want) {
			t.Errorf("%+v: matching %v, listed %v (total %d)", f, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)), total)
		}
		counts, err := s.CountLeadsByStatus(ctx, f)
		if err != nil {
			t.Fatalf("%+v: counts: %v", f, err)
		}
		counted := 0
		for st, n := range counts {
			if f.Status == "" || st == f.Status {
				counted += n
			}
		}
		if counted != len(got) {
			t.Errorf("%+v: counts %v, %d matching", f, counts, len(got))
		}
		// Asked about some of the leads, it answers about those alone.
		some, err := s.LeadsMatching(ctx, f, []string{"L1", "L6", "L7"})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"L1", "L6", "L7"} {
			if some[u] != want[u] {
				t.Errorf("%+v: %s matching %t alone, %t among all", f, u, some[u], want[u])
			}
		}
		if len(some) > 3 {
			t.Errorf("%+v: asked about 3 leads, answered %v", f, some)
		}
	}
	if got, err := s.LeadsMatching(ctx, LeadFilter{}, nil); err != nil || len(got) != 0 {
		t.Fatalf("no leads asked about: %v, %v", got, err)
	}
}
