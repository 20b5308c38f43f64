package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Reading the lead copy under a filter: the plan, the WHERE clause,
// search, pages and counts.

// Queries of three characters or more are a trigram phrase; of two, the
// OR of the indexed trigrams they begin; of one, a scan (LIKE).
const minTrigramQuery = 3

// that answers it without reading the whole copy (TestHotPathsUseIndexes
// checks the plans).
type leadPlan struct {
	withStatus bool // the filter's status is a condition (the board's counts leave it out)
	// counting: the query counts what the filter selects. When a filter
	// with an index of its own is set (owner, source, pool, a date range),
	// the business type and status are written as expressions (+col), not
	// offered as index terms: that index holds them and counts without a
	// row, where the planner otherwise walked the business type's whole
	// column in leads_board, reading each lead (60,000 at 100,000 leads).
	counting bool
	// probeSearch: the search matches many leads (more than
	// searchDriveMax), so its matches are collected once and probed while
	// another index is walked, instead of each match's row being read.
	probeSearch bool
}

// searchDriveMax is the most matches of a search that are read one by
// one (by rowid) to apply the other filters; above it they are probed.
const searchDriveMax = 1000

// leadWhere builds the WHERE clause of f as p says.
func leadWhere(f LeadFilter, p leadPlan) (string, []any) {
	var conds []string
	var args []any
	eq := func(col, v string) {
		if v != "" {
			conds = append(conds, col+" = ?")
			args = append(args, v)
		}
	}
	if !f.IncludeVoided {
		conds = append(conds, "l.voided = 0")
	}
	kind := "l."
	if p.counting && f.hasOwnIndex() {
		kind = "+l."
	}
	eq(kind+"business_type", f.BusinessType)
	if p.withStatus {
		eq(kind+"status", f.Status)
	}
	eq("l.owner", f.Owner)
	eq("l.lead_pool", f.LeadPool)
	if f.LeadPool != "" {
		// Implied, and said so the planner may use the pools' partial index.
		conds = append(conds, "l.lead_pool != ''")
	}
	eq("l.source", f.Source)
	rng := func(col string, from, to int64) {
		if from != 0 {
			conds = append(conds, col+" >= ?")
			args = append(args, from)
		}
		if to != 0 {
			conds = append(conds, col+" <= ?")
			args = append(args, to)
		}
	}
	rng("l.created_at", f.CreatedFrom, f.CreatedTo)
	rng("l.updated_at", f.UpdatedFrom, f.UpdatedTo)
	if q := strings.TrimSpace(f.Query); q != "" {
		if rowids, sargs, ok := searchRowids(q); ok {
			id := "l.id"
			if p.probeSearch {
				id = "+l.id"
			}
			conds = append(conds, id+" IN ("+rowids+")")
			args = append(args, sargs...)
		} else {
			cond, largs := leadLike(q)
			conds, args = append(conds, cond), append(args, largs...)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// hasOwnIndex reports a filter one of whose conditions has an index
// holding the business type and status (migration 0015).
func (f LeadFilter) hasOwnIndex() bool {
	return f.Owner != "" || f.Source != "" || f.LeadPool != "" ||
		f.CreatedFrom != 0 || f.CreatedTo != 0 || f.UpdatedFrom != 0 || f.UpdatedTo != 0
}

// searchRowids is the SELECT of the rowids (lead ids) a search matches
// through the trigram index: a phrase of three characters or more; of
// two, the OR of the indexed trigrams they begin (values are indexed
// between spaces, so every occurrence begins one). A single character
// has no index (ok false): it is a scan.
func searchRowids(q string) (string, []any, bool) {
	switch n := utf8.RuneCountInString(q); {
	case n >= minTrigramQuery:
		return "SELECT rowid FROM leads_fts WHERE leads_fts MATCH ?", []any{ftsPhrase(q)}, true
	case n == minTrigramQuery-1:
		lq := strings.ToLower(q)
		return `SELECT rowid FROM leads_fts WHERE leads_fts MATCH
				(SELECT coalesce(group_concat('"' || replace(term, '"', '""') || '"', ' OR '), '"'||char(1)||char(1)||char(1)||'"')
				FROM leads_fts_terms WHERE term >= ? AND term < ? || char(1114111))`, []any{lq, lq}, true
	}
	return "", nil, false
}

// searchMatches counts the leads (voided ones included) a search matches
// in the trigram index alone; ok is false for a search without the index.
func (s *Store) searchMatches(ctx context.Context, q string) (n int, ok bool, err error) {
	rowids, args, ok := searchRowids(strings.TrimSpace(q))
	if !ok {
		return 0, false, nil
	}
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM (`+rowids+`)`, args...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("db: count search matches: %w", err)
	}
	return n, true, nil
}

// plan is how queries of f are written: a search's size is looked up
// first (in the trigram index alone) to choose how it is joined.
func (s *Store) plan(ctx context.Context, f LeadFilter, p leadPlan) (leadPlan, error) {
	if strings.TrimSpace(f.Query) == "" {
		return p, nil
	}
	n, ok, err := s.searchSize(ctx, f.Query)
	p.probeSearch = ok && n > searchDriveMax
	return p, err
}

// searchSize is searchMatches, remembered for the copy's version: the
// board asks it for its counts and again for each of its columns. It only
// chooses a plan: a size counted across a write changes how a query is
// joined, never its answer.
func (s *Store) searchSize(ctx context.Context, q string) (int, bool, error) {
	q = strings.TrimSpace(q)
	v := s.LeadsVersion()
	s.searchSizes.Lock()
	if s.searchSizes.n == nil || s.searchSizes.version != v || len(s.searchSizes.n) > 256 {
		s.searchSizes.version, s.searchSizes.n = v, map[string]int{}
	}
	n, known := s.searchSizes.n[q]
	s.searchSizes.Unlock()
	if known {
		return n, n >= 0, nil
	}
	n, ok, err := s.searchMatches(ctx, q)
	if err != nil {
		return 0, false, err
	}
	if !ok {
		n = -1
	}
	s.searchSizes.Lock()
	if s.searchSizes.version == v {
		s.searchSizes.n[q] = n
	}
	s.searchSizes.Unlock()
	return n, ok, nil
}

// leadLike is the scan finding a query too short for the index.
func leadLike(q string) (string, []any) {
	like := "%" + likeEscaper.Replace(q) + "%"
	var ors []string
	var args []any
	for _, col := range []string{"name", "mobile", "email", "company", "title"} {
		ors = append(ors, "l."+col+` LIKE ? ESCAPE '\'`)
		args = append(args, like)
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

// ftsPhrase quotes q as one FTS5 phrase: with the trigram tokenizer, a
// substring match anywhere in the indexed columns.
func ftsPhrase(q string) string { return `"` + strings.ReplaceAll(q, `"`, `""`) + `"` }

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// leadOrder is the ORDER BY of a sort. Ties are broken in the order of
// the sort's index (migration 0015: the key, then business type, status
// and the other date) and last by the id, so pages never overlap and the
// index gives the order as it is walked: a page deep in the list skips
// index entries instead of sorting the rows (the id alone after the key
// made SQLite sort every lead the filter selects). Time sorts read the
// indexes backwards.
func leadOrder(sort string) string {
	switch sort {
	case "created":
		return " ORDER BY l.created_at DESC, l.business_type DESC, l.status DESC, l.updated_at DESC, l.id DESC"
	case "name":
		return " ORDER BY l.name, l.business_type, l.status, l.id"
	case "status_since":
		return " ORDER BY l.status_since DESC, l.business_type DESC, l.status DESC, l.id DESC"
	}
	return " ORDER BY l.updated_at DESC, l.business_type DESC, l.status DESC, l.created_at DESC, l.id DESC"
}

// Lead page sizes.
const (
	DefaultLeadLimit = 50
	MaxLeadLimit     = 1000
)

// ListLeads returns one page of the leads f selects, in f's order, and how
// many it selects in all. Voided leads are left out unless f asks for them.
func (s *Store) ListLeads(ctx context.Context, f LeadFilter) ([]Lead, int, error) {
	total, err := s.countLeads(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	if total == 0 || f.Offset >= total {
		return nil, total, nil
	}
	out, err := s.leadsPage(ctx, f, total)
	return out, total, err
}

// countLeads counts the leads f selects: from the tally when the filter
// is by business type and status alone, or by an owner or a pool alone
// (keptCount); for a search alone, from the trigram index (its matches
// less the voided ones); otherwise over the filter's index.
func (s *Store) countLeads(ctx context.Context, f LeadFilter) (int, error) {
	if f.countable() {
		counts, err := s.CountLeadsByStatus(ctx, f)
		if err != nil {
			return 0, err
		}
		total := 0
		for st, n := range counts {
			if f.Status == "" || st == f.Status {
				total += n
			}
		}
		return total, nil
	}
	if n, ok, err := s.keptCount(ctx, f); ok || err != nil {
		return n, err
	}
	p, err := s.plan(ctx, f, leadPlan{withStatus: true, counting: true})
	if err != nil {
		return 0, err
	}
	if rest := f; rest.Query != "" {
		rest.Query, rest.IncludeVoided = "", false
		if n, ok, err := s.searchSize(ctx, f.Query); err != nil {
			return 0, err
		} else if ok && rest.countable() && rest.BusinessType == "" && rest.Status == "" {
			return s.searchCount(ctx, f, n)
		}
	}
	where, args := leadWhere(f, p)
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM leads l`+where, args...).Scan(&total); err != nil {
		return 0, fmt.Errorf("db: count leads: %w", err)
	}
	return total, nil
}

// searchCount is the count of a search alone that matches n leads in the
// trigram index: n, less the voided leads among them unless f includes
// them (the few voided leads are walked and probed, not the matches read).
func (s *Store) searchCount(ctx context.Context, f LeadFilter, n int) (int, error) {
	if f.IncludeVoided {
		return n, nil
	}
	rowids, args, _ := searchRowids(strings.TrimSpace(f.Query))
	var voided int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM leads l WHERE l.voided = 1 AND +l.id IN (`+rowids+`)`,
		args...).Scan(&voided); err != nil {
		return 0, fmt.Errorf("db: count leads: %w", err)
	}
	return n - voided, nil
}

// LeadsPage is ListLeads without the count: for a caller that knows it
// (a board column, counted with the others).
func (s *Store) LeadsPage(ctx context.Context, f LeadFilter) ([]Lead, error) {
	return s.leadsPage(ctx, f, -1)
}

// leadsPage reads f's page. Knowing the total (-1: not known), a page past
// the middle is read from the other end of the order and turned round: it
// skips at most half the leads instead of all before it (the last page of
// 100,000 skipped 99,950 index entries).
func (s *Store) leadsPage(ctx context.Context, f LeadFilter, total int) ([]Lead, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLeadLimit
	}
	limit = min(limit, MaxLeadLimit)
	p, err := s.plan(ctx, f, leadPlan{withStatus: true})
	if err != nil {
		return nil, err
	}
	where, args := leadWhere(f, p)
	order, offset := leadOrder(f.Sort), max(f.Offset, 0)
	fromEnd := total > 0 && offset > total/2 && offset < total
	if fromEnd {
		// The page is [offset, offset+limit) of total: from the end, it
		// starts total-offset-limit in (a short last page: at 0, shorter).
		order, offset, limit = reverseOrder(order), max(total-offset-limit, 0), min(limit, total-offset)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads l`+where+order+` LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("db: list leads: %w", err)
	}
	defer rows.Close()
	var out []Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list leads: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: list leads: %w", err)
	}
	if fromEnd {
		slices.Reverse(out)
	}
	return out, nil
}

// reverseOrder is an ORDER BY (leadOrder's) the other way round.
func reverseOrder(order string) string {
	keys := strings.Split(strings.TrimPrefix(order, " ORDER BY "), ", ")
	for i, k := range keys {
		if key, desc := strings.CutSuffix(k, " DESC"); desc {
			keys[i] = key
		} else {
			keys[i] = k + " DESC"
		}
	}
	return " ORDER BY " + strings.Join(keys, ", ")
}

// CountLeadsByStatus counts the leads f selects per status, ignoring
// f.Status: the board's column counts. Statuses without leads are absent.
// Filtered by business type alone, or by an owner with a business type or
// not, the counts come from the tallies the triggers keep (lead_counts,
// lead_owner_counts) instead of counting tens of thousands of leads: the
// board's columns and the counts live updates send with a change.
func (s *Store) CountLeadsByStatus(ctx context.Context, f LeadFilter) (map[string]int, error) {
	var q string
	var args []any
	switch {
	case f.countable():
		q, args = `SELECT status, sum(n) FROM lead_counts WHERE (? OR voided = 0) AND (? = '' OR business_type = ?) GROUP BY status`,
			[]any{f.IncludeVoided, f.BusinessType, f.BusinessType}
	case f.ownerTallied():
		q, args = `SELECT status, sum(n) FROM lead_owner_counts WHERE owner = ? AND (? OR voided = 0) AND (? = '' OR business_type = ?) GROUP BY status`,
			[]any{f.Owner, f.IncludeVoided, f.BusinessType, f.BusinessType}
	default:
		p, err := s.plan(ctx, f, leadPlan{counting: true})
		if err != nil {
			return nil, err
		}
		where, wargs := leadWhere(f, p)
		q, args = `SELECT l.status, count(*) FROM leads l`+where+` GROUP BY l.status`, wargs
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: count leads by status: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("db: count leads by status: %w", err)
		}
		if n > 0 {
			out[st] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: count leads by status: %w", err)
	}
	return out, nil
}

// ownerTallied reports a filter whose counts lead_owner_counts holds: an
// owner, with a business type and a status or not, and nothing else.
func (f LeadFilter) ownerTallied() bool {
	other := f
	other.Owner = ""
	return f.Owner != "" && other.countable()
}

// countable reports a filter whose counts the tally (lead_counts) holds:
// by business type and status alone.
func (f LeadFilter) countable() bool {
	return f.Owner == "" && f.LeadPool == "" && f.Source == "" && strings.TrimSpace(f.Query) == "" &&
		f.CreatedFrom == 0 && f.CreatedTo == 0 && f.UpdatedFrom == 0 && f.UpdatedTo == 0
}
