package db

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
)

// The maintained counts give the same summary as grouping the rows, also
// after leads change status or are voided (the triggers follow them).
func TestCountedAndLiveSummariesAgree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, leads, ids := leadStore(t, 300, func(l *Lead, i int) { l.Status = fmt.Sprintf("st%d", i%4) })
	var idScores, actScores, intent []FetchedScore
	for i, id := range ids[:250] { // 50 leads stay unscored
		idScores = append(idScores, FetchedScore{ID: id, Model: "m", Score: float64(i % 101), Band: string(rune('A' + i%4))})
		actScores = append(actScores, FetchedScore{ID: id, Model: "m", Score: float64(i * 7 % 260), Band: []string{"cold", "hot"}[i%2]})
		intent = append(intent, FetchedScore{ID: id, Model: "旗舰SUV", Score: float64(i % 100), Band: "low"})
	}
	save := func(kind string, got []FetchedScore) {
		if _, err := s.SaveScores(ctx, SubjectLead, kind, ids, got, 1000); err != nil {
			t.Fatal(err)
		}
	}
	save(ScoreIdentity, idScores)
	save(ScoreActive, actScores)
	save(ScoreIntention, intent)
	compare := func(when string) {
		for _, q := range []ScoreQuery{{Kind: ScoreIdentity}, {Kind: ScoreActive}, {Kind: ScoreIntention, Product: "旗舰SUV"},
			{Kind: ScoreIdentity, Pop: ScorePopulation{Leads: LeadFilter{BusinessType: "bt1"}}}} {
			counted, err := s.ScoreSummary(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			live, _, err := s.liveView(ctx, q, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(counted, live) {
				t.Fatalf("%s, %s %+v:\ncounted %+v\nlive    %+v", when, q.Kind, q.Pop.Leads, counted, live)
			}
		}
	}
	compare("after the first fetch")
	for _, st := range []int64{500, 1000, 2000} {
		for _, pop := range []ScorePopulation{{}, {Leads: LeadFilter{BusinessType: "bt0"}}} {
			counted, err := s.ScoreFreshness(ctx, pop, ScoreActive, st)
			if err != nil {
				t.Fatal(err)
			}
			_, live, _ := s.liveView(ctx, ScoreQuery{Pop: pop, Kind: ScoreActive}, st)
			if counted != live {
				t.Fatalf("freshness before %d, %+v: counted %+v, live %+v", st, pop.Leads, counted, live)
			}
		}
	}
	leads[3].Status, leads[10].Voided, leads[11].BusinessType = "st9", true, "bt0"
	if err := s.UpsertLeads(ctx, leads[3:12]); err != nil {
		t.Fatal(err)
	}
	idScores[5].Score, idScores[5].Band = 99, "A"
	save(ScoreIdentity, idScores)
	compare("after leads and scores changed")
}

// A view's page read at once (ScoreView: for an owner's leads or a crowd,
// two joins of the population instead of four) is what the summary, the
// freshness and the two ends read apart give, for every population.
func TestScoreViewIsItsParts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, ids := leadStore(t, 200, func(l *Lead, i int) { l.Status, l.Owner = fmt.Sprintf("st%d", i%4), fmt.Sprint("o", i%3) })
	var got []FetchedScore
	for i, id := range ids[:150] {
		got = append(got, FetchedScore{ID: id, Model: "p1", Score: float64(i % 37), Band: []string{"A", "B"}[i%2]})
	}
	for _, kind := range []string{ScoreIdentity, ScoreActive, ScoreIntention} {
		if _, err := s.SaveScores(ctx, SubjectLead, kind, ids[:120], got, 100); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveScores(ctx, SubjectLead, kind, ids[120:170], got, 200); err != nil {
			t.Fatal(err)
		}
	}
	persons := []CrowdMemberRow{{UUID: "p1"}, {UUID: "p2"}, {UUID: "p3"}}
	if err := s.ReplaceCrowdMembers(ctx, 7, persons); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveScores(ctx, SubjectUser, ScoreActive, []string{"p1", "p2"}, []FetchedScore{{ID: "p1", Score: 5, Band: "hot"}}, 150); err != nil {
		t.Fatal(err)
	}
	for _, pop := range []ScorePopulation{{}, {Leads: LeadFilter{BusinessType: "bt1"}}, {Leads: LeadFilter{Owner: "o1"}},
		{Leads: LeadFilter{Owner: "o2", Status: "st2"}}, {GroupID: 7}} {
		for _, kind := range []string{ScoreIdentity, ScoreActive, ScoreIntention} {
			q := ScoreQuery{Pop: pop, Kind: kind, Product: "p1"}
			v, err := s.ScoreView(ctx, q, 150, 7)
			if err != nil {
				t.Fatal(err)
			}
			var parts ScoreView
			parts.Summary, _ = s.ScoreSummary(ctx, q)
			parts.Fresh, _ = s.ScoreFreshness(ctx, pop, kind, 150)
			parts.Top, _ = s.TopScored(ctx, q, ScoreSelection{}, 7, false)
			parts.Bottom, _ = s.TopScored(ctx, q, ScoreSelection{}, 7, true)
			if !reflect.DeepEqual(v, parts) {
				t.Fatalf("%s of %+v:\nat once %+v\napart   %+v", kind, pop, v, parts)
			}
			if pop.Leads.Owner == "o1" && (v.Fresh.Never == 0 || v.Fresh.Stale <= v.Fresh.Never || len(v.Top) != 7 || v.Top[0].Name == "") {
				t.Fatalf("%s of %+v: the owner's view lacks what the test needs: %+v", kind, pop, v)
			}
		}
	}
}

// leadStore opens a store holding n leads L000…, of business types bt0
// and bt1 in turn, each shaped further by shape; it is closed by the
// test's end.
func leadStore(t *testing.T, n int, shape func(l *Lead, i int)) (*Store, []Lead, []string) {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var leads []Lead
	var ids []string
	for i := range n {
		l := Lead{UUID: fmt.Sprintf("L%03d", i), BusinessType: fmt.Sprintf("bt%d", i%2), Name: fmt.Sprintf("客户%d", i), Fields: json.RawMessage(`{}`)}
		shape(&l, i)
		leads, ids = append(leads, l), append(ids, l.UUID)
	}
	if err := s.UpsertLeads(context.Background(), leads); err != nil {
		t.Fatal(err)
	}
	return s, leads, ids
}
