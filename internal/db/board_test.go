package db

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// boardRef is the board as a straightforward reading of every lead would
// draw it: the leads a filter selects, per status, in the board's order.
func boardRef(t *testing.T, s *Store, f LeadFilter) map[string][]Lead {
	t.Helper()
	all, err := s.queryLeads(context.Background(), "all leads", `SELECT `+leadColumns+` FROM leads l
		ORDER BY l.updated_at DESC, l.business_type DESC, l.status DESC, l.created_at DESC, l.id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	q := strings.ToLower(strings.TrimSpace(f.Query))
	in := func(v int64, from, to int64) bool { return (from == 0 || v >= from) && (to == 0 || v <= to) }
	out := map[string][]Lead{}
	for _, l := range all {
		text := strings.ToLower(strings.Join([]string{l.Name, l.Mobile, l.Email, l.Company, l.Title}, "\x00"))
		if l.Voided || l.BusinessType != f.BusinessType || f.Owner != "" && l.Owner != f.Owner ||
			f.Source != "" && l.Source != f.Source || f.LeadPool != "" && l.LeadPool != f.LeadPool ||
			!in(l.CreatedAt, f.CreatedFrom, f.CreatedTo) || !in(l.UpdatedAt, f.UpdatedFrom, f.UpdatedTo) ||
			q != "" && !strings.Contains(text, q) {
			continue
		}
		out[l.Status] = append(out[l.Status], l)
	}
	return out
}

// boardStore is a copy of n leads as the benchmarks build them, with
// some updated at the same second (the order's ties) and some voided.
func boardStore(t *testing.T, n int) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "board.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := fillLeads(s, n); err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.Exec(`UPDATE leads SET updated_at = 1790000000 WHERE id % 17 = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.Exec(`UPDATE leads SET voided = 1 WHERE id % 23 = 0`); err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// boardFilters are the board's filters alone and combined, with searches
// matching most leads, many and few.
func boardFilters(t *testing.T, s *Store) map[string]LeadFilter {
	t.Helper()
	var owner, rare string
	if err := s.read.QueryRow(`SELECT owner FROM leads WHERE owner != '' GROUP BY owner ORDER BY count(*) DESC LIMIT 1`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if err := s.read.QueryRow(`SELECT name FROM leads WHERE length(name) = 3 ORDER BY id DESC LIMIT 1`).Scan(&rare); err != nil {
		t.Fatal(err)
	}
	const day = 86400
	from, to := int64(1_800_000_000-200*day), int64(1_800_000_000-110*day)
	return map[string]LeadFilter{
		"none":                  {},
		"search, most (公司)":     {Query: "公司"},
		"search, most (有限公司)":   {Query: "有限公司"},
		"search, many (科技)":     {Query: "科技"},
		"search, a name":        {Query: rare},
		"search, two of a name": {Query: string([]rune(rare)[1:])},
		"search, an address":    {Query: "MAIL1"},
		"search, every address": {Query: ".CN"},
		"search, nothing":       {Query: "无此线索"},
		"search, one character": {Query: "王"},
		"owner":                 {Owner: owner},
		"source":                {Source: "expo"},
		"pool":                  {LeadPool: "pool1"},
		"created between":       {CreatedFrom: from, CreatedTo: to},
		"updated between":       {UpdatedFrom: from, UpdatedTo: to},
		"owner + created":       {Owner: owner, CreatedFrom: from, CreatedTo: to},
		"owner + source + pool": {Owner: owner, Source: "expo", LeadPool: "pool1"},
		"source + pool":         {Source: "web", LeadPool: "pool1"},
		"search + owner":        {Query: "科技", Owner: owner},
		"search (most) + owner": {Query: "公司", Owner: owner},
		"search (most) + pool + updated": {Query: "公司", LeadPool: "pool1", UpdatedFrom: from,
			UpdatedTo: to},
		"every filter": {Query: "公司", Owner: owner, Source: "web", LeadPool: "pool1", CreatedFrom: from, CreatedTo: to,
			UpdatedFrom: from, UpdatedTo: to},
	}
}

// The board answers each filter, alone and combined, with exactly the
// cards and counts a straightforward reading of every lead gives: with
// the limits as shipped (every count exact at this size), and with limits
// so low that counting stops, where a count is a lower bound that says
// so and never more than the true count, and the cards stay exact.
func TestBoardMatchesAReferenceReading(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a copy of leads")
	}
	s := boardStore(t, 1500)
	ctx := context.Background()
	const page = 12
	for _, limits := range []struct {
		name          string
		count, search int
	}{{"as shipped", defaultBoardLimits.count, defaultBoardLimits.search}, {"counting stops", 40, 25}} {
		s.SetBoardLimits(limits.count, limits.search)
		bounded := 0
		for name, f := range boardFilters(t, s) {
			for bt := 1; bt <= 3; bt++ {
				f.BusinessType = benchBT(bt)
				var statuses []string
				for st := 1; st <= 6; st++ {
					statuses = append(statuses, benchStatus(bt, st))
				}
				got, err := s.Board(ctx, f, statuses, page)
				if err != nil {
					t.Fatal(err)
				}
				want := boardRef(t, s, f)
				for _, st := range statuses {
					where := fmt.Sprintf("%s, %s, %s, %s", limits.name, name, f.BusinessType, st)
					col, ref := got[st], want[st]
					switch {
					case !col.AtLeast && col.Count != len(ref):
						t.Errorf("%s: count %d, want %d", where, col.Count, len(ref))
					case col.AtLeast && (col.Count > len(ref) || col.Count <= page):
						t.Errorf("%s: count at least %d, of %d (more than a page)", where, col.Count, len(ref))
					}
					if col.AtLeast {
						bounded++
					}
					if col.More != (len(ref) > page) {
						t.Errorf("%s: more %v with %d leads", where, col.More, len(ref))
					}
					var gotIDs, wantIDs []string
					for _, l := range col.Cards {
						gotIDs = append(gotIDs, l.UUID)
					}
					for _, l := range ref[:min(page, len(ref))] {
						wantIDs = append(wantIDs, l.UUID)
					}
					if !slices.Equal(gotIDs, wantIDs) {
						t.Errorf("%s: cards\n%v\nwant\n%v", where, gotIDs, wantIDs)
					}
					if len(col.Cards) > 0 && col.Cards[0].Fields == nil {
						t.Errorf("%s: a card without its lead's fields", where)
					}
				}
			}
		}
		if limits.name == "as shipped" && bounded > 0 {
			t.Errorf("%d columns bounded at 1,500 leads", bounded)
		}
		if limits.name != "as shipped" && bounded == 0 {
			t.Error("no column bounded with the low limits: the test does not reach the lower bounds")
		}
	}
}

// likeExact: a LIKE finds what the trigram index finds only for searches
// without letters that others fold onto.
func TestBoardTextCheckFallsBackToTheIndex(t *testing.T) {
	for q, want := range map[string]bool{"科技": true, "公司 2": true, "tw": true, ".cn": true, "Kelvin": false, "sun": false,
		"li": false, "Émile": false, "ÅB": false} {
		if got := likeExact(q); got != want {
			t.Errorf("likeExact(%q) = %v, want %v", q, got, want)
		}
		check, _ := textCheck(q, ftsPhrase(q))
		if strings.Contains(check, "leads_fts") == want {
			t.Errorf("%q: check %s", q, check)
		}
	}
}
