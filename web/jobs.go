package web

import (
	"context"
	"errors"
	"fmt"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jobs"
	jobsview "github.com/jingdesk/jingdesk/templates/jobs"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The jobs area: the Jobs page, a job's page, and pausing, resuming and
// cancelling (the rules are internal/jobs'). It is the file to copy for a
// new area: the struct holds the kit and narrow interfaces declared here;
// newAreas (areas.go) builds it from Deps; the route table names its
// handlers; each handler parses, calls one method, renders.
type jobsArea struct {
	*kit
	jobs jobReader
	acts jobActs
	// download is where a finished job's file is fetched by u ("": none),
	// for the kinds that write one (a large lead export).
	download func(u *db.User, j db.Job) string
}

// jobReader is what the jobs pages read of the store.
type jobReader interface {
	Job(ctx context.Context, id int64) (db.Job, error)
	ListJobs(ctx context.Context, f db.JobFilter) ([]db.Job, error)
	ListJobErrors(ctx context.Context, jobID int64, limit int) ([]db.JobError, error)
}

const (
	// recentJobs is how many finished jobs the Jobs page lists.
	recentJobs = 30
	// jobErrorsShown caps the item errors on a job's page; the count of
	// failed items is always shown in full.
	jobErrorsShown = 200
)

func (a *jobsArea) showJobs(c echo.Context) error {
	v, err := a.jobList(c)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "nav.jobs"), Section: "jobs", Body: jobsview.Page(v)})
}

// showJobsTable is what the Jobs page polls while a job is active.
func (a *jobsArea) showJobsTable(c echo.Context) error {
	v, err := a.jobList(c)
	if err != nil {
		return err
	}
	return a.renderFragment(c, http.StatusOK, jobsview.Table(v))
}

func (a *jobsArea) jobList(c echo.Context) (jobsview.List, error) {
	ctx := c.Request().Context()
	active, err := a.jobs.ListJobs(ctx, db.JobFilter{Scope: db.JobsActive, Limit: 500})
	if err != nil {
		return jobsview.List{}, err
	}
	recent, err := a.jobs.ListJobs(ctx, db.JobFilter{Scope: db.JobsFinished, Limit: recentJobs})
	if err != nil {
		return jobsview.List{}, err
	}
	v := jobsview.List{ShowActions: jobActor(c).ActsOnJobs()}
	for _, j := range active {
		v.Active = append(v.Active, a.jobRow(c, j))
		v.Live = v.Live || j.State == db.JobQueued || j.State == db.JobRunning
	}
	for _, j := range recent {
		v.Recent = append(v.Recent, a.jobRow(c, j))
	}
	return v, nil
}

func (a *jobsArea) showJob(c echo.Context) error {
	j, err := a.targetJob(c)
	if err != nil {
		return err
	}
	errs, err := a.jobs.ListJobErrors(c.Request().Context(), j.ID, jobErrorsShown+1)
	if err != nil {
		return err
	}
	d := jobsview.Detail{Job: a.jobRow(c, j), ShowActions: jobActor(c).ActsOnJobs(), MoreErrors: len(errs) > jobErrorsShown}
	if a.download != nil {
		d.Download = a.download(currentUser(c), j)
	}
	for _, e := range errs[:min(len(errs), jobErrorsShown)] {
		d.Errors = append(d.Errors, jobsview.ItemError{At: e.At, Item: e.Item, Message: state(c).loc.Stored(e.Message)})
	}
	return a.render(c, http.StatusOK, View{Title: jobsview.Title(c.Request().Context(), d.Job), Section: "jobs", Body: jobsview.DetailPage(d)})
}

// targetJob is the job named by the :id path parameter.
func (a *jobsArea) targetJob(c echo.Context) (db.Job, error) {
	id, err := pathID(c)
	if err != nil {
		return db.Job{}, err
	}
	return a.jobs.Job(c.Request().Context(), id)
}

// jobActor is the signed-in user as the job rules (internal/jobs) see them.
func jobActor(c echo.Context) jobs.Actor {
	if u := currentUser(c); u != nil {
		return jobs.Actor{ID: u.ID, Role: u.Role}
	}
	return jobs.Actor{}
}

// jobRow shapes a job for the screen, with the current run's speed and
// time left and the actions the user may take on it now.
func (a *jobsArea) jobRow(c echo.Context, j db.Job) jobsview.Row {
	r := jobsview.Row{
		ID: j.ID, Title: jobs.StoredTitle(j.Title), Kind: j.Kind, Owner: j.OwnerName, State: j.State, Requested: j.RequestedState,
		Total: j.Total, Done: j.Done, Failed: j.Failed, Attempts: j.Attempts, Error: state(c).loc.Stored(j.Error),
		CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, UpdatedAt: j.UpdatedAt, FinishedAt: j.FinishedAt,
	}
	if j.State == db.JobRunning {
		r.PerMinute, r.SecondsLeft = pace(j, a.now().Unix())
	}
	if j.State == db.JobPaused {
		r.WaitUntil = j.ResumeAt
	}
	offer := jobs.Offered(jobActor(c), j)
	r.CanPause, r.CanResume, r.CanCancel = offer.Pause, offer.Resume, offer.Cancel
	return r
}

