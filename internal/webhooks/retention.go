package webhooks

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
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
const MaxRetentionDays = 3650

// ErrRetention refuses a retention outside 0..MaxRetentionDays.
var ErrRetention = msg.Refuse(msg.Invalid, "live.retention.invalid", msg.Int("Max", MaxRetentionDays))

const (
	keepAppliedKey = "webhooks.keep_applied_days"
	keepFailedKey  = "webhooks.keep_failed_days"
)

// pruneEvery is how often the worker deletes events past their retention.
const pruneEvery = time.Hour

// Retention reads the setting (the default when none was saved).
func (s *Service) Retention(ctx context.Context) (Retention, error) {
	r := DefaultRetention
	for key, dst := range map[string]*int{keepAppliedKey: &r.AppliedDays, keepFailedKey: &r.FailedDays} {
		v, err := s.cfg.Store.Setting(ctx, key)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return r, err
		}
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= MaxRetentionDays {
			*dst = n
		}
	}
	return r, nil
}

// SaveRetention stores the setting; the next prune applies it.
func (s *Service) SaveRetention(ctx context.Context, r Retention) error {
	if r.AppliedDays < 0 || r.AppliedDays > MaxRetentionDays || r.FailedDays < 0 || r.FailedDays > MaxRetentionDays {
		return ErrRetention
	}
	if err := s.cfg.Store.SetSetting(ctx, keepAppliedKey, strconv.Itoa(r.AppliedDays)); err != nil {
		return err
	}
	return s.cfg.Store.SetSetting(ctx, keepFailedKey, strconv.Itoa(r.FailedDays))
}

// Prune deletes the events past their retention and says how many.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	r, err := s.Retention(ctx)
	if err != nil {
		return 0, err
	}
	now := s.cfg.Now()
	cutoff := func(days int) int64 {
		if days == 0 {
			return 0
		}
		return now.AddDate(0, 0, -days).Unix()
	}
	n, err := s.cfg.Store.PruneWebhookEvents(ctx, cutoff(r.AppliedDays), cutoff(r.FailedDays))
	if n > 0 {
		s.log.Info("deleted webhook events past their retention", "events", n,
			"applied_days", r.AppliedDays, "failed_days", r.FailedDays)
	}
	return n, err
}
