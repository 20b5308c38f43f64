package leads

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// The lead page's writes: the owner, the collaborators, a note, the
// fields. Like Move, each first re-reads the lead and writes nothing when
// it changed on the platform since the console showed it (seenUpdatedAt);
// the platform calls are made on behalf of actor (jing.WithActor), so the
// audit log records them with their request ids; the local copy is then
// updated from a re-read. What the console can tell before calling the
// platform it refuses itself, with a msg.Error.

// NoteMax is the longest note a lead takes, in characters.
const NoteMax = 500

// Refusals of the lead page's writes.
var (
	// ErrOwnerRequired: leads.update leaves empty fields out, so
	// unassigning a lead is not a write it knows.
	ErrOwnerRequired = msg.Refuse(msg.Invalid, "leads.page.owner_required").On("owner")
	ErrNoteEmpty     = msg.Refuse(msg.Invalid, "leads.page.notes.required").On("note")
	ErrLeadVoided    = msg.Refuse(msg.Invalid, "leads.page.notes.voided").On("note")
)

// SetOwner gives the lead to the member owner (leads.update owner).
// Errors: ErrOwnerRequired for no owner, *ChangedUpstream (the copy now
// holds the platform's state), *jing.Error for a refusal (the copy is
// left as it was).
func (s *Service) SetOwner(ctx context.Context, actor, uuid, owner string, seenUpdatedAt int64) (db.Lead, error) {
	if owner == "" {
		return db.Lead{}, ErrOwnerRequired
	}
	return s.edit(ctx, uuid, seenUpdatedAt, func(wctx context.Context, client *jing.Client, _ db.Lead) error {
		in := jing.LeadInput{LeadFields: jing.LeadFields{Owner: jing.MemberID(owner)}}
		return client.UpdateLead(wctx, uuid, in)
	}, actor)
}

// SetCollaborators makes the lead's collaborators the members want
// (leads.collaborators: those the platform's lead lacks are added, those
// it has beyond want removed). Nothing to change still re-reads the lead.
func (s *Service) SetCollaborators(ctx context.Context, actor, uuid string, want []string, seenUpdatedAt int64) (db.Lead, error) {
	return s.edit(ctx, uuid, seenUpdatedAt, func(wctx context.Context, client *jing.Client, before db.Lead) error {
		add, remove := collaboratorChange(before.Collaborators, want)
		if len(add) == 0 && len(remove) == 0 {
			return nil
		}
		return client.UpdateCollaborators(wctx, uuid, memberIDs(add), memberIDs(remove))
	}, actor)
}

// collaboratorChange is what turns the collaborators have into want: the
// members to add (in id order) and those to remove.
func collaboratorChange(have, want []string) (add, remove []string) {
	for _, id := range want {
		if id != "" && !slices.Contains(have, id) && !slices.Contains(add, id) {
			add = append(add, id)
		}
	}
	for _, id := range have {
		if !slices.Contains(want, id) {
			remove = append(remove, id)
		}
	}
	slices.Sort(add)
	return add, remove
}

// AddNote sends a note as the lead's latest remark (leads.update
// latest_remark), trimmed. Refused before the platform: a voided lead
// (ErrLeadVoided), an empty note (ErrNoteEmpty), one over NoteMax
// characters.
func (s *Service) AddNote(ctx context.Context, actor, uuid, note string, seenUpdatedAt int64) (db.Lead, error) {
	note = strings.TrimSpace(note)
	l, err := s.store.Lead(ctx, uuid)
	if err != nil {
		return db.Lead{}, err
	}
	n := utf8.RuneCountInString(note)
	switch {
	case l.Voided:
		return db.Lead{}, ErrLeadVoided
	case note == "":
		return db.Lead{}, ErrNoteEmpty
	case n > NoteMax:
		return db.Lead{}, msg.Refuse(msg.Invalid, "leads.page.notes.too_long", msg.Int("Max", NoteMax), msg.Int("Count", int64(n))).On("note")
	}
	in := jing.LeadInput{LeadFields: jing.LeadFields{LatestRemark: note}}
	return s.editAs(ctx, uuid, seenUpdatedAt, func(wctx context.Context, client *jing.Client, _ db.Lead) error {
		return client.UpdateLead(wctx, uuid, in)
	}, db.LeadEdit{Actor: actor, Note: note})
}

func memberIDs(ids []string) []jing.MemberID {
	out := make([]jing.MemberID, len(ids))
	for i, id := range ids {
		out[i] = jing.MemberID(id)
	}
	return out
}

// edit is the re-read, write, re-read pattern of the lead page's writes;
// write is given the lead as the platform has it before the write.
func (s *Service) edit(ctx context.Context, uuid string, seenUpdatedAt int64, write func(context.Context, *jing.Client, db.Lead) error, actor string) (db.Lead, error) {
	return s.editAs(ctx, uuid, seenUpdatedAt, write, db.LeadEdit{Actor: actor})
}

// editAs is edit with what the timeline keeps of the write (who, a note).
func (s *Service) editAs(ctx context.Context, uuid string, seenUpdatedAt int64, write func(context.Context, *jing.Client, db.Lead) error, by db.LeadEdit) (db.Lead, error) {
	actor := by.Actor
	by.Since = s.cfg.Now().Unix()
	client, _ := s.cfg.Platform.Current()
	before, err := s.unchangedSince(ctx, client, uuid, seenUpdatedAt)
	if err != nil {
		return db.Lead{}, err
	}
	if err := write(jing.WithActor(ctx, actor), client, before); err != nil {
		return db.Lead{}, err
	}
	after, err := s.reread(ctx, client, uuid)
	if err != nil {
		// The write happened; the next sync brings the platform's state.
		s.log.Warn("lead written, but not re-read: the copy catches up at the next sync", "lead", uuid, "error", err)
		return s.store.Lead(ctx, uuid)
	}
	if err := s.store.SaveEditedLead(ctx, after, by); err != nil {
		return db.Lead{}, err
	}
	return s.store.Lead(ctx, uuid)
}

// Update writes the fields set in in (and empties those in in.Clear)
// through leads.update, after the same re-read as SetOwner.
func (s *Service) Update(ctx context.Context, actor, uuid string, in jing.LeadInput, seenUpdatedAt int64) (db.Lead, error) {
	return s.edit(ctx, uuid, seenUpdatedAt, func(wctx context.Context, client *jing.Client, _ db.Lead) error {
		return client.UpdateLead(wctx, uuid, in)
	}, actor)
}

// Create creates a lead (leads.create) on behalf of actor and adds it to
// the local copy from a re-read. When the re-read fails, the lead exists
// on the platform but not yet in the copy (the next sync brings it): its
// jing_uuid is returned with db.ErrNotFound.
func (s *Service) Create(ctx context.Context, actor string, in jing.LeadInput) (db.Lead, error) {
	client, _ := s.cfg.Platform.Current()
	uuid, err := client.CreateLead(jing.WithActor(ctx, actor), in)
	if err != nil {
		return db.Lead{}, err
	}
	l, err := s.reread(ctx, client, uuid)
	if err != nil {
		s.log.Warn("lead created, but not re-read: the copy gets it at the next sync", "lead", uuid, "error", err)
		return db.Lead{UUID: uuid}, db.ErrNotFound
	}
	if err := s.store.UpsertLeads(ctx, []db.Lead{l}); err != nil {
		return db.Lead{UUID: uuid}, err
	}
	return s.store.Lead(ctx, uuid)
}
