package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/roles"
)

// Who may pause, resume and cancel which job, in which state. These rules
// live here once: every page that offers the buttons (the Jobs page, an
// import's progress) asks Offered, and acts through Runner.Act, which
// checks them again. The store decides the state change itself, in one
// transaction (db.RequestPause and its siblings), so two clicks cannot
// race past each other.

// Action is what a user asks of a job.
type Action string

const (
	Pause  Action = "pause"
	Resume Action = "resume"
	Cancel Action = "cancel"
)

// Actor is the account asking.
type Actor struct {
	ID   int64
	Role string
}

// ActsOnJobs reports whether the actor acts on jobs at all: marketers on
// their own, administrators on any; viewers only look.
func (a Actor) ActsOnJobs() bool { return roles.Works(a.Role) }

// MayActOn reports whether the actor may act on j: an administrator, or
// its owner when they act on jobs.
func (a Actor) MayActOn(j db.Job) bool {
	return a.ActsOnJobs() && (a.Role == roles.Admin || j.OwnerID == a.ID)
}

// Offer is what an actor may do to a job now: the buttons a page shows.
type Offer struct {
	Pause, Resume, Cancel bool
}

// Offered is what a may do to j in its state now: pause a queued or
// running job nobody asked to stop yet; resume a paused one (or withdraw a
// pause not honoured yet); cancel an active job not already being
// cancelled. Nothing when the job is not the actor's to act on.
func Offered(a Actor, j db.Job) Offer {
	if !a.MayActOn(j) {
		return Offer{}
	}
	return Offer{
		Pause:  (j.State == db.JobQueued || j.State == db.JobRunning) && j.RequestedState == "",
		Resume: j.State == db.JobPaused || j.RequestedState == db.JobPaused,
		Cancel: j.Active() && j.RequestedState != db.JobCancelled,
	}
}

// ErrNotYours refuses an action on a job that belongs to someone else (or
// on any job, to a viewer).
var ErrNotYours = msg.Refuse(msg.Forbidden, "error.forbidden")

// StateRefusal says that j's state does not allow an action (it finished,
// or is being cancelled, before the click arrived); errors.Is finds
// db.ErrJobState in it.
func StateRefusal(j db.Job) *msg.Error {
	return msg.Refuse(msg.Conflict, "jobs.error.state", msg.Nested("State", msg.New("jobs.state."+j.State))).Because(db.ErrJobState)
}

// Act does action to job id for actor, by the rules above. It returns
// the job as it is afterwards; refused, the job as it is now and
// ErrNotYours or a StateRefusal.
func (r *Runner) Act(ctx context.Context, actor Actor, action Action, id int64) (db.Job, error) {
	j, err := r.store.Job(ctx, id)
	if err != nil {
		return db.Job{}, err
	}
	if !actor.MayActOn(j) {
		return j, ErrNotYours
	}
	switch action {
	case Pause:
		err = r.Pause(ctx, id)
	case Resume:
		err = r.Resume(ctx, id)
	case Cancel:
		err = r.Cancel(ctx, id)
	default:
		return j, fmt.Errorf("jobs: unknown action %q", action)
	}
	if err != nil && !errors.Is(err, db.ErrJobState) {
		return j, err
	}
	now, rerr := r.store.Job(ctx, id)
	if rerr != nil {
		return j, rerr
	}
	if err != nil {
		return now, StateRefusal(now)
	}
	return now, nil
}
