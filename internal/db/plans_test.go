package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"modernc.org/sqlite"
)

// The query plans of the hot paths (issue 18): every query the board, the
// list, the scores page and the lead page run is explained as it runs
// (EXPLAIN QUERY PLAN, on the same connection, with the same arguments),
// and the test fails when one reads the whole of leads: a SCAN of the
// table, or of one of its indexes from end to end. The copy is planLeads
// leads with scores, its statistics gathered as db.Open gathers them; set
// JINGDESK_PLAN_DB to a copy synced by cmd/jingdesk-load to check the
// plans on it instead (the test then reads it through a copy).

// planLeads is the size of the copy the plans are checked on: its
// statistics lead the planner as those of 100,000 leads do (the test
// passes on a 100,000-lead copy too: JINGDESK_PLAN_DB).
const planLeads = 8_000

// fullScanOfLeads matches a plan step that walks all of leads: a SCAN of
// the table or of an index; wideWalkOfLeads one that walks every lead not
// voided by an index on voided alone, or reads the row of every lead of a
// business type (most of the copy: 60,000 of 100,000 in the synced
// copy's largest; the board's counts walk its covering index, entries
// without rows). A wide walk is bounded only by a LIMIT the rows reach in
// the walk's order: not when the plan sorts them all (a temporary B-tree
// for the whole ORDER BY), which is how search regressed (the rowid walk
// lost to a voided-first index and a sort of every match: 255 ms), nor in
// a query without a LIMIT, which is how the pipeline report regressed (a
// business type's leads outside, the date range walked per lead: 9.7 s).
var (
	fullScanOfLeads = regexp.MustCompile(`^SCAN (l|leads)\b`)
	wideWalkOfLeads = regexp.MustCompile(`^SEARCH (l|leads) USING (COVERING INDEX \w+ \(voided=\?\)|INDEX \w+ \((voided=\?|business_type=\?|business_type=\? AND voided=\?)\))$`)
)

// readsAllLeads reports a step of a query's plan (all its steps: plan)
// that reads all of leads, or most of them.
func readsAllLeads(query, step string, plan []string) bool {
	limited := strings.Contains(strings.ToUpper(query), "LIMIT") && !slices.Contains(plan, "USE TEMP B-TREE FOR ORDER BY")
	if fullScanOfLeads.MatchString(step) {
		// A search of one character has no index: by design it reads the
		// rows newest first (the rowid's order) and stops at its limit.
		return !(step == "SCAN l" && limited && strings.Contains(query, " LIKE ") && strings.Contains(query, "ORDER BY l.id DESC"))
	}
	if !wideWalkOfLeads.MatchString(step) || strings.Contains(query, "l.voided = 1") { // a walk of the few voided (a search's count)
		return false
	}
	return !limited
}

// explained records the plans of the queries run while it is recording.
type explained struct {
	mu    sync.Mutex
	on    bool
	plans map[string][]string // query → plan steps
}

var plans = &explained{plans: map[string][]string{}}

func (e *explained) record(on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.on, e.plans = on, map[string][]string{}
}

func (e *explained) take() map[string][]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.plans
	e.plans = map[string][]string{}
	return out
}

func init() {
	sql.Register("sqlite-explained", explainDriver{})
}

type explainDriver struct{}

func (explainDriver) Open(name string) (driver.Conn, error) {
	c, err := (&sqlite.Driver{}).Open(name)
	if err != nil {
		return nil, err
	}
	return explainConn{c.(sqliteConn)}, nil
}

// explainConn explains the queries run on it, directly or on a statement
// it prepared (the read pool's kept statements: stmts.go).
type explainConn struct{ sqliteConn }

func (c explainConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.record(ctx, q, args); err != nil {
		return nil, err
	}
	return c.sqliteConn.QueryContext(ctx, q, args)
}

func (c explainConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.sqliteConn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return explainStmt{Stmt: st, conn: c, q: q}, nil
}

