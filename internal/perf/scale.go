package perf

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/jingdesk/jingdesk/internal/db"
)

// ScaledCopy puts at path a copy of n leads made from the synced copy of
// base (built or cached as Copy does, from the sandbox at sandboxURL,
// which must hold base's tenant): its leads, their score cards and
// intention scores repeated under new uuids until there are n, written
// by SQLite with the copy's own triggers (the search index, the kept
// counts). Syncing 1,000,000 leads through the sandbox takes the better
// part of an hour on these machines; this takes minutes, and the rows
// are synced rows (fields, owners, pools, dates and scores as the
// platform gave them), each seen n/base times. The scaled copy is kept
// in the cache too. It reports whether it was built.
func ScaledCopy(ctx context.Context, base Dataset, n int, sandboxURL, path string, log *slog.Logger) (built bool, err error) {
	dir, err := CacheDir()
	if err != nil {
		return false, err
	}
	name := strings.TrimSuffix(base.withDefaults().cacheName(sandboxURL, db.SchemaVersion()), ".db") + fmt.Sprintf("-scaled-%d.db", n)
	cached := filepath.Join(dir, name)
	_, err = os.Stat(cached)
	return copyCached(cached, err == nil, path, func(tmp string) error {
		if _, err := Copy(ctx, base, sandboxURL, tmp, log); err != nil {
			return err
		}
		return scale(ctx, tmp, n)
	})
}

// scale repeats the leads of the copy at path until it holds n.
func scale(ctx context.Context, path string, n int) error {
	// Opened by the console's store first: the copy is migrated to this
	// build's schema before rows are added under it.
	store, err := db.Open(ctx, path)
	if err != nil {
		return err
	}
	store.Close()
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	var base, lastChange int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*), (SELECT coalesce(max(seq), 0) FROM lead_changes) FROM leads`).Scan(&base, &lastChange); err != nil {
		return err
	}
	for round := int64(1); base*(round) < int64(n); round++ {
		left := int64(n) - base*round
		suffix := fmt.Sprintf("~%d", round)
		for _, q := range []string{
			`INSERT INTO leads(uuid, business_type, status, life_status, lead_pool, owner, collaborators, name, mobile, email, company,
				title, source, fields, created_at, updated_at, status_since, voided, voided_at, synced_at, seen_by_sync)
			SELECT uuid || ?1, business_type, status, life_status, lead_pool, owner, collaborators, name, mobile, email, company,
				title, source, fields, created_at, updated_at, status_since, voided, voided_at, synced_at, seen_by_sync
			FROM leads WHERE uuid NOT LIKE '%~%' ORDER BY id LIMIT ?2`,
			`INSERT INTO score_cards SELECT subject, id || ?1, identity_model, identity_score, grade, active_model, active_score, level,
				identity_at, active_at, intention_at, business_type, status, voided
			FROM score_cards WHERE subject = 'lead' AND id IN (SELECT uuid FROM leads WHERE uuid NOT LIKE '%~%' ORDER BY id LIMIT ?2)`,
			`INSERT INTO intention_scores SELECT subject, id || ?1, product, score, level, business_type, status, voided
			FROM intention_scores WHERE subject = 'lead' AND id IN (SELECT uuid FROM leads WHERE uuid NOT LIKE '%~%' ORDER BY id LIMIT ?2)`,
		} {
			if _, err := conn.ExecContext(ctx, q, suffix, left); err != nil {
				return fmt.Errorf("perf: scale to %d leads: %w", n, err)
			}
		}
	}
	// The added rows are no changes an open page should hear of.
	if _, err := conn.ExecContext(ctx, `DELETE FROM lead_changes WHERE seq > ?`, lastChange); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `ANALYZE`); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}
