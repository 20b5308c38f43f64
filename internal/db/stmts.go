package db

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
	"sync/atomic"
)

// The read pool's connections keep their prepared statements (issue 18).
// database/sql hands a query with arguments straight to the driver, and
// modernc's driver prepares it, runs it and finalizes it: SQLite parses
// and plans the text on every call, and under 50 connections of list,
// board and scores pages that was 9 % of the server's CPU (13 % of a plain
// list page). Each read connection now keeps the statements it prepared,
// by their text, the keptPerConn most recently used, and runs a query it
// has seen again on the kept statement: bound anew, stepped, reset when
// its rows close. What a statement answers never depends on when it was
// prepared: SQLite prepares a kept statement again by itself when the
// schema or the planner's statistics changed (and, with those
// statistics, when the values bound could change its plan), so nothing
// has to be invalidated by hand. The write pool keeps none: its queries
// run inside transactions whose statements may overlap.

// keptPerConn is how many statements a read connection keeps. The text
// of a page's query changes with the filters it was asked with, not with
// their values: the list, the board and the scores page under every
// filter the harness tries come to about 80 texts (a connection keeping
// 64 prepared a third of them again on every round). Each kept statement
// holds its compiled program in SQLite's memory, about 10 KB for these
// queries (SQLITE_DBSTATUS_STMT_USED): 1.3 MB a connection when full.
const keptPerConn = 128

// sqliteConn is what modernc's connections offer and database/sql uses.
type sqliteConn interface {
	driver.Conn
	driver.QueryerContext
	driver.ExecerContext
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

// stmtCounts are a pool's kept statements, counted over its connections.
type stmtCounts struct {
	prepared atomic.Int64 // statements prepared to be kept
	reused   atomic.Int64 // queries run on a kept statement
	direct   atomic.Int64 // queries run unkept: their statement was busy, or the connection is not SQLite's
	open     atomic.Int64 // kept statements not yet closed
}

// keptStmtsConnector opens connections of drv that keep their statements.
type keptStmtsConnector struct {
	drv    driver.Driver
	dsn    string
	keep   int
	counts *stmtCounts
}

func (c *keptStmtsConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		return conn, nil
	}
	return &keptStmtsConn{sqliteConn: sc, keep: c.keep, counts: c.counts, byText: map[string]*list.Element{}}, nil
}

func (c *keptStmtsConnector) Driver() driver.Driver { return c.drv }

// keptStmtsConn is a connection and the statements it keeps. database/sql
// uses a connection from one goroutine at a time; the mutex covers a
// query's rows being closed by its context's end meanwhile.
type keptStmtsConn struct {
	sqliteConn
	keep   int
	counts *stmtCounts
	mu     sync.Mutex
	byText map[string]*list.Element // of *keptStmt
	order  list.List                // most recently used first
}

// keptStmt is a statement a connection keeps; busy while its rows are
// open (a statement runs one query at a time).
type keptStmt struct {
	text    string
	st      driver.Stmt
	busy    bool
	dropped bool // out of the connection's list: closed once not busy
}

// QueryContext runs q on the statement kept for its text, preparing and
// keeping it the first time. A statement still busy (its earlier rows are
// open) leaves the query to run unkept.
func (c *keptStmtsConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	k, err := c.take(ctx, q)
	if err != nil {
		return nil, err
	}
	if k == nil {
		c.counts.direct.Add(1)
		return c.sqliteConn.QueryContext(ctx, q, args)
	}
	rows, err := k.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.put(k)
		return nil, err
	}
	return &keptRows{Rows: rows, conn: c, k: k}, nil
}

// take marks q's kept statement busy and returns it, preparing it when
// the connection has none; nil when it is busy.
func (c *keptStmtsConn) take(ctx context.Context, q string) (*keptStmt, error) {
	c.mu.Lock()
	if e, ok := c.byText[q]; ok {
		k := e.Value.(*keptStmt)
		if k.busy {
			c.mu.Unlock()
			return nil, nil
		}
		k.busy = true
		c.order.MoveToFront(e)
		c.mu.Unlock()
		c.counts.reused.Add(1)
		return k, nil
	}
	c.mu.Unlock()
	st, err := c.sqliteConn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if _, ok := st.(driver.StmtQueryContext); !ok {
		st.Close()
		return nil, nil
	}
	c.counts.prepared.Add(1)
	c.counts.open.Add(1)
	k := &keptStmt{text: q, st: st, busy: true}
	c.mu.Lock()
	c.byText[q] = c.order.PushFront(k)
	c.mu.Unlock()
	c.closeIdle(c.keep)
	return k, nil
}

// put ends k's use by a query.
func (c *keptStmtsConn) put(k *keptStmt) {
	c.mu.Lock()
	k.busy = false
	drop := k.dropped
	c.mu.Unlock()
	if drop {
		c.closeStmt(k)
	}
}

func (c *keptStmtsConn) closeStmt(k *keptStmt) {
	k.st.Close()
	c.counts.open.Add(-1)
}

// Close closes the kept statements, then the connection; one still busy
// is closed when its rows are.
func (c *keptStmtsConn) Close() error {
	c.closeIdle(0)
	c.mu.Lock()
	for e := c.order.Front(); e != nil; e = e.Next() {
		e.Value.(*keptStmt).dropped = true
	}
	c.order.Init()
	c.byText = map[string]*list.Element{}
	c.mu.Unlock()
	return c.sqliteConn.Close()
}

// keptRows are a kept statement's rows: closing them resets the statement
// (modernc's driver) and frees it for the next query. They describe no
// column types (nothing here asks database/sql for them).
type keptRows struct {
	driver.Rows
	conn *keptStmtsConn
	k    *keptStmt
	once sync.Once
}

func (r *keptRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(func() { r.conn.put(r.k) })
	return err
}

// closeIdle closes the least recently used statements not in use until
// the connection keeps at most n (0: every one not in use). Only the
// connection's holder may call it.
func (c *keptStmtsConn) closeIdle(n int) {
	c.mu.Lock()
	var out []*keptStmt
	for e := c.order.Back(); e != nil && c.order.Len() > n; {
		prev := e.Prev()
		if k := e.Value.(*keptStmt); !k.busy {
			c.order.Remove(e)
			delete(c.byText, k.text)
			out = append(out, k)
		}
		e = prev
	}
	c.mu.Unlock()
	for _, k := range out {
		c.closeStmt(k)
	}
}

// ReleaseKeptStatements closes the statements the read pool's connections
// keep, for a console gone quiet: each holds its compiled program in
// SQLite's memory (the harness's server, quiet after its load run, held
// 15 MB more with them than without). The next busy spell prepares them
// again, once per text and connection. It takes each open connection in
// turn, waiting for one in use.
func (s *Store) ReleaseKeptStatements(ctx context.Context) error {
	n := s.read.Stats().OpenConnections
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := s.read.Conn(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c) // held: the next Conn is another connection
		if err := c.Raw(func(dc any) error {
			if k, ok := dc.(*keptStmtsConn); ok {
				k.closeIdle(0) // as the connection's holder (Raw): the driver's connection is not safe for two goroutines
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}