// record explains q, when recording and a query.
func (c explainConn) record(ctx context.Context, q string, args []driver.NamedValue) error {
	plans.mu.Lock()
	on := plans.on
	plans.mu.Unlock()
	if on && strings.HasPrefix(strings.TrimSpace(strings.ToUpper(q)), "SELECT") || on && strings.HasPrefix(strings.TrimSpace(strings.ToUpper(q)), "WITH") {
		steps, err := c.explain(ctx, q, args)
		if err != nil {
			return err
		}
		plans.mu.Lock()
		plans.plans[q] = steps
		plans.mu.Unlock()
	}
	return nil
}

type explainStmt struct {
	driver.Stmt
	conn explainConn
	q    string
}

func (s explainStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.conn.record(ctx, s.q, args); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s explainStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c explainConn) explain(ctx context.Context, q string, args []driver.NamedValue) ([]string, error) {
	rows, err := c.sqliteConn.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args)
	if err != nil {
		return nil, fmt.Errorf("explain %s: %w", q, err)
	}
	defer rows.Close()
	var steps []string
	vals := make([]driver.Value, len(rows.Columns()))
	for rows.Next(vals) == nil {
		steps = append(steps, fmt.Sprint(vals[3]))
	}
	return steps, nil
}

// planStore opens the copy the plans are checked on.
func planStore(t *testing.T, leads int) *Store {
	t.Helper()
	old := driverName
	driverName = "sqlite-explained"
	t.Cleanup(func() { driverName = old })
	dir := t.TempDir()
	path := filepath.Join(dir, "plans.db")
	if from := os.Getenv("JINGDESK_PLAN_DB"); from != "" {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if os.Getenv("JINGDESK_PLAN_DB") == "" && leads > 0 {
		if err := fillLeads(s, leads); err != nil {
			t.Fatal(err)
		}
		if err := fillScores(s, leads); err != nil {
			t.Fatal(err)
		}
		if err := s.ReplaceCrowdMembers(context.Background(), 7, []CrowdMemberRow{{UUID: "p1"}, {UUID: "p2"}}); err != nil {
			t.Fatal(err)
		}
		// A few leads voided, as in a synced copy (the planner's
		// statistics then see voided = 0 as a condition that selects).
		if _, err := s.write.Exec(`UPDATE leads SET voided = 1 WHERE id % 50 = 0`); err != nil {
			t.Fatal(err)
		}
		// A recorded status change for a third of the leads, at their
		// last update (the pipeline report reads them by date).
		if _, err := s.write.Exec(`INSERT INTO lead_status_history(lead_uuid, at, from_status, to_status, origin)
			SELECT uuid, updated_at, '', status, 'sync' FROM leads WHERE id % 3 = 0`); err != nil {
			t.Fatal(err)
		}
		// As db.Open does on a copy that grew since: statistics where missing.
		if err := s.Optimize(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A new connection reads them.
		s.read.SetMaxIdleConns(0)
		s.read.SetMaxIdleConns(4)
	}
	return s
}

// planValues are the copy's own values of each filter.
type planValues struct {
	bt, status, owner, source, pool string
	big3, big2, small3              string // searches matching many leads, and few
	from, to                        int64
	uuid                            string
	statuses                        []string // bt's statuses, in order
}

// planCopy is the copy of planLeads leads the plan tests read, the values
// their filters use, and the recorder of query plans turned on for the
// test (skipped in -short: building the copy takes seconds).
func planCopy(t *testing.T) (*Store, planValues) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a copy of leads")
	}
	s := planStore(t, planLeads)
	v := readPlanValues(t, s)
	plans.record(true)
	t.Cleanup(func() { plans.record(false) })
	return s, v
}

