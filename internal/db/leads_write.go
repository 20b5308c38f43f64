package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Writing the lead copy: a sync's pages, a move, status history.

// UpsertLeads writes leads as the platform answered them, in one
// transaction. A lead not seen before enters its status now (unless
// StatusSince is set); a lead whose status differs from the copy's
// entered it now, and the change is recorded with Origin "sync". An answer
// older than the copy (a smaller UpdatedAt) does not overwrite it, but
// still counts as seen (SyncedAt). A voided lead the platform lists again
// is no longer voided.
func (s *Store) UpsertLeads(ctx context.Context, leads []Lead) error {
	return s.upsertLeads(ctx, "", 0, leads)
}

// ErrLeadCopyMoved refuses a sync's write to a copy that was given to
// another platform connection since the sync started.
var ErrLeadCopyMoved = errors.New("the lead copy belongs to another platform connection")

// UpsertSyncedLeads is UpsertLeads for a sync of connection's copy: it
// refuses (ErrLeadCopyMoved) when the copy now belongs to another
// connection, and with a full sync's job id (syncID > 0) marks the leads
// as listed by it (LeadsNotSeenBy).
func (s *Store) UpsertSyncedLeads(ctx context.Context, connection string, syncID int64, leads []Lead) error {
	return s.upsertLeads(ctx, connection, syncID, leads)
}

func (s *Store) upsertLeads(ctx context.Context, connection string, syncID int64, leads []Lead) error {
	// The version moves only when a lead changed: a synced page or an
	// answer that repeats the copy leaves what pages drew from it valid.
	changed := false
	defer func() {
		if changed {
			s.leadsWritten()
		}
	}()
	if len(leads) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if connection != "" {
			var cur string
			if err := tx.QueryRowContext(ctx, `SELECT connection FROM lead_sync WHERE id = 1`).Scan(&cur); err != nil {
				return err
			}
			if cur != connection {
				return ErrLeadCopyMoved
			}
		}
		w, err := newLeadWriter(ctx, tx, s.unixNow())
		if err != nil {
			return err
		}
		defer w.close()
		w.syncID = syncID
		for _, l := range leads {
			c, err := w.upsert(ctx, l, LeadStatusChange{Origin: OriginSync})
			if err != nil {
				return fmt.Errorf("lead %s: %w", l.UUID, err)
			}
			changed = changed || c
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: upsert leads: %w", err)
	}
	return nil
}

// SaveMovedLead writes a lead the console just moved, as re-read from the
// platform, and records the move (c.Origin, c.Actor; c.At and c.From are
// filled when zero) in one transaction. The lead enters its status at c.At.
// When the platform's webhook echo of the move was applied first (the copy
// already has the status, and the last recorded change is the webhook's
// to that status, no earlier than c.SentAt allows), the move is not
// recorded twice: that change is credited to c.Actor.
func (s *Store) SaveMovedLead(ctx context.Context, l Lead, c LeadStatusChange) error {
	defer s.leadsWritten()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		w, err := newLeadWriter(ctx, tx, s.unixNow())
		if err != nil {
			return err
		}
		defer w.close()
		if c.At == 0 {
			c.At = w.now
		}
		c.To = l.Status
		if err := claimEcho(ctx, tx, l.UUID, c); err != nil {
			return err
		}
		_, err = w.upsert(ctx, l, c)
		return err
	})
	if err != nil {
		return fmt.Errorf("db: save moved lead %s: %w", l.UUID, err)
	}
	return nil
}

// leadWriter holds the statements of one upsert transaction.
type leadWriter struct {
	tx                    *sql.Tx
	now                   int64
	syncID                int64 // the full sync writing, 0 for none
	get, ins, upd, updTxt *sql.Stmt
}

func newLeadWriter(ctx context.Context, tx *sql.Tx, now int64) (*leadWriter, error) {
	w := &leadWriter{tx: tx, now: now}
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.PrepareContext(ctx, q)
		return st
	}
	w.get = prep(`SELECT id, status, status_since, updated_at, voided, name, mobile, email, company, title,
		business_type, life_status, lead_pool, owner, collaborators, source, fields, created_at,
		CAST(COALESCE(json_extract(fields, '$.latest_remark'), '') AS TEXT) FROM leads WHERE uuid = ?`)
	w.ins = prep(`INSERT INTO leads(uuid, business_type, status, life_status, lead_pool, owner, collaborators, name, mobile,
		email, company, title, source, fields, created_at, updated_at, status_since, voided, voided_at, synced_at, seen_by_sync)
		VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,?,?)`)
	const set = `business_type = ?, status = ?, life_status = ?, lead_pool = ?, owner = ?, collaborators = ?, source = ?,
		fields = ?, created_at = ?, updated_at = ?, status_since = ?, voided = 0, voided_at = 0, synced_at = ?,
		seen_by_sync = CASE WHEN ? > 0 THEN ? ELSE seen_by_sync END`
	// Without the searched columns when they are unchanged, so the FTS
	// trigger (AFTER UPDATE OF those columns) does not rewrite the index.
	w.upd = prep(`UPDATE leads SET ` + set + ` WHERE id = ?`)
	w.updTxt = prep(`UPDATE leads SET ` + set + `, name = ?, mobile = ?, email = ?, company = ?, title = ? WHERE id = ?`)
	if err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *leadWriter) close() {
	for _, st := range []*sql.Stmt{w.get, w.ins, w.upd, w.updTxt} {
		if st != nil {
			st.Close()
		}
	}
}

