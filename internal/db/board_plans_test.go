package db

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestBoardUsesIndexes is the query-plan guard of the board (issue 18):
// db.Board under each of its filters, alone and combined, runs no query
// that reads the whole of leads (readsAllLeads), and no column's page is
// sorted after the fact (a temporary b-tree for its ORDER BY reads every
// lead the filter selects before the first card: it must walk an index in
// the board's order and stop after a page). Both sides of the limits are
// checked: as shipped, and low enough that counting stops and a search's
// cards are found by walking the columns.
func TestBoardUsesIndexes(t *testing.T) {
	s, v := planCopy(t)
	ctx := context.Background()
	statuses := v.statuses
	filters := filterShapes(v)
	filters["search 2 (few)"] = LeadFilter{Query: string([]rune(v.small3)[1:])}
	filters["search, Latin"] = LeadFilter{Query: ".CN"}
	for _, limits := range []boardLimits{defaultBoardLimits, {count: 50, search: 50}} {
		s.SetBoardLimits(limits.count, limits.search)
		for name, f := range filters {
			f.BusinessType = v.bt
			name := fmt.Sprintf("board (limits %d/%d), %s", limits.count, limits.search, name)
			plans.take()
			if _, err := s.Board(ctx, f, statuses, 12); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			seen := plans.take()
			if len(seen) == 0 {
				t.Fatalf("%s: no query explained", name)
			}
			for q, steps := range seen {
				for _, step := range steps {
					if readsAllLeads(q, step, steps) || sortsAColumn(q, step) || walksABusinessType.MatchString(step) {
						t.Errorf("%s (%s):\n%s\nplan: %s", name, step, q, strings.Join(steps, " | "))
					}
				}
			}
		}
	}
}

// walksABusinessType matches a walk of every lead of a business type (the
// board's index by its business type alone, any status): what counting a
// broad search by probing its matches did (60,000 leads at 100,000).
var walksABusinessType = regexp.MustCompile(`^SEARCH (l|leads) USING (COVERING )?INDEX leads_board \(business_type=\?\)$`)

// The guard sees what it guards against: the board's counts of a broad
// search as they were read before issue 18 walked the business type.
func TestBoardPlanGuardSeesAWalkOfTheBusinessType(t *testing.T) {
	s, v := planCopy(t)
	if _, err := s.CountLeadsByStatus(context.Background(), LeadFilter{BusinessType: v.bt, Query: v.big2}); err != nil {
		t.Fatal(err)
	}
	for _, steps := range plans.take() {
		for _, step := range steps {
			if walksABusinessType.MatchString(step) {
				return
			}
		}
	}
	t.Fatal("the walk of a business type was not seen")
}

// sortsAColumn reports a column's page (leadColumns in the board's order)
// sorted in a temporary b-tree instead of read in an index's order (a
// sort of the last term of the order only orders leads updated at the
// same second, as the index is walked).
func sortsAColumn(query, step string) bool {
	return strings.Contains(query, leadOrder("updated")) && strings.HasPrefix(step, "USE TEMP B-TREE FOR ") &&
		!strings.HasPrefix(step, "USE TEMP B-TREE FOR LAST TERM OF ORDER BY")
}

// A search among an owner's few leads is checked in the owner's index
// alone (migration 0020 put the searched text in it): the check reads no
// lead's row, only the cards shown are read whole, and the trigram index
// is not asked what the search matches in the whole copy. Without the
// text in the index, every lead of the owner was read for its text.
func TestBoardSearchesAnOwnersLeadsInTheOwnersIndex(t *testing.T) {
	s, v := planCopy(t)
	ctx := context.Background()
	statuses := v.statuses
	for _, q := range []string{v.big2, v.big3, v.small3} {
		plans.take()
		if _, err := s.Board(ctx, LeadFilter{BusinessType: v.bt, Owner: v.owner, Query: q}, statuses, 12); err != nil {
			t.Fatal(err)
		}
		checked := false
		for query, steps := range plans.take() {
			if strings.Contains(query, "leads_fts") {
				t.Errorf("%s: the trigram index was asked:\n%s", q, query)
			}
			if strings.Contains(query, " LIKE ") {
				checked = true
				if want := "SEARCH l USING COVERING INDEX leads_owner (owner=? AND voided=?)"; !slices.Contains(steps, want) {
					t.Errorf("%s: the owner's leads are not checked in the owner's index alone:\n%s\nplan: %s", q, query, strings.Join(steps, " | "))
				}
			}
		}
		if !checked {
			t.Errorf("%s: no query checked the owner's leads for the search", q)
		}
	}
}
