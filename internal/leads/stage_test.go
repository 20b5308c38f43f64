package leads

import (
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

// Time in stage comes from the platform's timestamps and says how well it
// is known; the first sync's time never counts.
func TestStage(t *testing.T) {
	const day = 86400
	now := int64(1_800_000_000)
	for _, c := range []struct {
		name  string
		l     db.Lead
		since int64
		p     Precision
	}{
		{"a console move", db.Lead{StatusSince: now - 3*day, StageOrigin: db.OriginConsole, UpdatedAt: now - day}, now - 3*day, StageExact},
		{"a webhook's status event", db.Lead{StatusSince: now - 2*day, StageOrigin: db.OriginWebhook}, now - 2*day, StageExact},
		{"a sync saw the change", db.Lead{StatusSince: now - 5*day, StageOrigin: db.OriginSync}, now - 5*day, StageAbout},
		{"never updated since created", db.Lead{StatusSince: now - 60, CreatedAt: now - 120*day, UpdatedAt: now - 120*day}, now - 120*day, StageExact},
		{"first seen: its last update", db.Lead{StatusSince: now - 180*day, CreatedAt: now - 200*day, UpdatedAt: now - 180*day}, now - 180*day, StageAtLeast},
		{"an old copy kept the first sync's time", db.Lead{StatusSince: now - 180, CreatedAt: now - 200*day, UpdatedAt: now - 102*day}, now - 102*day, StageAtLeast},
		{"no timestamp from the platform", db.Lead{StatusSince: now - 60}, now - 60, StageAtLeast},
	} {
		since, p := Stage(c.l)
		if since != c.since || p != c.p {
			t.Errorf("%s: %d %s, want %d %s", c.name, since, p, c.since, c.p)
		}
	}
}
