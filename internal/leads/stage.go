package leads

import "github.com/jingdesk/jingdesk/internal/db"

// Precision says how well the copy knows when a lead entered its status.
type Precision string

const (
	// StageExact: a moment the platform or the console gave (a webhook's
	// status event, the console's own move, or a lead never updated since
	// it was created).
	StageExact Precision = "exact"
	// StageAbout: a sync saw the status change; it changed by the lead's
	// updated_timestamp of that answer, after the copy's previous one.
	StageAbout Precision = "about"
	// StageAtLeast: the lead was first seen with its status; it has held
	// it at least since its updated_timestamp, maybe much longer.
	StageAtLeast Precision = "at_least"
)

// Stage is when a lead entered its status and how well that is known,
// from the platform's own timestamps (never the console's first sync).
func Stage(l db.Lead) (since int64, p Precision) {
	switch l.StageOrigin {
	case db.OriginConsole, db.OriginWebhook:
		return l.StatusSince, StageExact
	case db.OriginSync:
		return l.StatusSince, StageAbout
	}
	if l.UpdatedAt > 0 && l.UpdatedAt == l.CreatedAt {
		return l.CreatedAt, StageExact
	}
	// A copy filled before the platform's timestamps were used kept the
	// first sync's time: the updated_timestamp is the older, truer bound.
	since = l.StatusSince
	if l.UpdatedAt > 0 && (since == 0 || l.UpdatedAt < since) {
		since = l.UpdatedAt
	}
	return since, StageAtLeast
}
