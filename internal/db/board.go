package db

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The board (issue 18): per status of a business type, how many leads a
// filter selects and the first cards in the board's order, read in a few
// queries whose cost is bounded whatever the filter and the copy's size.
// Counting stops after boardLimits.count leads (the page then says "at
// least"); a search's matches are read once, not once per column.

// boardLimits say how far the board counts. count is the most leads it
// counts under a filter the tally does not hold: past it, the counts are
// lower bounds (AtLeast). Counting 10,000 leads in an index costs a few
// milliseconds; counting every lead of a broad filter cost up to 200 ms
// at 100,000 leads.
//
// search is the most matches of a search the board reads (from the
// trigram index, joined to their leads by rowid: about a microsecond
// each). A search that matches more (a word most leads carry, such as
// 公司) is counted among the newest of them only, as a lower bound, and
// its cards are found by walking each column and checking each lead's
// text.
type boardLimits struct{ count, search int }

// defaultBoardLimits are the limits of a store whose limits were not set.
var defaultBoardLimits = boardLimits{count: 10_000, search: 2_000}

func (s *Store) boardLimits() boardLimits {
	if s.board == (boardLimits{}) {
		return defaultBoardLimits
	}
	return s.board
}

// SetBoardLimits sets how many leads the board counts and how many
// matches of a search it reads before its counts become lower bounds:
// for tests, which reach both sides with a few leads. Set it before the
// store is used.
func (s *Store) SetBoardLimits(count, search int) {
	s.board = boardLimits{count: count, search: search}
}

// BoardColumn is one status of the board under a filter.
type BoardColumn struct {
	// Count is how many leads of the status the filter selects; with
	// AtLeast, only a lower bound (counting stopped).
	Count   int
	AtLeast bool
	Cards   []Lead // the first page, in the board's order (newest update first)
	More    bool   // more cards follow the page
}

// Board reads the columns of statuses under f (its business type; its
// status is ignored): each column's count and its first page of page
// cards, in the order of LeadsPage sorted by "updated".
func (s *Store) Board(ctx context.Context, f LeadFilter, statuses []string, page int) (map[string]BoardColumn, error) {
	f.Status, f.Sort, f.Offset = "", "updated", 0
	if strings.TrimSpace(f.Query) != "" {
		if _, _, ok := searchRowids(strings.TrimSpace(f.Query)); ok {
			return s.searchBoard(ctx, f, statuses, page)
		}
	}
	counts, atLeast, err := s.boardCounts(ctx, f, s.boardLimits().count)
	if err != nil {
		return nil, err
	}
	out := make(map[string]BoardColumn, len(statuses))
	for _, st := range statuses {
		col := BoardColumn{Count: counts[st], AtLeast: atLeast}
		if col.Count > 0 || atLeast {
			if col.Cards, col.More, err = s.columnPage(ctx, f, st, page, ""); err != nil {
				return nil, err
			}
		}
		out[st] = settle(col, page)
	}
	return out, nil
}

// settle makes a column's count exact where its page shows it is: a
// column whose cards all fit its page has exactly those; one with more
// has at least a page and one.
func settle(col BoardColumn, page int) BoardColumn {
	if !col.AtLeast {
		return col
	}
	if !col.More {
		col.Count, col.AtLeast = len(col.Cards), false
	} else {
		col.Count = max(col.Count, page+1)
	}
	return col
}

// boardCounts counts the leads f selects per status, from the tallies
// when they hold them (a business type; an owner); otherwise at most most
// of them (atLeast: the counts are lower bounds).
func (s *Store) boardCounts(ctx context.Context, f LeadFilter, most int) (map[string]int, bool, error) {
	if f.countable() || f.ownerTallied() {
		counts, err := s.CountLeadsByStatus(ctx, f)
		return counts, false, err
	}
	where, args := leadWhere(f, leadPlan{counting: true})
	rows, err := s.read.QueryContext(ctx, `SELECT status, count(*) FROM (SELECT l.status FROM leads l`+boardIndex(f, true)+where+` LIMIT ?) GROUP BY status`,
		append(args, most+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("db: board counts: %w", err)
	}
	counts, n, err := statusCounts(rows)
	if err != nil {
		return nil, false, fmt.Errorf("db: board counts: %w", err)
	}
	return counts, n > most, nil
}

// statusCounts reads (status, count) rows, and their sum.
func statusCounts(rows *sql.Rows) (map[string]int, int, error) {
	defer rows.Close()
	out, total := map[string]int{}, 0
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, 0, err
		}
		out[st] += n
		total += n
	}
	return out, total, rows.Err()
}

