package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Score kinds, as the platform names them.
const (
	ScoreIdentity  = "identity"
	ScoreActive    = "active"
	ScoreIntention = "intention"
)

// Score subjects.
const (
	SubjectUser = "user"
	SubjectLead = "lead"
)

// ScorePopulation is who a score view or fetch is about: a crowd's
// members (persons) or a set of leads of the local copy.
type ScorePopulation struct {
	GroupID int64      // a crowd; 0: leads
	Leads   LeadFilter // which leads, when GroupID is 0 (Limit, Offset and Sort are ignored)
}

// Subject is what the population's ids are.
func (p ScorePopulation) Subject() string {
	if p.GroupID != 0 {
		return SubjectUser
	}
	return SubjectLead
}

// popCTE is the population as a common table expression pop(id, status).
// A lead population is read from the filter's index alone (an owner's
// holds the uuid and status): no lead's row is read for it, and the names
// of the few ids shown are looked up after (withNames).
func (p ScorePopulation) popCTE() (string, []any) {
	if p.GroupID != 0 {
		return `pop AS (SELECT uuid AS id, '' AS status FROM crowd_members WHERE group_id = ?)`, []any{p.GroupID}
	}
	where, args := leadWhere(p.Leads, leadPlan{withStatus: true, counting: true})
	return `pop AS (SELECT l.uuid AS id, l.status AS status FROM leads l` + where + `)`, args
}

// --- crowd members ---

// CrowdMemberRow is one member of a crowd as the platform lists it.
type CrowdMemberRow struct {
	UUID   string
	Joined int64
}

// ReplaceCrowdMembers makes the local member list of a crowd exactly members.
func (s *Store) ReplaceCrowdMembers(ctx context.Context, groupID int64, members []CrowdMemberRow) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM crowd_members WHERE group_id = ?`, groupID); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO crowd_members(group_id, uuid, joined_at) VALUES(?,?,?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, m := range members {
			if _, err := stmt.ExecContext(ctx, groupID, m.UUID, m.Joined); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO crowd_members_fetched(group_id, fetched_at) VALUES(?,?)
			ON CONFLICT(group_id) DO UPDATE SET fetched_at = excluded.fetched_at`, groupID, s.unixNow())
		return err
	})
}

