package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Webhook event states (migration 0011).
const (
	EventPending = "pending"
	EventApplied = "applied"
	EventSkipped = "skipped"
	EventUnknown = "unknown"
	EventFailed  = "failed"
)

// WebhookEventRow is one stored event.
type WebhookEventRow struct {
	ID         int64
	DedupKey   string
	ReceivedAt int64
	EventType  string
	ObjectName string
	EntityID   string
	EventTime  int64
	Body       string
	State      string
	Reason     string
	AppliedAt  int64
	Duplicates int64
}

// NewWebhookEvent is an event as received.
type NewWebhookEvent struct {
	DedupKey, EventType, ObjectName, EntityID string
	EventTime                                 int64
	Body                                      string
	State, Reason                             string // pending, or failed with why
}

// StoreWebhookEvent records an event once: an event already stored (the
// same key) only counts as a duplicate. It reports whether it was new.
func (s *Store) StoreWebhookEvent(ctx context.Context, e NewWebhookEvent) (id int64, fresh bool, err error) {
	var dups int64
	err = s.write.QueryRowContext(ctx, `INSERT INTO webhook_events(dedup_key, received_at, event_type, object_name, entity_id,
		event_time, body, state, reason) VALUES(?,?,?,?,?,?,?,?,?)
		ON CONFLICT(dedup_key) DO UPDATE SET duplicates = duplicates + 1 RETURNING id, duplicates`,
		e.DedupKey, s.unixNow(), e.EventType, e.ObjectName, e.EntityID, e.EventTime, e.Body, e.State, e.Reason).Scan(&id, &dups)
	if err != nil {
		return 0, false, fmt.Errorf("db: store webhook event: %w", err)
	}
	return id, dups == 0, nil
}

const webhookColumns = `id, dedup_key, received_at, event_type, object_name, entity_id, event_time, body, state, reason, applied_at, duplicates`

func (s *Store) webhookRows(ctx context.Context, q string, args ...any) ([]WebhookEventRow, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: webhook events: %w", err)
	}
	defer rows.Close()
	var out []WebhookEventRow
	for rows.Next() {
		var e WebhookEventRow
		if err := rows.Scan(&e.ID, &e.DedupKey, &e.ReceivedAt, &e.EventType, &e.ObjectName, &e.EntityID, &e.EventTime, &e.Body,
			&e.State, &e.Reason, &e.AppliedAt, &e.Duplicates); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// PendingWebhookEvents returns up to limit events to apply, oldest event first.
func (s *Store) PendingWebhookEvents(ctx context.Context, limit int) ([]WebhookEventRow, error) {
	return s.webhookRows(ctx, `SELECT `+webhookColumns+` FROM webhook_events WHERE state = 'pending'
		ORDER BY event_time, id LIMIT ?`, limit)
}

// WebhookEvent loads one stored event.
func (s *Store) WebhookEvent(ctx context.Context, id int64) (WebhookEventRow, error) {
	rows, err := s.webhookRows(ctx, `SELECT `+webhookColumns+` FROM webhook_events WHERE id = ?`, id)
	if err != nil {
		return WebhookEventRow{}, err
	}
	if len(rows) == 0 {
		return WebhookEventRow{}, fmt.Errorf("db: webhook event %d: %w", id, ErrNotFound)
	}
	return rows[0], nil
}

// WebhookFilter narrows ListWebhookEvents.
type WebhookFilter struct {
	States   []string
	BeforeID int64 // keyset paging
	Limit    int   // default 50
}

// ListWebhookEvents returns events newest first.
func (s *Store) ListWebhookEvents(ctx context.Context, f WebhookFilter) ([]WebhookEventRow, error) {
	where, args := []string{"1=1"}, []any{}
	if len(f.States) > 0 {
		where = append(where, "state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	return s.webhookRows(ctx, `SELECT `+webhookColumns+` FROM webhook_events WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
}

// WebhookCounts counts stored events per state.
func (s *Store) WebhookCounts(ctx context.Context) (map[string]int64, error) {
	return s.queryCounts(ctx, "count webhook events", `SELECT state, COUNT(*) FROM webhook_events GROUP BY state`)
}

// FinishWebhookEvent records how applying an event ended (outside ApplyObjectEvent).
func (s *Store) FinishWebhookEvent(ctx context.Context, id int64, state, reason string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE webhook_events SET state = ?, reason = ?, applied_at = ? WHERE id = ?`,
		state, reason, s.unixNow(), id)
	return err
}

// RequeueWebhookEvents queues unknown and failed events (ids, or all of
// them when ids is empty) to be applied again, and says how many.
func (s *Store) RequeueWebhookEvents(ctx context.Context, ids []int64) (int64, error) {
	q, args := `UPDATE webhook_events SET state = 'pending', reason = '' WHERE state IN ('unknown','failed')`, []any{}
	if len(ids) > 0 {
		q += " AND id IN (" + placeholders(len(ids)) + ")"
		for _, id := range ids {
			args = append(args, id)
		}
	}
	res, err := s.write.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// --- applying events to the copies ---

// ObjectEvent is what one lead or account event changes, in the
// platform's field codes.
type ObjectEvent struct {
	EventID      int64
	Object       string // "lead" or "account"
	UUID         string
	At           int64  // the event's time
	Tie          string // the event's dedup key
	Create       bool
	BusinessType string
	// Set holds the new raw values of the changed fields (mapping_data's
	// after values): strings, numbers, nil.
	Set                 map[string]any
	Void, Restore       bool
	AddCollaborators    []string
	RemoveCollaborators []string
	Note                string // a note added: kept as the lead's latest remark
	Owner               string // the current owner the event states ("" when it does not)
}

// leadColumnOf maps a lead field code to its column of the copy.
var leadColumnOf = map[string]string{
	"name": "name", "mobile": "mobile", "email": "email", "company_id": "company", "title": "title",
	"lead_status": "status", "life_status": "life_status", "lead_pool": "lead_pool", "owner": "owner",
	"source_type": "source", "business_type": "business_type",
}

var accountColumnOf = map[string]string{"name": "name", "owner": "owner", "business_type": "business_type"}

// ApplyObjectEvent applies ev to the copy in one transaction with the
// event's new state: each field only if the event is newer than the
// field's version, so out-of-order and repeated events leave the same
// state. It reports whether anything changed.
func (s *Store) ApplyObjectEvent(ctx context.Context, ev ObjectEvent) (changed bool, err error) {
	if ev.Object == "lead" {
		// Only an event that changed the lead moves the copy's version.
		defer func() {
			if changed {
				s.leadsWritten()
			}
		}()
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		a := &applier{ctx: ctx, tx: tx, ev: ev, now: s.unixNow()}
		var err error
		switch ev.Object {
		case "lead":
			err = a.lead()
		case "account":
			err = a.account()
		default:
			err = fmt.Errorf("unknown object %q", ev.Object)
		}
		if err != nil {
			return err
		}
		changed = a.changed
		state, reason := EventApplied, ""
		if !changed {
			state, reason = EventSkipped, "nothing newer than the local copy"
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhook_events SET state = ?, reason = ?, applied_at = ? WHERE id = ?`,
			state, reason, s.unixNow(), ev.EventID)
		return err
	})
	return changed, err
}

