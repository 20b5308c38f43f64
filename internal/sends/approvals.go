package sends

import (
	"context"

	"github.com/jingdesk/jingdesk/internal/db"
)

// A send that needs approval goes only when a second person approves it:
// a marketer or administrator who neither wrote nor confirmed it. These
// are the rule (Authored, MayApprove) and what the console tells people
// about the sends waiting (the nav badge, the approvals page).

// Authored reports whether user wrote or confirmed sd, and so may not approve it.
func Authored(user *db.User, sd db.Send) bool {
	return user != nil && (sd.CreatedBy == user.ID || sd.ConfirmedBy == user.ID)
}

// MayApprove reports whether user may approve sd now.
func MayApprove(user *db.User, sd db.Send) bool {
	return MaySend(user) && sd.State == db.SendAwaitingApproval && !Authored(user, sd)
}

// approvalsShown is the most sends waiting for approval the console lists
// (far more than a team has waiting at once).
const approvalsShown = 500

// Approvals are the sends waiting for approval as one user sees them.
type Approvals struct {
	ForYou []db.Send // others' sends this user may approve
	Yours  []db.Send // this user's sends, waiting for someone else
}

// Approvals lists the sends waiting for approval, split by who may act:
// a viewer, who may not approve, has none for them.
func (s *Service) Approvals(ctx context.Context, user *db.User) (Approvals, error) {
	var a Approvals
	waiting, err := s.cfg.Store.ListSends(ctx, db.SendFilter{States: []string{db.SendAwaitingApproval}, Limit: approvalsShown})
	if err != nil {
		return a, err
	}
	for _, sd := range waiting {
		switch {
		case MayApprove(user, sd):
			a.ForYou = append(a.ForYou, sd)
		case Authored(user, sd):
			a.Yours = append(a.Yours, sd)
		}
	}
	return a, nil
}

// ApprovalsForYou is how many sends wait for user's approval (the nav
// badge): 0 for anyone who may not approve.
func (s *Service) ApprovalsForYou(ctx context.Context, user *db.User) (int, error) {
	if !MaySend(user) {
		return 0, nil
	}
	a, err := s.Approvals(ctx, user)
	return len(a.ForYou), err
}