// CrowdMembersFetchedAt is when a crowd's members were last listed (0: never).
func (s *Store) CrowdMembersFetchedAt(ctx context.Context, groupID int64) (int64, error) {
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT fetched_at FROM crowd_members_fetched WHERE group_id = ?`, groupID).Scan(&at)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return at, err
}

// --- the cache ---

// kindColumn is the score_cards column saying when kind was fetched.
func kindColumn(kind string) (string, error) {
	switch kind {
	case ScoreIdentity, ScoreActive, ScoreIntention:
		return kind + "_at", nil
	}
	return "", fmt.Errorf("db: unknown score kind %q", kind)
}

// StaleScoreIDs returns up to limit ids after after (keyset paging: ""
// from the start) of the population whose kind of score was last fetched
// before before (or never), in id order.
func (s *Store) StaleScoreIDs(ctx context.Context, p ScorePopulation, kind string, before int64, after string, limit int) ([]string, error) {
	col, err := kindColumn(kind)
	if err != nil {
		return nil, err
	}
	cte, args := p.popCTE()
	return s.queryStrings(ctx, "stale scores", `WITH `+cte+` SELECT p.id FROM pop p
		LEFT JOIN score_cards c ON c.subject = ? AND c.id = p.id
		WHERE p.id > ? AND COALESCE(c.`+col+`, 0) < ? ORDER BY p.id LIMIT ?`, append(args, p.Subject(), after, before, limit)...)
}

// CountScorePopulation counts the population and those whose kind of score is stale.
func (s *Store) CountScorePopulation(ctx context.Context, p ScorePopulation, kind string, before int64) (total, stale int64, err error) {
	col, err := kindColumn(kind)
	if err != nil {
		return 0, 0, err
	}
	cte, args := p.popCTE()
	err = s.read.QueryRowContext(ctx, `WITH `+cte+` SELECT COUNT(*), COUNT(*) FILTER (WHERE COALESCE(c.`+col+`, 0) < ?)
		FROM pop p LEFT JOIN score_cards c ON c.subject = ? AND c.id = p.id`, append(args, before, p.Subject())...).Scan(&total, &stale)
	return total, stale, err
}

// FetchedScore is one score the platform answered.
type FetchedScore struct {
	ID    string
	Model string // the scoring model; the product for intention
	Score float64
	Band  string // grade (identity) or level
}

// SaveScores records a fetch of one kind for ids: the scores got (ids
// without one keep what they had) and, for each value that changed or is
// new, a history row. Every id is marked fetched at at. It returns how
// many values changed. The batch is read and written with a few
// statements, not a few per id.
func (s *Store) SaveScores(ctx context.Context, subject, kind string, ids []string, got []FetchedScore, at int64) (int, error) {
	col, err := kindColumn(kind)
	if err != nil {
		return 0, err
	}
	changed := 0
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		// Every id gets a card marked fetched; a new lead's card starts
		// with the lead's business type, status and voided mark (the
		// leads triggers keep them after).
		for chunk := range slices.Chunk(ids, 200) {
			args := []any{subject, at}
			for _, id := range chunk {
				args = append(args, id)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO score_cards(subject, id, `+col+`, business_type, status, voided)
				SELECT ?1, v.column1, ?2, COALESCE(l.business_type, ''), COALESCE(l.status, ''), COALESCE(l.voided, 0)
				FROM (VALUES `+valueRows(3, len(chunk))+`) v LEFT JOIN leads l ON ?1 = 'lead' AND l.uuid = v.column1 WHERE true
				ON CONFLICT(subject, id) DO UPDATE SET `+col+` = excluded.`+col, args...)
			if err != nil {
				return err
			}
		}
		before, err := currentScores(ctx, tx, subject, kind, got)
		if err != nil {
			return err
		}
		var fresh []FetchedScore
		for _, sc := range got {
			if b, ok := before[scoreKey(kind, sc)]; !ok || b.Score != sc.Score || b.Band != sc.Band {
				fresh = append(fresh, sc)
			}
		}
		changed = len(fresh)
		return writeScores(ctx, tx, subject, kind, fresh, at)
	})
	return changed, err
}

// valueRows is n rows of "(?,…)" placeholders for a VALUES clause whose
// first row's placeholders are numbered from first (so numbered
// parameters before it can be reused).
func valueRows(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "(?%d)", first+i)
	}
	return b.String()
}

// scoreKey names a cached value: identity and activity keep one per id
// (whatever the model), intention one per product.
func scoreKey(kind string, sc FetchedScore) [2]string {
	if kind == ScoreIntention {
		return [2]string{sc.ID, sc.Model}
	}
	return [2]string{sc.ID, ""}
}

