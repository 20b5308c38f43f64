package db

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

var scoresFilled struct {
	once sync.Once
	err  error
}

// benchScores is the 100,000-lead bench store with every lead scored
// (identity grade, activity level, intention for four products) and a
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
			level, identity_at, active_at, business_type, status, voided)
			SELECT 'lead', uuid, 'm', ?, ?, 'm', ?, ?, ?, ?, business_type, status, voided FROM leads WHERE uuid = ?`)
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
			if _, err := card.Exec(idScore, grades[3-min(idScore/25, 3)], act, levels[min(act/40, 3)], 1_800_000_000, 1_800_000_000, id); err != nil {
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
		if _, err := s.liveSummary(context.Background(), ScoreQuery{Kind: ScoreIdentity}); err != nil {
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
