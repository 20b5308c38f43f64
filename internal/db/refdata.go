package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// RefSet is one cached reference set of one platform connection.
type RefSet struct {
	Connection string // which platform the set came from (base URL + app_id, or the sandbox)
	Key        string
	Kind       string
	Object     string
	Scope      string
	FetchedAt  int64 // last successful fetch, Unix seconds; 0 while never loaded
	// LastAttemptAt is the last fetch, successful or not.
	LastAttemptAt int64
	LastError     string // why the last attempt failed; "" after a success
	// LastErrorDetail is the same failure encoded by the caller (opaque here).
	LastErrorDetail string
	ItemCount       int
}

// RefItem is one entry of a reference set. Only some kinds use some
// columns (see migration 0004).
type RefItem struct {
	ID                         string
	ParentID                   string
	Name                       string
	NameEn                     string
	Sort                       int
	Type                       string
	Preset, Required, Writable bool
	Email, Department, Status  string
}

// RefItemChange is one entry a refresh added, renamed or removed.
type RefItemChange struct {
	ID     string `json:"id"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// RefChange is what one refresh changed in one set.
type RefChange struct {
	SetKey  string
	At      int64
	Added   []RefItemChange
	Renamed []RefItemChange
	Removed []RefItemChange
}

// Empty reports a change that changed nothing.
func (c RefChange) Empty() bool { return len(c.Added)+len(c.Renamed)+len(c.Removed) == 0 }

const refSetColumns = `connection, key, kind, object, scope, fetched_at, last_attempt_at, last_error, last_error_detail, item_count`

func scanRefSet(row interface{ Scan(...any) error }) (RefSet, error) {
	var r RefSet
	err := row.Scan(&r.Connection, &r.Key, &r.Kind, &r.Object, &r.Scope, &r.FetchedAt, &r.LastAttemptAt,
		&r.LastError, &r.LastErrorDetail, &r.ItemCount)
	return r, err
}

// RefSets lists the sets of one connection, by key.
func (s *Store) RefSets(ctx context.Context, connection string) ([]RefSet, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+refSetColumns+` FROM ref_sets WHERE connection = ? ORDER BY key`, connection)
	if err != nil {
		return nil, fmt.Errorf("db: reference sets: %w", err)
	}
	defer rows.Close()
	var out []RefSet
	for rows.Next() {
		r, err := scanRefSet(rows)
		if err != nil {
			return nil, fmt.Errorf("db: reference sets: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RefSet loads one set, or ErrNotFound.
func (s *Store) RefSet(ctx context.Context, connection, key string) (RefSet, error) {
	r, err := scanRefSet(s.read.QueryRowContext(ctx, `SELECT `+refSetColumns+` FROM ref_sets WHERE connection = ? AND key = ?`,
		connection, key))
	if err != nil {
		return RefSet{}, notFound(err, "reference set "+key)
	}
	return r, nil
}

const refItemColumns = `i.id, i.parent_id, i.name, i.name_en, i.sort, i.type, i.preset, i.required, i.writable,
	i.email, i.department, i.status`

func scanRefItem(row interface{ Scan(...any) error }, dest ...any) (RefItem, error) {
	var it RefItem
	err := row.Scan(append(dest, &it.ID, &it.ParentID, &it.Name, &it.NameEn, &it.Sort, &it.Type,
		&it.Preset, &it.Required, &it.Writable, &it.Email, &it.Department, &it.Status)...)
	return it, err
}

// RefItems returns a set's items in the platform's order. A set that was
// never loaded has none; a set that does not exist is ErrNotFound.
func (s *Store) RefItems(ctx context.Context, connection, key string) ([]RefItem, error) {
	if _, err := s.RefSet(ctx, connection, key); err != nil {
		return nil, err
	}
	items, err := refItems(ctx, s.read, connection, key)
	if err != nil {
		return nil, fmt.Errorf("db: reference items %s: %w", key, err)
	}
	return items, nil
}

// refItems reads a set's items through q: the read pool, or the
// transaction that is about to replace them.
func refItems(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, connection, key string) ([]RefItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+refItemColumns+` FROM ref_items i
		JOIN ref_sets r ON r.id = i.set_id WHERE r.connection = ? AND r.key = ? ORDER BY i.pos`, connection, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RefItem
	for rows.Next() {
		it, err := scanRefItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// AllRefItems returns every set's items of one connection by set key, each
// in the platform's order: one query to build an index from.
func (s *Store) AllRefItems(ctx context.Context, connection string) (map[string][]RefItem, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT r.key, `+refItemColumns+` FROM ref_items i
		JOIN ref_sets r ON r.id = i.set_id WHERE r.connection = ? ORDER BY r.key, i.pos`, connection)
	if err != nil {
		return nil, fmt.Errorf("db: reference items: %w", err)
	}
	defer rows.Close()
	out := map[string][]RefItem{}
	for rows.Next() {
		var key string
		it, err := scanRefItem(rows, &key)
		if err != nil {
			return nil, fmt.Errorf("db: reference items: %w", err)
		}
		out[key] = append(out[key], it)
	}
	return out, rows.Err()
}

