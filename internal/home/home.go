// Package home owns what the Home page reads: what needs the signed-in
// user today. Each block is a few indexed queries over the local copy and
// the ledgers (no platform call), so Home answers in milliseconds at any
// size of the copy; it keeps no cache.
package home

import (
	"context"
	"errors"
	"github.com/jingdesk/jingdesk/internal/sends"
	"log/slog"
	"slices"
	"time"

	"github.com/jingdesk/jingdesk/internal/backup"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/roles"
)

// How much each block lists.
const (
	listed        = 5                  // rows per block
	recentJobsFor = 7 * 24 * time.Hour // "recently finished"
	quotaShown    = 3                  // endpoints nearest their daily quota
	// quotaWarnAt is the share of an endpoint's daily quota used from which
	// administrators are warned (the console paces itself; the quota still ends).
	quotaWarnAt = 0.8
)

// Platform is what Home reads of the platform connection (a
// *platform.Manager): today's calls per endpoint, the last verification's
// failures, which connection is live.
type Platform interface {
	Stats(ctx context.Context) []jing.EndpointStats
	VerificationFailures(ctx context.Context, f platform.Feature) (platform.VerifyReport, []platform.VerifyResult)
	Connection() string
}

// Config is what the service needs.
type Config struct {
	Store    *db.Store
	Platform Platform
	// DataDir holds the backups (the overdue warning); "" skips it.
	DataDir string
	Now     func() time.Time
	Logger  *slog.Logger
}

// Service reads Home.
type Service struct{ cfg Config }

// New is the service; Store and Platform are required.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg}
}

// Home is what needs one user today.
type Home struct {
	// Sends: waiting for this user's approval (others' sends: a second
	// person approves), this user's drafts and own sends waiting for
	// someone else, those on their way, and the last ones finished with
	// their delivery counts.
	ForApproval, Drafts, Waiting, InFlight, Recent []db.Send
	// ApprovalCount is how many wait for this user's approval (ForApproval lists the first few).
	ApprovalCount int
	// Jobs this user started, running (or queued, paused) and finished in
	// the last week; imports they began (mapping or running or done).
	Running, Finished []db.Job
	Imports           []db.Import
	Week              Week
	Quota             Quota
	// Warnings are for administrators only (nil for others).
	Warnings []Warning
}

// Week is the pipeline since Monday 00:00.
type Week struct {
	Since int64
	Rows  []db.PipelineWeek // per business type
}

// Quota is today's use of the platform's daily quotas.
type Quota struct {
	Day   string // the platform's day (China time)
	Calls int    // every endpoint's calls today
	Top   []EndpointUse
}

// EndpointUse is one endpoint's calls today against its quota.
type EndpointUse struct {
	Key   string
	Calls int
	Quota int
}

// Share is the part of the quota used, 0..1 (and beyond when over).
func (e EndpointUse) Share() float64 {
	if e.Quota <= 0 {
		return 0
	}
	return float64(e.Calls) / float64(e.Quota)
}

// Warning kinds.
const (
	WarnRefresh  = "refresh"  // the last reference data refresh failed
	WarnVerify   = "verify"   // the last verification found answers not understood
	WarnBackup   = "backup"   // backups are overdue (or none is scheduled)
	WarnQuota    = "quota"    // an endpoint is near its daily quota
	WarnNoBackup = "nobackup" // backups are scheduled but none was ever taken
)

// Warning is something an administrator must see.
type Warning struct {
	Kind      string
	At        int64    // when it happened (the failed job's end, the verification, the last backup); 0: never
	Endpoints []string // verify and quota: which
	JobID     int64    // refresh: the failed job
	Error     string   // refresh: its error, as stored
}

// For reads Home for u, its week starting on Monday in zone (a viewer
// gets the same blocks; what they may do is the page's to leave out).
func (s *Service) For(ctx context.Context, u *db.User, zone *time.Location) (Home, error) {
	h := Home{Week: Week{Since: WeekStart(s.cfg.Now(), zone).Unix()}}
	if u == nil {
		return h, errors.New("home: no user")
	}
	steps := []func(context.Context, *db.User, *Home) error{s.sends, s.jobs, s.week, s.quota}
	if u.Role == roles.Admin {
		steps = append(steps, s.warnings)
	}
	for _, step := range steps {
		if err := step(ctx, u, &h); err != nil {
			return Home{}, err
		}
	}
	return h, nil
}

// sends fills the send blocks from the ledger: live sends are few (the
// ledger's newest hundreds are read once), finished ones newest first.
func (s *Service) sends(ctx context.Context, u *db.User, h *Home) error {
	open, err := s.cfg.Store.ListSends(ctx, db.SendFilter{States: []string{db.SendDraft, db.SendAwaitingApproval,
		db.SendApproved, db.SendSubmitting, db.SendSubmitted}, Limit: 500})
	if err != nil {
		return err
	}
	for _, sd := range open {
		switch {
		case sends.MayApprove(u, sd):
			h.ForApproval = append(h.ForApproval, sd)
		case sd.State == db.SendAwaitingApproval && sd.CreatedBy == u.ID:
			h.Waiting = append(h.Waiting, sd)
		case sd.State == db.SendDraft && sd.CreatedBy == u.ID:
			h.Drafts = append(h.Drafts, sd)
		case sd.State != db.SendDraft && sd.State != db.SendAwaitingApproval:
			h.InFlight = append(h.InFlight, sd)
		}
	}
	h.ApprovalCount = len(h.ForApproval)
	h.ForApproval, h.Drafts, h.Waiting, h.InFlight = first(h.ForApproval), first(h.Drafts), first(h.Waiting), first(h.InFlight)
	h.Recent, err = s.cfg.Store.ListSends(ctx, db.SendFilter{States: []string{db.SendDone, db.SendFailed, db.SendUnknown}, Limit: listed})
	return err
}

