package db

import (
	"context"
	"fmt"
	"strings"
)

// Audit outcomes.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
	OutcomeFailed = "failed"
	// OutcomeUnknown: a platform write whose effect could not be known (no
	// clear answer, or an answer not understood): check on the platform.
	OutcomeUnknown = "unknown"
)

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID         int64
	At         int64
	UserID     int64 // 0 when anonymous
	Username   string
	RemoteAddr string
	Action     string // e.g. "auth.login", "user.role"
	Object     string // e.g. "user:alice"
	Summary    string
	Outcome    string
	RequestID  string
}

// Audit appends an entry. At defaults to now.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.At == 0 {
		e.At = s.unixNow()
	}
	if e.Outcome == "" {
		e.Outcome = OutcomeOK
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO audit_log(at, user_id, username, remote_addr, action, object, summary, outcome, request_id)
		VALUES(?,NULLIF(?,0),?,?,?,?,?,?,?)`, e.At, e.UserID, e.Username, e.RemoteAddr, e.Action, e.Object, e.Summary, e.Outcome, e.RequestID)
	if err != nil {
		return fmt.Errorf("db: audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditFilter narrows the audit list. Zero values mean "any".
type AuditFilter struct {
	Action   string // prefix match: "auth." matches every sign-in event
	Username string
	Outcome  string
	Object   string // exact: "send:12" is one send's history
	BeforeID int64  // keyset paging: entries older than this id
	Limit    int
}

// ListAudit returns entries newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	if f.Action != "" {
		where = append(where, `action LIKE ? ESCAPE '\'`)
		args = append(args, escapeLike(f.Action)+"%")
	}
	if f.Username != "" {
		where = append(where, `username = ? COLLATE NOCASE`)
		args = append(args, f.Username)
	}
	if f.Outcome != "" {
		where = append(where, `outcome = ?`)
		args = append(args, f.Outcome)
	}
	if f.Object != "" {
		where = append(where, `object = ?`)
		args = append(args, f.Object)
	}
	if f.BeforeID > 0 {
		where = append(where, `id < ?`)
		args = append(args, f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := `SELECT id, at, COALESCE(user_id,0), username, remote_addr, action, object, summary, outcome, request_id FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.UserID, &e.Username, &e.RemoteAddr, &e.Action, &e.Object, &e.Summary, &e.Outcome, &e.RequestID); err != nil {
			return nil, fmt.Errorf("db: list audit: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
