package leads

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// ErrNoteRequired refuses a move to a closing status (ClosingStatus)
// without a note: the note says why the lead closed. Only a move on the
// board takes one, so a bulk change to such a status refuses it too.
var ErrNoteRequired = msg.Refuse(msg.Invalid, "leads.error.note_required").On("note")

// ErrChangedUpstream means the lead changed on the platform since the
// console last showed it; *ChangedUpstream unwraps to it.
var ErrChangedUpstream = errors.New("leads: the lead changed on the platform")

// ChangedUpstream carries the lead as the platform has it now (also
// written to the local copy), so the board can show it and ask again.
type ChangedUpstream struct{ Current db.Lead }

func (c *ChangedUpstream) Error() string {
	return fmt.Sprintf("leads: lead %s changed on the platform (now updated at %d)", c.Current.UUID, c.Current.UpdatedAt)
}

func (c *ChangedUpstream) Unwrap() error { return ErrChangedUpstream }

// Move sends a status change to the platform. A closing status without a
// note is refused first (ErrNoteRequired), nothing sent. It re-reads the lead
// (leads.query); if the platform's updated_timestamp differs from
// seenUpdatedAt, nothing is written to the platform: the local copy is
// updated to the platform's state and *ChangedUpstream (ErrChangedUpstream)
// is returned. With a note, leads.update sets latest_remark first. The
// platform writes are made on behalf of actor (jing.WithActor), so the
// audit log records them with their request ids. On success the local copy
// is updated from a re-read (Status, StatusSince now, UpdatedAt), the move
// recorded in the history (Origin "console"), and the lead returned.
// Platform refusals come back as *jing.Error (jing.AsError); the local copy
// is then left as it was, unless the note was already written, in which
// case the copy takes the platform's state. A lead the platform no longer
// has is marked voided in the copy.
func (s *Service) Move(ctx context.Context, actor string, uuid, toStatus, note string, seenUpdatedAt int64) (db.Lead, error) {
	note = strings.TrimSpace(note)
	l, err := s.store.Lead(ctx, uuid)
	if err != nil {
		return db.Lead{}, err
	}
	if s.noteMissing(l.BusinessType, toStatus, note) {
		return db.Lead{}, ErrNoteRequired
	}
	client, _ := s.cfg.Platform.Current()
	before, err := s.unchangedSince(ctx, client, uuid, seenUpdatedAt)
	if err != nil {
		return db.Lead{}, err
	}
	wctx := jing.WithActor(ctx, actor)
	// The platform's echo of the move (a webhook) may be applied before
	// the move is saved: from this moment on, it is this move.
	sentAt := s.cfg.Now().Unix()
	if note != "" {
		in := jing.LeadInput{LeadFields: jing.LeadFields{LatestRemark: note}}
		if err := client.UpdateLead(wctx, uuid, in); err != nil {
			return db.Lead{}, err
		}
	}
	if err := client.UpdateLeadStatus(wctx, uuid, toStatus); err != nil {
		if note != "" {
			s.refreshAfterRefusal(uuid, client)
		}
		return db.Lead{}, err
	}
	after, err := s.reread(ctx, client, uuid)
	if err != nil {
		// The move happened; the copy shows it, and the next sync brings
		// the rest of the platform's state.
		s.log.Warn("lead moved, but not re-read: the copy shows the move until the next sync", "lead", uuid, "error", err)
		after = before
		after.Status = toStatus
	}
	if err := s.store.SaveMovedLead(ctx, after, db.LeadStatusChange{Actor: actor, Origin: db.OriginConsole, SentAt: sentAt}); err != nil {
		return db.Lead{}, err
	}
	return s.store.Lead(ctx, uuid)
}

// noteMissing is the one rule of closing notes: a move to a closing
// status needs one.
func (s *Service) noteMissing(businessType, toStatus, note string) bool {
	return note == "" && s.closingNow(businessType, toStatus)
}

// unchangedSince re-reads a lead before a write. When the platform's copy
// was updated after seenUpdatedAt (what the user was looking at), the local
// copy takes the platform's state and *ChangedUpstream is returned, so the
// caller writes nothing over someone else's change.
func (s *Service) unchangedSince(ctx context.Context, client *jing.Client, uuid string, seenUpdatedAt int64) (db.Lead, error) {
	current, err := s.reread(ctx, client, uuid)
	if err != nil {
		return db.Lead{}, err
	}
	if current.UpdatedAt == seenUpdatedAt {
		return current, nil
	}
	if err := s.store.UpsertLeads(ctx, []db.Lead{current}); err != nil {
		return db.Lead{}, err
	}
	local, err := s.store.Lead(ctx, uuid)
	if err != nil {
		return db.Lead{}, err
	}
	return db.Lead{}, &ChangedUpstream{Current: local}
}

// reread asks the platform for a lead; one it no longer has is marked
// voided in the copy (and the platform's error returned).
func (s *Service) reread(ctx context.Context, client *jing.Client, uuid string) (db.Lead, error) {
	l, err := client.QueryLead(ctx, jing.LeadKey{JingUUID: uuid})
	if leadGone(err) {
		if verr := s.store.MarkLeadVoided(ctx, uuid, s.cfg.Now().Unix()); verr != nil && !errors.Is(verr, db.ErrNotFound) {
			s.log.Warn("mark a lead the platform no longer has as voided", "lead", uuid, "error", verr)
		}
	}
	if err != nil {
		return db.Lead{}, err
	}
	return fromPlatform(l)
}

// refreshAfterRefusal writes the platform's state of a lead to the copy
// after a refused move whose note was written: the platform changed.
func (s *Service) refreshAfterRefusal(uuid string, client *jing.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := s.reread(ctx, client, uuid)
	if err == nil {
		err = s.store.UpsertLeads(ctx, []db.Lead{l})
	}
	if err != nil {
		s.log.Warn("refresh a lead after a refused move", "lead", uuid, "error", err)
	}
}