// pace measures the current run only (a resumed job's earlier runs and the
// time it sat paused would skew it): items per minute, and seconds left at
// that speed (0 when the total is unknown).
func pace(j db.Job, now int64) (perMinute, secondsLeft int64) {
	processed := j.Done + j.Failed - j.RunBase
	elapsed := now - j.RunStartedAt
	if processed <= 0 || elapsed <= 0 {
		return 0, 0
	}
	perMinute = max(1, processed*60/elapsed)
	if remaining := j.Total - j.Done - j.Failed; remaining > 0 {
		secondsLeft = (remaining*elapsed + processed - 1) / processed
	}
	return perMinute, secondsLeft
}

// actOnJob serves POST /jobs/:id/<action>. It answers htmx with the
// updated row (and tells the table to refresh, which restarts its polling
// if the job became active again); a plain form goes back with a message.
func (a *jobsArea) actOnJob(action jobs.Action) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		entry := db.AuditEntry{Action: "job." + string(action), Object: fmt.Sprintf("job:%d", id)}
		j, refusal, err := a.acts.act(c, action, id, entry, "job")
		if err != nil {
			return err
		}
		if refusal != "" {
			return a.refuseJobAction(c, j, refusal)
		}
		entry.Summary = summary("job_action", msg.Nested("Action", actionName(string(action))), msg.Stored("Title", jobs.StoredTitle(j.Title)),
			msg.Nested("State", jobStateMessage(j))).Encode()
		a.audit(c, entry)
		return a.answerJobChange(c, j, jobFlash(c, action, j))
	}
}

// jobActs is a user's pause, resume or cancel through the job runner, with
// its refusals audited: the Jobs page and an import's page share it.
type jobActs struct {
	*kit
	runner JobService
}

// act asks the job runner to do a to job id for the current user (the
// rules are internal/jobs') and audits a refusal with entry, which names
// the object acted on (a job, an import). A job that is not the user's is
// the error returned (a 403); a state that does not allow the action is
// refusal, the sentence to show beside the job as it now is. On success
// the caller completes and writes the audit entry.
func (ja jobActs) act(c echo.Context, a jobs.Action, id int64, entry db.AuditEntry, what string) (j db.Job, refusal string, err error) {
	j, err = ja.runner.Act(c.Request().Context(), jobActor(c), a, id)
	switch {
	case errors.Is(err, jobs.ErrNotYours):
		entry.Outcome, entry.Summary = db.OutcomeDenied, fmt.Sprintf("%s refused: the %s belongs to someone else", a, what)
		ja.audit(c, entry)
		return j, "", err
	case errors.Is(err, db.ErrJobState):
		entry.Outcome, entry.Summary = db.OutcomeFailed, fmt.Sprintf("%s refused: the job is %s", a, j.State)
		ja.audit(c, entry)
		text, _ := userMessage(c, err)
		return j, text, nil
	}
	return j, "", err
}

// jobFlash says what happened, and whether it happens now or after the
// current step (a running job honours a pause or cancel between steps).
func jobFlash(c echo.Context, a jobs.Action, j db.Job) string {
	id := "jobs.flash." + string(a)
	if j.RequestedState != "" {
		id += "_requested"
	}
	title := jobsview.Title(c.Request().Context(), jobsview.Row{ID: j.ID, Title: jobs.StoredTitle(j.Title)})
	return t(c, id, "Title", title)
}

// jobStateMessage is a job's state, and the state asked of it if any, as
// a message for the audit log.
func jobStateMessage(j db.Job) msg.Message {
	st := msg.New("jobs.state." + j.State)
	if j.RequestedState != "" {
		return summary("job_state_requested", msg.Nested("State", st), msg.Nested("Requested", actionName(requestedAction(j.RequestedState))))
	}
	return st
}

// answerJobChange ends a successful action: the row for htmx, otherwise
// back to where the form came from with a message.
func (a *jobsArea) answerJobChange(c echo.Context, j db.Job, flash string) error {
	if wantsFragment(c) {
		c.Response().Header().Set("HX-Trigger", "jobs-changed")
		return a.renderFragment(c, http.StatusOK, jobsview.JobRow(a.jobRow(c, j), true))
	}
	return redirectWithFlash(c, ui.FlashSuccess, flash, jobReturnPath(c))
}

// refuseJobAction shows the job as it now is, with why nothing was done.
func (a *jobsArea) refuseJobAction(c echo.Context, j db.Job, msg string) error {
	if wantsFragment(c) {
		row := a.jobRow(c, j)
		row.Notice = msg
		return a.renderFragment(c, http.StatusConflict, jobsview.JobRow(row, true))
	}
	return redirectWithFlash(c, ui.FlashError, msg, jobReturnPath(c))
}

// jobReturnPath is the page a plain action form came from: the job's own
// page sends "next", the list does not.
func jobReturnPath(c echo.Context) string {
	if next := c.FormValue("next"); next != "" {
		return safeNext(next)
	}
	return "/jobs"
}
