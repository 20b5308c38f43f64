package db

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// ScoreView is what a view's page shows of its population: the summary,
// how fresh the cache is, and the highest and lowest scored ids.
type ScoreView struct {
	Summary     ScoreSummary
	Fresh       ScoreFreshness
	Top, Bottom []ScoredItem
}

// ScoreView reads a view's page, the freshness against staleBefore and n
// ids at each end. A population the counts cover (all leads, a business
// type, a status) is read from the kept counts and the score indexes. Any
// other (an owner's leads, a crowd) is joined to its cards twice, not
// four times: once for the summary and the freshness, once for both ends
// (each join looks up every member's card: 3,000 lookups for an owner at
// 100,000 leads).
func (s *Store) ScoreView(ctx context.Context, q ScoreQuery, staleBefore int64, n int) (ScoreView, error) {
	var v ScoreView
	var err error
	if _, _, counted := q.counted(); counted {
		if v.Summary, err = s.ScoreSummary(ctx, q); err != nil {
			return v, err
		}
		if v.Fresh, err = s.ScoreFreshness(ctx, q.Pop, q.Kind, staleBefore); err != nil {
			return v, err
		}
		if v.Top, err = s.TopScored(ctx, q, ScoreSelection{}, n, false); err != nil {
			return v, err
		}
		v.Bottom, err = s.TopScored(ctx, q, ScoreSelection{}, n, true)
		return v, err
	}
	if v.Summary, v.Fresh, err = s.liveView(ctx, q, staleBefore); err != nil {
		return v, err
	}
	v.Top, v.Bottom, err = s.liveEnds(ctx, q, n)
	return v, err
}

// liveView groups the population's rows in one pass: the summary, and the
// fetch marks of the query's kind against staleBefore.
func (s *Store) liveView(ctx context.Context, q ScoreQuery, staleBefore int64) (ScoreSummary, ScoreFreshness, error) {
	var f ScoreFreshness
	col, err := kindColumn(q.Kind)
	if err != nil {
		return ScoreSummary{}, f, err
	}
	cte, args := q.Pop.popCTE()
	score, band, join, jargs := q.scoreExpr()
	bucket := bucketExpr(q.Kind, score)
	at := `COALESCE(c.` + col + `, 0)`
	rows, err := s.read.QueryContext(ctx, `WITH `+cte+` SELECT p.status, COALESCE(c.grade, ''), COALESCE(c.level, ''),
		COALESCE(`+band+`, ''), `+score+` IS NOT NULL, COALESCE(`+bucket+`, -1), `+at+` = 0, `+at+` < ?,
		COALESCE(MIN(NULLIF(`+at+`, 0)), 0), MAX(`+at+`), COUNT(*)
		FROM pop p LEFT JOIN score_cards c ON c.subject = ? AND c.id = p.id`+join+`
		GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`, append(append(append(args, staleBefore), q.Pop.Subject()), jargs...)...)
	if err != nil {
		return ScoreSummary{}, f, fmt.Errorf("db: score summary: %w", err)
	}
	defer rows.Close()
	sum := newSummary(q.Kind)
	for rows.Next() {
		var status, grade, level, b string
		var scored, never, stale bool
		var bk, oldest, newest, n int64
		if err := rows.Scan(&status, &grade, &level, &b, &scored, &bk, &never, &stale, &oldest, &newest, &n); err != nil {
			return ScoreSummary{}, f, err
		}
		sum.Population += n
		if grade != "" && level != "" {
			sum.Matrix[[2]string{grade, level}] += n
		}
		if scored {
			sum.add(status, b, bk, n, q.Pop.Subject() == SubjectLead)
		}
		if never {
			f.Never += n
		}
		if stale {
			f.Stale += n
		}
		if oldest > 0 && (f.Oldest == 0 || oldest < f.Oldest) {
			f.Oldest = oldest
		}
		f.Newest = max(f.Newest, newest)
	}
	return sum, f, rows.Err()
}

// liveEnds reads the n highest and the n lowest scored ids of the
// population in one join of it to its cards (kept while both ends are
// taken), with the leads' names of those kept.
func (s *Store) liveEnds(ctx context.Context, q ScoreQuery, n int) (top, bottom []ScoredItem, err error) {
	query, args := q.scoredSQL(ScoreSelection{})
	name := `''`
	names := ``
	if q.Pop.Subject() == SubjectLead {
		name, names = `COALESCE(l.name, '')`, ` LEFT JOIN leads l ON l.uuid = x.id`
	}
	rows, err := s.read.QueryContext(ctx, `WITH j AS MATERIALIZED (`+query+`)
		SELECT x.low, x.id, `+name+`, x.status, x.score, x.band, x.grade, x.level FROM (
			SELECT * FROM (SELECT 0 AS low, * FROM j ORDER BY score DESC, id DESC LIMIT ?)
			UNION ALL SELECT * FROM (SELECT 1 AS low, * FROM j ORDER BY score ASC, id ASC LIMIT ?)) x`+names,
		append(args, n, n)...)
	if err != nil {
		return nil, nil, fmt.Errorf("db: scored: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var low bool
		var it ScoredItem
		if err := rows.Scan(&low, &it.ID, &it.Name, &it.Status, &it.Score, &it.Band, &it.Grade, &it.Level); err != nil {
			return nil, nil, err
		}
		if low {
			bottom = append(bottom, it)
		} else {
			top = append(top, it)
		}
	}
	// Each end in the order TopScored gives it.
	slices.SortFunc(top, func(a, b ScoredItem) int { return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.ID, a.ID)) })
	slices.SortFunc(bottom, func(a, b ScoredItem) int { return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.ID, b.ID)) })
	return top, bottom, rows.Err()
}
