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

// The lead timeline (issue 20, migration 0017): notes, owner and
// collaborator changes kept as rows of lead_events when the console learns
// of them (its own writes, webhooks, syncs), read together with the status
// history, the sends that reached the lead and its score changes.

// Kinds of a LeadEvent, and of the other entries of a timeline.
const (
	LeadEventNote          = "note"
	LeadEventOwner         = "owner"
	LeadEventCollaborators = "collaborators"
	TimelineStatus         = "status"
	TimelineSend           = "send"
	TimelineScore          = "score"
)

// NoteEchoWindow is how close in time (seconds) a note learnt from a
// webhook or a sync must be to a kept note of the same text to be taken
// for the same note: the echo of the console's own write, or the sync
// seeing what a webhook already told. Two equal notes written further
// apart are both kept.
const NoteEchoWindow = 120

// LeadEvent is one kept change of a lead other than its status.
type LeadEvent struct {
	UUID          string
	At            int64
	Kind          string
	Before, After string // see migration 0017
	Actor, Origin string
}

// leadSide is what the timeline follows of a lead in the copy.
type leadSide struct {
	owner  string
	collab []string
	remark string
}

// remarkOf reads latest_remark out of a lead's fields ("" when none).
func remarkOf(fields json.RawMessage) string {
	var f struct {
		LatestRemark any `json:"latest_remark"`
	}
	if json.Unmarshal(fields, &f) != nil {
		return ""
	}
	return strings.TrimSpace(text(f.LatestRemark))
}

// recordLeadSides records what changed between the copy's lead (before)
// and the platform's (l) as events, as c says who did it (Origin "" is a
// sync). A lead first seen (before nil) brings its latest remark only.
func recordLeadSides(ctx context.Context, tx *sql.Tx, now int64, before *leadSide, l Lead, c LeadStatusChange) error {
	// The console's own writes happened now (as its status changes); a
	// sync only knows the change came by the lead's updated_timestamp.
	e := LeadEvent{UUID: l.UUID, At: now, Actor: c.Actor, Origin: c.Origin}
	if e.Origin == "" {
		e.Origin = OriginSync
	}
	if e.Origin == OriginSync && l.UpdatedAt > 0 {
		e.At = l.UpdatedAt
	}
	remark := remarkOf(l.Fields)
	if before == nil {
		if remark == "" {
			return nil
		}
		e.Kind, e.After = LeadEventNote, remark
		return recordNote(ctx, tx, now, e)
	}
	if remark != "" && remark != before.remark {
		e.Kind, e.After = LeadEventNote, remark
		if err := recordNote(ctx, tx, now, e); err != nil {
			return err
		}
	}
	if l.Owner != before.owner {
		e.Kind, e.Before, e.After = LeadEventOwner, before.owner, l.Owner
		if err := insertLeadEvent(ctx, tx, now, e); err != nil {
			return err
		}
	}
	return recordCollaborators(ctx, tx, now, e, before.collab, l.Collaborators)
}

// recordCollaborators records a change of the collaborators (as sorted
// sets), if there is one.
func recordCollaborators(ctx context.Context, tx *sql.Tx, now int64, e LeadEvent, before, after []string) error {
	b, a := slices.Sorted(slices.Values(before)), slices.Sorted(slices.Values(after))
	if slices.Equal(b, a) {
		return nil
	}
	bj, _ := json.Marshal(nonNilStrings(b))
	aj, _ := json.Marshal(nonNilStrings(a))
	e.Kind, e.Before, e.After = LeadEventCollaborators, string(bj), string(aj)
	return insertLeadEvent(ctx, tx, now, e)
}

