package refdata

import (
	"context"
	"errors"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/platform"
)

// settleTimeout bounds the work done after a job's context may have ended
// (rebuilding the index) and the start-up check.
const settleTimeout = 30 * time.Second

// Start applies the refresh policy: a refresh now if any set is older than
// the TTL or none was ever loaded, then a background check every
// CheckEvery, and a refresh as soon as the live connection changes. Stop
// ends it.
func (s *Service) Start(ctx context.Context) error {
	if s.follower != nil {
		return errors.New("refdata: already started")
	}
	// Taken before the first check, so a switch during it is not missed.
	changed := s.cfg.Platform.Changed()
	if _, err := s.refreshIfDue(ctx, true); err != nil {
		return err
	}
	s.follower = platform.Follow(s.cfg.Platform, changed, s.cfg.CheckEvery, s.backgroundCheck, s.switched)
	return nil
}

// Stop ends the background checks; a refresh under way is the job
// runner's to stop.
func (s *Service) Stop() {
	s.follower.Stop()
	s.follower = nil
}

// backgroundCheck refreshes the sets that grew older than the TTL.
func (s *Service) backgroundCheck(ctx context.Context) {
	if _, err := s.refreshIfDue(ctx, false); err != nil && ctx.Err() == nil {
		s.log.Error("background reference data check", "error", err)
	}
}

// switched handles a new live connection: names of the old platform must
// not show as this one's, so the index is rebuilt from what SQLite holds
// for the new one (nothing, the first time: "not loaded yet"), and a
// refresh starts at once.
func (s *Service) switched(ctx context.Context) {
	if s.Resolver().connection == s.connection() {
		return // new credentials for the same platform
	}
	if err := s.rebuild(ctx); err != nil {
		s.log.Error("rebuild the reference data index after a connection change", "error", err)
		s.resolver.Store(emptyResolver(s.connection()))
	}
	id, err := s.request(ctx, 0, jobParams{})
	if err != nil {
		s.log.Error("refresh reference data after a connection change", "error", err)
		return
	}
	s.log.Info("platform connection changed: refreshing reference data", "connection", s.connection(), "job", id)
}

// refreshIfDue requests a refresh of the sets older than the TTL, if any
// (or if none was ever loaded), and returns its job's id (0: none due).
// Outside start-up it leaves alone the sets whose last attempt failed less
// than RetryAfter ago.
func (s *Service) refreshIfDue(ctx context.Context, startup bool) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	now := s.cfg.Now()
	rows, err := s.store.RefSets(ctx, s.connection())
	if err != nil {
		return 0, err
	}
	if !s.due(withFixed(rows, s.connection()), now, startup) {
		return 0, nil
	}
	return s.request(ctx, 0, jobParams{FreshSince: now.Add(-s.cfg.TTL).Unix()})
}

// due reports whether any set needs fetching now.
func (s *Service) due(rows []db.RefSet, now time.Time, startup bool) bool {
	for _, r := range rows {
		if !s.stale(r, now) {
			continue
		}
		if startup || now.Sub(time.Unix(r.LastAttemptAt, 0)) >= s.cfg.RetryAfter {
			return true
		}
	}
	return false
}
