package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/roles"
	jobsview "github.com/jingdesk/jingdesk/templates/jobs"
	"github.com/jingdesk/jingdesk/templates/ui"
)

const (
	// recentJobs is how many finished jobs the Jobs page lists.
	recentJobs = 30
	// jobErrorsShown caps the item errors on a job's page; the count of
	// failed items is always shown in full.
	jobErrorsShown = 200
)

// errJobState: the job moved on (finished, or is being cancelled) before
// the user's click arrived.
const errJobState reason = "jobs.error.state"

func (s *Server) showJobs(c echo.Context) error {
	v, err := s.jobList(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, View{Title: t(c, "nav.jobs"), Section: "jobs", Body: jobsview.Page(v)})
}

// showJobsTable is what the Jobs page polls while a job is active.
func (s *Server) showJobsTable(c echo.Context) error {
	v, err := s.jobList(c)
	if err != nil {
		return err
	}
	return s.renderFragment(c, http.StatusOK, jobsview.Table(v))
}

func (s *Server) jobList(c echo.Context) (jobsview.List, error) {
	ctx := c.Request().Context()
	active, err := s.Store.ListJobs(ctx, db.JobFilter{Scope: db.JobsActive, Limit: 500})
	if err != nil {
		return jobsview.List{}, err
	}
	recent, err := s.Store.ListJobs(ctx, db.JobFilter{Scope: db.JobsFinished, Limit: recentJobs})
	if err != nil {
		return jobsview.List{}, err
	}
	v := jobsview.List{ShowActions: mayActOnJobs(currentUser(c))}
	for _, j := range active {
		v.Active = append(v.Active, s.jobRow(c, j))
		v.Live = v.Live || j.State == db.JobQueued || j.State == db.JobRunning
	}
	for _, j := range recent {
		v.Recent = append(v.Recent, s.jobRow(c, j))
	}
	return v, nil
}

func (s *Server) showJob(c echo.Context) error {
	j, err := s.targetJob(c)
	if err != nil {
		return err
	}
	errs, err := s.Store.ListJobErrors(c.Request().Context(), j.ID, jobErrorsShown+1)
	if err != nil {
		return err
	}
	d := jobsview.Detail{Job: s.jobRow(c, j), ShowActions: mayActOnJobs(currentUser(c)), MoreErrors: len(errs) > jobErrorsShown}
	for _, e := range errs[:min(len(errs), jobErrorsShown)] {
		d.Errors = append(d.Errors, jobsview.ItemError{At: e.At, Item: e.Item, Message: state(c).loc.Stored(e.Message)})
	}
	return s.render(c, http.StatusOK, View{Title: jobsview.Title(c.Request().Context(), d.Job), Section: "jobs", Body: jobsview.DetailPage(d)})
}

