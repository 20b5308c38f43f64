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
	s, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var leads []Lead
	var ids []string
	for i := range 300 {
		l := Lead{UUID: fmt.Sprintf("L%03d", i), BusinessType: fmt.Sprintf("bt%d", i%2), Status: fmt.Sprintf("st%d", i%4),
			Name: fmt.Sprintf("客户%d", i), Fields: json.RawMessage(`{}`)}
		leads, ids = append(leads, l), append(ids, l.UUID)
	}
	if err := s.UpsertLeads(ctx, leads); err != nil {
		t.Fatal(err)
	}
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
			live, err := s.liveSummary(ctx, q)
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
			live, _ := s.liveFreshness(ctx, pop, "active_at", st)
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
