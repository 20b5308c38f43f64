package db

import (
	"context"
	"strings"
	"testing"
)

// The highest and lowest scores of a view the counts cover walk a score
// index from either end (issue 18): a status's own range for a status of
// a business type (migration 0020), the score's index over every card
// otherwise, never a sort of the population's cards. Without the status's
// range, a status holding one lead in twenty read twenty cards per card
// shown (25-47 ms at 100,000 leads); with the planner's own choice a
// business type's intention scores were all read and sorted (320 ms).
func TestTopScoresWalkAScoreIndex(t *testing.T) {
	s, v := planCopy(t)
	ctx := context.Background()
	for _, c := range []struct {
		pop   LeadFilter
		index map[string]string // kind → the index walked and its terms
	}{
		{LeadFilter{BusinessType: v.bt, Status: v.status}, map[string]string{
			ScoreIdentity:  "score_cards_identity_status (subject=? AND voided=? AND business_type=? AND status=?",
			ScoreActive:    "score_cards_active_status (subject=? AND voided=? AND business_type=? AND status=?",
			ScoreIntention: "intention_status (subject=? AND product=? AND voided=? AND business_type=? AND status=?"}},
		{LeadFilter{BusinessType: v.bt}, map[string]string{
			ScoreIdentity:  "score_cards_identity (subject=?",
			ScoreActive:    "score_cards_active (subject=?",
			ScoreIntention: "intention_product (subject=? AND product=?"}},
	} {
		for _, kind := range []string{ScoreIdentity, ScoreActive, ScoreIntention} {
			for _, lowest := range []bool{false, true} {
				plans.take()
				q := ScoreQuery{Pop: ScorePopulation{Leads: c.pop}, Kind: kind, Product: "p1"}
				if _, err := s.TopScored(ctx, q, ScoreSelection{}, 20, lowest); err != nil {
					t.Fatal(err)
				}
				walked := false
				for query, steps := range plans.take() {
					for _, step := range steps {
						if strings.Contains(step, "INDEX "+c.index[kind]) {
							walked = true
						}
						if strings.HasPrefix(step, "USE TEMP B-TREE FOR ORDER BY") {
							t.Errorf("%+v, %s, lowest %v: the cards are sorted:\n%s\nplan: %s", c.pop, kind, lowest, query, strings.Join(steps, " | "))
						}
					}
					if !walked {
						t.Errorf("%+v, %s, lowest %v: %s not walked:\n%s\nplan: %s", c.pop, kind, lowest, c.index[kind], query, strings.Join(steps, " | "))
					}
				}
			}
		}
	}
}
