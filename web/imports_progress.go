package web

import (
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/roles"
	importsview "github.com/jingdesk/jingdesk/templates/imports"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The import wizard's last step: a started import's progress by phase,
// polled while its job runs, and its result; pausing, resuming and
// cancelling it go through the jobs area's actions (the rules are
// internal/jobs').

// showImportProgress is what an import's page polls: a validation's
// progress, the step that follows when it ends, or the run's panel.
func (a *importsArea) showImportProgress(c echo.Context) error {
	im, err := a.targetImport(c)
	if err != nil {
		return err
	}
	switch {
	case im.Stage == db.ImportUploaded && im.ValidateJobID != 0:
		val, err := a.imports.Validation(c.Request().Context(), im)
		if err != nil {
			return err
		}
		if val.Job.Active() {
			return a.renderFragment(c, http.StatusOK, importsview.ValidatingPanel(a.validatingView(c, im, val)))
		}
		// The validation ended: the import read again, since it may have
		// ended after the first read (the summary when it validated), else
		// the step again, saying why (stopped, or the file could not be read).
		if im, err = a.targetImport(c); err != nil {
			return err
		}
		return a.replaceImportBody(c, im)
	case im.Stage == db.ImportValidated && isHTMX(c):
		// Validated: the summary and target step take the page's place.
		return a.replaceImportBody(c, im)
	case im.Stage != db.ImportStarted:
		c.Response().Header().Set("HX-Redirect", importsview.Path(im.ID, ""))
		return c.NoContent(http.StatusNoContent)
	}
	p, err := a.importProgress(c, im)
	if err != nil {
		return err
	}
	return a.renderFragment(c, http.StatusOK, importsview.Panel(p))
}

// replaceImportBody answers the polling with the import's page body at its
// new stage, in place of the panel that polled.
func (a *importsArea) replaceImportBody(c echo.Context, im db.Import) error {
	c.Response().Header().Set("HX-Retarget", "#import-body")
	c.Response().Header().Set("HX-Reswap", "outerHTML")
	return a.renderImport(c, http.StatusOK, im, nil)
}

// importProgress is the panel of a started import from its run (which
// marks a finished import seen when its owner looks at it).
func (a *importsArea) importProgress(c echo.Context, im db.Import) (importsview.Progress, error) {
	u := currentUser(c)
	p := importsview.Progress{ID: im.ID, Live: true, Total: im.Counts.Valid, Invalid: im.Counts.Invalid,
		Duplicate: im.Counts.Duplicate, CanDownload: roles.Works(u.Role), RowsPrunedAt: im.RowsPrunedAt}
	run, err := a.imports.Run(c.Request().Context(), im, u.ID, batchesShown)
	if err != nil {
		return p, err
	}
	for _, b := range run.Batches {
		p.Batches = append(p.Batches, importsview.Batch{At: b.At, Size: b.Size, Success: b.Success, Errors: b.Errors})
	}
	if j := run.Job; j.ID != 0 {
		p.JobState, p.Requested, p.Phase = j.State, j.RequestedState, j.Checkpoint
		p.Live, p.Finished = !run.Finished, run.Finished
		if j.Total > 0 {
			p.Total = j.Total
		}
		switch {
		case j.State == db.JobPaused && j.ResumeAt > 0:
			p.WaitUntil, p.WaitReason = j.ResumeAt, state(c).loc.Stored(j.Error)
		case j.State == db.JobFailed:
			p.Error = state(c).loc.Stored(j.Error)
		}
		offer := jobs.Offered(jobActor(c), j)
		p.CanPause, p.CanResume, p.CanCancel = offer.Pause, offer.Resume, offer.Cancel
	}
	// The bar moves through every phase, each weighing what its calls
	// take, not only when rows reach their final state.
	n := run.Progress.States
	p.Imported, p.Already, p.NotFound, p.Failed = n[db.RowImported], n[db.RowAlreadyMember], n[db.RowNotFound], n[db.RowFailed]
	p.Waiting = n[db.RowPending] + n[db.RowUnknown] + n[db.RowResolved]
	p.Processed = p.Imported + p.Already + p.NotFound + p.Failed
	p.Percent, p.SecondsLeft = run.Progress.Percent, run.Progress.SecondsLeft
	for _, ph := range run.Progress.Phases {
		p.Phases = append(p.Phases, importsview.Phase{Name: ph.Name, State: ph.State, Skip: ph.Skip, Done: ph.Done, Total: ph.Total,
			PerMinute: ph.PerMinute, SecondsLeft: ph.SecondsLeft, Took: ph.Took, OneByOne: ph.OneByOne})
	}
	return p, nil
}

// actOnImport pauses, resumes or cancels an import's job through the jobs
// area's actions (the rules of internal/jobs: its owner or an
// administrator, in a state that allows it), and answers with the
// refreshed panel, or the import's page for a plain form.
func (a *importsArea) actOnImport(action jobs.Action) echo.HandlerFunc {
	return func(c echo.Context) error {
		im, err := a.targetImport(c)
		if err != nil {
			return err
		}
		if im.JobID == 0 {
			return crowds.ErrNotStarted
		}
		entry := db.AuditEntry{Action: "import." + string(action), Object: importObject(im.ID)}
		j, notice, err := a.acts.act(c, action, im.JobID, entry, "import")
		if err != nil {
			return err
		}
		status := http.StatusOK
		if notice != "" {
			status = http.StatusConflict
		} else {
			entry.Summary = summary("import_action", msg.Nested("Action", actionName(string(action))), msg.Str("File", im.FileName), msg.Int("Job", j.ID)).Encode()
			a.audit(c, entry)
		}
		if !wantsFragment(c) {
			if notice != "" {
				return redirectWithFlash(c, ui.FlashError, notice, importsview.Path(im.ID, ""))
			}
			return answerImport(c, im.ID)
		}
		p, err := a.importProgress(c, im)
		if err != nil {
			return err
		}
		p.Notice = notice
		return a.renderFragment(c, status, importsview.Panel(p))
	}
}
