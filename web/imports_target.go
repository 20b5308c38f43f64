package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	importsview "github.com/jingdesk/jingdesk/templates/imports"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The import wizard's third step: what validation found, the crowd the
// rows go into (a crowd of the platform's, or a new one), what each phase
// will take, and the start; or the import discarded.

// targetView fills the validation summary and the target form.
func (a *importsArea) targetView(c echo.Context, im db.Import, v *importsview.Wizard, e *wizardEdits) error {
	ctx := c.Request().Context()
	cnt := im.Counts
	v.Total, v.Empty, v.Valid, v.Invalid, v.Duplicate = cnt.Total, cnt.Empty, cnt.Valid, cnt.Invalid, cnt.Duplicate
	v.Title, v.Lines, v.Multiline = cnt.Title, cnt.Lines, cnt.Multiline
	rows := make([]string, len(cnt.MultilineRows))
	for i, r := range cnt.MultilineRows {
		rows[i] = strconv.FormatInt(r, 10)
	}
	if cnt.Multiline > int64(len(rows)) {
		rows = append(rows, "…")
	}
	v.MultilineRows = strings.Join(rows, t(c, "imports.list_sep"))
	var err error
	if v.Reasons, err = a.imports.RejectReasons(ctx, im); err != nil {
		return err
	}
	if v.CanEdit {
		// The step opens: the crowd list is refreshed from the platform.
		if v.Crowds, err = a.crowdChoice(c, im, e.target.Crowd, true); err != nil {
			return err
		}
		target, _ := e.target.Target() // a bad choice was refused before the step is shown again
		if v.Estimate, err = a.estimateView(c, im, target); err != nil {
			return err
		}
	}
	v.CanCreateMissing = crowds.CreatesPersons(im.IdentityType)
	v.AgainNeeded = len(v.Previous) > 0
	v.Target, v.TargetError, v.TargetErrorRef = e.target, e.tError, e.tRef
	return nil
}

// crowdChoice is the crowd picker: every crowd of the local copy, how fresh
// it is, and the one chosen (refresh asks the platform for a fresh list).
func (a *importsArea) crowdChoice(c echo.Context, im db.Import, selected string, refresh bool) (importsview.CrowdChoice, error) {
	list, cs, err := a.imports.TargetCrowds(c.Request().Context(), currentUser(c).ID, refresh)
	if err != nil {
		return importsview.CrowdChoice{}, err
	}
	choice := importsview.CrowdChoice{ID: im.ID, Selected: selected, AsOf: cs.SyncedAt, Syncing: cs.Syncing, LastError: cs.LastError}
	for _, cr := range list {
		choice.Crowds = append(choice.Crowds, importsview.CrowdOption{ID: cr.GroupID, Name: cr.Name, Members: cr.UserCount})
	}
	return choice, nil
}

// estimateView is what each phase will take for target.
func (a *importsArea) estimateView(c echo.Context, im db.Import, target crowds.Target) (importsview.Estimate, error) {
	est, err := a.imports.Estimate(c.Request().Context(), im, target)
	if err != nil {
		return importsview.Estimate{}, err
	}
	var v importsview.Estimate
	for _, e := range est {
		secs := int64(math.Ceil(e.Takes.Seconds()))
		v.Phases = append(v.Phases, importsview.EstimatePhase{Name: e.Name, Items: e.Items, Calls: e.Calls, Seconds: secs,
			UpTo: e.UpTo, OneByOne: e.OneByOne})
		v.Seconds += secs
	}
	return v, nil
}

// showImportCrowds is the crowd picker alone, polled while the list is
// refreshed (keeping the crowd chosen).
func (a *importsArea) showImportCrowds(c echo.Context) error {
	im, err := a.targetImport(c)
	if err != nil {
		return err
	}
	choice, err := a.crowdChoice(c, im, c.QueryParam("crowd"), false)
	if err != nil {
		return err
	}
	return a.renderFragment(c, http.StatusOK, importsview.CrowdPicker(choice))
}

// showImportEstimate is the estimate for the target the form holds.
func (a *importsArea) showImportEstimate(c echo.Context) error {
	im, err := a.targetImport(c)
	if err != nil {
		return err
	}
	if im.Stage != db.ImportValidated {
		return c.NoContent(http.StatusNoContent)
	}
	target, _ := targetForm(c.QueryParam).Target() // a crowd that is no crowd: estimated as a new one
	v, err := a.estimateView(c, im, target)
	if err != nil {
		return err
	}
	return a.renderFragment(c, http.StatusOK, importsview.EstimatePanel(v))
}

// targetForm reads the target form (from the body or the query).
func targetForm(value func(string) string) importsview.TargetForm {
	return importsview.TargetForm{Crowd: value("crowd"), NewName: strings.TrimSpace(value("new_name")),
		Description: strings.TrimSpace(value("new_description")), CreateMissing: value("create_missing") != "",
		Again: value("again") != ""}
}

// startImport hands the validated import to its job, into the crowd
// chosen (created first when it is new). A refusal shows the step again
// with the choices kept and why.
func (a *importsArea) startImport(c echo.Context) error {
	im, err := a.editableImport(c, "start")
	if err != nil {
		return err
	}
	form := targetForm(c.FormValue)
	target, err := form.Target()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	u := currentUser(c)
	entry := db.AuditEntry{Action: "import.start", Object: importObject(im.ID)}
	jobID, err := a.imports.Start(c.Request().Context(), im.ID, u.ID, u.Username, target)
	if errors.Is(err, crowds.ErrNotValidated) {
		return answerImport(c, im.ID) // a second click (the first one started it), or read another way: the page says which
	}
	if err != nil {
		edits := &wizardEdits{target: form}
		if je, ok := a.auditRefusal(c, entry, summary("import_crowd", msg.Str("File", im.FileName)), err); ok {
			edits.tRef = je.RequestID
		}
		var shown bool
		if edits.tError, shown = userMessage(c, err); !shown {
			return err
		}
		return a.renderImport(c, http.StatusUnprocessableEntity, im, edits)
	}
	name := form.NewName
	if name == "" {
		name = form.Crowd
	}
	entry.Summary = summary("import_start", msg.Str("File", im.FileName), msg.Int("Job", jobID), msg.Str("Crowd", name),
		msg.Nested("Missing", summary("create_missing."+strconv.FormatBool(form.CreateMissing)))).Encode()
	a.audit(c, entry)
	return answerImport(c, im.ID)
}

// discardImport deletes an import that has not started, and its file.
func (a *importsArea) discardImport(c echo.Context) error {
	im, err := a.editableImport(c, "discard")
	if err != nil {
		return err
	}
	err = a.imports.Discard(c.Request().Context(), im.ID)
	if text, shown := userMessage(c, err); shown { // started meanwhile
		return redirectWithFlash(c, ui.FlashError, text, importsview.Path(im.ID, ""))
	}
	if err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "import.discard", Object: importObject(im.ID), Summary: summary("import_discard", msg.Str("File", im.FileName)).Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "imports.discarded", "File", im.FileName), "/imports")
}