// ReplaceRefSet swaps in a freshly fetched copy of a set and records what
// changed since the copy it replaces. Reading the old copy, writing the new
// one and the change record form one transaction, so the diff is against
// exactly what was replaced and a failure leaves the old copy whole. A
// set's first load records no change (everything would be "added"). It
// returns the change recorded, empty when none.
func (s *Store) ReplaceRefSet(ctx context.Context, set RefSet, items []RefItem) (RefChange, error) {
	defer s.refVersion.Add(1)
	now := s.unixNow()
	change := RefChange{SetKey: set.Key, At: now}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, loaded, err := oldRefItems(ctx, tx, set.Connection, set.Key)
		if err != nil {
			return err
		}
		if loaded {
			change = diffRefItems(set.Key, now, old, items)
		}
		id, err := upsertRefSet(ctx, tx, set, now, len(items))
		if err != nil {
			return err
		}
		if err := writeRefItems(ctx, tx, id, items); err != nil {
			return err
		}
		if change.Empty() {
			return nil
		}
		return insertRefChange(ctx, tx, set.Connection, change)
	})
	if err != nil {
		return RefChange{}, fmt.Errorf("db: replace reference set %s: %w", set.Key, err)
	}
	return change, nil
}

// oldRefItems reads a set's current items; loaded is false when the set
// was never fetched successfully.
func oldRefItems(ctx context.Context, tx *sql.Tx, connection, key string) (items []RefItem, loaded bool, err error) {
	var fetchedAt int64
	err = tx.QueryRowContext(ctx, `SELECT fetched_at FROM ref_sets WHERE connection = ? AND key = ?`, connection, key).Scan(&fetchedAt)
	if errors.Is(err, sql.ErrNoRows) || err == nil && fetchedAt == 0 {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	items, err = refItems(ctx, tx, connection, key)
	return items, true, err
}

// diffRefItems names the entries added, renamed and removed between two
// copies of a set, matched by id.
func diffRefItems(key string, at int64, old, cur []RefItem) RefChange {
	c := RefChange{SetKey: key, At: at}
	before := make(map[string]string, len(old))
	for _, it := range old {
		before[it.ID] = it.Name
	}
	seen := make(map[string]bool, len(cur))
	for _, it := range cur {
		seen[it.ID] = true
		name, had := before[it.ID]
		switch {
		case !had:
			c.Added = append(c.Added, RefItemChange{ID: it.ID, After: it.Name})
		case name != it.Name:
			c.Renamed = append(c.Renamed, RefItemChange{ID: it.ID, Before: name, After: it.Name})
		}
	}
	for _, it := range old {
		if !seen[it.ID] {
			c.Removed = append(c.Removed, RefItemChange{ID: it.ID, Before: it.Name})
		}
	}
	return c
}

func upsertRefSet(ctx context.Context, tx *sql.Tx, set RefSet, now int64, count int) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO ref_sets(connection, key, kind, object, scope, fetched_at, last_attempt_at, item_count)
		VALUES(?,?,?,?,?,?,?,?)
		ON CONFLICT(connection, key) DO UPDATE SET kind = excluded.kind, object = excluded.object, scope = excluded.scope,
			fetched_at = excluded.fetched_at, last_attempt_at = excluded.last_attempt_at,
			last_error = '', last_error_detail = '', item_count = excluded.item_count
		RETURNING id`, set.Connection, set.Key, set.Kind, set.Object, set.Scope, now, now, count).Scan(&id)
	return id, err
}

func writeRefItems(ctx context.Context, tx *sql.Tx, setID int64, items []RefItem) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM ref_items WHERE set_id = ?`, setID); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO ref_items(set_id, id, pos, parent_id, name, name_en, sort, type,
		preset, required, writable, email, department, status) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i, it := range items {
		if _, err := stmt.ExecContext(ctx, setID, it.ID, i, it.ParentID, it.Name, it.NameEn, it.Sort, it.Type,
			it.Preset, it.Required, it.Writable, it.Email, it.Department, it.Status); err != nil {
			return fmt.Errorf("item %s: %w", it.ID, err)
		}
	}
	return nil
}

