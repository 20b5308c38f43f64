package leads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/upkeep"
)

// checkpoint is where a sync got to. leads.list pages in creation order,
// oldest first, so a page number stays a valid place to resume: leads
// created meanwhile come after it, and a lead that starts matching
// updated_since during the walk only pushes later ones a place on (seen
// twice, never skipped).
type checkpoint struct {
	Page int `json:"page"` // pages done
	// Started is when the walk began (Unix s); Since is the updated_since
	// it asks with (0 for a full sync). Both stay fixed across resumes.
	Started int64 `json:"started"`
	Since   int64 `json:"since,omitempty"`
	// HighWater is the largest updated_timestamp seen so far.
	HighWater int64 `json:"high_water,omitempty"`
}

// errSuperseded stops a sync whose connection is no longer the live one.
var errSuperseded = errors.New("leads: the platform connection changed")

// sync is one run of a sync job.
type syncRun struct {
	s      *Service
	t      *jobs.Task
	p      jobParams
	client *jing.Client
	cp     checkpoint
}

// runSync is the job handler.
func (s *Service) runSync(ctx context.Context, t *jobs.Task) error {
	run := &syncRun{s: s, t: t}
	if err := t.Params(&run.p); err != nil {
		return err
	}
	client, conn := s.cfg.Platform.Current()
	if conn != run.p.Connection {
		s.log.Info("lead sync superseded: the platform connection changed before it ran", "job", t.ID())
		return nil
	}
	run.client = client
	if cp := t.Checkpoint(); cp != "" {
		if err := json.Unmarshal([]byte(cp), &run.cp); err != nil {
			return fmt.Errorf("leads: job %d checkpoint: %w", t.ID(), err)
		}
	}
	err := run.all(ctx)
	if errors.Is(err, errSuperseded) || errors.Is(err, db.ErrLeadCopyMoved) {
		s.log.Info("lead sync superseded: the platform connection changed", "job", t.ID())
		return nil
	}
	return err
}

func (run *syncRun) all(ctx context.Context) error {
	if run.cp.Started == 0 {
		st, err := run.s.store.LeadSync(ctx)
		if err != nil {
			return err
		}
		run.cp.Started = run.s.cfg.Now().Unix()
		if !run.p.Full {
			run.cp.Since = max(st.HighWater-int64(Overlap.Seconds()), 0)
		}
	}
	if err := run.walk(ctx); err != nil {
		return err
	}
	if run.p.Full {
		if err := run.voidUnlisted(ctx); err != nil {
			return err
		}
	}
	// The copy is complete up to the walk's start: a lead updated later is
	// at or after it. The platform's own stamps are preferred to this
	// clock's, the overlap covering what lies between. Nothing seen (0)
	// keeps the previous mark.
	hw := min(run.cp.HighWater, run.cp.Started)
	now := run.s.cfg.Now().Unix()
	st := db.LeadSyncState{Connection: run.p.Connection, HighWater: hw, LastSyncedAt: now}
	if run.p.Full {
		st.FullSyncedAt = now
	}
	if err := run.s.store.SaveLeadSync(ctx, st); err != nil {
		return err
	}
	if run.p.Full || run.t.Counts().Done >= bigSync {
		run.refreshStatistics(ctx)
	}
	return nil
}

// bigSync is how many leads an incremental sync writes before the planner's
// statistics are worth refreshing at its end, as after every full sync.
const bigSync = 10_000

// refreshStatistics lets the query planner see the copy as it now is (the
// board's filters choose their indexes by these statistics) and returns
// the memory the sync used.
func (run *syncRun) refreshStatistics(ctx context.Context) {
	upkeep.AfterBigChange(ctx, run.s.store, run.s.log.With("job", run.t.ID()), "a lead sync")
}

// walk lists the leads page by page from the checkpoint, writing each page
// to the copy and saving the checkpoint after it.
func (run *syncRun) walk(ctx context.Context) error {
	filter := jing.LeadFilter{UpdatedSince: run.cp.Since}
	var syncID int64
	if run.p.Full {
		syncID = run.t.ID()
	}
	paging := run.client.NewPaging("leads.list")
	for page := run.cp.Page + 1; ; page++ {
		if err := run.check(ctx); err != nil {
			return err
		}
		pg, err := run.client.ListLeads(ctx, filter, jing.PageRequest{Page: page, PerPage: run.s.cfg.pageSize})
		if err != nil {
			return err
		}
		if pg.Meta.Known() {
			run.t.SetTotal(int64(pg.Meta.TotalCount))
		}
		batch := make([]db.Lead, 0, len(pg.Items))
		for _, l := range pg.Items {
			dl, err := fromPlatform(l)
			if err != nil {
				run.t.Fail(l.JingUUID, msg.ErrorText(err))
				continue
			}
			batch = append(batch, dl)
			run.cp.HighWater = max(run.cp.HighWater, l.UpdatedTimestamp)
		}
		if err := run.s.store.UpsertSyncedLeads(ctx, run.p.Connection, syncID, batch); err != nil {
			return err
		}
		run.t.Did(int64(len(batch)))
		run.cp.Page = page
		if err := run.save(); err != nil {
			return err
		}
		if run.s.cfg.afterPage != nil {
			run.s.cfg.afterPage(ctx, page)
		}
		// Without _meta the walk goes on to a short or empty page; a walk
		// that cannot end is an error, so the sync is never done short.
		if more, err := paging.More(page, pg.Info()); err != nil || !more {
			return err
		}
	}
}

// voidUnlisted asks the platform about each lead of the copy the full walk
// did not list: the platform saying it has no such lead (voided or
// deleted) marks it voided; a lead it still answers is written back. A
// lead is never voided on silence: a failed question leaves it as it is.
func (run *syncRun) voidUnlisted(ctx context.Context) error {
	missing, err := run.s.store.LeadsNotSeenBy(ctx, run.t.ID())
	if err != nil {
		return err
	}
	for _, uuid := range missing {
		if err := run.check(ctx); err != nil {
			return err
		}
		l, err := run.client.QueryLead(ctx, jing.LeadKey{JingUUID: uuid})
		switch {
		case leadGone(err):
			if err := run.s.store.MarkLeadVoided(ctx, uuid, run.s.cfg.Now().Unix()); err != nil {
				return err
			}
			run.s.log.Info("lead gone from the platform: marked voided", "lead", uuid)
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			run.t.Fail(uuid, msg.ErrorText(err))
		default:
			dl, err := fromPlatform(l)
			if err != nil {
				run.t.Fail(uuid, msg.ErrorText(err))
				continue
			}
			if err := run.s.store.UpsertSyncedLeads(ctx, run.p.Connection, run.t.ID(), []db.Lead{dl}); err != nil {
				return err
			}
		}
	}
	return nil
}

// check stops the run when it was interrupted or its connection retired.
func (run *syncRun) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if run.s.connection() != run.p.Connection {
		return errSuperseded
	}
	return nil
}

func (run *syncRun) save() error {
	b, err := json.Marshal(run.cp)
	if err != nil {
		return err
	}
	return run.t.Save(string(b))
}
