package db

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
)

// keptStore is a copy of n leads with scores and statistics, its read pool
// down to one connection so that what a connection keeps is what the
// store keeps.
func keptStore(t *testing.T, n int) *Store {
	t.Helper()
	s := openTemp(t)
	if err := fillLeads(s, n); err != nil {
		t.Fatal(err)
	}
	if err := fillScores(s, n); err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.read.SetMaxOpenConns(1)
	return s
}

type stmtSnapshot struct{ prepared, reused, direct, open int64 }

func (s *Store) stmtSnapshot() stmtSnapshot {
	c := s.readStmts
	return stmtSnapshot{c.prepared.Load(), c.reused.Load(), c.direct.Load(), c.open.Load()}
}

// The pages' store calls run on kept statements: asked a second time with
// other values of the same filters, they prepare nothing and run no query
// unkept. The test fails when a page's query bypasses the kept statements
// (a connection that no longer keeps them, a query prepared per call).
func TestPagesQueriesRunOnKeptStatements(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a copy of leads")
	}
	s := keptStore(t, 2_000)
	ctx := context.Background()
	v := readPlanValues(t, s)
	statuses := []string{benchStatus(1, 1), benchStatus(1, 2), benchStatus(1, 3)}
	pages := func(round int) {
		t.Helper()
		owner := fmt.Sprint(18400 + round) // another owner each round: other values, same texts
		for name, f := range filterShapes(v) {
			if f.Owner != "" {
				f.Owner = owner
			}
			for _, sort := range []string{"updated", "name"} {
				f.Sort, f.Limit, f.Offset = sort, 50, 0
				if _, _, err := s.ListLeads(ctx, f); err != nil {
					t.Fatalf("list, %s: %v", name, err)
				}
			}
			board := f
			board.BusinessType = benchBT(1)
			if _, err := s.Board(ctx, board, statuses, 12); err != nil {
				t.Fatalf("board, %s: %v", name, err)
			}
		}
		for _, pop := range []ScorePopulation{{}, {Leads: LeadFilter{Owner: owner}}, {Leads: LeadFilter{BusinessType: benchBT(1)}}} {
			if _, err := s.ScoreView(ctx, ScoreQuery{Pop: pop, Kind: ScoreActive}, 1_800_000_000, 10); err != nil {
				t.Fatalf("scores, %+v: %v", pop, err)
			}
		}
		if _, err := s.LeadPools(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pages(0)
	first := s.stmtSnapshot()
	if first.prepared == 0 || first.open == 0 {
		t.Fatalf("the first round kept no statement: %+v", first)
	}
	pages(1)
	second := s.stmtSnapshot()
	if second.prepared != first.prepared || second.direct != first.direct {
		t.Errorf("the second round prepared %d statements and ran %d queries unkept; want none",
			second.prepared-first.prepared, second.direct-first.direct)
	}
	if second.reused <= first.reused {
		t.Errorf("the second round reused no kept statement: %+v then %+v", first, second)
	}
}

// A connection keeps its keptPerConn most recently used statements: one
// more pushes out the least recently used, which is prepared again when
// asked; closing the store closes every kept statement.
func TestKeptStatementsAreBoundedAndClosedWithTheStore(t *testing.T) {
	s := openTemp(t)
	s.read.SetMaxOpenConns(1)
	ctx := context.Background()
	ask := func(i int) {
		t.Helper()
		var got int
		if err := s.read.QueryRowContext(ctx, fmt.Sprintf("SELECT %d + ?", i), 1).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != i+1 {
			t.Fatalf("SELECT %d + 1 = %d", i, got)
		}
	}
	base := s.stmtSnapshot()
	for i := range keptPerConn + 5 {
		ask(i)
	}
	after := s.stmtSnapshot()
	if n := after.prepared - base.prepared; n != keptPerConn+5 {
		t.Fatalf("prepared %d statements for %d texts", n, keptPerConn+5)
	}
	if after.open > keptPerConn {
		t.Fatalf("%d statements kept open, more than %d", after.open, keptPerConn)
	}
	ask(keptPerConn + 4) // the most recent: kept
	if got := s.stmtSnapshot(); got.prepared != after.prepared || got.reused != after.reused+1 {
		t.Fatalf("the most recent statement was not reused: %+v then %+v", after, got)
	}
	ask(0) // the least recent: pushed out, prepared again
	if got := s.stmtSnapshot(); got.prepared != after.prepared+1 {
		t.Fatalf("the statement pushed out was not prepared again: %+v then %+v", after, got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if open := s.readStmts.open.Load(); open != 0 {
		t.Fatalf("%d kept statements left open after Close", open)
	}
}

// A kept statement answers what the copy holds now: after writes, new
// statistics, a new index and a changed table (SQLite prepares it again
// itself when the schema changed).
func TestKeptStatementsFollowWritesAndSchemaChanges(t *testing.T) {
	s := openTemp(t)
	s.read.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE kept_t(a INTEGER)`); err != nil {
		t.Fatal(err)
	}
	count := func(want int) {
		t.Helper()
		var n int
		if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM kept_t WHERE a >= ?`, 0).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("count = %d, want %d", n, want)
		}
	}
	columns := func(want int) {
		t.Helper()
		rows, err := s.read.QueryContext(ctx, `SELECT * FROM kept_t`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		if len(cols) != want {
			t.Fatalf("columns %v, want %d", cols, want)
		}
	}
	count(0)
	columns(1)
	for i, step := range []string{
		`INSERT INTO kept_t VALUES (1), (2)`,
		`ANALYZE`,
		`CREATE INDEX kept_t_a ON kept_t(a)`,
		`ALTER TABLE kept_t ADD COLUMN b TEXT`,
	} {
		before := s.stmtSnapshot()
		if _, err := s.write.ExecContext(ctx, step); err != nil {
			t.Fatal(err)
		}
		count(2)
		if got := s.stmtSnapshot(); got.reused != before.reused+1 {
			t.Fatalf("after %s the count ran on another statement: %+v then %+v", step, before, got)
		}
		columns(1 + i/3) // the added column is seen by the kept SELECT *
	}
}

// A statement whose rows are still open (on a connection held by the
// caller) is busy: the same text asked meanwhile runs unkept, and both
// answers are whole.
func TestBusyKeptStatementLeavesTheQueryUnkept(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	conn, err := s.read.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT i FROM n`
	read := func(rows interface {
		Next() bool
		Scan(...any) error
		Err() error
	}) (sum int) {
		for rows.Next() {
			var i int
			if err := rows.Scan(&i); err != nil {
				t.Fatal(err)
			}
			sum += i
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	outer, err := conn.QueryContext(ctx, q, 10)
	if err != nil {
		t.Fatal(err)
	}
	before := s.stmtSnapshot()
	inner, err := conn.QueryContext(ctx, q, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.stmtSnapshot(); got.direct != before.direct+1 {
		t.Fatalf("the second query did not run unkept: %+v then %+v", before, got)
	}
	if sum := read(inner); sum != 10 {
		t.Fatalf("inner sum %d, want 10", sum)
	}
	inner.Close()
	if sum := read(outer); sum != 55 {
		t.Fatalf("outer sum %d, want 55", sum)
	}
	outer.Close()
	before = s.stmtSnapshot()
	again, err := conn.QueryContext(ctx, q, 3)
	if err != nil {
		t.Fatal(err)
	}
	if sum := read(again); sum != 6 {
		t.Fatalf("sum %d, want 6", sum)
	}
	again.Close()
	if got := s.stmtSnapshot(); got.reused != before.reused+1 {
		t.Fatalf("the statement was not free again once its rows closed: %+v then %+v", before, got)
	}
}

// Many goroutines over the whole read pool, more texts than a connection
// keeps: every answer is right (run with -race).
func TestKeptStatementsUnderConcurrentQueries(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				k := (g*37 + i) % (keptPerConn * 2)
				rows, err := s.read.QueryContext(ctx, fmt.Sprintf("SELECT value FROM json_each(?) WHERE value >= %d", k), fmt.Sprintf("[%d,%d,%d]", k-1, k, k+1))
				if err != nil {
					errs <- err
					return
				}
				var got []int
				for rows.Next() {
					var v int
					if err := rows.Scan(&v); err != nil {
						errs <- err
						return
					}
					got = append(got, v)
				}
				rows.Close()
				sort.Ints(got)
				if len(got) != 2 || got[0] != k || got[1] != k+1 {
					errs <- fmt.Errorf("text %d: got %v", k, got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if open := s.stmtSnapshot().open; open > int64(keptPerConn*s.read.Stats().MaxOpenConnections) {
		t.Errorf("%d statements kept open", open)
	}
}

// A quiet console hands back its kept statements: ReleaseKeptStatements
// closes every statement of every read connection, and the next query
// prepares its statement again and answers as before.
func TestReleaseKeptStatements(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 { // more than one connection keeps statements
		wg.Go(func() {
			for i := range 20 {
				var n int
				if err := s.read.QueryRowContext(ctx, fmt.Sprintf("SELECT %d + ?", i), g).Scan(&n); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if s.stmtSnapshot().open == 0 {
		t.Fatal("no statement kept")
	}
	if err := s.ReleaseKeptStatements(ctx); err != nil {
		t.Fatal(err)
	}
	before := s.stmtSnapshot()
	if before.open != 0 {
		t.Fatalf("%d statements kept after the release", before.open)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, "SELECT 3 + ?", 4).Scan(&n); err != nil || n != 7 {
		t.Fatalf("SELECT 3 + 4 = %d, %v", n, err)
	}
	if got := s.stmtSnapshot(); got.prepared != before.prepared+1 || got.open != 1 {
		t.Fatalf("after the release the query was not prepared and kept again: %+v then %+v", before, got)
	}
}
