package leads

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

// Bulk changes: one change (owner, collaborators or status) applied to
// many leads by a background job, lead by lead, each re-read from the
// platform first and written on behalf of the user who asked
// (jing.WithActor). The client paces its own calls below the platform's
// rate limits. A lead the platform refuses is recorded as the job's item
// error and the job goes on with the next.

// BulkJobKind is the kind of a bulk change job on the jobs runner.
const BulkJobKind = "leads.bulk"

// MaxBulk is the most leads one bulk change may touch.
const MaxBulk = 1000

// Bulk actions.
const (
	BulkOwner               = "owner"
	BulkAddCollaborators    = "add_collaborators"
	BulkRemoveCollaborators = "remove_collaborators"
	BulkStatus              = "status"
)

// BulkActions are the actions, in the order the bulk bar offers them.
var BulkActions = []string{BulkOwner, BulkAddCollaborators, BulkRemoveCollaborators, BulkStatus}

// BulkChange is what a bulk job does to each lead.
type BulkChange struct {
	Action  string   `json:"action"`
	Owner   string   `json:"owner,omitempty"`   // BulkOwner: the new owner's member id
	Members []string `json:"members,omitempty"` // the collaborators to add or remove
	Status  string   `json:"status,omitempty"`  // BulkStatus: the status to move to
}

// Refusals of a bulk change.
var (
	// ErrBadBulk refuses a change that says nothing to do.
	ErrBadBulk = msg.Refuse(msg.Invalid, "leads.list.bulk.incomplete").On("action")
	// ErrBulkNone: none of the leads chosen is in the local copy.
	ErrBulkNone = msg.Refuse(msg.Invalid, "leads.list.bulk.none")
	// ErrBulkTooMany: more than MaxBulk leads chosen.
	ErrBulkTooMany = msg.Refuse(msg.Invalid, "leads.list.bulk.too_many", msg.Int("Max", MaxBulk))
)

// Check reports whether the change is complete.
func (c BulkChange) Check() error {
	ok := false
	switch c.Action {
	case BulkOwner:
		ok = c.Owner != ""
	case BulkAddCollaborators, BulkRemoveCollaborators:
		ok = len(c.Members) > 0 && !slices.Contains(c.Members, "")
	case BulkStatus:
		ok = c.Status != ""
	}
	if !ok {
		return ErrBadBulk
	}
	return nil
}

type bulkParams struct {
	Connection string     `json:"connection"`
	Actor      string     `json:"actor"`
	Change     BulkChange `json:"change"`
	Leads      []string   `json:"leads"`
}

// BulkPlan is a bulk change checked: the leads of the local copy it
// touches, in the order chosen, each once.
type BulkPlan struct {
	Leads  []db.Lead
	Change BulkChange
}

// UUIDs are the plan's leads' ids.
func (p BulkPlan) UUIDs() []string {
	out := make([]string, len(p.Leads))
	for i, l := range p.Leads {
		out[i] = l.UUID
	}
	return out
}

// PlanBulk checks a bulk change of the leads uuids (as chosen: repeats
// and ids the copy does not hold are left out): ErrBadBulk for an
// incomplete change, ErrBulkTooMany beyond MaxBulk leads, ErrBulkNone
// when none is left. The preview shows the plan; RequestBulk runs it.
func (s *Service) PlanBulk(ctx context.Context, uuids []string, c BulkChange) (BulkPlan, error) {
	p := BulkPlan{Change: c}
	if err := c.Check(); err != nil {
		return p, err
	}
	seen := map[string]bool{}
	for _, u := range uuids {
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		if len(seen) > MaxBulk {
			return p, ErrBulkTooMany
		}
		l, err := s.store.Lead(ctx, u)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return p, err
		}
		p.Leads = append(p.Leads, l)
	}
	if len(p.Leads) == 0 {
		return p, ErrBulkNone
	}
	return p, nil
}