// currentScores reads the cached values the fetched scores would replace.
func currentScores(ctx context.Context, tx *sql.Tx, subject, kind string, got []FetchedScore) (map[[2]string]FetchedScore, error) {
	out := map[[2]string]FetchedScore{}
	q := `SELECT id, identity_model, identity_score, grade FROM score_cards WHERE subject = ? AND identity_score IS NOT NULL AND id IN `
	switch kind {
	case ScoreActive:
		q = `SELECT id, active_model, active_score, level FROM score_cards WHERE subject = ? AND active_score IS NOT NULL AND id IN `
	case ScoreIntention:
		q = `SELECT id, product, score, level FROM intention_scores WHERE subject = ? AND id IN `
	}
	for chunk := range slices.Chunk(got, 500) {
		args := []any{subject}
		for _, sc := range chunk {
			args = append(args, sc.ID)
		}
		rows, err := tx.QueryContext(ctx, q+"("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var sc FetchedScore
			if err := rows.Scan(&sc.ID, &sc.Model, &sc.Score, &sc.Band); err != nil {
				rows.Close()
				return nil, err
			}
			out[scoreKey(kind, sc)] = sc
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// writeScores stores changed values and their history rows.
func writeScores(ctx context.Context, tx *sql.Tx, subject, kind string, fresh []FetchedScore, at int64) error {
	for chunk := range slices.Chunk(fresh, 100) {
		var set string
		args := []any{subject}
		var rows []string
		for i, sc := range chunk {
			rows = append(rows, fmt.Sprintf("(?%d,?%d,?%d,?%d)", 2+4*i, 3+4*i, 4+4*i, 5+4*i))
			args = append(args, sc.ID, sc.Model, sc.Score, sc.Band)
		}
		values := strings.Join(rows, ",")
		switch kind {
		case ScoreIdentity, ScoreActive:
			model, score, band := "identity_model", "identity_score", "grade"
			if kind == ScoreActive {
				model, score, band = "active_model", "active_score", "level"
			}
			set = `UPDATE score_cards SET ` + model + ` = v.column2, ` + score + ` = v.column3, ` + band + ` = v.column4
				FROM (VALUES ` + values + `) v WHERE score_cards.subject = ?1 AND score_cards.id = v.column1`
		default:
			set = `INSERT INTO intention_scores(subject, id, product, score, level, business_type, status, voided)
				SELECT c.subject, c.id, v.column2, v.column3, v.column4, c.business_type, c.status, c.voided
				FROM (VALUES ` + values + `) v JOIN score_cards c ON c.subject = ?1 AND c.id = v.column1 WHERE true
				ON CONFLICT(subject, id, product) DO UPDATE SET score = excluded.score, level = excluded.level`
		}
		if _, err := tx.ExecContext(ctx, set, args...); err != nil {
			return err
		}
		hist := append([]any{subject, kind, at}, args[1:]...)
		var hrows []string
		for i := range chunk {
			hrows = append(hrows, fmt.Sprintf("(?1,?%d,?2,?%d,?%d,?%d,?3)", 4+4*i, 5+4*i, 6+4*i, 7+4*i))
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO score_history(subject, id, kind, model, score, band, at) VALUES `+
			strings.Join(hrows, ","), hist...); err != nil {
			return err
		}
	}
	return nil
}

// --- views ---

// ScoreQuery is one view of scores: a population and a kind (with the
// product for intention).
type ScoreQuery struct {
	Pop     ScorePopulation
	Kind    string
	Product string
}

// scoreExpr is the query's score and band columns, and the join that brings
// them (intention is a table of its own).
func (q ScoreQuery) scoreExpr() (score, band, join string, args []any) {
	switch q.Kind {
	case ScoreActive:
		return "c.active_score", "c.level", "", nil
	case ScoreIntention:
		return "i.score", "i.level", ` LEFT JOIN intention_scores i ON i.subject = c.subject AND i.id = c.id AND i.product = ?`, []any{q.Product}
	}
	return "c.identity_score", "c.grade", "", nil
}

// Buckets is how a kind's scores are bucketed for its histogram: width
// points per bucket, the last open-ended (activity points have no cap).
func Buckets(kind string) (width, count int) {
	if kind == ScoreActive {
		return 20, 11
	}
	return 10, 10
}

// bucketExpr is the histogram bucket of score, as the counts' triggers compute it.
func bucketExpr(kind, score string) string {
	width, count := Buckets(kind)
	return fmt.Sprintf("MIN(CAST(%s / %d AS INTEGER), %d)", score, width, count-1)
}

// ScoreSummary is a population's scores of one kind, aggregated.
type ScoreSummary struct {
	Population int64                       // ids in the population
	Scored     int64                       // with a score of the kind
	Histogram  []int64                     // scored ids per bucket (see Buckets)
	Bands      map[string]int64            // per grade or level of the kind
	Matrix     map[[2]string]int64         // [grade, level] → ids with both an identity grade and an activity level
	PerStatus  map[string]map[string]int64 // lead status → band → ids
}

// counted reports whether the view's population is one the maintained
// counts cover (leads, not voided, by business type and status at most),
// and the conditions selecting it there (over columns of the same names).
func (q ScoreQuery) counted() (where string, args []any, ok bool) {
	f := q.Pop.Leads
	if q.Pop.GroupID != 0 || f.Owner != "" || f.LeadPool != "" || f.Source != "" || f.Query != "" || f.IncludeVoided ||
		f.CreatedFrom != 0 || f.CreatedTo != 0 || f.UpdatedFrom != 0 || f.UpdatedTo != 0 {
		return "", nil, false
	}
	where = "subject = 'lead' AND voided = 0"
	if f.BusinessType != "" {
		where, args = where+" AND business_type = ?", append(args, f.BusinessType)
	}
	if f.Status != "" {
		where, args = where+" AND status = ?", append(args, f.Status)
	}
	return where, args, true
}

func newSummary(kind string) ScoreSummary {
	_, count := Buckets(kind)
	return ScoreSummary{Histogram: make([]int64, count), Bands: map[string]int64{}, Matrix: map[[2]string]int64{},
		PerStatus: map[string]map[string]int64{}}
}

// add counts n ids of one cell: scored ones by bucket, band and status.
func (sum *ScoreSummary) add(status, band string, bucket, n int64, lead bool) {
	if bucket < 0 {
		return
	}
	sum.Scored += n
	sum.Histogram[bucket] += n
	sum.Bands[band] += n
	if lead {
		if sum.PerStatus[status] == nil {
			sum.PerStatus[status] = map[string]int64{}
		}
		sum.PerStatus[status][band] += n
	}
}

// ScoreSummary aggregates the view in SQL. For all leads, or those of a
// business type or status, it reads the maintained counts (a few thousand
// cells); for other populations it groups the population's rows in one pass.
func (s *Store) ScoreSummary(ctx context.Context, q ScoreQuery) (ScoreSummary, error) {
	if where, args, ok := q.counted(); ok {
		return s.countedSummary(ctx, q, where, args)
	}
	sum, _, err := s.liveView(ctx, q, 0)
	return sum, err
}

// countedSummary reads the maintained counts.
func (s *Store) countedSummary(ctx context.Context, q ScoreQuery, where string, args []any) (ScoreSummary, error) {
	sum := newSummary(q.Kind)
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM lead_counts WHERE `+strings.Replace(where, "subject = 'lead' AND ", "", 1),
		args...).Scan(&sum.Population)
	if err != nil {
		return sum, fmt.Errorf("db: score population: %w", err)
	}
	cells := `SELECT status, grade, level, ib, ab, n FROM score_counts WHERE n > 0 AND ` + where
	err = s.eachCell(ctx, cells, args, func(status, grade, level string, ib, ab, n int64) {
		if grade != "" && level != "" {
			sum.Matrix[[2]string{grade, level}] += n
		}
		switch q.Kind {
		case ScoreIdentity:
			sum.add(status, grade, ib, n, true)
		case ScoreActive:
			sum.add(status, level, ab, n, true)
		}
	})
	if err != nil || q.Kind != ScoreIntention {
		return sum, err
	}
	err = s.eachCell(ctx, `SELECT status, '', level, bucket, 0, n FROM intention_counts WHERE n > 0 AND `+where+` AND product = ?`,
		append(args, q.Product), func(status, _, level string, bucket, _, n int64) { sum.add(status, level, bucket, n, true) })
	return sum, err
}

func (s *Store) eachCell(ctx context.Context, query string, args []any, fn func(status, grade, level string, a, b, n int64)) error {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("db: score counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, grade, level string
		var a, b, n int64
		if err := rows.Scan(&status, &grade, &level, &a, &b, &n); err != nil {
			return err
		}
		fn(status, grade, level, a, b, n)
	}
	return rows.Err()
}

// ScoredItem is one id of a view with its score.
type ScoredItem struct {
	ID, Name, Status string
	Score            float64
	Band             string
	Grade, Level     string
}

// ScoreSelection narrows a view to the ids a user picked: grades and
// levels (the matrix's cells, or bars), bands of the kind, a score range.
// Zero fields do not narrow.
type ScoreSelection struct {
	Grades, Levels, Bands []string
	MinScore, MaxScore    *float64
}

// where is the selection as conditions over the view's columns.
func (sel ScoreSelection) where(score, band string) (string, []any) {
	var conds []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		conds = append(conds, col+" IN ("+placeholders(len(vals))+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("c.grade", sel.Grades)
	in("c.level", sel.Levels)
	in(band, sel.Bands)
	if sel.MinScore != nil {
		conds, args = append(conds, score+" >= ?"), append(args, *sel.MinScore)
	}
	if sel.MaxScore != nil {
		conds, args = append(conds, score+" <= ?"), append(args, *sel.MaxScore)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(conds, " AND "), args
}

// scoredSQL is the SELECT of the view's scored ids in sel, as ScoredItem
// columns without the name (withNames adds it).
func (q ScoreQuery) scoredSQL(sel ScoreSelection) (string, []any) {
	cte, args := q.Pop.popCTE()
	score, band, join, jargs := q.scoreExpr()
	cond, cargs := sel.where(score, band)
	args = append(append(append(args, q.Pop.Subject()), jargs...), cargs...)
	return `WITH ` + cte + ` SELECT p.id AS id, '' AS name, p.status AS status, ` + score + ` AS score, COALESCE(` + band + `, '') AS band,
		c.grade AS grade, c.level AS level
		FROM pop p JOIN score_cards c ON c.subject = ? AND c.id = p.id` + join + `
		WHERE ` + score + ` IS NOT NULL` + cond, args
}

// withNames is a scoredSQL query of leads (with its order and limit)
// with the leads' names, looked up for the rows it keeps.
func withNames(query string) string {
	return `SELECT x.id, COALESCE(l.name, ''), x.status, x.score, x.band, x.grade, x.level FROM (` + query + `) x
		LEFT JOIN leads l ON l.uuid = x.id`
}

// TopScored returns the n highest (or, with lowest, lowest) scored ids of
// the selection. For populations the counts cover it walks the score's
// index from its end, so it reads about n rows whatever the population.
func (s *Store) TopScored(ctx context.Context, q ScoreQuery, sel ScoreSelection, n int, lowest bool) ([]ScoredItem, error) {
	order, kept := " ORDER BY 4 DESC, 1 DESC", " ORDER BY x.score DESC, x.id DESC" // the index's order, read backwards
	if lowest {
		order, kept = " ORDER BY 4 ASC, 1 ASC", " ORDER BY x.score ASC, x.id ASC"
	}
	query, args := q.scoredSQL(sel)
	switch where, wargs, counted := q.counted(); {
	case counted:
		query, args = q.indexedSQL(sel, where, wargs)
		query += order + " LIMIT ?"
	case q.Pop.Subject() == SubjectLead:
		query = withNames(query+order+" LIMIT ?") + kept
	default:
		query += order + " LIMIT ?"
	}
	var out []ScoredItem
	err := s.eachScored(ctx, query, append(args, n), func(it ScoredItem) error {
		out = append(out, it)
		return nil
	})
	return out, err
}

// indexedSQL is scoredSQL for counted populations, over score_cards alone
// (and the lead's name): no population CTE, so the score index orders it.
func (q ScoreQuery) indexedSQL(sel ScoreSelection, where string, args []any) (string, []any) {
	score, band, join, jargs := q.scoreExpr()
	cond, cargs := sel.where(score, band)
	index := q.scoreIndex()
	if q.Kind == ScoreIntention {
		// Walk intention's own index from its end: intention_scores
		// carries the lead's type, status and voided mark, and the cross
		// join keeps it the outer loop (with the planner's statistics it
		// drove from score_cards instead, reading every card and sorting:
		// 1-4 s at 100,000 leads).
		where = strings.NewReplacer("subject", "i.subject", "voided", "i.voided", "business_type", "i.business_type", "status", "i.status").Replace(where)
		return `SELECT i.id, COALESCE(l.name, ''), i.status, i.score, COALESCE(i.level, ''), c.grade, c.level
			FROM intention_scores i INDEXED BY ` + index + ` CROSS JOIN score_cards c ON c.subject = i.subject AND c.id = i.id LEFT JOIN leads l ON l.uuid = i.id
			WHERE i.product = ? AND ` + where + cond, append(append(jargs, args...), cargs...)
	}
	where = strings.NewReplacer("subject", "c.subject", "voided", "c.voided", "business_type", "c.business_type", "status", "c.status").Replace(where)
	return `SELECT c.id, COALESCE(l.name, ''), c.status, ` + score + `, COALESCE(` + band + `, ''), c.grade, c.level
		FROM score_cards c INDEXED BY ` + index + join + ` LEFT JOIN leads l ON l.uuid = c.id
		WHERE ` + where + ` AND ` + score + ` IS NOT NULL` + cond, append(append(jargs, args...), cargs...)
}

// scoreIndex is the index indexedSQL walks from either end, in the
// score's order: a status's own range (migration 0020) for a status of a
// business type; otherwise the score's index over every card, whose
// cards of the population are met often enough (with the statistics the
// planner took the status's range for a business type and sorted it
// all: 320 ms for intention at 100,000 leads).
func (q ScoreQuery) scoreIndex() string {
	f := q.Pop.Leads
	status := f.BusinessType != "" && f.Status != ""
	switch {
	case q.Kind == ScoreIntention && status:
		return "intention_status"
	case q.Kind == ScoreIntention:
		return "intention_product"
	case q.Kind == ScoreActive && status:
		return "score_cards_active_status"
	case q.Kind == ScoreActive:
		return "score_cards_active"
	case status:
		return "score_cards_identity_status"
	}
	return "score_cards_identity"
}

// EachScored streams the selection's scored ids, highest score first.
func (s *Store) EachScored(ctx context.Context, q ScoreQuery, sel ScoreSelection, fn func(ScoredItem) error) error {
	query, args := q.scoredSQL(sel)
	if q.Pop.Subject() == SubjectLead {
		return s.eachScored(ctx, withNames(query)+" ORDER BY x.score DESC, x.id", args, fn)
	}
	return s.eachScored(ctx, query+" ORDER BY 4 DESC, 1", args, fn)
}

func (s *Store) eachScored(ctx context.Context, query string, args []any, fn func(ScoredItem) error) error {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("db: scored: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it ScoredItem
		if err := rows.Scan(&it.ID, &it.Name, &it.Status, &it.Score, &it.Band, &it.Grade, &it.Level); err != nil {
			return err
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CountScored counts the selection's scored ids.
func (s *Store) CountScored(ctx context.Context, q ScoreQuery, sel ScoreSelection) (int64, error) {
	query, args := q.scoredSQL(sel)
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+query+`)`, args...).Scan(&n)
	return n, err
}

// SelectedPersons returns the distinct persons (omni_user_uuids) of the
// selection: the ids themselves for a crowd, the leads' persons for leads.
func (s *Store) SelectedPersons(ctx context.Context, q ScoreQuery, sel ScoreSelection) ([]string, error) {
	query, args := q.scoredSQL(sel)
	if q.Pop.Subject() == SubjectLead {
		query = `SELECT DISTINCT json_extract(l.fields, '$.omni_user_uuid') FROM (` + query + `) x JOIN leads l ON l.uuid = x.id
			WHERE COALESCE(json_extract(l.fields, '$.omni_user_uuid'), '') != ''`
	} else {
		query = `SELECT DISTINCT id FROM (` + query + `)`
	}
	return s.queryStrings(ctx, "selected persons", query+` ORDER BY 1`, args...)
}

// Mover is an id whose score changed since a date.
type Mover struct {
	ID, Name string
	From, To float64
}

// ScoreMovers returns the n ids of the view whose score rose most and the
// n that fell most since since: the score then (the last history row at or
// before since) against the score now.
func (s *Store) ScoreMovers(ctx context.Context, q ScoreQuery, since int64, n int) (rising, falling []Mover, err error) {
	score, _, join, jargs := q.scoreExpr()
	model, margs := "", []any{}
	if q.Kind == ScoreIntention {
		model, margs = " AND model = ?", []any{q.Product}
	}
	// The latest value at or before since, per id.
	past := `past AS (SELECT id, score FROM (SELECT id, score, ROW_NUMBER() OVER (PARTITION BY id ORDER BY at DESC) AS rn
		FROM score_history WHERE subject = ? AND kind = ? AND at <= ?` + model + `) WHERE rn = 1)`
	pargs := append([]any{q.Pop.Subject(), q.Kind, since}, margs...)
	var from string
	var args []any
	if where, wargs, ok := q.counted(); ok {
		where = strings.NewReplacer("subject", "c.subject", "voided", "c.voided", "business_type", "c.business_type", "status", "c.status").Replace(where)
		from = `WITH ` + past + ` SELECT past.id AS id, '' AS name, past.score, ` + score + ` FROM past
			JOIN score_cards c ON c.subject = ? AND c.id = past.id` + join + ` WHERE ` + where
		args = append(append(append(pargs, q.Pop.Subject()), jargs...), wargs...)
	} else {
		cte, popArgs := q.Pop.popCTE()
		from = `WITH ` + cte + `, ` + past + ` SELECT p.id AS id, '' AS name, past.score, ` + score + ` FROM pop p
			JOIN past ON past.id = p.id JOIN score_cards c ON c.subject = ? AND c.id = p.id` + join + ` WHERE 1 = 1`
		args = append(append(append(popArgs, pargs...), q.Pop.Subject()), jargs...)
	}
	from += ` AND ` + score + ` IS NOT NULL AND ` + score + ` != past.score`
	read := func(order string) ([]Mover, error) {
		// Names only for the n rows kept.
		rows, err := s.read.QueryContext(ctx, `SELECT m.id, COALESCE(NULLIF(m.name, ''), l.name, ''), m.was, m.now FROM (`+
			strings.Replace(from, "past.score, "+score+" FROM", "past.score AS was, "+score+" AS now FROM", 1)+order+
			`) m LEFT JOIN leads l ON l.uuid = m.id`, append(args, n)...)
		if err != nil {
			return nil, fmt.Errorf("db: score movers: %w", err)
		}
		defer rows.Close()
		var out []Mover
		for rows.Next() {
			var m Mover
			if err := rows.Scan(&m.ID, &m.Name, &m.From, &m.To); err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, rows.Err()
	}
	if rising, err = read(` AND ` + score + ` > past.score ORDER BY ` + score + ` - past.score DESC, 1 LIMIT ?`); err != nil {
		return nil, nil, err
	}
	falling, err = read(` AND ` + score + ` < past.score ORDER BY ` + score + ` - past.score ASC, 1 LIMIT ?`)
	return rising, falling, err
}

// ScorePoint is one value of an id's score history.
type ScorePoint struct {
	Kind, Model string
	Score       float64
	Band        string
	At          int64
}

// ScoreHistory returns an id's score history, oldest first.
func (s *Store) ScoreHistory(ctx context.Context, subject, id string) ([]ScorePoint, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT kind, model, score, band, at FROM score_history
		WHERE subject = ? AND id = ? ORDER BY kind, model, at`, subject, id)
	if err != nil {
		return nil, fmt.Errorf("db: score history: %w", err)
	}
	defer rows.Close()
	var out []ScorePoint
	for rows.Next() {
		var p ScorePoint
		if err := rows.Scan(&p.Kind, &p.Model, &p.Score, &p.Band, &p.At); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
