package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Roles, from most to least privileged.
const (
	RoleAdmin    = "admin"
	RoleMarketer = "marketer"
	RoleViewer   = "viewer"
)

// ValidRole reports whether r is one of the three roles.
func ValidRole(r string) bool {
	return r == RoleAdmin || r == RoleMarketer || r == RoleViewer
}

// User is a console account.
type User struct {
	ID           int64
	Username     string
	DisplayName  string
	PasswordHash string
	Role         string
	Disabled     bool
	Lang         string
	SessionEpoch int64
	CreatedAt    int64
	UpdatedAt    int64
	LastLoginAt  int64 // 0 when never
}

const userColumns = `id, username, display_name, password_hash, role, disabled, lang, session_epoch,
	created_at, updated_at, COALESCE(last_login_at, 0)`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.PasswordHash, &u.Role, &u.Disabled, &u.Lang,
		&u.SessionEpoch, &u.CreatedAt, &u.UpdatedAt, &u.LastLoginAt)
	return u, err
}

// NewUser is what creating an account needs; the hash is computed by the caller.
type NewUser struct {
	Username     string
	DisplayName  string
	PasswordHash string
	Role         string
	Lang         string
}

// CreateUser inserts an account. A taken username yields ErrConflict.
func (s *Store) CreateUser(ctx context.Context, n NewUser) (User, error) {
	if !ValidRole(n.Role) {
		return User{}, fmt.Errorf("db: create user %q: invalid role %q", n.Username, n.Role)
	}
	now := s.unixNow()
	res, err := s.write.ExecContext(ctx, `INSERT INTO users(username, display_name, password_hash, role, lang, created_at, updated_at)
		VALUES(?,?,?,?,?,?,?)`, n.Username, n.DisplayName, n.PasswordHash, n.Role, n.Lang, now, now)
	if err != nil {
		if isUniqueViolation(err) {
			return User{}, fmt.Errorf("db: create user %q: %w", n.Username, ErrConflict)
		}
		return User{}, fmt.Errorf("db: create user %q: %w", n.Username, err)
	}
	id, _ := res.LastInsertId()
	return s.User(ctx, id)
}

// CreateFirstAdmin creates an administrator only if no account exists yet,
// atomically, so two racing setup requests cannot both succeed.
func (s *Store) CreateFirstAdmin(ctx context.Context, n NewUser) (User, error) {
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&count); err != nil {
			return err
		}
		if count > 0 {
			return ErrConflict
		}
		now := s.unixNow()
		res, err := tx.ExecContext(ctx, `INSERT INTO users(username, display_name, password_hash, role, lang, created_at, updated_at)
			VALUES(?,?,?,?,?,?,?)`, n.Username, n.DisplayName, n.PasswordHash, RoleAdmin, n.Lang, now, now)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("db: create first admin: %w", err)
	}
	return s.User(ctx, id)
}

// User loads an account by id.
func (s *Store) User(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return User{}, notFound(err, fmt.Sprintf("user %d", id))
	}
	return u, nil
}

// UserByName loads an account by username (case-insensitive).
func (s *Store) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if err != nil {
		return User{}, notFound(err, fmt.Sprintf("user %q", username))
	}
	return u, nil
}

// ListUsers returns every account, admins first, then by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users
		ORDER BY CASE role WHEN 'admin' THEN 0 WHEN 'marketer' THEN 1 ELSE 2 END, username`)
	if err != nil {
		return nil, fmt.Errorf("db: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers counts all accounts, disabled ones included.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: count users: %w", err)
	}
	return n, nil
}

// ErrLastAdmin refuses a change that would leave no active administrator.
var ErrLastAdmin = fmt.Errorf("db: this is the last active administrator")

// SetUserRole changes an account's role, refusing to demote the last active admin.
func (s *Store) SetUserRole(ctx context.Context, id int64, role string) error {
	if !ValidRole(role) {
		return fmt.Errorf("db: user %d: invalid role %q", id, role)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if role != RoleAdmin {
			if err := guardLastAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		return execOne(ctx, tx, fmt.Sprintf("user %d", id),
			`UPDATE users SET role = ?, updated_at = ? WHERE id = ?`, role, s.unixNow(), id)
	})
}

// SetUserDisabled disables or re-enables an account. Disabling ends the
// account's sessions at once (and bumps the session epoch).
func (s *Store) SetUserDisabled(ctx context.Context, id int64, disabled bool) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if disabled {
			if err := guardLastAdmin(ctx, tx, id); err != nil {
				return err
			}
			if _, err := endUserSessions(ctx, tx, id, 0); err != nil {
				return err
			}
		}
		return execOne(ctx, tx, fmt.Sprintf("user %d", id),
			`UPDATE users SET disabled = ?, session_epoch = session_epoch + ?, updated_at = ? WHERE id = ?`,
			disabled, boolInt(disabled), s.unixNow(), id)
	})
}

// SetUserPassword stores a new hash and ends every session of the account
// (and bumps the session epoch, which it returns). The caller signs its
// own browser in afresh when it should stay signed in.
func (s *Store) SetUserPassword(ctx context.Context, id int64, hash string) (int64, error) {
	var epoch int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1, updated_at = ?
			WHERE id = ? RETURNING session_epoch`, hash, s.unixNow(), id).Scan(&epoch)
		if err != nil {
			return notFound(err, fmt.Sprintf("set password of user %d", id))
		}
		_, err = endUserSessions(ctx, tx, id, 0)
		return err
	})
	return epoch, err
}

// SetUserLang remembers an account's language choice.
func (s *Store) SetUserLang(ctx context.Context, id int64, lang string) error {
	return execOne(ctx, s.write, fmt.Sprintf("user %d", id),
		`UPDATE users SET lang = ?, updated_at = ? WHERE id = ?`, lang, s.unixNow(), id)
}

// TouchLogin records a successful sign-in.
func (s *Store) TouchLogin(ctx context.Context, id int64) error {
	return execOne(ctx, s.write, fmt.Sprintf("user %d", id),
		`UPDATE users SET last_login_at = ? WHERE id = ?`, s.unixNow(), id)
}

// guardLastAdmin fails with ErrLastAdmin when id is the only enabled admin.
func guardLastAdmin(ctx context.Context, tx *sql.Tx, id int64) error {
	var others int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?`, id).Scan(&others)
	if err != nil {
		return err
	}
	var isAdmin bool
	err = tx.QueryRowContext(ctx, `SELECT role = 'admin' AND disabled = 0 FROM users WHERE id = ?`, id).Scan(&isAdmin)
	if err != nil {
		return notFound(err, fmt.Sprintf("user %d", id))
	}
	if isAdmin && others == 0 {
		return ErrLastAdmin
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// execOne runs a statement that must touch exactly one row.
func execOne(ctx context.Context, ex execer, what, query string, args ...any) error {
	res, err := ex.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("db: %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("db: %s: %w", what, ErrNotFound)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isUniqueViolation(err error) bool {
	// modernc reports constraint failures with this text and the extended
	// code SQLITE_CONSTRAINT_UNIQUE (2067); the text is stable across versions.
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
