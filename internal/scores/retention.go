package scores

import (
	"context"

	"github.com/jingdesk/jingdesk/internal/retention"
)

// historyKept is how long the score history (every value a score took) is
// kept; each score keeps its value at the cutoff, so "since" a date within
// the retention still compares with what the score was then.
var historyKept = retention.Setting{Key: "scores.keep_history_days", Default: 365}

// HistoryRetention is the days score history is kept (0: forever).
func (s *Service) HistoryRetention(ctx context.Context) (int, error) {
	return historyKept.Days(ctx, s.cfg.Store)
}

// SaveHistoryRetention sets it (retention.ErrDays out of range).
func (s *Service) SaveHistoryRetention(ctx context.Context, days int) error {
	return historyKept.Save(ctx, s.cfg.Store, days)
}

// PruneHistory deletes the score history past the retention and says how
// many values went.
func (s *Service) PruneHistory(ctx context.Context) (int64, error) {
	days, err := s.HistoryRetention(ctx)
	if err != nil {
		return 0, err
	}
	cutoff, ok := retention.Cutoff(s.cfg.Now(), days)
	if !ok {
		return 0, nil
	}
	return s.cfg.Store.PruneScoreHistory(ctx, cutoff)
}