// columnPage reads the first page of a status's cards under f, and
// whether more follow. extra, when set, is a search's check (with its
// arguments) in place of f's search.
func (s *Store) columnPage(ctx context.Context, f LeadFilter, status string, page int, extra string, extraArgs ...any) ([]Lead, bool, error) {
	rest := f
	rest.BusinessType, rest.Status = "", ""
	if extra != "" {
		rest.Query = ""
	}
	where, args := leadWhere(rest, leadPlan{})
	// Under an owner, the owner's index (migration 0015; boardIndex) is
	// walked, so the business type and the status are written as
	// conditions, not index terms.
	col := "l."
	if f.Owner != "" {
		col = "+l."
	}
	conds := []string{col + "status = ?"}
	args = append(args, status)
	if f.BusinessType != "" {
		conds, args = append(conds, col+"business_type = ?"), append(args, f.BusinessType)
	}
	if extra != "" {
		conds, args = append(conds, extra), append(args, extraArgs...)
	}
	if where == "" {
		where = " WHERE 1"
	}
	where += " AND " + strings.Join(conds, " AND ")
	cards, err := s.queryLeads(ctx, "board column", `SELECT `+leadColumns+` FROM leads l`+boardIndex(f, false)+where+leadOrder("updated")+` LIMIT ?`,
		append(args, page+1)...)
	if err != nil {
		return nil, false, err
	}
	more := len(cards) > page
	if more {
		cards = cards[:page]
	}
	return cards, more, nil
}

// boardIndex names the index a board's query under f walks (INDEXED BY):
// the planner's choice varied with the copy's statistics, and a wrong one
// read every lead of a column, or every lead updated since a date, to
// check an owner (400 ms at 100,000 leads). The indexes of migration 0015
// hold the business type, the status and both dates. A count walks its
// filter's own index without reading a lead: an owner's (the fewest
// leads), a pool's, a source's, else the dates'. A column is walked newest
// first until it has its page: in the owner's index under an owner (one
// lead in thirty: the board's index would read thirty leads a card),
// otherwise in the board's index, a pool or a source (a lead in eight, in
// five) checked on the lead (walking their indexes for a column's status
// cost four times as much at 100,000 leads).
func boardIndex(f LeadFilter, counting bool) string {
	switch {
	case f.Owner != "":
		return " INDEXED BY leads_owner"
	case !counting:
		return " INDEXED BY leads_board"
	case f.LeadPool != "":
		return " INDEXED BY leads_pool"
	case f.Source != "":
		return " INDEXED BY leads_source"
	case f.CreatedFrom != 0 || f.CreatedTo != 0:
		return " INDEXED BY leads_by_created"
	case f.UpdatedFrom != 0 || f.UpdatedTo != 0:
		return " INDEXED BY leads_by_updated"
	}
	return ""
}

// queryLeads reads the leads a query of leadColumns answers.
func (s *Store) queryLeads(ctx context.Context, what, q string, args ...any) ([]Lead, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, fmt.Errorf("db: %s: %w", what, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	return out, nil
}

// searchBoard is Board for a search. Its matches are counted in the
// trigram index alone, up to the board's search limit and one. When they
// are within it, they are joined to their leads by rowid with the rest of
// the filter, counted per status and ordered in one query that answers
// only each column's first page of ids, and the cards shown are then read
// whole. When the search matches more, the counts are those among the
// newest matches within the limit (lower bounds, AtLeast) and each
// column's cards are found by walking the column in order and checking
// each lead's text: a search this broad matches within the first leads
// walked.
func (s *Store) searchBoard(ctx context.Context, f LeadFilter, statuses []string, page int) (map[string]BoardColumn, error) {
	q := strings.TrimSpace(f.Query)
	limit := s.boardLimits().search
	rest := f
	rest.Query = ""
	restCounts, restAtLeast, err := s.boardCounts(ctx, rest, limit)
	if err != nil {
		return nil, err
	}
	few := !restAtLeast && sumCounts(restCounts) <= limit
	// The owner's index holds the searched text (migration 0020): a few
	// leads of an owner are checked there, without reading their rows or
	// asking the trigram index what the search matches in the whole copy.
	if few && rest.Owner != "" && likeExact(q) {
		check, cargs := leadLike(q)
		return s.checkedBoard(ctx, f, statuses, page, check, cargs)
	}
	expr, err := s.matchExpr(ctx, q)
	if err != nil {
		return nil, err
	}
	var matched int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT rowid FROM leads_fts WHERE leads_fts MATCH ? LIMIT ?)`,
		expr, limit+1).Scan(&matched); err != nil {
		return nil, fmt.Errorf("db: board search: %w", err)
	}
	if few && sumCounts(restCounts) < matched {
		check, cargs := textCheck(q, expr)
		return s.checkedBoard(ctx, f, statuses, page, check, cargs)
	}
	where, args := leadWhere(rest, leadPlan{})
	if where == "" {
		where = " WHERE 1"
	}
	// CROSS JOIN: the matches drive, each lead read by its rowid (the
	// planner otherwise may walk a whole index probing them).
	from := ` FROM (SELECT rowid FROM leads_fts WHERE leads_fts MATCH ? ORDER BY rowid DESC LIMIT ?) m CROSS JOIN leads l ON l.id = m.rowid` + where
	args = append([]any{expr, limit}, args...)
	if matched > limit {
		rows, err := s.read.QueryContext(ctx, `SELECT l.status, count(*)`+from+` GROUP BY l.status`, args...)
		if err != nil {
			return nil, fmt.Errorf("db: board search: %w", err)
		}
		counts, _, err := statusCounts(rows)
		if err != nil {
			return nil, fmt.Errorf("db: board search: %w", err)
		}
		return s.broadSearchBoard(ctx, f, statuses, page, counts, expr, restCounts, restAtLeast)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, status, n FROM (
		SELECT l.id, l.status, count(*) OVER (PARTITION BY l.status) AS n,
			row_number() OVER (PARTITION BY l.status ORDER BY l.updated_at DESC, l.created_at DESC, l.id DESC) AS rn`+
		from+`) WHERE rn <= ? ORDER BY status, rn`, append(args, page+1)...)
	if err != nil {
		return nil, fmt.Errorf("db: board search: %w", err)
	}
	counts, firsts, err := scanColumnFirsts(rows)
	if err != nil {
		return nil, fmt.Errorf("db: board search: %w", err)
	}
	return s.boardOf(ctx, statuses, page, counts, firsts)
}

