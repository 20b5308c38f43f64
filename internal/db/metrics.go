package db

import (
	"context"
	"fmt"
	"os"
)

// JobStateCounts counts the jobs in each state (queued is the queue's depth).
func (s *Store) JobStateCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("db: count jobs: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("db: count jobs: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
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