func (s *Service) jobs(ctx context.Context, u *db.User, h *Home) error {
	var err error
	if h.Running, err = s.cfg.Store.ListJobs(ctx, db.JobFilter{Scope: db.JobsActive, OwnerID: u.ID, Limit: listed}); err != nil {
		return err
	}
	done, err := s.cfg.Store.ListJobs(ctx, db.JobFilter{Scope: db.JobsFinished, OwnerID: u.ID, Limit: listed})
	if err != nil {
		return err
	}
	since := s.cfg.Now().Add(-recentJobsFor).Unix()
	for _, j := range done {
		if j.FinishedAt >= since {
			h.Finished = append(h.Finished, j)
		}
	}
	h.Imports, err = s.cfg.Store.ListImports(ctx, db.ImportFilter{UserID: u.ID, Limit: listed})
	return err
}

// week is the pipeline since this Monday 00:00 (Week.Since).
func (s *Service) week(ctx context.Context, _ *db.User, h *Home) error {
	var err error
	h.Week.Rows, err = s.cfg.Store.PipelineSince(ctx, s.cfg.Platform.Connection(), h.Week.Since)
	return err
}

// WeekStart is the Monday 00:00 of t's week in zone.
func WeekStart(t time.Time, zone *time.Location) time.Time {
	t = t.In(zone)
	back := (int(t.Weekday()) + 6) % 7 // days since Monday
	return time.Date(t.Year(), t.Month(), t.Day()-back, 0, 0, 0, 0, zone)
}

// quota is today's calls, and the endpoints nearest their quota.
func (s *Service) quota(ctx context.Context, _ *db.User, h *Home) error {
	h.Quota.Day = jing.QuotaDay(s.cfg.Now())
	var used []EndpointUse
	for _, st := range s.cfg.Platform.Stats(ctx) {
		h.Quota.Calls += st.CallsToday
		if st.CallsToday > 0 {
			used = append(used, EndpointUse{Key: st.Endpoint.Key, Calls: st.CallsToday, Quota: st.Endpoint.DailyQuota})
		}
	}
	slices.SortStableFunc(used, func(a, b EndpointUse) int {
		switch {
		case a.Share() > b.Share():
			return -1
		case a.Share() < b.Share():
			return 1
		}
		return b.Calls - a.Calls
	})
	h.Quota.Top = used[:min(len(used), quotaShown)]
	return nil
}

// warnings are what an administrator must see: a failed reference
// refresh (the last one), answers the last verification did not
// understand, backups overdue, an endpoint near its quota.
func (s *Service) warnings(ctx context.Context, _ *db.User, h *Home) error {
	switch j, err := s.cfg.Store.LastJobOf(ctx, refdata.JobKind); {
	case errors.Is(err, db.ErrNotFound):
	case err != nil:
		return err
	case j.State == db.JobFailed:
		h.Warnings = append(h.Warnings, Warning{Kind: WarnRefresh, At: j.FinishedAt, JobID: j.ID, Error: j.Error})
	}
	if rep, failed := s.cfg.Platform.VerificationFailures(ctx, ""); len(failed) > 0 {
		w := Warning{Kind: WarnVerify, At: rep.At.Unix()}
		for _, f := range failed {
			w.Endpoints = append(w.Endpoints, f.Endpoint)
		}
		h.Warnings = append(h.Warnings, w)
	}
	if w, ok := s.backupWarning(ctx); ok {
		h.Warnings = append(h.Warnings, w)
	}
	var near []string
	for _, e := range h.Quota.Top {
		if e.Share() >= quotaWarnAt {
			near = append(near, e.Key)
		}
	}
	if len(near) > 0 {
		h.Warnings = append(h.Warnings, Warning{Kind: WarnQuota, Endpoints: near})
	}
	return nil
}

// backupWarning: backups are overdue when the newest is older than twice
// the schedule's interval (one missed run is tolerated: the scheduler
// looks now and then), or when none is scheduled and none was taken in a
// week.
func (s *Service) backupWarning(ctx context.Context) (Warning, bool) {
	if s.cfg.DataDir == "" {
		return Warning{}, false
	}
	all, err := backup.List(s.cfg.DataDir)
	if err != nil {
		s.cfg.Logger.Warn("home: list backups", "error", err)
		return Warning{}, false
	}
	sc := backup.ScheduleFrom(func(key string) (string, error) { return s.cfg.Store.Setting(ctx, key) })
	due := 2 * sc.Every
	if sc.Every == 0 {
		due = 7 * 24 * time.Hour
	}
	if len(all) == 0 {
		return Warning{Kind: WarnNoBackup}, true
	}
	if newest := all[0].At; s.cfg.Now().Sub(newest) > due {
		return Warning{Kind: WarnBackup, At: newest.Unix()}, true
	}
	return Warning{}, false
}

func first[T any](xs []T) []T { return xs[:min(len(xs), listed)] }