func readPlanValues(t *testing.T, s *Store) planValues {
	t.Helper()
	var v planValues
	one := func(dst any, q string) {
		if err := s.read.QueryRow(q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	one(&v.bt, `SELECT business_type FROM lead_counts GROUP BY 1 ORDER BY sum(n) DESC LIMIT 1`)
	one(&v.status, `SELECT status FROM lead_counts WHERE business_type = (SELECT business_type FROM lead_counts GROUP BY 1 ORDER BY sum(n) DESC LIMIT 1) ORDER BY n DESC LIMIT 1`)
	one(&v.owner, `SELECT owner FROM leads WHERE owner != '' LIMIT 1`)
	one(&v.source, `SELECT source FROM leads WHERE source != '' LIMIT 1`)
	one(&v.pool, `SELECT lead_pool FROM lead_pools WHERE lead_pool != '' ORDER BY n DESC LIMIT 1`)
	one(&v.uuid, `SELECT uuid FROM leads LIMIT 1`)
	one(&v.from, `SELECT min(created_at) + (max(created_at) - min(created_at)) / 2 FROM leads`)
	v.to = v.from + 30*86400
	var name string
	one(&name, `SELECT company FROM leads WHERE company != '' LIMIT 1`)
	r := []rune(name)
	v.big3, v.big2 = string(r[len(r)-3:]), string(r[len(r)-2:]) // 公司: in most companies
	one(&name, `SELECT name FROM leads WHERE length(name) >= 3 ORDER BY id DESC LIMIT 1`)
	v.small3 = string([]rune(name)[:3])
	var err error
	v.statuses, err = s.queryStrings(context.Background(), "statuses", `SELECT DISTINCT status FROM lead_counts WHERE business_type = ? ORDER BY 1`, v.bt)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestHotPathsUseIndexes runs each page's store queries under every
// filter, sort and population the pages offer and fails on a full scan of
// leads in any of their plans.
func TestHotPathsUseIndexes(t *testing.T) {
	s, v := planCopy(t)
	ctx := context.Background()
	check := func(name string, run func() error) {
		t.Helper()
		plans.take()
		if err := run(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		seen := plans.take()
		if len(seen) == 0 {
			t.Fatalf("%s: no query explained", name)
		}
		for q, steps := range seen {
			for _, step := range steps {
				if readsAllLeads(q, step, steps) {
					t.Errorf("%s reads all of leads (%s):\n%s\nplan: %s", name, step, q, strings.Join(steps, " | "))
				}
			}
		}
	}
	filters := filterShapes(v)
	filters["business type"] = LeadFilter{BusinessType: v.bt}
	filters["business type + status"] = LeadFilter{BusinessType: v.bt, Status: v.status}
	for name, f := range filters {
		board := f
		board.BusinessType = v.bt
		board.Status = ""
		check("board, "+name, func() error {
			counts, err := s.CountLeadsByStatus(ctx, board)
			if err != nil {
				return err
			}
			for st := range counts {
				col := board
				col.Status, col.Sort, col.Limit = st, "updated", 20
				if _, err := s.LeadsPage(ctx, col); err != nil {
					return err
				}
			}
			_, err = s.LeadPools(ctx)
			return err
		})
		for _, sort := range []string{"updated", "created", "name", "status_since"} {
			for _, offset := range []int{0, 50, planLeads / 4} {
				list := f
				list.Sort, list.Limit, list.Offset = sort, 50, offset
				check(fmt.Sprintf("list, %s, sorted by %s, from %d", name, sort, offset), func() error {
					_, _, err := s.ListLeads(ctx, list)
					return err
				})
			}
		}
	}
	// An owner's list by name or by update walks an index in the list's
	// order (leads_owner_name, leads_owner): no sort of the owner's leads.
	for _, sort := range []string{"name", "updated"} {
		plans.take()
		if _, _, err := s.ListLeads(ctx, LeadFilter{Owner: v.owner, Sort: sort, Limit: 50, Offset: 100}); err != nil {
			t.Fatal(err)
		}
		for q, steps := range plans.take() {
			if strings.Contains(q, "ORDER BY") && slices.Contains(steps, "USE TEMP B-TREE FOR ORDER BY") {
				t.Errorf("an owner's list sorted by %s sorts the owner's leads:\n%s\nplan: %s", sort, q, strings.Join(steps, " | "))
			}
		}
	}
	pops := map[string]ScorePopulation{
		"all":           {},
		"business type": {Leads: LeadFilter{BusinessType: v.bt}},
		"status":        {Leads: LeadFilter{BusinessType: v.bt, Status: v.status}},
		"owner":         {Leads: LeadFilter{Owner: v.owner}},
		"crowd":         {GroupID: 7},
	}
	for name, p := range pops {
		for _, kind := range []string{ScoreIdentity, ScoreActive, ScoreIntention} {
			q := ScoreQuery{Pop: p, Kind: kind, Product: "p1"}
			check(fmt.Sprintf("scores, %s, %s", name, kind), func() error {
				if _, err := s.ScoreProducts(ctx, p.Subject()); err != nil {
					return err
				}
				if _, err := s.ScoreSummary(ctx, q); err != nil {
					return err
				}
				if _, err := s.ScoreFreshness(ctx, p, kind, 1_800_000_000); err != nil {
					return err
				}
				for _, lowest := range []bool{false, true} {
					if _, err := s.TopScored(ctx, q, ScoreSelection{}, 20, lowest); err != nil {
						return err
					}
				}
				_, err := s.ScoreView(ctx, q, 1_800_000_000, 20) // the page reads them at once
				return err
			})
		}
	}
	// Search everything's leads: each length of query, many matches and few.
	for _, q := range []string{v.big3, v.big2, v.small3, string([]rune(v.big2)[:1])} {
		check("search everything, "+q, func() error {
			_, _, err := s.SearchLeads(ctx, q, 5)
			return err
		})
	}
	// The pipeline report: the largest business type over a month and a year.
	for _, days := range []int64{30, 365} {
		check(fmt.Sprintf("pipeline report, %d days", days), func() error {
			_, err := s.PipelineHistory(ctx, v.bt, v.from, v.from+days*86400)
			return err
		})
	}
	check("lead page", func() error {
		l, err := s.Lead(ctx, v.uuid)
		if err != nil {
			return err
		}
		if _, err := s.LeadStatusHistory(ctx, v.uuid); err != nil {
			return err
		}
		_, err = s.LeadStatusClosing(ctx, "conn", l.BusinessType, l.Status)
		return err
	})
}

// TestAFullScanFailsThePlanTest shows the test's check catching what it
// guards against: a menu filled from every lead, as the pool menu was
// before issue 18 (that query now walks the pools' partial index).
func TestAFullScanFailsThePlanTest(t *testing.T) {
	s := planStore(t, 0)
	plans.record(true)
	defer plans.record(false)
	if _, err := s.queryStrings(context.Background(), "pools", `SELECT DISTINCT source FROM leads WHERE voided = 0`); err != nil {
		t.Fatal(err)
	}
	found := false
	seen := plans.take()
	for q, steps := range seen {
		for _, step := range steps {
			found = found || readsAllLeads(q, step, steps)
		}
	}
	if !found {
		t.Log(seen)
		t.Fatal("SELECT DISTINCT source FROM leads was not seen as a full scan")
	}
}

// filterShapes are the filters whose plans are checked: each filter of
// the board and the list alone, and the combinations users make.
func filterShapes(v planValues) map[string]LeadFilter {
	return map[string]LeadFilter{
		"none":                  {},
		"search 3 (many)":       {Query: v.big3},
		"search 2 (many)":       {Query: v.big2},
		"search 3 (few)":        {Query: v.small3},
		"owner":                 {Owner: v.owner},
		"source":                {Source: v.source},
		"pool":                  {LeadPool: v.pool},
		"created between":       {CreatedFrom: v.from, CreatedTo: v.to},
		"updated between":       {UpdatedFrom: v.from, UpdatedTo: v.to},
		"owner + created":       {Owner: v.owner, CreatedFrom: v.from, CreatedTo: v.to},
		"owner + source + pool": {Owner: v.owner, Source: v.source, LeadPool: v.pool},
		"search + owner":        {Query: v.big2, Owner: v.owner},
		"search (few) + owner":  {Query: v.small3, Owner: v.owner},
		"every filter": {Query: v.big2, Owner: v.owner, Source: v.source, LeadPool: v.pool, CreatedFrom: v.from,
			CreatedTo: v.to, UpdatedFrom: v.from, UpdatedTo: v.to + 365*86400},
	}
}
