package db

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var scoresFilled struct {
	once sync.Once
	err  error
}

// benchScores is the 100,000-lead bench store with every lead scored
// (identity grade, activity level, intention for four products), fetched
// in batches of 100 a few seconds apart as a refresh fetches them, and a
// second, changed activity fetch for a third of them (history for the
// movers).
func benchScores(b *testing.B) *Store {
	s := benchStore(b)
	scoresFilled.once.Do(func() { scoresFilled.err = fillScores(s, benchLeads) })
	if scoresFilled.err != nil {
		b.Fatal(scoresFilled.err)
	}
	return s
}

func fillScores(s *Store, n int) error {
	rn := rand.New(rand.NewPCG(8, 8))
	grades, levels := []string{"A", "B", "C", "D"}, []string{"inactive", "cold", "warm", "hot"}
	return s.inTx(context.Background(), func(tx *sql.Tx) error {
		card, err := tx.Prepare(`INSERT INTO score_cards(subject, id, identity_model, identity_score, grade, active_model, active_score,
			level, identity_at, active_at, intention_at, business_type, status, voided)
			SELECT 'lead', uuid, 'm', ?1, ?2, 'm', ?3, ?4, ?5, ?5 + 3600, ?5 + 7200, business_type, status, voided FROM leads WHERE uuid = ?6`)
		if err != nil {
			return err
		}
		hist, err := tx.Prepare(`INSERT INTO score_history(subject, id, kind, model, score, band, at) VALUES('lead',?,'active','m',?,?,?)`)
		if err != nil {
			return err
		}
		intent, err := tx.Prepare(`INSERT INTO intention_scores(subject, id, product, score, level, business_type, status, voided)
			SELECT 'lead', uuid, ?, ?, ?, business_type, status, voided FROM leads WHERE uuid = ?`)
		if err != nil {
			return err
		}
		products, intentionLevels := []string{"p1", "p2", "p3", "p4"}, []string{"low", "medium", "high"}
		for i := range n {
			id := fmt.Sprintf("bench%08d", i)
			idScore, act := rn.IntN(91)+10, rn.IntN(260)
			fetched := int64(1_800_000_000 - 3*((n-1-i)/100)) // a batch of 100 every 3 seconds, the last at 1,800,000,000
			if _, err := card.Exec(idScore, grades[3-min(idScore/25, 3)], act, levels[min(act/40, 3)], fetched, id); err != nil {
				return err
			}
			if i%3 == 0 {
				if _, err := hist.Exec(id, max(0, act-rn.IntN(60)+20), "", 1_799_000_000); err != nil {
					return err
				}
			}
			// Every lead has intention scores for the four products, as the sandbox's do.
			for _, p := range products {
				sc := rn.IntN(101)
				if _, err := intent.Exec(p, sc, intentionLevels[min(sc/34, 2)], id); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// BenchmarkScoresPage is the queries of the scores page for all 100,000
// leads: the summary (histogram, bands, matrix, per status) and the top
// and bottom 20. (The movers load after the page: BenchmarkScoresMovers.)
func BenchmarkScoresPage(b *testing.B) {
	s := benchScores(b)
	ctx := context.Background()
	q := ScoreQuery{Kind: ScoreIdentity}
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		sum, err := s.ScoreSummary(ctx, q)
		if err != nil || sum.Population != benchLeads {
			b.Fatalf("summary: %v, %d", err, sum.Population)
		}
		if _, err := s.TopScored(ctx, q, ScoreSelection{}, 20, false); err != nil {
			b.Fatal(err)
		}
		if _, err := s.TopScored(ctx, q, ScoreSelection{}, 20, true); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	reportMedian(b, times)
}

// BenchmarkScoresMovers is the movers panel for all 100,000 leads (a
// third with an earlier activity score).
func BenchmarkScoresMovers(b *testing.B) {
	s := benchScores(b)
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		rising, _, err := s.ScoreMovers(context.Background(), ScoreQuery{Kind: ScoreActive}, 1_799_500_000, 10)
		if err != nil || len(rising) != 10 {
			b.Fatalf("movers: %v, %d", err, len(rising))
		}
		times = append(times, time.Since(start))
	}
	reportMedian(b, times)
}

// BenchmarkScoresSummaryLive is the summary grouped from the rows, as for
// a population the counts do not cover (here: all leads, forced live).
func BenchmarkScoresSummaryLive(b *testing.B) {
	s := benchScores(b)
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, _, err := s.liveView(context.Background(), ScoreQuery{Kind: ScoreIdentity}, 0); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	reportMedian(b, times)
}

// BenchmarkScoresSummary is the summary alone.
func BenchmarkScoresSummary(b *testing.B) {
	s := benchScores(b)
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := s.ScoreSummary(context.Background(), ScoreQuery{Kind: ScoreActive}); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	reportMedian(b, times)
}

// BenchmarkScoresPopulations is the store's part of the scores page
// (internal/scores' Overview) for each population the page offers, at
// 100,000 leads, each kind in turn: the products, and the summary, the
// freshness line and the top and bottom 20 (ScoreView).
func BenchmarkScoresPopulations(b *testing.B) {
	s := benchScores(b)
	ctx := context.Background()
	if err := s.ReplaceCrowdMembers(ctx, 7, crowdOf(5000)); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		pop  ScorePopulation
	}{
		{"all", ScorePopulation{}},
		{"business_type", ScorePopulation{Leads: LeadFilter{BusinessType: benchBT(1)}}},
		{"status", ScorePopulation{Leads: LeadFilter{BusinessType: benchBT(1), Status: benchStatus(1, 2)}}},
		{"owner", ScorePopulation{Leads: LeadFilter{Owner: "18405"}}},
		{"crowd", ScorePopulation{GroupID: 7}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var times []time.Duration
			kinds := []string{ScoreIdentity, ScoreActive, ScoreIntention}
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				q := ScoreQuery{Pop: c.pop, Kind: kinds[i%3], Product: "p2"}
				if _, err := s.ScoreProducts(ctx, c.pop.Subject()); err != nil {
					b.Fatal(err)
				}
				if v, err := s.ScoreView(ctx, q, 1_799_990_000, 20); err != nil || len(v.Top) != 20 && c.pop.GroupID == 0 {
					b.Fatal(len(v.Top), err)
				}
				times = append(times, time.Since(start))
			}
			reportMedian(b, times)
		})
	}
}

// crowdOf is n members of a crowd.
func crowdOf(n int) []CrowdMemberRow {
	out := make([]CrowdMemberRow, n)
	for i := range out {
		out[i] = CrowdMemberRow{UUID: fmt.Sprintf("person%06d", i), Joined: 1_700_000_000}
	}
	return out
}

// BenchmarkSaveScoresBatch is one batch of a refresh written: 100 leads'
// activity scores fetched (every card moves to the new fetch moment, as
// the kept counts follow it), on a copy of 2,000 scored leads.
func BenchmarkSaveScoresBatch(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := fillLeads(s, 2000); err != nil {
		b.Fatal(err)
	}
	if err := fillScores(s, 2000); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 100)
	got := make([]FetchedScore, 100)
	var times []time.Duration
	for i := 0; b.Loop(); i++ {
		for j := range ids {
			ids[j] = fmt.Sprintf("bench%08d", (i*100+j)%2000)
			got[j] = FetchedScore{ID: ids[j], Model: "m", Score: float64((i + j) % 250), Band: "warm"}
		}
		start := time.Now()
		if _, err := s.SaveScores(ctx, SubjectLead, ScoreActive, ids, got, int64(1_800_000_100+i)); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	reportMedian(b, times)
}
