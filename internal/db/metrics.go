package db

import (
	"context"
	"os"
)

// JobStateCounts counts the jobs in each state (queued is the queue's depth).
func (s *Store) JobStateCounts(ctx context.Context) (map[string]int64, error) {
	return s.queryCounts(ctx, "count jobs", `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
}

// FileSizes are the database file's and its write-ahead log's sizes in
// bytes (0 for one that does not exist).
func (s *Store) FileSizes() (file, wal int64) {
	if st, err := os.Stat(s.path); err == nil {
		file = st.Size()
	}
	if st, err := os.Stat(s.path + "-wal"); err == nil {
		wal = st.Size()
	}
	return file, wal
}
