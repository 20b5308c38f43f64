package db

import (
	"context"
	"fmt"
)

// Optimize gathers the query planner's statistics (sqlite_stat1 and
// sqlite_stat4) where SQLite finds them missing or out of date (PRAGMA
// optimize, every table checked). Without them the planner guesses, and
// at 100,000 leads it guessed badly: an owner or date filter read tens of
// thousands of whole rows instead of walking an index. It is cheap when
// nothing changed much; the console runs it when it opens the database,
// after a full lead sync and on a schedule (internal/app).
func (s *Store) Optimize(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `PRAGMA optimize = 0x10002`); err != nil {
		return fmt.Errorf("db: optimize: %w", err)
	}
	return nil
}

// Checkpoint moves everything in the write-ahead log into the database
// file and empties the log.
func (s *Store) Checkpoint(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("db: checkpoint: %w", err)
	}
	return nil
}
