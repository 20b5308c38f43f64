// Package jobs renders the Jobs page: running and recent background jobs
// with live progress, and one job's detail with the items it could not do.
package jobs

import (
	"context"
	"fmt"

	"github.com/jingdesk/jingdesk/templates/ui"
)

// Row is one job as the list and the detail page show it.
type Row struct {
	ID        int64
	Title     string
	Kind      string
	Owner     string // "" for a job the system started
	State     string // queued, running, paused, done, failed, cancelled
	Requested string // a pause or cancel the worker has not honoured yet
	Total     int64  // 0 while unknown
	Done      int64
	Failed    int64
	// PerMinute is the current run's speed and SecondsLeft its estimate;
	// both 0 while not measured (not running, or nothing done yet).
	PerMinute   int64
	SecondsLeft int64
	Attempts    int
	CreatedAt   int64
	StartedAt   int64
	UpdatedAt   int64
	FinishedAt  int64
	Error       string
	// What the viewing user may do with it now.
	CanPause, CanResume, CanCancel bool
	// Notice explains a refused action on the row itself.
	Notice string
}

// Active reports whether the job is unfinished.
func (r Row) Active() bool { return r.State == "queued" || r.State == "running" || r.State == "paused" }

// Processed counts items done or failed.
func (r Row) Processed() int64 { return r.Done + r.Failed }

// List is the Jobs page.
type List struct {
	Active []Row // running, queued, paused
	Recent []Row // finished, most recent first
	// Live is true while a job is queued or running: only then does the
	// table poll for progress (paused and finished jobs do not move).
	Live bool
	// ShowActions is false for viewers, who see no action buttons at all.
	ShowActions bool
	// Download is where the job's file is fetched ("": the job writes none,
	// or the reader may not have it).
	Download string
}

// ItemError is one item a job could not do.
type ItemError struct {
	At      int64
	Item    string
	Message string
}

// Detail is one job's page.
type Detail struct {
	Job         Row
	Errors      []ItemError
	MoreErrors  bool // more item errors exist than are listed
	ShowActions bool
	// Download is where the job's file is fetched ("": the job writes none,
	// or the reader may not have it).
	Download string
}

// Live reports whether the detail should poll for progress.
func (d Detail) Live() bool { return d.Job.State == "queued" || d.Job.State == "running" }

func path(id int64, action string) string {
	if action == "" {
		return fmt.Sprintf("/jobs/%d", id)
	}
	return fmt.Sprintf("/jobs/%d/%s", id, action)
}

func rowID(id int64) string { return fmt.Sprintf("job-%d", id) }

// pollTrigger keeps the table listening for actions taken on the page
// (they send HX-Trigger: jobs-changed) and adds the timer only while live.
func pollTrigger(live bool) string {
	if live {
		return "every 2s, jobs-changed from:body"
	}
	return "jobs-changed from:body"
}

// Title is the job's title, or its number when it has none.
func Title(ctx context.Context, r Row) string {
	if r.Title != "" {
		return r.Title
	}
	return ui.T(ctx, "jobs.number", "ID", r.ID)
}

func stateBadge(r Row) string {
	switch {
	case r.Requested != "":
		return "badge badge-warning"
	case r.State == "running":
		return "badge badge-info"
	case r.State == "paused":
		return "badge badge-warning"
	case r.State == "done":
		return "badge badge-success"
	case r.State == "failed":
		return "badge badge-danger"
	}
	return "badge"
}

func stateLabel(ctx context.Context, r Row) string {
	if r.Requested != "" {
		return ui.T(ctx, "jobs.requested."+r.Requested)
	}
	return ui.T(ctx, "jobs.state."+r.State)
}

func owner(ctx context.Context, r Row) string {
	if r.Owner == "" {
		return ui.T(ctx, "jobs.owner_system")
	}
	return r.Owner
}

// TimeLeft reads an estimate the way people say it: rounded, never falsely exact.
func TimeLeft(ctx context.Context, seconds int64) string {
	minutes := (seconds + 59) / 60
	switch {
	case seconds < 60:
		return ui.T(ctx, "jobs.left_soon")
	case minutes < 60:
		return ui.T(ctx, "jobs.left_minutes", "Minutes", minutes)
	}
	return ui.T(ctx, "jobs.left_hours", "Hours", minutes/60, "Minutes", minutes%60)
}

func num(ctx context.Context, n int64) string { return ui.Num(ctx, n) }