// firstSeenSince is when a lead first seen (by a sync, or a test's
// fixture) entered its status, as far as the platform says: it has not
// changed since its updated_timestamp (leads.Stage reads it as "at least
// since"); the console's clock only when the platform gave no timestamp.
func firstSeenSince(l Lead, now int64) int64 {
	if l.UpdatedAt > 0 && l.UpdatedAt <= now {
		return l.UpdatedAt
	}
	return now
}

// upsert writes l. A status change is recorded as c says (Origin, Actor;
// At defaults to now); c.Origin "" records none. It reports whether the
// lead as the pages show it changed (anything but when it was synced).
func (w *leadWriter) upsert(ctx context.Context, l Lead, c LeadStatusChange) (changed bool, err error) {
	if l.UUID == "" {
		return false, errors.New("no uuid")
	}
	collab, err := json.Marshal(nonNilStrings(l.Collaborators))
	if err != nil {
		return false, err
	}
	fields := string(l.Fields)
	if fields == "" {
		fields = "{}"
	}
	var (
		id, since, updated, created         int64
		status                              string
		voided                              bool
		name, mob, em, co, tit              string
		bt, life, pool, owner, col, src, fs string
		side                                leadSide // issue 20: what the timeline compares
	)
	err = w.get.QueryRowContext(ctx, l.UUID).Scan(&id, &status, &since, &updated, &voided, &name, &mob, &em, &co, &tit,
		&bt, &life, &pool, &owner, &col, &src, &fs, &created, &side.remark)
	if errors.Is(err, sql.ErrNoRows) {
		if err := recordLeadSides(ctx, w.tx, w.now, nil, l, c); err != nil { // issue 20: the timeline
			return false, err
		}
		since := l.StatusSince
		if since == 0 {
			since = firstSeenSince(l, w.now)
		}
		_, err = w.ins.ExecContext(ctx, l.UUID, l.BusinessType, l.Status, l.LifeStatus, l.LeadPool, l.Owner, collab,
			l.Name, l.Mobile, l.Email, l.Company, l.Title, l.Source, fields, l.CreatedAt, l.UpdatedAt, since, w.now, w.syncID)
		return err == nil, err
	}
	if err != nil {
		return false, err
	}
	if l.UpdatedAt < updated && !voided {
		// An older answer than the copy: seen, but not newer.
		_, err = w.tx.ExecContext(ctx, `UPDATE leads SET synced_at = ?, seen_by_sync = CASE WHEN ? > 0 THEN ? ELSE seen_by_sync END
			WHERE id = ?`, w.now, w.syncID, w.syncID, id)
		return false, err
	}
	if l.Status != status {
		at := c.At
		if at == 0 && l.UpdatedAt > 0 {
			// A sync saw the change: it happened by the answer's
			// updated_timestamp, not when the console looked.
			at = l.UpdatedAt
		}
		if at == 0 {
			at = w.now
		}
		since = at
		if c.Origin != "" {
			c.At, c.From, c.To = at, status, l.Status
			if err := insertStatusChange(ctx, w.tx, l.UUID, c); err != nil {
				return false, err
			}
		}
	}
	sameText := name == l.Name && mob == l.Mobile && em == l.Email && co == l.Company && tit == l.Title
	changed = !sameText || voided || l.Status != status || l.UpdatedAt != updated || l.CreatedAt != created ||
		l.BusinessType != bt || l.LifeStatus != life || l.LeadPool != pool || l.Owner != owner || string(collab) != col ||
		l.Source != src || fields != fs
	side.owner, side.remark = owner, strings.TrimSpace(side.remark)
	_ = json.Unmarshal([]byte(col), &side.collab)
	if err := recordLeadSides(ctx, w.tx, w.now, &side, l, c); err != nil { // issue 20: the timeline
		return false, err
	}
	args := []any{l.BusinessType, l.Status, l.LifeStatus, l.LeadPool, l.Owner, collab, l.Source, fields,
		l.CreatedAt, l.UpdatedAt, since, w.now, w.syncID, w.syncID}
	if sameText {
		_, err = w.upd.ExecContext(ctx, append(args, id)...)
	} else {
		_, err = w.updTxt.ExecContext(ctx, append(args, l.Name, l.Mobile, l.Email, l.Company, l.Title, id)...)
	}
	return changed, err
}

// claimEcho credits a console move's webhook echo, applied before the
// move was saved, to the user who moved the card: the last change recorded
// for the lead, when it is the webhook's, to the moved status, since the
// move was sent (within echoWindow). Nothing happens otherwise.
func claimEcho(ctx context.Context, tx *sql.Tx, uuid string, c LeadStatusChange) error {
	if c.Origin != OriginConsole || c.SentAt == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE lead_status_history SET actor = ?, origin = ?
		WHERE id = (SELECT id FROM lead_status_history WHERE lead_uuid = ? ORDER BY at DESC, id DESC LIMIT 1)
			AND to_status = ? AND origin = ? AND at >= ?
			AND EXISTS (SELECT 1 FROM leads WHERE uuid = ? AND status = ?)`,
		c.Actor, OriginConsole, uuid, c.To, OriginWebhook, c.SentAt-echoWindow, uuid, c.To)
	return err
}

func nonNilStrings(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func insertStatusChange(ctx context.Context, tx *sql.Tx, uuid string, c LeadStatusChange) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO lead_status_history(lead_uuid, at, from_status, to_status, actor, origin)
		VALUES(?,?,?,?,?,?)`, uuid, c.At, c.From, c.To, c.Actor, c.Origin)
	return err
}
