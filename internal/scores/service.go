// Package scores keeps a cache of the platform's scores (identity grade,
// activity points and level, intention per product) of persons and leads,
// filled by a resumable, paced job, refreshed on a schedule, with a
// history of every change; and acts on a selection: save it as a crowd
// (through the crowd import job) or clear its activity scores.
package scores

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/platform"
)

// Job kinds on the jobs runner.
const (
	FetchJobKind = "scores.fetch"
	ClearJobKind = "scores.clear"
)

// Kinds are the kinds of score, in the order the page offers them.
var Kinds = []string{db.ScoreIdentity, db.ScoreActive, db.ScoreIntention}

// DefaultMaxAge is how old a cached score may be before a fetch asks again.
const DefaultMaxAge = 24 * time.Hour

// Config builds a Service.
type Config struct {
	Store    *db.Store
	Platform platform.Live
	Runner   *jobs.Runner
	Crowds   *crowds.Service // for "save as a crowd"; nil: not offered
	Logger   *slog.Logger
	Now      func() time.Time
	// RefreshEvery refreshes every lead's scores on this schedule; 0: only on demand.
	RefreshEvery time.Duration
}

// Service is the scores service.
type Service struct {
	cfg  Config
	log  *slog.Logger
	stop context.CancelFunc
	done chan struct{}
}

// New builds the service and registers its jobs.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Platform == nil || cfg.Runner == nil {
		return nil, errors.New("scores: store, platform and runner are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "scores")}
	cfg.Runner.Register(FetchJobKind, s.runFetch)
	cfg.Runner.Register(ClearJobKind, s.runClear)
	return s, nil
}

// Start runs the schedule (when RefreshEvery is set) until Stop.
func (s *Service) Start(ctx context.Context) {
	if s.cfg.RefreshEvery <= 0 {
		return
	}
	ctx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		tick := time.NewTicker(s.cfg.RefreshEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if _, err := s.RequestFetch(ctx, 0, db.ScorePopulation{}, Kinds, s.cfg.RefreshEvery); err != nil {
					s.log.Warn("scheduled score refresh", "error", err)
				}
			}
		}
	}()
}

// Stop ends the schedule.
func (s *Service) Stop() {
	if s.stop != nil {
		s.stop()
		<-s.done
	}
}

// --- fetching ---

type fetchParams struct {
	GroupID      int64    `json:"group_id,omitempty"`
	BusinessType string   `json:"business_type,omitempty"`
	Status       string   `json:"status,omitempty"`
	Owner        string   `json:"owner,omitempty"`
	Kinds        []string `json:"kinds"`
	MaxAge       int64    `json:"max_age"` // seconds
	Connection   string   `json:"connection"`
}

func (p fetchParams) population() db.ScorePopulation {
	return db.ScorePopulation{GroupID: p.GroupID, Leads: db.LeadFilter{BusinessType: p.BusinessType, Status: p.Status, Owner: p.Owner}}
}

// RequestFetch queues a fetch of the population's scores of kinds that
// are older than maxAge (or joins the same fetch already queued). Only a
// crowd or a lead filter of business type, status and owner can be
// fetched for (the page's populations).
func (s *Service) RequestFetch(ctx context.Context, userID int64, pop db.ScorePopulation, kinds []string, maxAge time.Duration) (int64, error) {
	_, conn := s.cfg.Platform.Current()
	p := fetchParams{GroupID: pop.GroupID, BusinessType: pop.Leads.BusinessType, Status: pop.Leads.Status, Owner: pop.Leads.Owner,
		Kinds: kinds, MaxAge: int64(max(maxAge, time.Second) / time.Second), Connection: conn}
	title := "Fetch scores of all leads"
	if pop.GroupID != 0 {
		title = fmt.Sprintf("Fetch scores of crowd %d", pop.GroupID)
	} else if pop.Leads.BusinessType != "" {
		title = "Fetch scores of the leads of " + pop.Leads.BusinessType
	}
	return jobs.EnqueueOrJoin(ctx, s.cfg.Runner, jobs.Spec{Kind: FetchJobKind, Title: title, OwnerID: userID, Params: p},
		func(q fetchParams) bool {
			return q.population() == p.population() && fmt.Sprint(q.Kinds) == fmt.Sprint(p.Kinds) && q.Connection == p.Connection
		})
}

