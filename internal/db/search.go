package db

import (
	"context"
	"fmt"
	"strings"
)

// Search everything (issue 20): the small tables by substring (LIKE, a
// scan of a few thousand rows at most); leads go through ListLeads' FTS.

// SearchSends returns up to limit sends (test sends included) whose name,
// subject or sender contains q, newest first.
func (s *Store) SearchSends(ctx context.Context, q string, limit int) ([]Send, error) {
	like := "%" + escapeLike(strings.TrimSpace(q)) + "%"
	return s.querySends(ctx, "search sends", `SELECT `+sendColumns+` WHERE s.name LIKE ?1 ESCAPE '\' OR s.subject LIKE ?1 ESCAPE '\'
		OR s.sender LIKE ?1 ESCAPE '\' ORDER BY s.id DESC LIMIT ?2`, like, limit)
}

// SearchImports returns up to limit imports whose file name or crowd name
// contains q, newest first.
func (s *Store) SearchImports(ctx context.Context, q string, limit int) ([]Import, error) {
	like := "%" + escapeLike(strings.TrimSpace(q)) + "%"
	return s.queryImports(ctx, "search imports", `SELECT `+importColumns+` WHERE i.file_name LIKE ?1 ESCAPE '\'
		OR i.crowd_name LIKE ?1 ESCAPE '\' ORDER BY i.id DESC LIMIT ?2`, like, limit)
}

// searchLeadWindow is how many of the newest index matches SearchLeads
// reads before leaving the voided ones out.
const searchLeadWindow = 200

// SearchLeads returns up to limit leads (not voided) matching q as
// LeadFilter.Query does, the most recently added first, and whether there
// are more. Unlike ListLeads it neither counts nor sorts every match: the
// index is read newest first and stops after a window, so a substring
// every lead has costs no more than a rare one.
func (s *Store) SearchLeads(ctx context.Context, q string, limit int) ([]Lead, bool, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, false, nil
	}
	var cond string
	var args []any
	if rowids, margs, ok := searchRowids(q); ok {
		cond = fmt.Sprintf("l.id IN (%s ORDER BY rowid DESC LIMIT %d)", rowids, searchLeadWindow)
		args = margs
	} else {
		cond, args = leadLike(q)
	}
	// +l.voided: not an index term. With statistics the planner otherwise
	// walked a voided-first index and sorted every match by id (255 ms for
	// one character at 100,000 leads); by the rowid, newest first, it stops
	// after limit matches.
	rows, err := s.read.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads l WHERE +l.voided = 0 AND `+cond+
		` ORDER BY l.id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("db: search leads: %w", err)
	}
	defer rows.Close()
	var out []Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, false, fmt.Errorf("db: search leads: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("db: search leads: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}
