package webhooks

import (
	"context"
	"time"

	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/retention"
)

// Retention is how long stored events are kept after they arrived, in
// days; 0 keeps them forever. Applied (and skipped) events are kept apart
// from failed (and unknown) ones, which an upgrade may queue again and
// which are worth keeping longer.
type Retention struct {
	AppliedDays int
	FailedDays  int
}

// DefaultRetention keeps every finished event 30 days.
var DefaultRetention = Retention{AppliedDays: 30, FailedDays: 30}

// MaxRetentionDays bounds a setting (ten years).
const MaxRetentionDays = retention.MaxDays

// ErrRetention refuses a retention outside 0..MaxRetentionDays.
var ErrRetention = msg.Refuse(msg.Invalid, "live.retention.invalid", msg.Int("Max", MaxRetentionDays))

var (
	keepApplied = retention.Setting{Key: "webhooks.keep_applied_days", Default: DefaultRetention.AppliedDays}
	keepFailed  = retention.Setting{Key: "webhooks.keep_failed_days", Default: DefaultRetention.FailedDays}
)

// pruneEvery is how often the worker deletes events past their retention.
const pruneEvery = time.Hour

// Retention reads the setting (the default when none was saved).
func (s *Service) Retention(ctx context.Context) (Retention, error) {
	applied, err := keepApplied.Days(ctx, s.cfg.Store)
	if err != nil {
		return DefaultRetention, err
	}
	failed, err := keepFailed.Days(ctx, s.cfg.Store)
	return Retention{AppliedDays: applied, FailedDays: failed}, err
}

// SaveRetention stores the setting; the next prune applies it.
func (s *Service) SaveRetention(ctx context.Context, r Retention) error {
	if !retention.Valid(r.AppliedDays) || !retention.Valid(r.FailedDays) {
		return ErrRetention
	}
	if err := keepApplied.Save(ctx, s.cfg.Store, r.AppliedDays); err != nil {
		return err
	}
	return keepFailed.Save(ctx, s.cfg.Store, r.FailedDays)
}

// Prune deletes the events past their retention and says how many.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	r, err := s.Retention(ctx)
	if err != nil {
		return 0, err
	}
	cutoff := func(days int) int64 {
		c, _ := retention.Cutoff(s.cfg.Now(), days) // 0: keep them all
		return c
	}
	n, err := s.cfg.Store.PruneWebhookEvents(ctx, cutoff(r.AppliedDays), cutoff(r.FailedDays))
	if n > 0 {
		s.log.Info("deleted webhook events past their retention", "events", n,
			"applied_days", r.AppliedDays, "failed_days", r.FailedDays)
	}
	return n, err
}
