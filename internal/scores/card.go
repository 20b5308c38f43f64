package scores

import (
	"context"
	"slices"

	"github.com/jingdesk/jingdesk/internal/db"
)

// Card is one id's scores now and their history, for a lead's or a
// person's page.
type Card struct {
	Current []db.ScorePoint // the latest of each kind and model
	History []db.ScorePoint // oldest first, by kind and model
	Error   error           // the platform could not be asked; the cache is shown
}

// FetchOne asks the platform for one id's scores of every kind, records
// them in the cache (so its history grows) and returns its card. When the
// platform cannot be asked, the cached card comes with the error.
func (s *Service) FetchOne(ctx context.Context, subject, id string) (Card, error) {
	client, _ := s.cfg.Platform.Current()
	var card Card
	for _, kind := range Kinds {
		got, err := fetch(ctx, client, subject, kind, []string{id})
		if err != nil {
			card.Error = err
			break
		}
		if _, err := s.cfg.Store.SaveScores(ctx, subject, kind, []string{id}, got, s.cfg.Now().Unix()); err != nil {
			return card, err
		}
	}
	hist, err := s.cfg.Store.ScoreHistory(ctx, subject, id)
	if err != nil {
		return card, err
	}
	card.History = hist
	latest := map[[2]string]db.ScorePoint{}
	var order [][2]string
	for _, p := range hist {
		k := [2]string{p.Kind, p.Model}
		if _, seen := latest[k]; !seen {
			order = append(order, k)
		}
		latest[k] = p
	}
	for _, k := range order {
		card.Current = append(card.Current, latest[k])
	}
	return card, nil
}

// Trend is one kind and model's latest score with every score recorded
// for it, oldest first (a sparkline's points).
type Trend struct {
	db.ScorePoint
	Values []float64
}

// Trends are the card's current scores with their histories, in the
// order of Kinds (within a kind, as Current lists them).
func (c Card) Trends() []Trend {
	type key struct{ kind, model string }
	values := map[key][]float64{}
	for _, p := range c.History {
		k := key{p.Kind, p.Model}
		values[k] = append(values[k], p.Score)
	}
	out := make([]Trend, len(c.Current))
	for i, p := range c.Current {
		out[i] = Trend{ScorePoint: p, Values: values[key{p.Kind, p.Model}]}
	}
	slices.SortStableFunc(out, func(a, b Trend) int { return slices.Index(Kinds, a.Kind) - slices.Index(Kinds, b.Kind) })
	return out
}