// boardOf is the board of exact counts and each column's first ids in
// order (a page and one: the one says more follow), its cards read whole.
func (s *Store) boardOf(ctx context.Context, statuses []string, page int, counts map[string]int, firsts map[string][]int64) (map[string]BoardColumn, error) {
	out := make(map[string]BoardColumn, len(statuses))
	var shown []int64
	for _, st := range statuses {
		ids := firsts[st]
		col := BoardColumn{Count: counts[st], More: len(ids) > page}
		ids = ids[:min(page, len(ids))]
		firsts[st] = ids
		shown = append(shown, ids...)
		out[st] = col
	}
	cards, err := s.leadsByID(ctx, shown)
	if err != nil {
		return nil, err
	}
	for _, st := range statuses {
		col := out[st]
		for _, id := range firsts[st] {
			col.Cards = append(col.Cards, cards[id])
		}
		out[st] = col
	}
	return out, nil
}

// broadSearchBoard is searchBoard's columns for a search that matches
// more than the board reads: counts is each status's among the matches
// read, a lower bound. The filter without the search (restCounts, counted
// up to the limit) says which columns it leaves empty: those are not
// walked (their count is exactly none).
func (s *Store) broadSearchBoard(ctx context.Context, f LeadFilter, statuses []string, page int, counts map[string]int, expr string,
	restCounts map[string]int, restAtLeast bool) (map[string]BoardColumn, error) {
	check, cargs := textCheck(strings.TrimSpace(f.Query), expr)
	out := make(map[string]BoardColumn, len(statuses))
	for _, st := range statuses {
		if restCounts[st] == 0 && !restAtLeast {
			out[st] = BoardColumn{}
			continue
		}
		col := BoardColumn{Count: counts[st], AtLeast: true}
		var err error
		if col.Cards, col.More, err = s.columnPage(ctx, f, st, page, check, cargs...); err != nil {
			return nil, err
		}
		out[st] = settle(col, page)
	}
	return out, nil
}

// checkedBoard is searchBoard when the rest of the filter (an owner's
// leads under a date range, say) selects no more leads than the board
// reads for a search: those leads alone are checked for the search (check
// and its arguments: textCheck, or leadLike where the rest's index holds
// the text), whatever the search matches in the whole copy, in one walk
// of the rest's index that answers each match's id, status and dates. The
// columns are counted and ordered from those (at most the board's search
// limit) and only the cards shown are read whole.
func (s *Store) checkedBoard(ctx context.Context, f LeadFilter, statuses []string, page int, check string, cargs []any) (map[string]BoardColumn, error) {
	rest := f
	rest.Query = ""
	where, args := leadWhere(rest, leadPlan{counting: true})
	if where == "" {
		where = " WHERE 1"
	}
	rows, err := s.read.QueryContext(ctx, `SELECT l.id, l.status, l.updated_at, l.created_at FROM leads l`+boardIndex(rest, true)+where+` AND `+check,
		append(args, cargs...)...)
	if err != nil {
		return nil, fmt.Errorf("db: board search: %w", err)
	}
	matches, err := scanMatches(rows)
	if err != nil {
		return nil, fmt.Errorf("db: board search: %w", err)
	}
	counts, firsts := map[string]int{}, map[string][]int64{}
	for st, ms := range matches {
		// The board's order within a column (leadOrder "updated": the
		// business type and status are the column's own).
		slices.SortFunc(ms, func(a, b boardMatch) int {
			return cmp.Or(cmp.Compare(b.updated, a.updated), cmp.Compare(b.created, a.created), cmp.Compare(b.id, a.id))
		})
		counts[st] = len(ms)
		for _, m := range ms[:min(page+1, len(ms))] {
			firsts[st] = append(firsts[st], m.id)
		}
	}
	return s.boardOf(ctx, statuses, page, counts, firsts)
}

