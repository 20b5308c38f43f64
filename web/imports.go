package web

import (
	"context"
	"fmt"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/roles"
	importsview "github.com/jingdesk/jingdesk/templates/imports"
	"github.com/jingdesk/jingdesk/templates/layout"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The imports area: the history, and an import's wizard from its upload
// to its result. Its handlers are split along the wizard's seams: the
// upload (imports_upload.go), reading and mapping the file
// (imports_reading.go), the target and the start (imports_target.go),
// the progress and the job's actions (imports_progress.go), and the rows'
// reports (imports_reports.go). The rules (what a step may do, who may
// change an import, how a choice reads) are internal/crowds'.
type importsArea struct {
	*kit
	imports importService
	store   importReader
	acts    jobActs
}

// importService is what the imports pages ask of the crowds service, step
// by step.
type importService interface {
	History(ctx context.Context, limit int) ([]crowds.HistoryEntry, error)
	PreviousImports(ctx context.Context, im db.Import) ([]db.Import, error)
	// Upload.
	MaxUpload() int64
	CheckUploadSize(n int64) error
	Upload(ctx context.Context, userID int64, name string, body io.Reader) (int64, error)
	// Reading and mapping.
	ImportPreview(ctx context.Context, id int64) (db.Import, crowds.Preview, error)
	ChooseReading(ctx context.Context, id int64, ch crowds.ReadingChoice, mapping []string) (crowds.Preview, error)
	Validate(ctx context.Context, id, userID int64, mapping []string, identityType string) (crowds.ValidateResult, error)
	Validation(ctx context.Context, im db.Import) (crowds.Validation, error)
	CancelValidation(ctx context.Context, id int64) (bool, error)
	// Target and start.
	RejectReasons(ctx context.Context, im db.Import) ([]crowds.ReasonCount, error)
	TargetCrowds(ctx context.Context, userID int64, refresh bool) ([]db.Crowd, crowds.CopyState, error)
	Estimate(ctx context.Context, im db.Import, t crowds.Target) ([]crowds.PhaseEstimate, error)
	Start(ctx context.Context, id, userID int64, actor string, t crowds.Target) (int64, error)
	Discard(ctx context.Context, id int64) error
	// Progress and reports.
	Run(ctx context.Context, im db.Import, viewer int64, batches int) (crowds.Run, error)
	WriteReport(ctx context.Context, w io.Writer, importID int64, category string, l crowds.ReportLabels) error
}

// importReader is what the imports pages read of the store.
type importReader interface {
	Import(ctx context.Context, id int64) (db.Import, error)
}

const (
	// importsListed is how many imports the history shows.
	importsListed = 100
	// batchesShown is how many crowd import calls the progress panel lists.
	batchesShown = 5
)

// --- the history ---

func (a *importsArea) showImports(c echo.Context) error {
	list, err := a.imports.History(c.Request().Context(), importsListed)
	if err != nil {
		return err
	}
	v := importsview.List{CanCreate: roles.Works(currentUser(c).Role)}
	for _, e := range list {
		im, n := e.Import, e.States
		r := importsview.HistoryRow{ID: im.ID, FileName: im.FileName, Owner: im.UserName, CreatedAt: im.CreatedAt,
			CrowdID: im.CrowdID, CrowdName: im.CrowdName, Started: im.Stage == db.ImportStarted,
			Invalid: im.Counts.Invalid + im.Counts.Duplicate, Status: importsview.Status{Key: im.Stage}}
		if r.Started {
			r.Imported, r.Already, r.NotFound, r.Failed = n[db.RowImported], n[db.RowAlreadyMember], n[db.RowNotFound], n[db.RowFailed]
			r.Status = importsview.Status{Key: db.JobQueued}
			if e.Job.ID != 0 {
				r.Status = jobStatus(e.Job)
			}
		}
		v.Rows = append(v.Rows, r)
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "nav.imports"), Section: "imports", Body: importsview.ListPage(v)})
}

// jobStatus is an import's status from its job: a paused job that resumes
// by itself is "waiting until".
func jobStatus(j db.Job) importsview.Status {
	st := importsview.Status{Key: j.State}
	if j.State == db.JobPaused && j.ResumeAt > 0 {
		st.Until = j.ResumeAt
	}
	return st
}

// showImportsBadge is what the nav badge polls while an import runs.
func (a *importsArea) showImportsBadge(c echo.Context) error {
	pd := &ui.PageData{User: nil}
	if u := currentUser(c); u != nil {
		pd.User = viewUser(*u)
	}
	a.fillImportsBadge(c, pd)
	return a.renderFragment(c, http.StatusOK, layout.ImportsBadge(pd.ImportsFinished, pd.ImportsRunning))
}