// targetJob is the job named by the :id path parameter.
func (s *Server) targetJob(c echo.Context) (db.Job, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.Job{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return s.Store.Job(c.Request().Context(), id)
}

// mayActOnJobs: marketers act on their own jobs, administrators on any;
// viewers only look.
func mayActOnJobs(u *db.User) bool {
	return u != nil && roles.Works(u.Role)
}

func mayActOnJob(u *db.User, j db.Job) bool {
	return mayActOnJobs(u) && (u.Role == db.RoleAdmin || j.OwnerID == u.ID)
}

// jobRow shapes a job for the screen, with the current run's speed and
// time left and the actions the user may take on it now.
func (s *Server) jobRow(c echo.Context, j db.Job) jobsview.Row {
	r := jobsview.Row{
		ID: j.ID, Title: j.Title, Kind: j.Kind, Owner: j.OwnerName, State: j.State, Requested: j.RequestedState,
		Total: j.Total, Done: j.Done, Failed: j.Failed, Attempts: j.Attempts, Error: state(c).loc.Stored(j.Error),
		CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, UpdatedAt: j.UpdatedAt, FinishedAt: j.FinishedAt,
	}
	if j.State == db.JobRunning {
		r.PerMinute, r.SecondsLeft = pace(j, s.Now().Unix())
	}
	if mayActOnJob(currentUser(c), j) {
		r.CanPause = (j.State == db.JobQueued || j.State == db.JobRunning) && j.RequestedState == ""
		r.CanResume = j.State == db.JobPaused || j.RequestedState == db.JobPaused
		r.CanCancel = j.Active() && j.RequestedState != db.JobCancelled
	}
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

// jobAction is a user's request about a job.
type jobAction struct {
	name string // "pause", "resume" or "cancel"
	do   func(JobService, context.Context, int64) error
}

var (
	pauseJob  = jobAction{"pause", JobService.Pause}
	resumeJob = jobAction{"resume", JobService.Resume}
	cancelJob = jobAction{"cancel", JobService.Cancel}
)

// actOnJob serves POST /jobs/:id/<action>. It answers htmx with the
// updated row (and tells the table to refresh, which restarts its polling
// if the job became active again); a plain form goes back with a message.
func (s *Server) actOnJob(a jobAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		j, err := s.targetJob(c)
		if err != nil {
			return err
		}
		entry := db.AuditEntry{Action: "job." + a.name, Object: fmt.Sprintf("job:%d", j.ID)}
		refused, err := s.applyJobAction(c, a, j, entry, "job")
		if refused {
			return s.refuseJobAction(c, j.ID)
		}
		if err != nil {
			return err
		}
		j, err = s.Store.Job(c.Request().Context(), j.ID)
		if err != nil {
			return err
		}
		entry.Summary = fmt.Sprintf("%s %q (%s): now %s", a.name, j.Title, j.Kind, stateWithRequest(j))
		s.audit(c, entry)
		return s.answerJobChange(c, j, s.jobFlash(c, a, j))
	}
}

// applyJobAction does a to job j for the current user: a job that is not
// theirs is a 403, a state that does not allow the action is refused
// (true); either is audited with entry (what names the job's object). On
// success the caller completes and writes the audit entry.
func (s *Server) applyJobAction(c echo.Context, a jobAction, j db.Job, entry db.AuditEntry, what string) (refused bool, err error) {
	if !mayActOnJob(currentUser(c), j) {
		entry.Outcome, entry.Summary = db.OutcomeDenied, a.name+" refused: the "+what+" belongs to someone else"
		s.audit(c, entry)
		return false, echo.NewHTTPError(http.StatusForbidden, errForbidden)
	}
	if s.Jobs == nil {
		return false, errors.New("web: no job runner configured")
	}
	err = a.do(s.Jobs, c.Request().Context(), j.ID)
	if errors.Is(err, db.ErrJobState) {
		entry.Outcome, entry.Summary = db.OutcomeFailed, a.name+" refused: the job is "+j.State
		s.audit(c, entry)
		return true, nil
	}
	return false, err
}

// jobFlash says what happened, and whether it happens now or after the
// current step (a running job honours a pause or cancel between steps).
func (s *Server) jobFlash(c echo.Context, a jobAction, j db.Job) string {
	id := "jobs.flash." + a.name
	if j.RequestedState != "" {
		id += "_requested"
	}
	title := jobsview.Title(c.Request().Context(), jobsview.Row{ID: j.ID, Title: j.Title})
	return t(c, id, "Title", title)
}

func stateWithRequest(j db.Job) string {
	if j.RequestedState != "" {
		return j.State + ", " + j.RequestedState + " requested"
	}
	return j.State
}

// answerJobChange ends a successful action: the row for htmx, otherwise
// back to where the form came from with a message.
func (s *Server) answerJobChange(c echo.Context, j db.Job, flash string) error {
	if wantsFragment(c) {
		c.Response().Header().Set("HX-Trigger", "jobs-changed")
		return s.renderFragment(c, http.StatusOK, jobsview.JobRow(s.jobRow(c, j), true))
	}
	return redirectWithFlash(c, ui.FlashSuccess, flash, jobReturnPath(c))
}

// refuseJobAction shows the job as it now is, with why nothing was done.
func (s *Server) refuseJobAction(c echo.Context, id int64) error {
	j, err := s.Store.Job(c.Request().Context(), id)
	if err != nil {
		return err
	}
	msg := t(c, string(errJobState), "State", t(c, "jobs.state."+j.State))
	if wantsFragment(c) {
		row := s.jobRow(c, j)
		row.Notice = msg
		return s.renderFragment(c, http.StatusConflict, jobsview.JobRow(row, true))
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
