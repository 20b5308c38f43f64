package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
)

// Session is one sign-in, kept server-side so that it can be ended.
type Session struct {
	ID         int64
	UserID     int64
	CreatedAt  int64
	LastSeenAt int64
	UserAgent  string
	RemoteAddr string
}

// SessionLimits are the idle and absolute timeouts, in seconds.
type SessionLimits struct {
	Idle     int64
	Absolute int64
}

// expired reports whether a session is past either timeout at now.
func (l SessionLimits) expired(s Session, now int64) bool {
	return now-s.LastSeenAt > l.Idle || now-s.CreatedAt > l.Absolute
}

// hashSessionToken is what the table keeps of the cookie's token: a
// stolen database does not hand out usable sessions.
func hashSessionToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

const maxUserAgent = 256

// CreateSession records a sign-in for the cookie token and, while at it,
// deletes every session past its timeouts, so the table holds only live
// sign-ins without a job of its own.
func (s *Store) CreateSession(ctx context.Context, userID int64, token, userAgent, addr string, lim SessionLimits) (Session, error) {
	if len(userAgent) > maxUserAgent {
		userAgent = userAgent[:maxUserAgent]
	}
	now := s.unixNow()
	sess := Session{UserID: userID, CreatedAt: now, LastSeenAt: now, UserAgent: userAgent, RemoteAddr: addr}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?`,
			now-lim.Idle, now-lim.Absolute); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO sessions(token_hash, user_id, created_at, last_seen_at, user_agent, remote_addr)
			VALUES(?,?,?,?,?,?) RETURNING id`, hashSessionToken(token), userID, now, now, userAgent, addr).Scan(&sess.ID)
	})
	if err != nil {
		return Session{}, fmt.Errorf("db: create session for user %d: %w", userID, err)
	}
	return sess, nil
}

const sessionUserQuery = `SELECT s.id, s.user_id, s.created_at, s.last_seen_at, s.user_agent, s.remote_addr,
	u.id, u.username, u.display_name, u.password_hash, u.role, u.disabled, u.lang, u.session_epoch,
	u.created_at, u.updated_at, COALESCE(u.last_login_at, 0)
	FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`

// SessionUser finds the live session of a cookie token and its account in
// one query (it runs on every signed-in request). A token with no
// session, or one past its timeouts (which is then deleted), yields
// ErrNotFound.
func (s *Store) SessionUser(ctx context.Context, token string, lim SessionLimits) (Session, User, error) {
	var sess Session
	row := s.read.QueryRowContext(ctx, sessionUserQuery, hashSessionToken(token))
	var u User
	err := row.Scan(&sess.ID, &sess.UserID, &sess.CreatedAt, &sess.LastSeenAt, &sess.UserAgent, &sess.RemoteAddr,
		&u.ID, &u.Username, &u.DisplayName, &u.PasswordHash, &u.Role, &u.Disabled, &u.Lang,
		&u.SessionEpoch, &u.CreatedAt, &u.UpdatedAt, &u.LastLoginAt)
	if err != nil {
		return Session{}, User{}, notFound(err, "session")
	}
	if lim.expired(sess, s.unixNow()) {
		if err := s.EndSession(ctx, sess.ID); err != nil {
			return Session{}, User{}, err
		}
		return Session{}, User{}, fmt.Errorf("db: session %d timed out: %w", sess.ID, ErrNotFound)
	}
	return sess, u, nil
}

// TouchSession moves a session's idle clock on and records the address it was used from.
func (s *Store) TouchSession(ctx context.Context, id int64, addr string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ?, remote_addr = ? WHERE id = ?`, s.unixNow(), addr, id)
	if err != nil {
		return fmt.Errorf("db: touch session %d: %w", id, err)
	}
	return nil
}

// EndSession deletes one session (signing out); a missing one is not an error.
func (s *Store) EndSession(ctx context.Context, id int64) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("db: end session %d: %w", id, err)
	}
	return nil
}

// EndUserSession deletes one session of one account; another account's
// session id yields ErrNotFound.
func (s *Store) EndUserSession(ctx context.Context, userID, id int64) error {
	return execOne(ctx, s.write, fmt.Sprintf("session %d of user %d", id, userID),
		`DELETE FROM sessions WHERE id = ? AND user_id = ?`, id, userID)
}

// EndUserSessions deletes every session of an account but keep (0: all),
// returning how many ended.
func (s *Store) EndUserSessions(ctx context.Context, userID, keep int64) (int64, error) {
	return endUserSessions(ctx, s.write, userID, keep)
}

func endUserSessions(ctx context.Context, ex execer, userID, keep int64) (int64, error) {
	res, err := ex.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id != ?`, userID, keep)
	if err != nil {
		return 0, fmt.Errorf("db: end sessions of user %d: %w", userID, err)
	}
	return res.RowsAffected()
}

// EndAllSessions deletes every session (a restore signs everyone out).
func (s *Store) EndAllSessions(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM sessions`); err != nil {
		return fmt.Errorf("db: end all sessions: %w", err)
	}
	return nil
}

// UserSessions lists an account's live sessions, most recently used first.
func (s *Store) UserSessions(ctx context.Context, userID int64, lim SessionLimits) ([]Session, error) {
	now := s.unixNow()
	rows, err := s.read.QueryContext(ctx, `SELECT id, user_id, created_at, last_seen_at, user_agent, remote_addr
		FROM sessions WHERE user_id = ? AND last_seen_at >= ? AND created_at >= ? ORDER BY last_seen_at DESC, id DESC`,
		userID, now-lim.Idle, now-lim.Absolute)
	if err != nil {
		return nil, fmt.Errorf("db: sessions of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var x Session
		if err := rows.Scan(&x.ID, &x.UserID, &x.CreatedAt, &x.LastSeenAt, &x.UserAgent, &x.RemoteAddr); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