// --- one import ---

// targetImport is the import named by :id.
func (a *importsArea) targetImport(c echo.Context) (db.Import, error) {
	id, err := pathID(c)
	if err != nil {
		return db.Import{}, err
	}
	return a.store.Import(c.Request().Context(), id)
}

// editableImport is the import named by :id when the user may change it
// (crowds.MayChange); otherwise the refusal is audited and it is a 403.
func (a *importsArea) editableImport(c echo.Context, action string) (db.Import, error) {
	im, err := a.targetImport(c)
	if err != nil {
		return im, err
	}
	if !crowds.MayChange(jobActor(c), im) {
		a.audit(c, db.AuditEntry{Action: "import." + action, Object: importObject(im.ID), Outcome: db.OutcomeDenied,
			Summary: summary("import_action_not_owner", msg.Nested("Action", actionName(action))).Encode()})
		return im, echo.NewHTTPError(http.StatusForbidden, errForbidden)
	}
	return im, nil
}

func importObject(id int64) string { return fmt.Sprintf("import:%d", id) }

// answerImport ends a step: the import page at its new stage (htmx
// follows the redirect and swaps the body in).
func answerImport(c echo.Context, id int64) error {
	return c.Redirect(http.StatusSeeOther, importsview.Path(id, ""))
}

func (a *importsArea) showImport(c echo.Context) error {
	im, err := a.targetImport(c)
	if err != nil {
		return err
	}
	return a.renderImport(c, http.StatusOK, im, nil)
}

// wizardEdits are what a re-rendered step keeps of the user's input.
type wizardEdits struct {
	mapping  []string
	identity string
	mapError string
	target   importsview.TargetForm
	tError   string
	tRef     string
}

// renderImport draws an import at its stage.
func (a *importsArea) renderImport(c echo.Context, status int, im db.Import, e *wizardEdits) error {
	v, err := a.wizard(c, im, e)
	if err != nil {
		return err
	}
	return a.render(c, status, View{Title: t(c, "imports.title", "File", im.FileName), Section: "imports", Body: importsview.WizardPage(v)})
}

// wizard shapes an import at its stage: the decode and mapping step, the
// summary and target step, or the progress.
func (a *importsArea) wizard(c echo.Context, im db.Import, e *wizardEdits) (importsview.Wizard, error) {
	v := importsview.Wizard{ID: im.ID, Stage: im.Stage, FileName: im.FileName, FileSize: im.FileSize,
		CanEdit: crowds.MayChange(jobActor(c), im), CanDownload: roles.Works(currentUser(c).Role), Facts: importFacts(c, im)}
	if e == nil {
		e = &wizardEdits{}
	}
	if im.Stage != db.ImportStarted {
		prev, err := a.imports.PreviousImports(c.Request().Context(), im)
		if err != nil {
			return v, err
		}
		for _, p := range prev {
			v.Previous = append(v.Previous, importsview.Previous{ID: p.ID, Owner: p.UserName, StartedAt: p.StartedAt,
				CrowdID: p.CrowdID, CrowdName: p.CrowdName})
		}
	}
	var err error
	switch im.Stage {
	case db.ImportUploaded:
		err = a.decodeView(c, im, &v, e)
	case db.ImportValidated:
		err = a.targetView(c, im, &v, e)
	default:
		v.Progress, err = a.importProgress(c, im)
	}
	return v, err
}

func importFacts(c echo.Context, im db.Import) importsview.Facts {
	f := importsview.Facts{Owner: im.UserName, CreatedAt: im.CreatedAt, StartedAt: im.StartedAt, FileName: im.FileName,
		FileSize: im.FileSize, Format: im.Format, Encoding: im.Encoding, Delimiter: im.Delimiter, Sheet: im.Sheet,
		Identity: im.IdentityType, CrowdID: im.CrowdID, CrowdName: im.CrowdName, CrowdNew: im.CrowdNew, CreateMissing: im.CreateMissing}
	for i, role := range im.Mapping {
		if role == "" {
			continue
		}
		header := t(c, "imports.column_n", "N", i+1) // a column the header does not name
		if i < len(im.Header) && im.Header[i] != "" {
			header = im.Header[i]
		}
		f.Mapping = append(f.Mapping, importsview.Column{Index: i, Header: header, Role: role})
	}
	return f
}
