package leads

import (
	"context"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// The lead page's writes: the owner and the collaborators. Like Move, each
// first re-reads the lead and writes nothing when it changed on the
// platform since the console showed it (seenUpdatedAt); the platform calls
// are made on behalf of actor (jing.WithActor), so the audit log records
// them with their request ids; the local copy is then updated from a
// re-read.

// SetOwner gives the lead to the member owner (leads.update owner).
// Errors: *ChangedUpstream (the copy now holds the platform's state),
// *jing.Error for a refusal (the copy is left as it was).
func (s *Service) SetOwner(ctx context.Context, actor, uuid, owner string, seenUpdatedAt int64) (db.Lead, error) {
	return s.edit(ctx, uuid, seenUpdatedAt, func(wctx context.Context, client *jing.Client) error {
		in := jing.LeadInput{LeadFields: jing.LeadFields{Owner: jing.MemberID(owner)}}
		return client.UpdateLead(wctx, uuid, in)
	}, actor)
}

// SetCollaborators adds and removes collaborators (member ids) through
// leads.collaborators. Nothing to change still re-reads the lead.
func (s *Service) SetCollaborators(ctx context.Context, actor, uuid string, add, remove []string, seenUpdatedAt int64) (db.Lead, error) {
	return s.edit(ctx, uuid, seenUpdatedAt, func(wctx context.Context, client *jing.Client) error {
		return client.UpdateCollaborators(wctx, uuid, memberIDs(add), memberIDs(remove))
	}, actor)
}

func memberIDs(ids []string) []jing.MemberID {
	out := make([]jing.MemberID, len(ids))
	for i, id := range ids {
		out[i] = jing.MemberID(id)
	}
	return out
}

// edit is the re-read, write, re-read pattern of the lead page's writes.
func (s *Service) edit(ctx context.Context, uuid string, seenUpdatedAt int64, write func(context.Context, *jing.Client) error, actor string) (db.Lead, error) {
	client, _ := s.cfg.Platform.Current()
	if _, err := s.unchangedSince(ctx, client, uuid, seenUpdatedAt); err != nil {
		return db.Lead{}, err
	}
	if err := write(jing.WithActor(ctx, actor), client); err != nil {
		return db.Lead{}, err
	}
	after, err := s.reread(ctx, client, uuid)
	if err != nil {
		// The write happened; the next sync brings the platform's state.
		s.log.Warn("lead written, but not re-read: the copy catches up at the next sync", "lead", uuid, "error", err)
		return s.store.Lead(ctx, uuid)
	}
	if err := s.store.UpsertLeads(ctx, []db.Lead{after}); err != nil {
		return db.Lead{}, err
	}
	return s.store.Lead(ctx, uuid)
}

// Update writes the fields set in in (and empties those in in.Clear)
// through leads.update, after the same re-read as SetOwner.
func (s *Service) Update(ctx context.Context, actor, uuid string, in jing.LeadInput, seenUpdatedAt int64) (db.Lead, error) {
	return s.edit(ctx, uuid, seenUpdatedAt, func(wctx context.Context, client *jing.Client) error {
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
