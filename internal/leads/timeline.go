package leads

import (
	"context"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// The lead timeline (issue 20): what happened to a lead, newest first, in
// pages. The copy keeps it as it learns it (db.SaveEditedLead, syncs,
// webhooks); the sends on it are those whose recipient was the lead's
// mobile or email when the page is drawn.

// TimelinePage is how many entries a page of the timeline holds.
const TimelinePage = 30

// ErrBadTimelineCursor refuses a "more" link the console did not write.
var ErrBadTimelineCursor = msg.Refuse(msg.Invalid, "leads.timeline.bad_cursor")

// Timeline returns the page of l's timeline after cursor ("" for the
// newest), and the cursor of the next page ("" after the last).
func (s *Service) Timeline(ctx context.Context, l db.Lead, cursor string) ([]db.TimelineEntry, string, error) {
	after, err := db.ParseTimelineCursor(cursor)
	if err != nil {
		return nil, "", ErrBadTimelineCursor
	}
	out, next, err := s.store.LeadTimeline(ctx, db.TimelineQuery{UUID: l.UUID, Recipients: []string{l.Mobile, l.Email},
		After: after, Limit: TimelinePage})
	return out, next.String(), err
}