// ErrConnectionChanged ends a job asked for on another platform
// connection: its ids mean nothing on the platform now connected.
var ErrConnectionChanged = msg.Refuse(msg.Conflict, "scores.error.connection_changed")

// clientFor is the live platform client, if it is still the connection
// conn a job was asked for on.
func (s *Service) clientFor(conn string) (*jing.Client, error) {
	client, now := s.cfg.Platform.Current()
	if now != conn {
		return nil, ErrConnectionChanged
	}
	return client, nil
}

// batch is how many ids one score call carries (the platform's limit).
const batch = 100

// runFetch: for a crowd, its members are listed first (checkpoint
// "members"); then each kind's stale ids are fetched 100 at a time. The
// cache's own fetched_at marks are the checkpoint within a kind: a resumed
// run asks only for what is still stale, so no score is fetched twice.
func (s *Service) runFetch(ctx context.Context, t *jobs.Task) error {
	var p fetchParams
	if err := t.Params(&p); err != nil {
		return err
	}
	client, err := s.clientFor(p.Connection)
	if err != nil {
		return err
	}
	pop := p.population()
	if pop.GroupID != 0 && t.Checkpoint() == "" {
		if err := s.listMembers(ctx, client, pop.GroupID); err != nil {
			return err
		}
		if err := t.Save("members"); err != nil {
			return err
		}
	}
	// The run's start fixes what "stale" means, so ids fetched in this run
	// (or an earlier run of this job) are not asked for again.
	staleBefore := s.cfg.Now().Add(-time.Duration(p.MaxAge) * time.Second).Unix()
	if err := s.countWork(ctx, t, pop, p.Kinds, staleBefore); err != nil {
		return err
	}
	for _, kind := range p.Kinds {
		if err := s.fetchKind(ctx, t, client, pop, kind, staleBefore); err != nil {
			return err
		}
	}
	return nil
}

// countWork sets the job's total: what this run still has to fetch plus
// what earlier runs did.
func (s *Service) countWork(ctx context.Context, t *jobs.Task, pop db.ScorePopulation, kinds []string, staleBefore int64) error {
	var stale int64
	for _, kind := range kinds {
		_, n, err := s.cfg.Store.CountScorePopulation(ctx, pop, kind, staleBefore)
		if err != nil {
			return err
		}
		stale += n
	}
	t.SetTotal(t.Counts().Done + stale)
	return nil
}

func (s *Service) listMembers(ctx context.Context, client *jing.Client, groupID int64) error {
	var members []db.CrowdMemberRow
	for m, err := range client.AllCrowdUsers(ctx, groupID) {
		if err != nil {
			return err
		}
		members = append(members, db.CrowdMemberRow{UUID: m.OmniUserUUID, Joined: m.JoinedTimestamp})
	}
	return s.cfg.Store.ReplaceCrowdMembers(ctx, groupID, members)
}

func (s *Service) fetchKind(ctx context.Context, t *jobs.Task, client *jing.Client, pop db.ScorePopulation, kind string, staleBefore int64) error {
	after := ""
	for {
		ids, err := s.cfg.Store.StaleScoreIDs(ctx, pop, kind, staleBefore, after, batch)
		if err != nil || len(ids) == 0 {
			return err
		}
		after = ids[len(ids)-1]
		got, err := fetch(ctx, client, pop.Subject(), kind, ids)
		if err != nil {
			return err // a used-up quota pauses the job until it resets (jobs.Pauser)
		}
		if _, err := s.cfg.Store.SaveScores(ctx, pop.Subject(), kind, ids, got, s.cfg.Now().Unix()); err != nil {
			return err
		}
		t.Did(int64(len(ids)))
		if err := t.Save(kind); err != nil {
			return err
		}
	}
}

// fetch asks the platform for one batch.
func fetch(ctx context.Context, client *jing.Client, subject, kind string, ids []string) ([]db.FetchedScore, error) {
	var got []jing.Score
	var err error
	if subject == db.SubjectUser {
		got, err = client.UserScores(ctx, jing.ScoreKind(kind), ids)
	} else {
		got, err = client.LeadScores(ctx, jing.ScoreKind(kind), ids)
	}
	if err != nil {
		return nil, err
	}
	out := make([]db.FetchedScore, len(got))
	for i, g := range got {
		band := g.Level
		if kind == db.ScoreIdentity {
			band = g.Grade
		}
		out[i] = db.FetchedScore{ID: g.ID, Model: g.Model, Score: g.Score, Band: band}
	}
	return out, nil
}
