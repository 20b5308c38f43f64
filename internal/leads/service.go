// Package leads keeps the local copy of the platform's leads (issue 5):
// a full sync fills it (leads.list, page by page), incremental syncs keep
// it fresh (updated_since), both as resumable background jobs, and Move
// sends a status change to the platform and writes the answer back.
//
// The copy belongs to the live platform connection. When the connection
// changes, the copy is cleared and a full sync fills it from the new
// platform (db.ResetLeads): the leads of two tenants never mix, and the
// board's queries need no connection.
package leads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/platform"
)

// JobKind is the kind of the sync job on the jobs runner.
const JobKind = "leads.sync"

// DefaultSyncEvery is how often an incremental sync runs.
const DefaultSyncEvery = 5 * time.Minute

// Overlap is how far before the last high-water mark an incremental sync
// asks from: a lead written in the same second as the mark, or stamped by
// a platform clock a little behind, is not missed. Seeing a lead again is
// harmless.
const Overlap = 2 * time.Minute

// Platform is the live platform connection (a *platform.Manager).
type Platform interface {
	// Current is the live client and the name of the platform it talks to.
	Current() (*jing.Client, string)
	// Changed is closed when the live connection is next replaced.
	Changed() <-chan struct{}
}

// Config builds a Service. Zero values take the defaults.
type Config struct {
	Store     *db.Store
	Platform  Platform // a *platform.Manager
	Runner    *jobs.Runner
	Logger    *slog.Logger
	Now       func() time.Time
	SyncEvery time.Duration // default 5 min

	// Tests only: the leads.list page size (default jing.DefaultPerPage),
	// and a call after each page is saved.
	pageSize  int
	afterPage func(ctx context.Context, page int)
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SyncEvery <= 0 {
		c.SyncEvery = DefaultSyncEvery
	}
	if c.pageSize <= 0 {
		c.pageSize = jing.DefaultPerPage
	}
	return c
}

// Service owns the local copy: the sync job, its schedule, and the writes.
type Service struct {
	cfg   Config
	store *db.Store
	log   *slog.Logger

	follower *platform.Follower // nil until Start
	closing  closingMemo
}

// New builds the service and registers the sync job's kind on the runner
// (so call it before the runner starts).
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Platform == nil || cfg.Runner == nil {
		return nil, errors.New("leads: a store, a platform and a job runner are required")
	}
	cfg = cfg.withDefaults()
	s := &Service{cfg: cfg, store: cfg.Store, log: cfg.Logger.With("component", "leads")}
	cfg.Runner.Register(JobKind, s.runSync)
	s.registerBulk()
	return s, nil
}

func (s *Service) connection() string {
	_, conn := s.cfg.Platform.Current()
	return conn
}

// jobTitle is what the Jobs page calls a sync (stored text, so English).
func jobTitle(full bool) string {
	if full {
		return jobs.Title("jobs.title.lead_sync_full")
	}
	return jobs.Title("jobs.title.lead_sync")
}

// jobParams say what a sync job does.
type jobParams struct {
	// Connection is the platform the sync is for; once another is live
	// the job stops (the switch asked for a full sync of its own).
	Connection string `json:"connection"`
	Full       bool   `json:"full,omitempty"`
}

// RequestSync starts a sync of the live connection's leads as a background
// job owned by userID (0: the system) and returns the job's id: a full
// sync (every lead, page by page) or an incremental one (the leads updated
// since the copy's high-water mark). Requests coalesce: while a sync is
// queued or running, a request returns that job's id, except that a full
// sync asked for while only an incremental one is pending is queued. An
// incremental sync of a copy never filled completely is a full one.
func (s *Service) RequestSync(ctx context.Context, userID int64, full bool) (int64, error) {
	conn := s.connection()
	if _, err := s.adopt(ctx, conn); err != nil {
		return 0, err
	}
	st, err := s.store.LeadSync(ctx)
	if err != nil {
		return 0, err
	}
	if st.FullSyncedAt == 0 {
		full = true
	}
	// A pending sync of this connection does the work, unless a full one
	// is asked for and it is only incremental.
	return jobs.EnqueueOrJoin(ctx, s.cfg.Runner,
		jobs.Spec{Kind: JobKind, Title: jobTitle(full), OwnerID: userID, Params: jobParams{Connection: conn, Full: full}},
		func(p jobParams) bool { return p.Connection == conn && (p.Full || !full) })
}

// adopt gives the copy to conn, clearing another connection's leads.
func (s *Service) adopt(ctx context.Context, conn string) (bool, error) {
	reset, err := s.store.ResetLeads(ctx, conn)
	if err != nil {
		return false, err
	}
	if reset {
		s.log.Info("the lead copy now follows this platform connection: cleared, to be filled by a full sync", "connection", conn)
	}
	return reset, nil
}

// settleTimeout bounds the start-up check and the writes that may run
// after a request's context ended.
const settleTimeout = 30 * time.Second

// Start keeps the copy fresh: it is given to the live connection (cleared
// if it held another's), a sync starts now (a full one if the copy was
// never filled, which also resumes an interrupted one), then an
// incremental sync every SyncEvery, and a full sync as soon as the live
// connection changes. Stop ends it.
func (s *Service) Start(ctx context.Context) error {
	if s.follower != nil {
		return errors.New("leads: already started")
	}
	changed := s.cfg.Platform.Changed() // before the first request, so a switch during it is not missed
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	if _, err := s.RequestSync(ctx, 0, false); err != nil {
		return err
	}
	s.follower = platform.Follow(s.cfg.Platform, changed, s.cfg.SyncEvery,
		func(ctx context.Context) { s.request(ctx, false, "scheduled") },
		func(ctx context.Context) { s.request(ctx, true, "platform connection changed") })
	return nil
}

// Stop ends the schedule; a sync under way is the job runner's to stop.
func (s *Service) Stop() {
	s.follower.Stop()
	s.follower = nil
}

func (s *Service) request(ctx context.Context, full bool, why string) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	id, err := s.RequestSync(ctx, 0, full)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("request a lead sync", "reason", why, "error", err)
		}
		return
	}
	s.log.Debug("lead sync requested", "reason", why, "job", id)
}

// fromPlatform is a lead as the copy keeps it.
func fromPlatform(l jing.Lead) (db.Lead, error) {
	raw, err := json.Marshal(l)
	if err != nil {
		return db.Lead{}, fmt.Errorf("leads: encode lead %s: %w", l.JingUUID, err)
	}
	collab := make([]string, len(l.Collaborators))
	for i, m := range l.Collaborators {
		collab[i] = string(m)
	}
	return db.Lead{
		UUID: l.JingUUID, BusinessType: l.BusinessType, Status: l.LeadStatus, LifeStatus: l.LifeStatus,
		LeadPool: l.LeadPool, Owner: string(l.Owner), Collaborators: collab,
		Name: l.Name, Mobile: l.Mobile, Email: l.Email, Company: l.CompanyID, Title: l.Title, Source: l.SourceType,
		Fields: raw, CreatedAt: l.CreatedTimestamp, UpdatedAt: l.UpdatedTimestamp,
	}, nil
}

// leadGone reports the platform's answer for a lead it does not have
// (leads.query answers 40004 when no lead has the jing_uuid; voided leads
// are not answered either).
func leadGone(err error) bool {
	e, ok := jing.AsError(err)
	return ok && e.Kind == jing.KindBusiness && e.Code == jing.CodeBusinessFailed
}