// recordNote keeps a note learnt from a webhook or a sync unless the lead
// already has it (same text within NoteEchoWindow).
func recordNote(ctx context.Context, tx *sql.Tx, now int64, e LeadEvent) error {
	var seen bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM lead_events WHERE lead_uuid = ? AND kind = 'note'
		AND after = ? AND at BETWEEN ? AND ?)`, e.UUID, e.After, e.At-NoteEchoWindow, e.At+NoteEchoWindow).Scan(&seen)
	if err != nil || seen {
		return err
	}
	return insertLeadEvent(ctx, tx, now, e)
}

func insertLeadEvent(ctx context.Context, tx *sql.Tx, now int64, e LeadEvent) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO lead_events(lead_uuid, at, recorded_at, kind, before, after, actor, origin)
		VALUES(?,?,?,?,?,?,?,?)`, e.UUID, e.At, now, e.Kind, e.Before, e.After, e.Actor, e.Origin)
	return err
}

// LeadEdit says who made a write of the lead page and when it began.
type LeadEdit struct {
	Actor string
	Since int64 // Unix seconds, the console's clock: when the write began
	// Note is the note the write sent (AddNote): kept even when its text
	// equals the lead's previous remark.
	Note string
}

// SaveEditedLead writes a lead the console just changed (owner,
// collaborators, a note, fields), as re-read from the platform, in one
// transaction: the changes are kept as the actor's. Events a webhook
// brought since the write began (the platform's echo of it, arrived
// before the re-read) become the actor's too, instead of being kept twice.
func (s *Store) SaveEditedLead(ctx context.Context, l Lead, e LeadEdit) error {
	defer s.leadsWritten()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		w, err := newLeadWriter(ctx, tx, s.unixNow())
		if err != nil {
			return err
		}
		defer w.close()
		by := LeadStatusChange{Actor: e.Actor, Origin: OriginConsole}
		if _, err := w.upsert(ctx, l, by); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE lead_events SET actor = ?, origin = 'console'
			WHERE lead_uuid = ? AND origin = 'webhook' AND actor = '' AND recorded_at >= ?`, e.Actor, l.UUID, e.Since); err != nil {
			return err
		}
		if e.Note == "" {
			return nil
		}
		// The note is the actor's: kept once, whether the upsert saw the
		// remark change (kept above) or not (the same text as before).
		var kept bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM lead_events WHERE lead_uuid = ? AND kind = 'note'
			AND after = ? AND origin = 'console' AND recorded_at >= ?)`, l.UUID, e.Note, e.Since).Scan(&kept); err != nil || kept {
			return err
		}
		return insertLeadEvent(ctx, tx, w.now, LeadEvent{UUID: l.UUID, At: w.now, Kind: LeadEventNote, After: e.Note,
			Actor: e.Actor, Origin: OriginConsole})
	})
	if err != nil {
		return fmt.Errorf("db: save edited lead %s: %w", l.UUID, err)
	}
	return nil
}

// TimelineEntry is one line of a lead's timeline. What A, B and C hold
// depends on Kind:
//   - status: from, to;
//   - note: the text in B;
//   - owner, collaborators: before in A, after in B (member ids; JSON lists);
//   - send: channel in A, the send's name in B, the recipient's status in C (Ref: the send's id);
//   - score: its kind in A, the score in B, the previous one of the same model in C ("" for the first).
type TimelineEntry struct {
	At            int64
	Kind          string
	Ref           string // the row's key within its kind (the cursor's tie-break)
	A, B, C       string
	Actor, Origin string
}

// TimelineCursor is where a page of a timeline ends (zero: from the newest).
type TimelineCursor struct {
	At        int64
	Kind, Ref string
}

// String encodes the cursor for a URL ("" for the zero cursor).
func (c TimelineCursor) String() string {
	if c.Kind == "" {
		return ""
	}
	return fmt.Sprintf("%d~%s~%s", c.At, c.Kind, c.Ref)
}

// ErrBadCursor refuses a cursor that ParseTimelineCursor cannot read.
var ErrBadCursor = errors.New("db: bad timeline cursor")

