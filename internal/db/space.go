package db

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// TableSpace is one table's share of the database file: its rows, the
// bytes of its own pages and of its indexes' (dbstat counts whole pages,
// free space inside them included), and whether the query planner has
// statistics for it (sqlite_stat1, kept by Optimize) and how many rows
// they saw.
type TableSpace struct {
	Table      string
	Rows       int64
	Bytes      int64
	IndexBytes int64
	Analyzed   bool
	StatRows   int64
}

// Total is the table's bytes with its indexes'.
func (t TableSpace) Total() int64 { return t.Bytes + t.IndexBytes }

// Space is what takes the room in the database file, largest first: each
// table with its indexes (SQLite's own tables and free pages left out).
// It reads every page once (dbstat), so it is for an administrator's
// page, not a hot path: about a second per few hundred MB.
func (s *Store) Space(ctx context.Context) ([]TableSpace, error) {
	owner, err := s.btreeOwners(ctx)
	if err != nil {
		return nil, err
	}
	byTable := map[string]*TableSpace{}
	for _, table := range owner {
		if byTable[table] == nil {
			byTable[table] = &TableSpace{Table: table}
		}
	}
	rows, err := s.read.QueryContext(ctx, `SELECT name, pgsize FROM dbstat WHERE aggregate = TRUE`)
	if err != nil {
		return nil, fmt.Errorf("db: space by table: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var bytes int64
		if err := rows.Scan(&name, &bytes); err != nil {
			return nil, fmt.Errorf("db: space by table: %w", err)
		}
		table, ok := owner[name]
		if !ok {
			continue // SQLite's own (sqlite_schema, sqlite_stat1)
		}
		if name == table {
			byTable[table].Bytes += bytes
		} else {
			byTable[table].IndexBytes += bytes
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: space by table: %w", err)
	}
	analyzed, err := s.analyzedTables(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]TableSpace, 0, len(byTable))
	for _, t := range byTable {
		// Table names come from sqlite_schema, never from a user.
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+t.Table+`"`).Scan(&t.Rows); err != nil {
			return nil, fmt.Errorf("db: count %s: %w", t.Table, err)
		}
		t.StatRows, t.Analyzed = analyzed[t.Table]
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b TableSpace) int {
		return cmp.Or(cmp.Compare(b.Total(), a.Total()), strings.Compare(a.Table, b.Table))
	})
	return out, nil
}

// btreeOwners maps each table and index of the schema (not SQLite's own,
// not the parts of virtual tables) to the table it belongs to.
func (s *Store) btreeOwners(ctx context.Context) (map[string]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT name, tbl_name FROM sqlite_schema
		WHERE type IN ('table', 'index') AND rootpage > 0 AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return nil, fmt.Errorf("db: schema: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, table string
		if err := rows.Scan(&name, &table); err != nil {
			return nil, fmt.Errorf("db: schema: %w", err)
		}
		out[name] = table
	}
	return out, rows.Err()
}

// analyzedTables are the tables the planner has statistics for, with the
// rows the statistics saw (each stat1 row starts with the count).
func (s *Store) analyzedTables(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	var exists bool
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) > 0 FROM sqlite_schema WHERE name = 'sqlite_stat1'`).Scan(&exists); err != nil || !exists {
		return out, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT tbl, MAX(CAST(stat AS INTEGER)) FROM sqlite_stat1 GROUP BY tbl`)
	if err != nil {
		return nil, fmt.Errorf("db: planner statistics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table string
		var n int64
		if err := rows.Scan(&table, &n); err != nil {
			return nil, fmt.Errorf("db: planner statistics: %w", err)
		}
		out[table] = n
	}
	return out, rows.Err()
}

// StatisticsRows is how many rows of table the query planner's statistics
// saw when last gathered; ok is false when it has none.
func (s *Store) StatisticsRows(ctx context.Context, table string) (n int64, ok bool, err error) {
	m, err := s.analyzedTables(ctx)
	n, ok = m[table]
	return n, ok, err
}
