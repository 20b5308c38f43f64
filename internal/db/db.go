// Package db is jingdesk's local SQLite store: opening the file with the
// pragmas we rely on, applying embedded migrations, and typed query methods
// per area. It knows nothing of HTTP or of the platform's wire format.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned by every lookup that finds no row.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write would violate a uniqueness rule.
var ErrConflict = errors.New("already exists")

// Store holds two pools on one file: SQLite allows a single writer at a
// time, so writes go through a one-connection pool (no SQLITE_BUSY fights),
// while reads use a pool of their own that WAL lets run concurrently.
type Store struct {
	write *sql.DB
	read  *sql.DB
	path  string
	now   func() time.Time
	// readStmts counts the statements the read pool's connections keep
	// prepared (stmts.go).
	readStmts *stmtCounts
	// leadsVersion counts the writes that changed the lead copy (leads,
	// their counts, status history, sync state), so readers can cache what
	// they draw from it and know when it went stale; a write that repeats
	// what the copy holds (a synced page, an event already applied) leaves
	// it, so the board's cache is not emptied by syncs that change nothing.
	leadsVersion atomic.Int64
	// refVersion counts the writes of reference data (ReplaceRefSet,
	// DeleteRefSets), for what is derived from it and from the copy.
	refVersion atomic.Int64
	// searchSizes remembers how many leads a search matches, for the
	// version of the copy it was counted at (Store.searchSize).
	searchSizes struct {
		sync.Mutex
		version int64
		n       map[string]int // -1: a search without the index
	}
	board boardLimits // how far the board counts (board.go)
}

// LeadsVersion changes after every write to the lead copy. A reader takes
// it before reading, so anything it builds is keyed no newer than the data.
func (s *Store) LeadsVersion() int64 { return s.leadsVersion.Load() }

// RefVersion changes after every write of reference data; read it before
// reading, as LeadsVersion.
func (s *Store) RefVersion() int64 { return s.refVersion.Load() }

// leadsWritten bumps the version; deferred by every lead writer, so it
// runs after the commit (and after a failed write too, which is harmless).
func (s *Store) leadsWritten() { s.leadsVersion.Add(1) }

// Open opens (creating if needed) the database at path and applies pending
// migrations. It refuses a database written by a newer jingdesk.
func Open(ctx context.Context, path string) (*Store, error) {
	write, _, err := openPool(path, 1, 0)
	if err != nil {
		return nil, err
	}
	read, readStmts, err := openPool(path, max(readers, runtime.NumCPU()), keptPerConn)
	if err != nil {
		write.Close()
		return nil, err
	}
	s := &Store{write: write, read: read, readStmts: readStmts, path: path, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// The planner's statistics, where missing or out of date: without
	// them it guesses, and at 100,000 leads an owner's board read every
	// lead of the business type. Gathered once per database (seconds at
	// 1,000,000 leads), then only when a table grew or shrank tenfold.
	if err := s.Optimize(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// driverName is modernc's SQLite driver; the query-plan test swaps in a
// wrapper that explains every query it runs.
var driverName = "sqlite"

// Memory per connection (issue 18). Each connection keeps a page cache of
// its own; the file's pages are in the kernel's cache anyway, so a larger
// one saves a read syscall per page, not a disk read. Measured at 100,000
// leads (docs/performance.md, "Memory"): 16 MiB per connection made a
// board miss no faster than 2 MiB and grew RSS by tens of MB across the
// five connections, so each keeps cacheKiB. Memory-mapped I/O stays off:
// it would count the whole file, as it is read, in the process's RSS.
const (
	cacheKiB        = 2048
	sqliteHeapLimit = 24 << 20
	readers         = 4 // the read pool's connections: concurrent readers under WAL
)

// openPool opens a pool of conns connections to path; with keep above
// zero, each connection keeps that many prepared statements (stmts.go),
// counted in the returned stmtCounts.
func openPool(path string, conns, keep int) (*sql.DB, *stmtCounts, error) {
	q := url.Values{}
	// busy_timeout first so the other pragmas already wait instead of failing.
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheKiB))
	q.Add("_pragma", "mmap_size(0)")
	// All of SQLite's memory in the process (caches, sorts, statements),
	// over which it frees cache pages before taking more: a burst of
	// deep, sorted list pages left 40 MB of it behind without a bound.
	q.Add("_pragma", fmt.Sprintf("soft_heap_limit(%d)", sqliteHeapLimit))
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	pool, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	var counts *stmtCounts
	if keep > 0 {
		// The named driver opens each connection; the connector wraps it.
		drv := pool.Driver()
		pool.Close()
		counts = &stmtCounts{}
		pool = sql.OpenDB(&keptStmtsConnector{drv: drv, dsn: dsn, keep: keep, counts: counts})
	}
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	pool.SetConnMaxIdleTime(0)
	return pool, counts, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// Path is the database file's location.
func (s *Store) Path() string { return s.path }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.read.PingContext(ctx)
}

// SetClock replaces the store's clock; tests use it to move time.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// inTx runs fn in a write transaction, committing when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// queryStrings runs a query of one text column and returns its values;
// what names the query in errors.
func (s *Store) queryStrings(ctx context.Context, what, q string, args ...any) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("db: %s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// queryCounts runs a "key, count" query (a GROUP BY) and returns the
// counts by key; what names the query in errors.
func (s *Store) queryCounts(ctx context.Context, what, q string, args ...any) (map[string]int64, error) {
	return countRows(ctx, s.read, what, q, args...)
}

// querier is a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// countRows is queryCounts on db (a transaction's view, for one).
func countRows(ctx context.Context, db querier, what, q string, args ...any) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var key string
		var n int64
		if err := rows.Scan(&key, &n); err != nil {
			return nil, fmt.Errorf("db: %s: %w", what, err)
		}
		out[key] = n
	}
	return out, rows.Err()
}

// unixNow is the store clock in Unix seconds, the unit of every timestamp column.
func (s *Store) unixNow() int64 { return s.now().Unix() }

// notFound maps sql.ErrNoRows to ErrNotFound and wraps everything else.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("db: %s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("db: %s: %w", what, err)
}
