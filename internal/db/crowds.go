package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Crowd is the local copy of one of the platform's static crowds.
type Crowd struct {
	GroupID     int64
	Name        string
	Description string
	UserCount   int64
	CreatedAt   int64 // platform timestamps, Unix seconds
	UpdatedAt   int64
	FetchedAt   int64 // when the platform last told us about it
}

// CrowdSync is where the local crowd list stands.
type CrowdSync struct {
	Connection string
	SyncedAt   int64 // last complete listing; 0: never
	LastError  string
}

const crowdColumns = `group_id, name, description, user_count, created_at, updated_at, fetched_at`

func scanCrowd(row interface{ Scan(...any) error }) (Crowd, error) {
	var c Crowd
	err := row.Scan(&c.GroupID, &c.Name, &c.Description, &c.UserCount, &c.CreatedAt, &c.UpdatedAt, &c.FetchedAt)
	return c, err
}

// ReplaceCrowds makes the local list exactly the platform's complete
// listing from connection: crowds no longer listed are removed.
func (s *Store) ReplaceCrowds(ctx context.Context, connection string, crowds []Crowd) error {
	now := s.unixNow()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM crowds`); err != nil {
			return err
		}
		for _, c := range crowds {
			c.FetchedAt = now
			if err := upsertCrowd(ctx, tx, c); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO crowd_sync(id, connection, synced_at, last_error) VALUES(1, ?, ?, '')
			ON CONFLICT(id) DO UPDATE SET connection = excluded.connection, synced_at = excluded.synced_at, last_error = ''`,
			connection, now)
		return err
	})
}

// RecordCrowdSyncError keeps why the last listing failed (the list stays).
func (s *Store) RecordCrowdSyncError(ctx context.Context, msg string) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO crowd_sync(id, last_error) VALUES(1, ?)
		ON CONFLICT(id) DO UPDATE SET last_error = excluded.last_error`, msg)
	return err
}

// CrowdSyncState says when the list was last complete.
func (s *Store) CrowdSyncState(ctx context.Context) (CrowdSync, error) {
	var cs CrowdSync
	err := s.read.QueryRowContext(ctx, `SELECT connection, synced_at, last_error FROM crowd_sync WHERE id = 1`).
		Scan(&cs.Connection, &cs.SyncedAt, &cs.LastError)
	if err == sql.ErrNoRows {
		return CrowdSync{}, nil
	}
	return cs, err
}

// SaveCrowd writes one crowd as the platform just answered it.
func (s *Store) SaveCrowd(ctx context.Context, c Crowd) error {
	c.FetchedAt = s.unixNow()
	return s.inTx(ctx, func(tx *sql.Tx) error { return upsertCrowd(ctx, tx, c) })
}

func upsertCrowd(ctx context.Context, tx *sql.Tx, c Crowd) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO crowds(`+crowdColumns+`) VALUES(?,?,?,?,?,?,?)
		ON CONFLICT(group_id) DO UPDATE SET name = excluded.name, description = excluded.description,
		user_count = excluded.user_count, created_at = excluded.created_at, updated_at = excluded.updated_at,
		fetched_at = excluded.fetched_at`,
		c.GroupID, c.Name, c.Description, c.UserCount, c.CreatedAt, c.UpdatedAt, c.FetchedAt)
	if err != nil {
		return fmt.Errorf("db: save crowd %d: %w", c.GroupID, err)
	}
	return nil
}

// DeleteCrowd removes a crowd from the local copy.
func (s *Store) DeleteCrowd(ctx context.Context, groupID int64) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM crowds WHERE group_id = ?`, groupID)
	return err
}

// Crowd loads one crowd of the local copy.
func (s *Store) Crowd(ctx context.Context, groupID int64) (Crowd, error) {
	c, err := scanCrowd(s.read.QueryRowContext(ctx, `SELECT `+crowdColumns+` FROM crowds WHERE group_id = ?`, groupID))
	if err != nil {
		return Crowd{}, notFound(err, fmt.Sprintf("crowd %d", groupID))
	}
	return c, nil
}

// CrowdByName finds a crowd by its exact name.
func (s *Store) CrowdByName(ctx context.Context, name string) (Crowd, error) {
	c, err := scanCrowd(s.read.QueryRowContext(ctx, `SELECT `+crowdColumns+` FROM crowds WHERE name = ?`, name))
	if err != nil {
		return Crowd{}, notFound(err, "crowd "+name)
	}
	return c, nil
}

// CrowdFilter narrows ListCrowds.
type CrowdFilter struct {
	Query  string // in the name or the description
	Limit  int    // default 50, at most 500
	Offset int
}

// ListCrowds returns a page of crowds, most recently updated first, and
// how many match in all.
func (s *Store) ListCrowds(ctx context.Context, f CrowdFilter) ([]Crowd, int, error) {
	where, args := "1=1", []any{}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + escapeLike(q) + "%"
		where = `(name LIKE ? ESCAPE '\' OR description LIKE ? ESCAPE '\')`
		args = append(args, like, like)
	}
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM crowds WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("db: count crowds: %w", err)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+crowdColumns+` FROM crowds WHERE `+where+`
		ORDER BY updated_at DESC, group_id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("db: list crowds: %w", err)
	}
	defer rows.Close()
	var out []Crowd
	for rows.Next() {
		c, err := scanCrowd(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, c)
	}
	return out, total, rows.Err()
}

// CrowdsByName returns every crowd of the local copy by name: the choices
// of a picker that must offer each of the platform's crowds.
func (s *Store) CrowdsByName(ctx context.Context) ([]Crowd, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+crowdColumns+` FROM crowds ORDER BY name, group_id`)
	if err != nil {
		return nil, fmt.Errorf("db: crowds by name: %w", err)
	}
	defer rows.Close()
	var out []Crowd
	for rows.Next() {
		c, err := scanCrowd(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
