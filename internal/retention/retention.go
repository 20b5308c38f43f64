// Package retention reads and writes how long a kind of history is kept:
// a number of days saved as a setting, 0 keeping it forever. Each area's
// service owns its own setting and its prune (what may go, and what must
// stay for work still under way); this is the shared arithmetic.
package retention

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// MaxDays bounds a setting (ten years).
const MaxDays = 3650

// ErrDays refuses a retention outside 0..MaxDays.
var ErrDays = msg.Refuse(msg.Invalid, "system.retention.invalid", msg.Int("Max", MaxDays))

// Store keeps the settings (a *db.Store).
type Store interface {
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// Setting is one kind of history's retention.
type Setting struct {
	Key     string
	Default int // days
}

// Days is the saved retention, or the default when none was saved (or
// what was saved is not a valid one).
func (s Setting) Days(ctx context.Context, st Store) (int, error) {
	v, err := st.Setting(ctx, s.Key)
	if errors.Is(err, db.ErrNotFound) {
		return s.Default, nil
	}
	if err != nil {
		return s.Default, err
	}
	if n, err := strconv.Atoi(v); err == nil && Valid(n) {
		return n, nil
	}
	return s.Default, nil
}

// Save stores days (ErrDays when out of range); the next prune applies it.
func (s Setting) Save(ctx context.Context, st Store, days int) error {
	if !Valid(days) {
		return ErrDays
	}
	return st.SetSetting(ctx, s.Key, strconv.Itoa(days))
}

// Valid reports whether days is a retention: 0 (forever) to MaxDays.
func Valid(days int) bool { return days >= 0 && days <= MaxDays }

// Cutoff is the moment before which history kept days goes (Unix s); ok
// is false for 0 days, which keeps everything.
func Cutoff(now time.Time, days int) (cutoff int64, ok bool) {
	if days == 0 {
		return 0, false
	}
	return now.AddDate(0, 0, -days).Unix(), true
}