// RequestBulk plans a bulk change of the leads uuids (PlanBulk, with its
// refusals) and queues it for the user userID, on whose behalf the
// platform calls are made (actor): the job's id and the plan.
func (s *Service) RequestBulk(ctx context.Context, userID int64, actor string, uuids []string, c BulkChange) (int64, BulkPlan, error) {
	p, err := s.PlanBulk(ctx, uuids, c)
	if err != nil {
		return 0, p, err
	}
	title := jobs.Title("jobs.title.leads_bulk", msg.Int("Count", int64(len(p.Leads))),
		msg.Nested("Action", msg.New("leads.list.bulk.action."+c.Action)))
	job, err := s.cfg.Runner.Enqueue(ctx, jobs.Spec{Kind: BulkJobKind, Title: title, OwnerID: userID, Total: int64(len(p.Leads)),
		Params: bulkParams{Connection: s.connection(), Actor: actor, Change: c, Leads: p.UUIDs()}})
	if err != nil {
		return 0, p, err
	}
	return job.ID, p, nil
}

// runBulk is the bulk job's handler; the checkpoint is how many leads are done.
func (s *Service) runBulk(ctx context.Context, t *jobs.Task) error {
	var p bulkParams
	if err := t.Params(&p); err != nil {
		return err
	}
	client, conn := s.cfg.Platform.Current()
	if conn != p.Connection {
		return errors.New("leads: the platform connection changed since the bulk change was asked for")
	}
	done := 0
	if cp := t.Checkpoint(); cp != "" {
		n, err := strconv.Atoi(cp)
		if err != nil {
			return fmt.Errorf("leads: job %d checkpoint: %w", t.ID(), err)
		}
		done = n
	}
	for i := done; i < len(p.Leads); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		uuid := p.Leads[i]
		if err := s.bulkOne(ctx, client, p.Actor, uuid, p.Change); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if jing.IsKind(err, jing.KindQuota) {
				return err // paused until the quota resets; this lead is tried again then
			}
			t.Fail(uuid, msg.ErrorText(err))
		} else {
			t.Did(1)
		}
		if err := t.Save(strconv.Itoa(i + 1)); err != nil {
			return err
		}
	}
	return nil
}

// bulkOne re-reads a lead, applies the change on the platform and writes
// the lead as the platform then has it to the local copy.
func (s *Service) bulkOne(ctx context.Context, client *jing.Client, actor, uuid string, c BulkChange) error {
	began := s.cfg.Now().Unix()
	before, err := s.reread(ctx, client, uuid)
	if err != nil {
		return err
	}
	wctx := jing.WithActor(ctx, actor)
	switch c.Action {
	case BulkOwner:
		if before.Owner == c.Owner {
			return nil
		}
		err = client.UpdateLead(wctx, uuid, jing.LeadInput{LeadFields: jing.LeadFields{Owner: jing.MemberID(c.Owner)}})
	case BulkAddCollaborators:
		err = client.UpdateCollaborators(wctx, uuid, memberIDs(c.Members), nil)
	case BulkRemoveCollaborators:
		err = client.UpdateCollaborators(wctx, uuid, nil, memberIDs(c.Members))
	case BulkStatus:
		if before.Status == c.Status {
			return nil
		}
		if s.noteMissing(before.BusinessType, c.Status, "") {
			return ErrNoteRequired
		}
		err = client.UpdateLeadStatus(wctx, uuid, c.Status)
	default:
		return ErrBadBulk
	}
	if err != nil {
		return err
	}
	after, err := s.reread(ctx, client, uuid)
	if err != nil {
		return fmt.Errorf("changed, but not re-read (the next sync brings it): %w", err)
	}
	if after.Status != before.Status {
		return s.store.SaveMovedLead(ctx, after, db.LeadStatusChange{Actor: actor, Origin: db.OriginConsole})
	}
	return s.store.SaveEditedLead(ctx, after, db.LeadEdit{Actor: actor, Since: began})
}

// registerBulk registers the bulk job's kind (New calls it).
func (s *Service) registerBulk() { s.cfg.Runner.Register(BulkJobKind, s.runBulk) }