// applier is one event's application.
type applier struct {
	ctx     context.Context
	tx      *sql.Tx
	ev      ObjectEvent
	base    int64 // the version of fields without their own: the last sync's updated_at
	changed bool
	now     int64 // the console's clock (lead_events.recorded_at)
}

// keep records a change of the lead on its timeline (issue 20).
func (a *applier) keep(e LeadEvent) error {
	e.UUID, e.At, e.Origin = a.ev.UUID, a.ev.At, OriginWebhook
	return insertLeadEvent(a.ctx, a.tx, a.now, e)
}

// keepNote keeps the note an event brings (object_add_notes' notes, or a
// changed latest_remark), even one older than the lead's remark: the
// timeline keeps every note, the field only the latest.
func (a *applier) keepNote() error {
	note := strings.TrimSpace(a.ev.Note)
	if v, ok := a.ev.Set["latest_remark"]; ok && note == "" {
		note = strings.TrimSpace(text(v))
	}
	if note == "" {
		return nil
	}
	return recordNote(a.ctx, a.tx, a.now, LeadEvent{UUID: a.ev.UUID, At: a.ev.At, Kind: LeadEventNote, After: note, Origin: OriginWebhook})
}

// newer reports whether the event is newer than field's version, and if
// so makes it the field's version.
func (a *applier) newer(field string) (bool, error) {
	var at int64
	var tie string
	err := a.tx.QueryRowContext(a.ctx, `SELECT at, tie FROM field_versions WHERE object = ? AND uuid = ? AND field = ?`,
		a.ev.Object, a.ev.UUID, field).Scan(&at, &tie)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		at, tie = a.base, ""
	case err != nil:
		return false, err
	}
	if a.ev.At < at || (a.ev.At == at && a.ev.Tie <= tie) {
		return false, nil
	}
	_, err = a.tx.ExecContext(a.ctx, `INSERT INTO field_versions(object, uuid, field, at, tie) VALUES(?,?,?,?,?)
		ON CONFLICT DO UPDATE SET at = excluded.at, tie = excluded.tie`, a.ev.Object, a.ev.UUID, field, a.ev.At, a.ev.Tie)
	a.changed = true
	return true, err
}

// text is a raw value as a column holds it.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

