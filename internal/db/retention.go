package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// pruneChunk is how many rows one write transaction deletes: small enough
// that the writes waiting behind it (a sync page, a webhook) wait a few
// milliseconds, not seconds.
const pruneChunk = 2000

// PruneImportRows deletes the row records of the imports whose job ended
// (done, failed or cancelled) before finishedBefore (Unix s), keeping
// their counts (import_row_tallies), and says how many rows went. An
// import whose job has not ended, or that was never started, is never
// touched: its job or its wizard still reads them. Each chunk moves its
// rows' counts and deletes them in one transaction, so the import's
// counts are exact at every moment, and an interrupted prune goes on
// where it stopped the next time.
func (s *Store) PruneImportRows(ctx context.Context, finishedBefore int64) (int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT i.id FROM imports i JOIN jobs j ON j.id = i.job_id
		WHERE i.stage = 'started' AND j.state IN ('done', 'failed', 'cancelled') AND j.finished_at > 0 AND j.finished_at < ?
		AND EXISTS (SELECT 1 FROM import_rows r WHERE r.import_id = i.id) ORDER BY i.id`, finishedBefore)
	if err != nil {
		return 0, fmt.Errorf("db: imports past their retention: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("db: imports past their retention: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("db: imports past their retention: %w", err)
	}
	var deleted int64
	for _, id := range ids {
		for {
			n, err := s.pruneImportChunk(ctx, id)
			deleted += n
			if err != nil {
				return deleted, fmt.Errorf("db: delete the rows of import %d: %w", id, err)
			}
			if n < pruneChunk {
				break
			}
		}
	}
	return deleted, nil
}

// pruneImportChunk moves the counts of an import's first pruneChunk rows
// into its tallies and deletes them, in one transaction.
func (s *Store) pruneImportChunk(ctx context.Context, id int64) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// WHERE true: SQLite's upsert after a SELECT needs one.
		if _, err := tx.ExecContext(ctx, `INSERT INTO import_row_tallies(import_id, state, created, reason, n)
			SELECT import_id, state, created, reason, COUNT(*) FROM (
				SELECT import_id, state, created, reason FROM import_rows WHERE import_id = :id ORDER BY line LIMIT :chunk)
			WHERE true GROUP BY state, created, reason
			ON CONFLICT (import_id, state, created, reason) DO UPDATE SET n = n + excluded.n`,
			sql.Named("id", id), sql.Named("chunk", pruneChunk)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM import_rows WHERE import_id = :id AND line IN (
			SELECT line FROM import_rows WHERE import_id = :id ORDER BY line LIMIT :chunk)`,
			sql.Named("id", id), sql.Named("chunk", pruneChunk))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, `UPDATE imports SET rows_pruned_at = ? WHERE id = ? AND rows_pruned_at = 0`, s.unixNow(), id)
		return err
	})
	return n, err
}

// PruneScoreHistory deletes the score history older than before (Unix s),
// except, for each score, the last value at or before it: what a score
// was at any moment since before can still be told (the movers "since"
// a date, a lead's trend from then on). It says how many rows went.
func (s *Store) PruneScoreHistory(ctx context.Context, before int64) (int64, error) {
	// In primary key order the window needs no sort: a row goes when
	// the next value of the same score is also at or before the cutoff.
	rows, err := s.read.QueryContext(ctx, `SELECT subject, id, kind, model, at FROM (
		SELECT subject, id, kind, model, at, LEAD(at) OVER (PARTITION BY subject, id, kind, model ORDER BY at) AS next_at
		FROM score_history WHERE at <= :before) WHERE next_at IS NOT NULL`, sql.Named("before", before))
	if err != nil {
		return 0, fmt.Errorf("db: score history past its retention: %w", err)
	}
	defer rows.Close()
	var deleted int64
	batch := make([]any, 0, 5*pruneChunk)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		keys := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(batch)/5), ", ")
		res, err := s.write.ExecContext(ctx, `DELETE FROM score_history WHERE (subject, id, kind, model, at) IN (VALUES `+keys+`)`, batch...)
		if err != nil {
			return fmt.Errorf("db: delete score history: %w", err)
		}
		n, _ := res.RowsAffected()
		deleted += n
		batch = batch[:0]
		return nil
	}
	for rows.Next() {
		var subject, id, kind, model string
		var at int64
		if err := rows.Scan(&subject, &id, &kind, &model, &at); err != nil {
			return deleted, fmt.Errorf("db: score history past its retention: %w", err)
		}
		batch = append(batch, subject, id, kind, model, at)
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return deleted, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return deleted, fmt.Errorf("db: score history past its retention: %w", err)
	}
	return deleted, flush()
}
