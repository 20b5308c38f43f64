package db

import (
	"context"
	"database/sql"
	"fmt"
)

// SavedView is a named URL of the leads board or list with an owner
// (internal/views owns the rules; this is its storage).
type SavedView struct {
	ID        int64
	OwnerID   int64
	OwnerName string // the owner's display name (or username)
	Page      string // "board" or "list"
	Name      string
	Query     string // the page's query string, as the page writes it
	Shared    bool
	Default   bool // the reading user's default of its page
	CreatedAt int64
	UpdatedAt int64
}

const savedViewColumns = `v.id, v.owner_id, COALESCE(NULLIF(u.display_name, ''), u.username), v.page, v.name, v.query, v.shared,
	d.view_id IS NOT NULL, v.created_at, v.updated_at`

func scanSavedView(row interface{ Scan(...any) error }) (SavedView, error) {
	var v SavedView
	err := row.Scan(&v.ID, &v.OwnerID, &v.OwnerName, &v.Page, &v.Name, &v.Query, &v.Shared, &v.Default, &v.CreatedAt, &v.UpdatedAt)
	return v, err
}

// SavedViews are the views of page user may open: their own and those
// shared with the team, theirs first, then by name. Default marks user's
// default.
func (s *Store) SavedViews(ctx context.Context, userID int64, page string) ([]SavedView, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+savedViewColumns+` FROM saved_views v
		JOIN users u ON u.id = v.owner_id
		LEFT JOIN saved_view_defaults d ON d.view_id = v.id AND d.user_id = ?
		WHERE v.page = ? AND (v.owner_id = ? OR v.shared = 1)
		ORDER BY v.owner_id != ?, v.name, v.id`, userID, page, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("db: saved views: %w", err)
	}
	defer rows.Close()
	var out []SavedView
	for rows.Next() {
		v, err := scanSavedView(rows)
		if err != nil {
			return nil, fmt.Errorf("db: saved views: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SavedView reads one view, Default as user's; ErrNotFound when there is none.
func (s *Store) SavedView(ctx context.Context, userID, id int64) (SavedView, error) {
	v, err := scanSavedView(s.read.QueryRowContext(ctx, `SELECT `+savedViewColumns+` FROM saved_views v
		JOIN users u ON u.id = v.owner_id
		LEFT JOIN saved_view_defaults d ON d.view_id = v.id AND d.user_id = ?
		WHERE v.id = ?`, userID, id))
	if err != nil {
		return SavedView{}, notFound(err, "saved view")
	}
	return v, nil
}

// DefaultView is user's default view of page; ErrNotFound when none.
func (s *Store) DefaultView(ctx context.Context, userID int64, page string) (SavedView, error) {
	v, err := scanSavedView(s.read.QueryRowContext(ctx, `SELECT `+savedViewColumns+` FROM saved_view_defaults d
		JOIN saved_views v ON v.id = d.view_id
		JOIN users u ON u.id = v.owner_id
		WHERE d.user_id = ? AND d.page = ? AND (v.owner_id = d.user_id OR v.shared = 1)`, userID, page))
	if err != nil {
		return SavedView{}, notFound(err, "default view")
	}
	return v, nil
}

// CreateSavedView stores v (ID, CreatedAt and UpdatedAt are set).
func (s *Store) CreateSavedView(ctx context.Context, v SavedView) (SavedView, error) {
	now := s.unixNow()
	res, err := s.write.ExecContext(ctx, `INSERT INTO saved_views(owner_id, page, name, query, shared, created_at, updated_at)
		VALUES(?,?,?,?,?,?,?)`, v.OwnerID, v.Page, v.Name, v.Query, v.Shared, now, now)
	if err != nil {
		return SavedView{}, fmt.Errorf("db: create saved view: %w", err)
	}
	v.ID, _ = res.LastInsertId()
	v.CreatedAt, v.UpdatedAt = now, now
	return v, nil
}

// UpdateSavedView writes v's name, query and sharing.
func (s *Store) UpdateSavedView(ctx context.Context, v SavedView) error {
	res, err := s.write.ExecContext(ctx, `UPDATE saved_views SET name = ?, query = ?, shared = ?, updated_at = ? WHERE id = ?`,
		v.Name, v.Query, v.Shared, s.unixNow(), v.ID)
	return oneRow(res, err, "update saved view")
}

// DeleteSavedView deletes a view (and every default naming it).
func (s *Store) DeleteSavedView(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM saved_views WHERE id = ?`, id)
	return oneRow(res, err, "delete saved view")
}

// SetDefaultView makes view id user's default of page (id 0: no default).
func (s *Store) SetDefaultView(ctx context.Context, userID int64, page string, id int64) error {
	var err error
	if id == 0 {
		_, err = s.write.ExecContext(ctx, `DELETE FROM saved_view_defaults WHERE user_id = ? AND page = ?`, userID, page)
	} else {
		_, err = s.write.ExecContext(ctx, `INSERT INTO saved_view_defaults(user_id, page, view_id) VALUES(?,?,?)
			ON CONFLICT(user_id, page) DO UPDATE SET view_id = excluded.view_id`, userID, page, id)
	}
	if err != nil {
		return fmt.Errorf("db: default view: %w", err)
	}
	return nil
}

// oneRow turns an UPDATE or DELETE that touched no row into ErrNotFound.
func oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("db: %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("db: %s: %w", what, ErrNotFound)
	}
	return nil
}