func insertRefChange(ctx context.Context, tx *sql.Tx, connection string, c RefChange) error {
	added, _ := json.Marshal(nonNil(c.Added))
	renamed, _ := json.Marshal(nonNil(c.Renamed))
	removed, _ := json.Marshal(nonNil(c.Removed))
	_, err := tx.ExecContext(ctx, `INSERT INTO ref_changes(connection, set_key, at, added, renamed, removed) VALUES(?,?,?,?,?,?)`,
		connection, c.SetKey, c.At, added, renamed, removed)
	return err
}

// nonNil makes a nil list encode as [] rather than null.
func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// RecordRefFailure notes a failed fetch of a set (set.LastError and
// set.LastErrorDetail say why). The items and the time of the last good
// fetch stay as they were: a failed refresh never costs the cached copy.
func (s *Store) RecordRefFailure(ctx context.Context, set RefSet) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO ref_sets(connection, key, kind, object, scope, last_attempt_at, last_error, last_error_detail)
		VALUES(?,?,?,?,?,?,?,?)
		ON CONFLICT(connection, key) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,
			last_error = excluded.last_error, last_error_detail = excluded.last_error_detail`,
		set.Connection, set.Key, set.Kind, set.Object, set.Scope, s.unixNow(), set.LastError, set.LastErrorDetail)
	if err != nil {
		return fmt.Errorf("db: record reference set failure %s: %w", set.Key, err)
	}
	return nil
}

// DeleteRefSets removes sets that no longer exist on the platform (a
// removed business type takes its statuses and fields along), recording
// each loaded one's entries as removed.
func (s *Store) DeleteRefSets(ctx context.Context, connection string, keys []string) error {
	defer s.refVersion.Add(1)
	now := s.unixNow()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, key := range keys {
			old, loaded, err := oldRefItems(ctx, tx, connection, key)
			if err != nil {
				return err
			}
			if c := diffRefItems(key, now, old, nil); loaded && !c.Empty() {
				if err := insertRefChange(ctx, tx, connection, c); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM ref_sets WHERE connection = ? AND key = ?`, connection, key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: delete reference sets: %w", err)
	}
	return nil
}

// LatestRefChanges returns, per set key, the most recent refresh of that
// set that changed something.
func (s *Store) LatestRefChanges(ctx context.Context, connection string) (map[string]RefChange, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT set_key, at, added, renamed, removed FROM (
			SELECT *, row_number() OVER (PARTITION BY set_key ORDER BY at DESC, id DESC) AS n
			FROM ref_changes WHERE connection = ?)
		WHERE n = 1`, connection)
	if err != nil {
		return nil, fmt.Errorf("db: reference changes: %w", err)
	}
	defer rows.Close()
	out := map[string]RefChange{}
	for rows.Next() {
		c, err := scanRefChange(rows)
		if err != nil {
			return nil, fmt.Errorf("db: reference changes: %w", err)
		}
		out[c.SetKey] = c
	}
	return out, rows.Err()
}

// RefChangesSince lists the changes recorded at or after since, newest first.
func (s *Store) RefChangesSince(ctx context.Context, connection string, since int64) ([]RefChange, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT set_key, at, added, renamed, removed FROM ref_changes
		WHERE connection = ? AND at >= ? ORDER BY at DESC, id DESC`, connection, since)
	if err != nil {
		return nil, fmt.Errorf("db: reference changes: %w", err)
	}
	defer rows.Close()
	var out []RefChange
	for rows.Next() {
		c, err := scanRefChange(rows)
		if err != nil {
			return nil, fmt.Errorf("db: reference changes: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func scanRefChange(rows *sql.Rows) (RefChange, error) {
	var c RefChange
	var added, renamed, removed string
	if err := rows.Scan(&c.SetKey, &c.At, &added, &renamed, &removed); err != nil {
		return c, err
	}
	for _, p := range []struct {
		raw  string
		into *[]RefItemChange
	}{{added, &c.Added}, {renamed, &c.Renamed}, {removed, &c.Removed}} {
		if err := json.Unmarshal([]byte(p.raw), p.into); err != nil {
			return c, err
		}
		if len(*p.into) == 0 {
			*p.into = nil
		}
	}
	return c, nil
}