func (a *applier) lead() error {
	var status, collab, owner string
	var since int64
	err := a.tx.QueryRowContext(a.ctx, `SELECT status, status_since, collaborators, updated_at, owner FROM leads WHERE uuid = ?`, a.ev.UUID).
		Scan(&status, &since, &collab, &a.base, &owner)
	if errors.Is(err, sql.ErrNoRows) {
		// A lead the copy did not have (created since the last sync, or an
		// event that overtook its object_create): it starts with what the
		// event says, and later events, or the sync, fill in the rest.
		_, err = a.tx.ExecContext(a.ctx, `INSERT INTO leads(uuid, business_type, created_at, updated_at, status_since, fields)
			VALUES(?,?,?,0,?,'{}')`, a.ev.UUID, a.ev.BusinessType, a.ev.At, a.ev.At)
		if err != nil {
			return err
		}
		a.base, since = 0, a.ev.At
		if _, err := a.newer("business_type"); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := a.keepNote(); err != nil {
		return err
	}
	if err := a.fields("leads", "uuid", leadColumnOf, func(field string, v any) error {
		if field == "owner" && text(v) != owner && !a.ev.Create {
			return a.keep(LeadEvent{Kind: LeadEventOwner, Before: owner, After: text(v)})
		}
		if field != "lead_status" || text(v) == status {
			return nil
		}
		_, err := a.tx.ExecContext(a.ctx, `INSERT INTO lead_status_history(lead_uuid, at, from_status, to_status, actor, origin)
			VALUES(?,?,?,?,'','webhook')`, a.ev.UUID, a.ev.At, status, text(v))
		if err == nil {
			_, err = a.tx.ExecContext(a.ctx, `UPDATE leads SET status_since = ? WHERE uuid = ?`, a.ev.At, a.ev.UUID)
		}
		status = text(v)
		return err
	}); err != nil {
		return err
	}
	if err := a.collaborators(collab); err != nil {
		return err
	}
	if a.ev.Note != "" {
		if ok, err := a.newer("remark"); err != nil || !ok {
			return err
		}
		_, err := a.tx.ExecContext(a.ctx, `UPDATE leads SET fields = json_set(fields, '$.remark', ?) WHERE uuid = ?`, a.ev.Note, a.ev.UUID)
		return err
	}
	return a.voiding("leads", "uuid", "voided = ?, voided_at = ?")
}

// fields applies the changed fields: the columns the copy keeps, and every
// code inside the fields JSON. onColumn runs before a column is written.
func (a *applier) fields(table, key string, columns map[string]string, onColumn func(field string, v any) error) error {
	codes := make([]string, 0, len(a.ev.Set))
	for code := range a.ev.Set {
		codes = append(codes, code)
	}
	if a.ev.Owner != "" {
		if _, ok := a.ev.Set["owner"]; !ok {
			a.ev.Set["owner"] = a.ev.Owner
			codes = append(codes, "owner")
		}
	}
	slices.Sort(codes)
	for _, code := range codes {
		v := a.ev.Set[code]
		ok, err := a.newer(code)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if col, kept := columns[code]; kept {
			if onColumn != nil {
				if err := onColumn(code, v); err != nil {
					return err
				}
			}
			if _, err := a.tx.ExecContext(a.ctx, `UPDATE `+table+` SET `+col+` = ? WHERE `+key+` = ?`, text(v), a.ev.UUID); err != nil {
				return err
			}
		}
		if _, err := a.tx.ExecContext(a.ctx, `UPDATE `+table+` SET fields = json_set(fields, '$.'||?, json(?)) WHERE `+key+` = ?`,
			code, string(raw), a.ev.UUID); err != nil {
			return err
		}
	}
	return nil
}

// collaborators adds and removes members, each with its own version.
func (a *applier) collaborators(current string) error {
	if len(a.ev.AddCollaborators)+len(a.ev.RemoveCollaborators) == 0 {
		return nil
	}
	var list []string
	if err := json.Unmarshal([]byte(current), &list); err != nil {
		list = nil
	}
	change := func(ids []string, add bool) error {
		for _, id := range ids {
			ok, err := a.newer("collaborator:" + id)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			i := slices.Index(list, id)
			switch {
			case add && i < 0:
				list = append(list, id)
			case !add && i >= 0:
				list = slices.Delete(list, i, i+1)
			}
		}
		return nil
	}
	if err := change(a.ev.AddCollaborators, true); err != nil {
		return err
	}
	if err := change(a.ev.RemoveCollaborators, false); err != nil {
		return err
	}
	slices.Sort(list)
	var before []string
	_ = json.Unmarshal([]byte(current), &before)
	e := LeadEvent{UUID: a.ev.UUID, At: a.ev.At, Origin: OriginWebhook}
	if err := recordCollaborators(a.ctx, a.tx, a.now, e, before, list); err != nil {
		return err
	}
	b, _ := json.Marshal(nonNilStrings(list))
	_, err := a.tx.ExecContext(a.ctx, `UPDATE leads SET collaborators = ? WHERE uuid = ?`, string(b), a.ev.UUID)
	return err
}

// voiding applies a void or a restore.
func (a *applier) voiding(table, key, set string) error {
	if !a.ev.Void && !a.ev.Restore {
		return nil
	}
	ok, err := a.newer("voided")
	if err != nil || !ok {
		return err
	}
	voided, at := 0, int64(0)
	if a.ev.Void {
		voided, at = 1, a.ev.At
	}
	_, err = a.tx.ExecContext(a.ctx, `UPDATE `+table+` SET `+set+` WHERE `+key+` = ?`, voided, at, a.ev.UUID)
	return err
}

func (a *applier) account() error {
	var exists int
	err := a.tx.QueryRowContext(a.ctx, `SELECT 1 FROM accounts WHERE uuid = ?`, a.ev.UUID).Scan(&exists)
	if errors.Is(err, sql.ErrNoRows) {
		// Accounts are known from their events only: any event makes one.
		if _, err := a.tx.ExecContext(a.ctx, `INSERT INTO accounts(uuid, business_type, created_at) VALUES(?,?,?)`,
			a.ev.UUID, a.ev.BusinessType, a.ev.At); err != nil {
			return err
		}
		if _, err := a.newer("business_type"); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := a.fields("accounts", "uuid", accountColumnOf, nil); err != nil {
		return err
	}
	if err := a.voiding("accounts", "uuid", "voided = ?, changed_at = MAX(changed_at, ?)"); err != nil {
		return err
	}
	_, err = a.tx.ExecContext(a.ctx, `UPDATE accounts SET changed_at = MAX(changed_at, ?) WHERE uuid = ?`, a.ev.At, a.ev.UUID)
	return err
}

// Account is one account of the local copy.
type Account struct {
	UUID, BusinessType, Name, Owner string
	Voided                          bool
	Fields                          json.RawMessage
	CreatedAt, ChangedAt            int64
}

// Account loads one account.
func (s *Store) Account(ctx context.Context, uuid string) (Account, error) {
	var a Account
	var fields string
	err := s.read.QueryRowContext(ctx, `SELECT uuid, business_type, name, owner, voided, fields, created_at, changed_at
		FROM accounts WHERE uuid = ?`, uuid).Scan(&a.UUID, &a.BusinessType, &a.Name, &a.Owner, &a.Voided, &fields, &a.CreatedAt, &a.ChangedAt)
	if err != nil {
		return Account{}, notFound(err, "account "+uuid)
	}
	a.Fields = json.RawMessage(fields)
	return a, nil
}

// --- what changed, for open pages ---

// LeadChange is one write to a lead of the copy.
type LeadChange struct {
	Seq  int64
	UUID string
}

// LeadChangesAfter returns the leads written after seq (each once, at its
// latest seq), at most limit, and the latest seq of all.
func (s *Store) LeadChangesAfter(ctx context.Context, seq int64, limit int) ([]LeadChange, int64, error) {
	var last int64
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM lead_changes`).Scan(&last); err != nil {
		return nil, 0, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT MAX(seq), uuid FROM lead_changes WHERE seq > ? GROUP BY uuid ORDER BY 1 LIMIT ?`,
		seq, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []LeadChange
	for rows.Next() {
		var c LeadChange
		if err := rows.Scan(&c.Seq, &c.UUID); err != nil {
			return nil, 0, err
		}
		out = append(out, c)
	}
	return out, last, rows.Err()
}

// PruneLeadChanges keeps the newest keep entries of the change log.
func (s *Store) PruneLeadChanges(ctx context.Context, keep int64) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM lead_changes WHERE seq <= (SELECT COALESCE(MAX(seq), 0) FROM lead_changes) - ?`, keep)
	return err
}

// PruneWebhookEvents deletes finished events received before their
// state's cut-off: applied and skipped ones before doneBefore, failed and
// unknown ones (which an upgrade may requeue) before failedBefore; a
// cut-off of 0 keeps those forever. Pending events are never deleted. It
// says how many it deleted.
func (s *Store) PruneWebhookEvents(ctx context.Context, doneBefore, failedBefore int64) (int64, error) {
	var n int64
	for _, p := range []struct {
		states []string
		before int64
	}{{[]string{EventApplied, EventSkipped}, doneBefore}, {[]string{EventFailed, EventUnknown}, failedBefore}} {
		if p.before <= 0 {
			continue
		}
		res, err := s.write.ExecContext(ctx, `DELETE FROM webhook_events WHERE state IN (?, ?) AND received_at < ?`,
			p.states[0], p.states[1], p.before)
		if err != nil {
			return n, fmt.Errorf("db: prune webhook events: %w", err)
		}
		d, _ := res.RowsAffected()
		n += d
	}
	return n, nil
}
