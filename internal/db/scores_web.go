package db

import (
	"context"
	"fmt"
	"strings"
)

// Store queries for the scores pages (web/scores.go, web/person.go): how
// fresh a view's cache is, the products seen, and a person's crowds and
// imports. Each is one query.

// ScoreFreshness is how fresh a population's cache of one kind is.
type ScoreFreshness struct {
	Oldest int64 // the oldest fetch among the ids fetched at all (0: none fetched)
	Newest int64 // the latest fetch
	Never  int64 // ids never fetched
	Stale  int64 // ids fetched before the stale mark (never fetched included)
}

// ScoreFreshness reads the population's fetch marks of kind in one pass.
func (s *Store) ScoreFreshness(ctx context.Context, p ScorePopulation, kind string, staleBefore int64) (ScoreFreshness, error) {
	if _, err := kindColumn(kind); err != nil {
		return ScoreFreshness{}, err
	}
	if where, wargs, ok := (ScoreQuery{Pop: p, Kind: kind}).counted(); ok {
		return s.countedFreshness(ctx, where, wargs, kind, staleBefore)
	}
	_, f, err := s.liveView(ctx, ScoreQuery{Pop: p, Kind: kind}, staleBefore)
	return f, err
}

// countedFreshness is ScoreFreshness for the populations the counts
// cover: the fetch moments from the kept counts (migration 0019:
// score_fetch_totals, a row per fetch moment, for all leads;
// score_fetch_counts, a row per moment and status, for a business type or
// a status), the population from lead_counts. Neither walks the
// population's cards.
func (s *Store) countedFreshness(ctx context.Context, where string, args []any, kind string, staleBefore int64) (ScoreFreshness, error) {
	var f ScoreFreshness
	var population, fetched, staleFetched int64
	kept := "score_fetch_counts"
	if len(args) == 0 {
		kept = "score_fetch_totals" // all leads: a row per moment
	}
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MIN(at), 0), COALESCE(MAX(at), 0), COALESCE(SUM(n), 0),
		COALESCE(SUM(n) FILTER (WHERE at < ?), 0) FROM `+kept+` WHERE kind = ? AND n > 0 AND `+where,
		append([]any{staleBefore, kind}, args...)...).Scan(&f.Oldest, &f.Newest, &fetched, &staleFetched)
	if err != nil {
		return f, fmt.Errorf("db: score freshness: %w", err)
	}
	err = s.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM lead_counts WHERE `+strings.Replace(where, "subject = 'lead' AND ", "", 1),
		args...).Scan(&population)
	if err != nil {
		return f, fmt.Errorf("db: score freshness: %w", err)
	}
	f.Never = max(population-fetched, 0)
	f.Stale = staleFetched + f.Never
	return f, nil
}

// ScoreProducts lists the intention products seen in the cache for
// subject, from the counts the triggers keep (intention_counts: a few
// thousand cells, where intention_scores holds a row per id and product).
func (s *Store) ScoreProducts(ctx context.Context, subject string) ([]string, error) {
	return s.queryStrings(ctx, "score products",
		`SELECT DISTINCT product FROM intention_counts WHERE subject = ? AND n > 0 ORDER BY 1`, subject)
}

// LeadBusinessTypes lists the distinct business types of the local copy's
// leads (for when the reference data is not at hand).
func (s *Store) LeadBusinessTypes(ctx context.Context) ([]string, error) {
	return s.queryStrings(ctx, "lead business types",
		`SELECT DISTINCT business_type FROM lead_counts WHERE business_type != '' AND n > 0 ORDER BY 1`)
}

// PersonCrowd is a local crowd a person is a member of.
type PersonCrowd struct {
	GroupID int64
	Name    string // "" when the crowd is no longer in the local list
	Joined  int64
}

// PersonCrowds lists the local crowds whose listed members include uuid.
func (s *Store) PersonCrowds(ctx context.Context, uuid string) ([]PersonCrowd, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT m.group_id, COALESCE(c.name, ''), m.joined_at FROM crowd_members m
		LEFT JOIN crowds c ON c.group_id = m.group_id WHERE m.uuid = ? ORDER BY m.joined_at DESC, m.group_id`, uuid)
	if err != nil {
		return nil, fmt.Errorf("db: person crowds: %w", err)
	}
	defer rows.Close()
	var out []PersonCrowd
	for rows.Next() {
		var pc PersonCrowd
		if err := rows.Scan(&pc.GroupID, &pc.Name, &pc.Joined); err != nil {
			return nil, err
		}
		out = append(out, pc)
	}
	return out, rows.Err()
}

// PersonImport is an import that resolved a person.
type PersonImport struct {
	ID        int64
	FileName  string
	CrowdName string
	Value     string // the identity the row held
	Kind      string // its identity type
	Created   bool   // the import created the person
	At        int64
}

// PersonImports lists the imports whose rows resolved to uuid, newest first.
func (s *Store) PersonImports(ctx context.Context, uuid string) ([]PersonImport, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT i.id, i.file_name, i.crowd_name, r.value, i.identity_type, r.created, i.created_at
		FROM import_rows r JOIN imports i ON i.id = r.import_id WHERE r.uuid = ? AND r.uuid != ''
		GROUP BY i.id ORDER BY i.id DESC LIMIT 100`, uuid)
	if err != nil {
		return nil, fmt.Errorf("db: person imports: %w", err)
	}
	defer rows.Close()
	var out []PersonImport
	for rows.Next() {
		var pi PersonImport
		if err := rows.Scan(&pi.ID, &pi.FileName, &pi.CrowdName, &pi.Value, &pi.Kind, &pi.Created, &pi.At); err != nil {
			return nil, err
		}
		out = append(out, pi)
	}
	return out, rows.Err()
}