// boardMatch is a lead checkedBoard found: what orders it in its column.
type boardMatch struct{ id, updated, created int64 }

// scanMatches reads checkedBoard's rows, per status.
func scanMatches(rows *sql.Rows) (map[string][]boardMatch, error) {
	defer rows.Close()
	out := map[string][]boardMatch{}
	for rows.Next() {
		var m boardMatch
		var st string
		if err := rows.Scan(&m.id, &st, &m.updated, &m.created); err != nil {
			return nil, err
		}
		out[st] = append(out[st], m)
	}
	return out, rows.Err()
}

func sumCounts(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// scanColumnFirsts reads searchBoard's rows: each status's count, and the
// ids of its first leads in order.
func scanColumnFirsts(rows *sql.Rows) (map[string]int, map[string][]int64, error) {
	defer rows.Close()
	counts, firsts := map[string]int{}, map[string][]int64{}
	for rows.Next() {
		var id int64
		var st string
		var n int
		if err := rows.Scan(&id, &st, &n); err != nil {
			return nil, nil, err
		}
		counts[st], firsts[st] = n, append(firsts[st], id)
	}
	return counts, firsts, rows.Err()
}

// textCheck is the condition a lead walked in a column meets when the
// search matches it. A LIKE over the searched columns finds exactly what
// the trigram index finds when the search has no letter that other
// letters fold onto (Chinese, digits, most Latin letters: the index folds
// ASCII case as LIKE does, and only the Kelvin sign, the long s and the
// dotted capital I fold onto ASCII k, s and i), at a tenth of the cost of
// asking the index about each lead; otherwise the index is asked.
func textCheck(q, expr string) (string, []any) {
	if likeExact(q) {
		return leadLike(q)
	}
	return `EXISTS (SELECT 1 FROM leads_fts WHERE leads_fts MATCH ? AND rowid = l.id)`, []any{expr}
}

func likeExact(q string) bool {
	for _, r := range q {
		switch {
		case strings.ContainsRune("kKsSiI", r):
			return false
		case r >= utf8.RuneSelf && unicode.SimpleFold(r) != r:
			return false // a cased letter beyond ASCII: LIKE keeps its case
		}
	}
	return true
}

// leadsByID reads leads by id (the copy's rowid).
func (s *Store) leadsByID(ctx context.Context, ids []int64) (map[int64]Lead, error) {
	out := make(map[int64]Lead, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("db: leads by id: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT l.id, `+leadColumns+` FROM leads l WHERE l.id IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, fmt.Errorf("db: leads by id: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		l, err := scanLead(idFirst{rows, &id})
		if err != nil {
			return nil, fmt.Errorf("db: leads by id: %w", err)
		}
		out[id] = l
	}
	return out, rows.Err()
}

// idFirst scans a row of an id and then leadColumns.
type idFirst struct {
	row interface{ Scan(...any) error }
	id  *int64
}

func (r idFirst) Scan(dest ...any) error { return r.row.Scan(append([]any{r.id}, dest...)...) }

// matchExpr is the FTS5 query of a search through the trigram index (see
// searchRowids): a phrase of three characters or more; of two, the OR of
// the indexed trigrams they begin, looked up once here so that a query
// checking leads one by one does not look them up again for each.
func (s *Store) matchExpr(ctx context.Context, q string) (string, error) {
	if utf8.RuneCountInString(q) >= minTrigramQuery {
		return ftsPhrase(q), nil
	}
	lq := strings.ToLower(q)
	var expr string
	err := s.read.QueryRowContext(ctx, `SELECT coalesce(group_concat('"' || replace(term, '"', '""') || '"', ' OR '), '"'||char(1)||char(1)||char(1)||'"')
		FROM leads_fts_terms WHERE term >= ? AND term < ? || char(1114111)`, lq, lq).Scan(&expr)
	if err != nil {
		return "", fmt.Errorf("db: search terms: %w", err)
	}
	return expr, nil
}