// ParseTimelineCursor reads a cursor written by String.
func ParseTimelineCursor(s string) (TimelineCursor, error) {
	if s == "" {
		return TimelineCursor{}, nil
	}
	parts := strings.SplitN(s, "~", 3)
	var c TimelineCursor
	if len(parts) != 3 || parts[1] == "" {
		return c, ErrBadCursor
	}
	if _, err := fmt.Sscanf(parts[0], "%d", &c.At); err != nil {
		return c, ErrBadCursor
	}
	c.Kind, c.Ref = parts[1], parts[2]
	return c, nil
}

// TimelineQuery selects a page of a lead's timeline.
type TimelineQuery struct {
	UUID string
	// Recipients are the lead's mobile and email: the sends that reached
	// either (delivered, opened or clicked) are on its timeline.
	Recipients []string
	After      TimelineCursor // the page starts after this entry
	Limit      int            // default 30, at most 200
}

// LeadTimeline returns a page of a lead's timeline, newest first, and the
// cursor of the next page (zero when this is the last).
func (s *Store) LeadTimeline(ctx context.Context, q TimelineQuery) ([]TimelineEntry, TimelineCursor, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 30
	}
	recips := []any{}
	for _, r := range q.Recipients {
		if r = strings.TrimSpace(r); r != "" {
			recips = append(recips, r)
		}
	}
	sends := `SELECT 0, '', '', '', '', '', '', '' WHERE 0`
	if len(recips) > 0 {
		sends = `SELECT CASE WHEN r.at > 0 THEN r.at ELSE s.submitted_at END, 'send', printf('%012d', s.id), s.channel, s.name,
			r.status, '', '' FROM send_records r JOIN sends s ON s.id = r.send_id
			WHERE r.recipient IN (` + placeholders(len(recips)) + `) AND r.status IN ('delivered','opened','clicked')`
	}
	query := `SELECT at, kind, ref, a, b, c, actor, origin FROM (
		SELECT at, 'status' AS kind, printf('%012d', id) AS ref, from_status AS a, to_status AS b, '' AS c, actor, origin
			FROM lead_status_history WHERE lead_uuid = ?
		UNION ALL
		SELECT at, kind, printf('%012d', id), before, after, '', actor, origin FROM lead_events WHERE lead_uuid = ?
		UNION ALL ` + sends + `
		UNION ALL
		SELECT at, 'score', kind || '~' || model, kind, CAST(score AS TEXT), COALESCE(CAST(prev AS TEXT), ''), '', '' FROM (
			SELECT at, kind, model, score, LAG(score) OVER (PARTITION BY kind, model ORDER BY at) AS prev
			FROM score_history WHERE subject = 'lead' AND id = ?) WHERE prev IS NULL OR prev <> score
	) WHERE ? = '' OR (at, kind, ref) < (?, ?, ?)
	ORDER BY at DESC, kind DESC, ref DESC LIMIT ?`
	args := []any{q.UUID, q.UUID}
	args = append(args, recips...)
	args = append(args, q.UUID, q.After.Kind, q.After.At, q.After.Kind, q.After.Ref, q.Limit+1)
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, TimelineCursor{}, fmt.Errorf("db: timeline of lead %s: %w", q.UUID, err)
	}
	defer rows.Close()
	var out []TimelineEntry
	for rows.Next() {
		var e TimelineEntry
		if err := rows.Scan(&e.At, &e.Kind, &e.Ref, &e.A, &e.B, &e.C, &e.Actor, &e.Origin); err != nil {
			return nil, TimelineCursor{}, fmt.Errorf("db: timeline of lead %s: %w", q.UUID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, TimelineCursor{}, fmt.Errorf("db: timeline of lead %s: %w", q.UUID, err)
	}
	var next TimelineCursor
	if len(out) > q.Limit {
		out = out[:q.Limit]
		last := out[len(out)-1]
		next = TimelineCursor{At: last.At, Kind: last.Kind, Ref: last.Ref}
	}
	return out, next, nil
}
