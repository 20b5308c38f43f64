package crowds

import (
	"context"

	"github.com/jingdesk/jingdesk/internal/retention"
)

// importRowsKept is how long an import's row records (one per data row of
// its file: the rejected rows' report, who each row turned out to be) are
// kept after its job ended. Its counts stay for good.
var importRowsKept = retention.Setting{Key: "imports.keep_rows_days", Default: 90}

// ImportRowsRetention is the days an ended import's rows are kept (0: forever).
func (s *Service) ImportRowsRetention(ctx context.Context) (int, error) {
	return importRowsKept.Days(ctx, s.cfg.Store)
}

// SaveImportRowsRetention sets it (retention.ErrDays out of range).
func (s *Service) SaveImportRowsRetention(ctx context.Context, days int) error {
	return importRowsKept.Save(ctx, s.cfg.Store, days)
}

// PruneImportRows deletes the rows of the imports whose job ended longer
// ago than the retention, keeping their counts; an import whose job has
// not ended keeps every row (db.PruneImportRows). It says how many went.
func (s *Service) PruneImportRows(ctx context.Context) (int64, error) {
	days, err := s.ImportRowsRetention(ctx)
	if err != nil {
		return 0, err
	}
	cutoff, ok := retention.Cutoff(s.cfg.Now(), days)
	if !ok {
		return 0, nil
	}
	return s.cfg.Store.PruneImportRows(ctx, cutoff)
}
