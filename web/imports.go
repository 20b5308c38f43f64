package web

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/importfile"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/roles"
	importsview "github.com/jingdesk/jingdesk/templates/imports"
	"github.com/jingdesk/jingdesk/templates/layout"
	"github.com/jingdesk/jingdesk/templates/ui"
)

const (
	// importsListed is how many imports the history shows.
	importsListed = 100
	// uploadSlack is what a multipart body may carry beyond the file (the
	// token field, part headers, boundaries) before it is refused unread.
	uploadSlack = 64 << 10
	// batchesShown is how many crowd import calls the progress panel lists.
	batchesShown = 5
)

// --- the history ---

func (s *Server) showImports(c echo.Context) error {
	if s.Crowds == nil {
		return s.showArea("imports")(c)
	}
	ctx := c.Request().Context()
	list, err := s.Store.ListImports(ctx, db.ImportFilter{Limit: importsListed})
	if err != nil {
		return err
	}
	v := importsview.List{CanCreate: roles.Works(currentUser(c).Role)}
	for _, im := range list {
		r := importsview.HistoryRow{ID: im.ID, FileName: im.FileName, Owner: im.UserName, CreatedAt: im.CreatedAt,
			CrowdID: im.CrowdID, CrowdName: im.CrowdName, Started: im.Stage == db.ImportStarted,
			Invalid: im.Counts.Invalid + im.Counts.Duplicate}
		r.Status = importsview.Status{Key: im.Stage}
		if r.Started {
			n, err := s.Store.ImportStateCounts(ctx, im.ID)
			if err != nil {
				return err
			}
			r.Imported, r.Already, r.NotFound, r.Failed = n[db.RowImported], n[db.RowAlreadyMember], n[db.RowNotFound], n[db.RowFailed]
			r.Status = importsview.Status{Key: db.JobQueued}
			if im.JobID != 0 {
				j, err := s.Store.Job(ctx, im.JobID)
				if err != nil && !errors.Is(err, db.ErrNotFound) {
					return err
				}
				if err == nil {
					r.Status = jobStatus(j)
				}
			}
		}
		v.Rows = append(v.Rows, r)
	}
	return s.render(c, http.StatusOK, View{Title: t(c, "nav.imports"), Section: "imports", Body: importsview.ListPage(v)})
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
func (s *Server) showImportsBadge(c echo.Context) error {
	pd := &ui.PageData{User: nil}
	if u := currentUser(c); u != nil {
		pd.User = viewUser(*u)
	}
	s.fillImportsBadge(c, pd)
	return s.renderFragment(c, http.StatusOK, layout.ImportsBadge(pd.ImportsFinished, pd.ImportsRunning))
}

// --- step 1: upload ---

func (s *Server) showNewImport(c echo.Context) error {
	if s.Crowds == nil {
		return s.showArea("imports")(c)
	}
	return s.renderUpload(c, http.StatusOK, "")
}

func (s *Server) renderUpload(c echo.Context, status int, msg string) error {
	v := importsview.Upload{MaxSize: importsview.FileSize(c.Request().Context(), s.Crowds.MaxUpload()), Error: msg}
	return s.render(c, status, View{Title: t(c, "imports.new_title"), Section: "imports", Body: importsview.UploadPage(v)})
}

// uploadImport streams the file part of a multipart body into the service;
// a body larger than the limit is refused before any of it is read.
func (s *Server) uploadImport(c echo.Context) error {
	if s.Crowds == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	u := currentUser(c)
	limit := s.Crowds.MaxUpload()
	if c.Request().ContentLength > limit+uploadSlack {
		s.audit(c, db.AuditEntry{Action: "import.upload", Outcome: db.OutcomeFailed,
			Summary: fmt.Sprintf("refused: %d bytes is over the %d byte limit", c.Request().ContentLength, limit)})
		c.Response().Header().Set("Connection", "close")
		return s.renderUpload(c, http.StatusRequestEntityTooLarge, s.tooLargeMessage(c))
	}
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return s.renderUpload(c, http.StatusBadRequest, t(c, "imports.error.no_file"))
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return s.renderUpload(c, http.StatusBadRequest, t(c, "imports.error.no_file"))
		}
		if err != nil {
			return s.renderUpload(c, http.StatusBadRequest, t(c, "imports.error.no_file"))
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		name := part.FileName()
		if name == "" {
			return s.renderUpload(c, http.StatusBadRequest, t(c, "imports.error.no_file"))
		}
		id, err := s.Crowds.Upload(c.Request().Context(), u.ID, name, part)
		var fe *importfile.Error
		switch {
		case errors.Is(err, crowds.ErrTooLarge):
			s.audit(c, db.AuditEntry{Action: "import.upload", Outcome: db.OutcomeFailed, Summary: fmt.Sprintf("refused %q: over the %d byte limit", name, limit)})
			c.Response().Header().Set("Connection", "close")
			return s.renderUpload(c, http.StatusRequestEntityTooLarge, s.tooLargeMessage(c))
		case errors.As(err, &fe):
			s.audit(c, db.AuditEntry{Action: "import.upload", Outcome: db.OutcomeFailed, Summary: fmt.Sprintf("refused %q: %s", name, fe.Code)})
			return s.renderUpload(c, http.StatusBadRequest, fileErrorMessage(c, fe))
		case err != nil && id == 0:
			return err
		}
		// id != 0 with an error: stored, but reading it failed; the decode step says why.
		s.audit(c, db.AuditEntry{Action: "import.upload", Object: fmt.Sprintf("import:%d", id), Summary: fmt.Sprintf("uploaded %q", name)})
		return c.Redirect(http.StatusSeeOther, importsview.Path(id, ""))
	}
}

func (s *Server) tooLargeMessage(c echo.Context) string {
	return t(c, "imports.error.too_large", "Size", importsview.FileSize(c.Request().Context(), s.Crowds.MaxUpload()))
}

// fileErrorMessage is a file the importer cannot read, in the user's words.
func fileErrorMessage(c echo.Context, fe *importfile.Error) string {
	switch fe.Code {
	case importfile.CodeUnsupported, importfile.CodeEmpty, importfile.CodeBinary, importfile.CodeXLSX, importfile.CodeSheet,
		importfile.CodeXLSXLimit:
		return t(c, "imports.error."+fe.Code)
	case importfile.CodeHeaderRow:
		return t(c, "imports.error."+fe.Code, "Line", fe.Line)
	}
	return t(c, "imports.error.unreadable")
}

// --- one import ---

// targetImport is the import named by :id.
func (s *Server) targetImport(c echo.Context) (db.Import, error) {
	if s.Crowds == nil {
		return db.Import{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.Import{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return s.Store.Import(c.Request().Context(), id)
}

// mayEditImport: its owner or an administrator changes, starts or discards it.
func mayEditImport(u *db.User, im db.Import) bool {
	return u != nil && roles.Works(u.Role) && (u.Role == roles.Admin || u.ID == im.UserID)
}

func (s *Server) editableImport(c echo.Context, action string) (db.Import, error) {
	im, err := s.targetImport(c)
	if err != nil {
		return im, err
	}
	if !mayEditImport(currentUser(c), im) {
		s.audit(c, db.AuditEntry{Action: "import." + action, Object: fmt.Sprintf("import:%d", im.ID), Outcome: db.OutcomeDenied,
			Summary: action + " refused: the import belongs to someone else"})
		return im, echo.NewHTTPError(http.StatusForbidden, errForbidden)
	}
	return im, nil
}

func (s *Server) showImport(c echo.Context) error {
	im, err := s.targetImport(c)
	if err != nil {
		return err
	}
	return s.renderImport(c, http.StatusOK, im, nil)
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
func (s *Server) renderImport(c echo.Context, status int, im db.Import, e *wizardEdits) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	v := importsview.Wizard{ID: im.ID, Stage: im.Stage, FileName: im.FileName, FileSize: im.FileSize,
		CanEdit: mayEditImport(u, im), CanDownload: roles.Works(u.Role), Facts: importFacts(c, im)}
	if e == nil {
		e = &wizardEdits{}
	}
	if im.Stage != db.ImportStarted {
		prev, err := s.Crowds.PreviousImports(ctx, im)
		if err != nil {
			return err
		}
		for _, p := range prev {
			v.Previous = append(v.Previous, importsview.Previous{ID: p.ID, Owner: p.UserName, StartedAt: p.StartedAt,
				CrowdID: p.CrowdID, CrowdName: p.CrowdName})
		}
	}
	switch im.Stage {
	case db.ImportUploaded:
		if err := s.decodeView(c, im, &v, e); err != nil {
			return err
		}
	case db.ImportValidated:
		if err := s.targetView(c, im, &v, e); err != nil {
			return err
		}
	default:
		p, err := s.importProgress(c, im)
		if err != nil {
			return err
		}
		v.Progress = p
		if p.Finished && u != nil && u.ID == im.UserID && im.SeenAt == 0 {
			if err := s.Store.MarkImportSeen(ctx, im.ID); err != nil {
				return err
			}
		}
	}
	return s.render(c, status, View{Title: t(c, "imports.title", "File", im.FileName), Section: "imports", Body: importsview.WizardPage(v)})
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

// decodeView fills the decode and mapping step from the preview kept with
// the import (the file is not opened to show it).
func (s *Server) decodeView(c echo.Context, im db.Import, v *importsview.Wizard, e *wizardEdits) error {
	ctx := c.Request().Context()
	_, p, err := s.Crowds.ImportPreview(ctx, im.ID)
	if err != nil {
		return err
	}
	v.IsXLSX = p.Options.Format == importfile.FormatXLSX
	for _, enc := range importfile.Encodings {
		label := importsview.EncodingLabel(ctx, enc)
		if enc == p.Detected.Encoding {
			label = t(c, "imports.detected", "What", label)
		}
		v.Encodings = append(v.Encodings, importsview.Option{Value: enc, Label: label, Selected: enc == p.Options.Encoding})
	}
	for _, d := range importfile.Delimiters {
		label := importsview.DelimiterLabel(ctx, string(d))
		if d == p.Detected.Delimiter {
			label = t(c, "imports.detected", "What", label)
		}
		v.Delimiters = append(v.Delimiters, importsview.Option{Value: string(d), Label: label, Selected: d == p.Options.Delimiter})
	}
	var others []string
	for _, sh := range p.Detected.Sheets {
		label := sheetLabel(c, sh)
		v.Sheets = append(v.Sheets, importsview.Option{Value: sh.Name, Label: label, Selected: sh.Name == p.Options.Sheet})
		if sh.Name != p.Options.Sheet {
			others = append(others, label)
		}
	}
	if len(others) > 0 {
		v.OtherSheets = t(c, "imports.other_sheets", "List", strings.Join(others, t(c, "imports.list_sep")))
	}
	if p.Err != nil {
		v.ReadError = fileErrorMessage(c, p.Err)
	}
	v.HeaderRow = p.HeaderRow
	for _, r := range p.HeaderChoices() {
		label := importsview.RowCells(ctx, previewRow(r))
		if r.Row == p.Proposed {
			label = t(c, "imports.detected", "What", label)
		}
		v.HeaderRows = append(v.HeaderRows, importsview.Option{Value: strconv.Itoa(r.Row), Label: label, Selected: r.Row == p.HeaderRow})
		if r.Row < p.HeaderRow {
			v.TitleRows = append(v.TitleRows, previewRow(r))
		}
	}
	for _, r := range p.DataRows() {
		v.Rows = append(v.Rows, previewRow(r))
	}
	mapping := p.Mapping
	if len(e.mapping) == p.Columns {
		mapping = e.mapping
	}
	for i := range p.Columns {
		header := p.Header[i]
		if header == "" {
			header = t(c, "imports.column_n", "N", i+1)
		}
		v.Columns = append(v.Columns, importsview.Column{Index: i, Header: header, Role: mapping[i]})
	}
	identity := e.identity
	if identity == "" {
		identity = im.IdentityType
	}
	for _, role := range importfile.MatchRoles {
		if slices.Contains(mapping, role) {
			v.Identities = append(v.Identities, importsview.Option{Value: role, Label: importsview.RoleLabel(ctx, role), Selected: role == identity})
		}
	}
	v.Identity, v.MapError = identity, e.mapError
	return s.validationView(c, im, v)
}

// validationView shows a validation job under way, or how the last one
// ended when it did not finish.
func (s *Server) validationView(c echo.Context, im db.Import, v *importsview.Wizard) error {
	if im.ValidateJobID == 0 {
		return nil
	}
	ctx := c.Request().Context()
	j, err := s.Store.Job(ctx, im.ValidateJobID)
	if err != nil {
		return err
	}
	switch {
	case j.Active():
		vv, err := s.validatingView(c, im, j)
		if err != nil {
			return err
		}
		v.Validating = &vv
	case crowds.ValidationError(im) != nil:
		v.Notice = t(c, "imports.validation_failed", "Error", fileErrorMessage(c, crowds.ValidationError(im)))
	case j.State == db.JobCancelled:
		v.Notice = t(c, "imports.validation_stopped")
	case j.State == db.JobFailed:
		v.Notice = t(c, "imports.validation_failed", "Error", t(c, "imports.error.unreadable"))
	}
	return nil
}

// validatingView is a validation job's progress: rows read, and the share
// of the file read (its rate gives the time left).
func (s *Server) validatingView(c echo.Context, im db.Import, j db.Job) (importsview.Validating, error) {
	row, err := s.Store.ImportLastRow(c.Request().Context(), im.ID)
	if err != nil {
		return importsview.Validating{}, err
	}
	v := importsview.Validating{ID: im.ID, Row: row, CanCancel: mayEditImport(currentUser(c), im)}
	if j.Total > 0 {
		v.Percent = min(100, j.Done*100/j.Total)
	}
	if j.State == db.JobRunning {
		now := s.Now().Unix()
		_, v.SecondsLeft = pace(j, now)
		if elapsed := now - j.RunStartedAt; elapsed > 0 && row > 0 {
			v.PerMinute = row * 60 / elapsed
		}
	}
	return v, nil
}

// sheetLabel names a worksheet with its size, and whether it is hidden or
// its header was recognised.
func sheetLabel(c echo.Context, sh importfile.Sheet) string {
	var info []string
	switch {
	case sh.Unscanned:
		info = append(info, t(c, "imports.sheet_unscanned"))
	case sh.Rows == 0:
		info = append(info, t(c, "imports.sheet_empty"))
	case sh.More:
		info = append(info, t(c, "imports.sheet_rows_more", "N", ui.Num(c.Request().Context(), int64(sh.Rows))))
	default:
		info = append(info, t(c, "imports.sheet_rows", "N", ui.Num(c.Request().Context(), int64(sh.Rows))))
	}
	if sh.Recognised {
		info = append(info, t(c, "imports.sheet_recognised"))
	}
	if sh.Hidden {
		info = append(info, t(c, "imports.sheet_hidden"))
	}
	return t(c, "imports.sheet_option", "Name", sh.Name, "Info", strings.Join(info, t(c, "imports.list_sep")))
}

func previewRow(r importfile.Record) importsview.PreviewRow {
	return importsview.PreviewRow{Row: r.Row, Fields: r.Fields, Problem: r.Problem, Text: r.Text}
}

// targetView fills the validation summary and the target form.
func (s *Server) targetView(c echo.Context, im db.Import, v *importsview.Wizard, e *wizardEdits) error {
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
	reasons := cnt.Reasons // counted when validation ended
	if reasons == nil {    // an import validated before they were kept
		if reasons, err = s.Store.ImportReasonCounts(ctx, im.ID, db.RowInvalid); err != nil {
			return err
		}
	}
	for r, n := range reasons {
		v.Reasons = append(v.Reasons, importsview.ReasonCount{Reason: r, Count: n})
	}
	slices.SortFunc(v.Reasons, func(a, b importsview.ReasonCount) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	if v.CanEdit {
		// The step opens: the crowd list is refreshed from the platform.
		if v.Crowds, err = s.crowdChoice(c, im, e.target.Crowd, true); err != nil {
			return err
		}
		target, _ := targetFrom(e.target)
		if v.Estimate, err = s.estimateView(c, im, target); err != nil {
			return err
		}
	}
	v.CanCreateMissing = im.IdentityType == importfile.ColMobile || im.IdentityType == importfile.ColEmail
	v.AgainNeeded = len(v.Previous) > 0
	v.Target, v.TargetError, v.TargetErrorRef = e.target, e.tError, e.tRef
	return nil
}

// crowdChoice is the crowd picker: every crowd of the local copy, how fresh
// it is, and the one chosen (refresh asks the platform for a fresh list).
func (s *Server) crowdChoice(c echo.Context, im db.Import, selected string, refresh bool) (importsview.CrowdChoice, error) {
	list, st, syncing, err := s.Crowds.TargetCrowds(c.Request().Context(), currentUser(c).ID, refresh)
	if err != nil {
		return importsview.CrowdChoice{}, err
	}
	choice := importsview.CrowdChoice{ID: im.ID, Selected: selected, AsOf: st.SyncedAt, Syncing: syncing, LastError: st.LastError}
	for _, cr := range list {
		choice.Crowds = append(choice.Crowds, importsview.CrowdOption{ID: cr.GroupID, Name: cr.Name, Members: cr.UserCount})
	}
	return choice, nil
}

// estimateView is what each phase will take for target.
func (s *Server) estimateView(c echo.Context, im db.Import, target crowds.Target) (importsview.Estimate, error) {
	est, err := s.Crowds.Estimate(c.Request().Context(), im, target)
	if errors.Is(err, db.ErrNotFound) { // a crowd gone meanwhile: as a new one
		est, err = s.Crowds.Estimate(c.Request().Context(), im, crowds.Target{CreateMissing: target.CreateMissing})
	}
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
func (s *Server) showImportCrowds(c echo.Context) error {
	im, err := s.targetImport(c)
	if err != nil {
		return err
	}
	choice, err := s.crowdChoice(c, im, c.QueryParam("crowd"), false)
	if err != nil {
		return err
	}
	return s.renderFragment(c, http.StatusOK, importsview.CrowdPicker(choice))
}

// showImportEstimate is the estimate for the target the form holds.
func (s *Server) showImportEstimate(c echo.Context) error {
	im, err := s.targetImport(c)
	if err != nil {
		return err
	}
	target, _ := targetFrom(targetForm(c.QueryParam))
	if im.Stage != db.ImportValidated {
		return c.NoContent(http.StatusNoContent)
	}
	v, err := s.estimateView(c, im, target)
	if err != nil {
		return err
	}
	return s.renderFragment(c, http.StatusOK, importsview.EstimatePanel(v))
}

// targetForm reads the target form (from the body or the query).
func targetForm(value func(string) string) importsview.TargetForm {
	return importsview.TargetForm{Crowd: value("crowd"), NewName: strings.TrimSpace(value("new_name")),
		Description: strings.TrimSpace(value("new_description")), CreateMissing: value("create_missing") != "",
		Again: value("again") != ""}
}

// targetFrom is the service's target for a form; ok is false for a crowd
// value that is not one.
func targetFrom(form importsview.TargetForm) (crowds.Target, bool) {
	target := crowds.Target{NewCrowd: form.NewName, Description: form.Description, CreateMissing: form.CreateMissing, Again: form.Again}
	if form.Crowd != "" && form.Crowd != "new" {
		id, err := strconv.ParseInt(form.Crowd, 10, 64)
		if err != nil || id <= 0 {
			return target, false
		}
		target.CrowdID, target.NewCrowd, target.Description = id, "", ""
	}
	return target, true
}

// --- decode and map ---

// setImportReading changes how the file is read (encoding, delimiter,
// sheet, header row), or goes back from the summary to the mapping, and
// shows the step.
func (s *Server) setImportReading(c echo.Context) error {
	im, err := s.editableImport(c, "reading")
	if err != nil {
		return err
	}
	if im.Stage == db.ImportStarted {
		return s.answerImport(c, im.ID)
	}
	ctx := c.Request().Context()
	opt := importfile.Options{Format: importfile.Format(im.Format), Encoding: im.Encoding, Sheet: im.Sheet}
	if d := []rune(im.Delimiter); len(d) == 1 {
		opt.Delimiter = d[0]
	}
	if enc := c.FormValue("encoding"); slices.Contains(importfile.Encodings, enc) {
		opt.Encoding = enc
	}
	if d := []rune(c.FormValue("delimiter")); len(d) == 1 && slices.Contains(importfile.Delimiters, d[0]) {
		opt.Delimiter = d[0]
	}
	if sh := c.FormValue("sheet"); sh != "" && opt.Format == importfile.FormatXLSX {
		opt.Sheet = sh
	}
	headerRow := im.HeaderRow
	if n, err := strconv.Atoi(c.FormValue("header_row")); err == nil && n > 0 {
		headerRow = n
	}
	// The same columns read again keep the mapping the user chose (in the
	// form, else the one kept with the import).
	_, err = s.Crowds.SetReading(ctx, im.ID, opt, headerRow, formMapping(c, len(im.Mapping)))
	var fe *importfile.Error
	switch {
	case errors.Is(err, crowds.ErrStarted):
		return s.answerImport(c, im.ID)
	case errors.As(err, &fe): // a sheet that is not in the workbook: the step as it was
		return s.renderImport(c, http.StatusUnprocessableEntity, im, &wizardEdits{mapError: fileErrorMessage(c, fe)})
	case err != nil:
		return err
	}
	if !wantsFragment(c) {
		return c.Redirect(http.StatusSeeOther, importsview.Path(im.ID, ""))
	}
	im, err = s.Store.Import(ctx, im.ID)
	if err != nil {
		return err
	}
	return s.renderImport(c, http.StatusOK, im, &wizardEdits{identity: c.FormValue("identity")})
}

// formMapping reads the role chosen for each column (col_0, col_1, …); nil
// when the form carries none.
func formMapping(c echo.Context, n int) []string {
	form, err := c.FormParams()
	if err != nil {
		return nil
	}
	found := false
	out := make([]string, n)
	for i := range out {
		key := "col_" + strconv.Itoa(i)
		if vals, ok := form[key]; ok && len(vals) > 0 {
			found = true
			if slices.Contains(importfile.Roles, vals[0]) {
				out[i] = vals[0]
			}
		}
	}
	if !found {
		return nil
	}
	return out
}

// validateImport checks the whole file with the chosen mapping: at once
// for a small file, by a job for a large one (the page then shows its
// progress).
func (s *Server) validateImport(c echo.Context) error {
	im, err := s.editableImport(c, "validate")
	if err != nil {
		return err
	}
	if im.Stage == db.ImportStarted {
		return s.answerImport(c, im.ID)
	}
	ctx := c.Request().Context()
	mapping := formMapping(c, len(im.Mapping))
	if mapping == nil {
		mapping = im.Mapping
	}
	identity := c.FormValue("identity")
	edits := &wizardEdits{mapping: mapping, identity: identity}
	// Each role names one column.
	seen := map[string]bool{}
	for _, r := range mapping {
		if r != "" && seen[r] {
			edits.mapError = t(c, "imports.error.role_twice", "Role", importsview.RoleLabel(ctx, r))
			return s.renderImport(c, http.StatusUnprocessableEntity, im, edits)
		}
		seen[r] = true
	}
	if identity == "" || !slices.Contains(mapping, identity) {
		identity = ""
		for _, role := range importfile.MatchRoles {
			if slices.Contains(mapping, role) {
				identity = role
				break
			}
		}
	}
	res, err := s.Crowds.Validate(ctx, im.ID, currentUser(c).ID, mapping, identity)
	var fe *importfile.Error
	switch {
	case errors.Is(err, crowds.ErrNoIdentity):
		edits.mapError = t(c, "imports.error.no_identity")
		return s.renderImport(c, http.StatusUnprocessableEntity, im, edits)
	case errors.Is(err, crowds.ErrStarted):
		return s.answerImport(c, im.ID)
	case errors.As(err, &fe):
		edits.mapError = fileErrorMessage(c, fe)
		im, _ = s.Store.Import(ctx, im.ID)
		return s.renderImport(c, http.StatusUnprocessableEntity, im, edits)
	case err != nil:
		return err
	}
	entry := db.AuditEntry{Action: "import.validate", Object: fmt.Sprintf("import:%d", im.ID)}
	if res.JobID != 0 {
		entry.Summary = fmt.Sprintf("validating %q on %s in the background (job %d)", im.FileName, identity, res.JobID)
	} else {
		n := res.Counts
		entry.Summary = fmt.Sprintf("validated %q on %s: %d title rows, %d data rows, %d valid, %d invalid, %d duplicates, %d empty",
			im.FileName, identity, n.Title, n.Total, n.Valid, n.Invalid, n.Duplicate, n.Empty)
	}
	s.audit(c, entry)
	return s.answerImport(c, im.ID)
}

// cancelImportValidation stops a validation job under way.
func (s *Server) cancelImportValidation(c echo.Context) error {
	im, err := s.editableImport(c, "validate")
	if err != nil {
		return err
	}
	err = s.Crowds.CancelValidation(c.Request().Context(), im.ID)
	if err != nil && !errors.Is(err, db.ErrJobState) {
		return err
	}
	if err == nil {
		s.audit(c, db.AuditEntry{Action: "import.validate", Object: fmt.Sprintf("import:%d", im.ID),
			Summary: fmt.Sprintf("stopped validating %q", im.FileName)})
	}
	return s.answerImport(c, im.ID)
}

// answerImport ends a successful step: the import page at its new stage
// (htmx follows the redirect and swaps the body in).
func (s *Server) answerImport(c echo.Context, id int64) error {
	return c.Redirect(http.StatusSeeOther, importsview.Path(id, ""))
}

// --- target and start ---

func (s *Server) startImport(c echo.Context) error {
	im, err := s.editableImport(c, "start")
	if err != nil {
		return err
	}
	if im.Stage == db.ImportStarted {
		return s.answerImport(c, im.ID) // a double submission: the first one won
	}
	u := currentUser(c)
	form := targetForm(c.FormValue)
	target, ok := targetFrom(form)
	if !ok {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	entry := db.AuditEntry{Action: "import.start", Object: fmt.Sprintf("import:%d", im.ID)}
	jobID, err := s.Crowds.Start(c.Request().Context(), im.ID, u.ID, u.Username, target)
	refuse := func(msg, ref string) error {
		return s.renderImport(c, http.StatusUnprocessableEntity, im, &wizardEdits{target: form, tError: msg, tRef: ref})
	}
	switch {
	case errors.Is(err, crowds.ErrNotValidated):
		return s.answerImport(c, im.ID)
	case errors.Is(err, crowds.ErrImportedOnce):
		return refuse(t(c, "imports.error.imported_once"), "")
	case errors.Is(err, crowds.ErrNoTarget):
		return refuse(t(c, "imports.error.no_target"), "")
	case errors.Is(err, crowds.ErrNoCreate):
		return refuse(t(c, "imports.error.no_create"), "")
	case errors.Is(err, crowds.ErrNoValidRows):
		return refuse(t(c, "imports.error.no_valid_rows"), "")
	case errors.Is(err, crowds.ErrNameTooLong):
		return refuse(t(c, "imports.error.name_long", "Max", crowds.CrowdNameMax), "")
	case errors.Is(err, crowds.ErrDescTooLong):
		return refuse(t(c, "imports.error.description_long", "Max", crowds.CrowdDescriptionMax), "")
	case errors.Is(err, db.ErrNotFound):
		return refuse(t(c, "imports.error.crowd_gone"), "")
	case err != nil:
		je, ok := s.auditRefusal(c, entry, "create the crowd for an import", err)
		if !ok {
			return err
		}
		return refuse(state(c).loc.Message(je.Message()), je.RequestID)
	}
	entry.Summary = fmt.Sprintf("started %q (job %d): crowd %q, create missing %t", im.FileName, jobID,
		importTargetName(form.NewName, form.Crowd), form.CreateMissing)
	s.audit(c, entry)
	return s.answerImport(c, im.ID)
}

func importTargetName(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) discardImport(c echo.Context) error {
	im, err := s.editableImport(c, "discard")
	if err != nil {
		return err
	}
	err = s.Crowds.Discard(c.Request().Context(), im.ID)
	if errors.Is(err, crowds.ErrStarted) || errors.Is(err, db.ErrConflict) {
		return redirectWithFlash(c, ui.FlashError, t(c, "imports.error.started"), importsview.Path(im.ID, ""))
	}
	if err != nil {
		return err
	}
	s.audit(c, db.AuditEntry{Action: "import.discard", Object: fmt.Sprintf("import:%d", im.ID), Summary: fmt.Sprintf("discarded %q", im.FileName)})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "imports.discarded", "File", im.FileName), "/imports")
}

// --- progress ---

func (s *Server) showImportProgress(c echo.Context) error {
	im, err := s.targetImport(c)
	if err != nil {
		return err
	}
	if im.Stage == db.ImportUploaded && im.ValidateJobID != 0 {
		j, err := s.Store.Job(c.Request().Context(), im.ValidateJobID)
		if err != nil {
			return err
		}
		if j.Active() {
			v, err := s.validatingView(c, im, j)
			if err != nil {
				return err
			}
			return s.renderFragment(c, http.StatusOK, importsview.ValidatingPanel(v))
		}
		// The validation ended without validating (stopped, or the file
		// could not be read): the step again, saying why.
		c.Response().Header().Set("HX-Retarget", "#import-body")
		c.Response().Header().Set("HX-Reswap", "outerHTML")
		return s.renderImport(c, http.StatusOK, im, nil)
	}
	if im.Stage == db.ImportValidated && isHTMX(c) {
		// Validated: the summary and target step take the page's place.
		c.Response().Header().Set("HX-Retarget", "#import-body")
		c.Response().Header().Set("HX-Reswap", "outerHTML")
		return s.renderImport(c, http.StatusOK, im, nil)
	}
	if im.Stage != db.ImportStarted {
		c.Response().Header().Set("HX-Redirect", importsview.Path(im.ID, ""))
		return c.NoContent(http.StatusNoContent)
	}
	p, err := s.importProgress(c, im)
	if err != nil {
		return err
	}
	if u := currentUser(c); p.Finished && u != nil && u.ID == im.UserID && im.SeenAt == 0 {
		if err := s.Store.MarkImportSeen(c.Request().Context(), im.ID); err != nil {
			return err
		}
	}
	return s.renderFragment(c, http.StatusOK, importsview.Panel(p))
}

// importProgress is the panel of a started import from its rows and its job.
func (s *Server) importProgress(c echo.Context, im db.Import) (importsview.Progress, error) {
	ctx := c.Request().Context()
	p := importsview.Progress{ID: im.ID, Live: true, Total: im.Counts.Valid, Invalid: im.Counts.Invalid,
		Duplicate: im.Counts.Duplicate, CanDownload: roles.Works(currentUser(c).Role), RowsPrunedAt: im.RowsPrunedAt}
	batches, err := s.Store.RecentImportBatches(ctx, im.ID, batchesShown)
	if err != nil {
		return p, err
	}
	for _, b := range batches {
		p.Batches = append(p.Batches, importsview.Batch{At: b.At, Size: b.Size, Success: b.Success, Errors: b.Errors})
	}
	var j db.Job
	if im.JobID != 0 {
		if j, err = s.Store.Job(ctx, im.JobID); err != nil {
			return p, err
		}
		p.JobState, p.Requested, p.Phase = j.State, j.RequestedState, j.Checkpoint
		p.Live = j.Active()
		p.Finished = !p.Live
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
	run, err := s.Crowds.Progress(ctx, im, j)
	if err != nil {
		return p, err
	}
	n := run.States
	p.Imported, p.Already, p.NotFound, p.Failed = n[db.RowImported], n[db.RowAlreadyMember], n[db.RowNotFound], n[db.RowFailed]
	p.Waiting = n[db.RowPending] + n[db.RowUnknown] + n[db.RowResolved]
	p.Processed = p.Imported + p.Already + p.NotFound + p.Failed
	p.Percent, p.SecondsLeft = run.Percent, run.SecondsLeft
	for _, ph := range run.Phases {
		p.Phases = append(p.Phases, importsview.Phase{Name: ph.Name, State: ph.State, Skip: ph.Skip, Done: ph.Done, Total: ph.Total,
			PerMinute: ph.PerMinute, SecondsLeft: ph.SecondsLeft, Took: ph.Took, OneByOne: ph.OneByOne})
	}
	return p, nil
}

// actOnImport pauses, resumes or cancels an import's job, for its owner or
// an administrator (the rules of internal/jobs), and answers with the
// refreshed panel.
func (s *Server) actOnImport(a jobs.Action) echo.HandlerFunc {
	return func(c echo.Context) error {
		im, err := s.targetImport(c)
		if err != nil {
			return err
		}
		if im.JobID == 0 {
			return errImportNotStarted
		}
		entry := db.AuditEntry{Action: "import." + string(a), Object: fmt.Sprintf("import:%d", im.ID)}
		j, notice, err := s.areas.jobs.acts.act(c, a, im.JobID, entry, "import")
		if err != nil {
			return err
		}
		status := http.StatusOK
		if notice != "" {
			status = http.StatusConflict
		} else {
			entry.Summary = fmt.Sprintf("%s the import of %q (job %d)", a, im.FileName, j.ID)
			s.audit(c, entry)
		}
		if !wantsFragment(c) {
			if notice != "" {
				return redirectWithFlash(c, ui.FlashError, notice, importsview.Path(im.ID, ""))
			}
			return c.Redirect(http.StatusSeeOther, importsview.Path(im.ID, ""))
		}
		p, err := s.importProgress(c, im)
		if err != nil {
			return err
		}
		p.Notice = notice
		return s.renderFragment(c, status, importsview.Panel(p))
	}
}

// errImportNotStarted: an import that has no job yet has nothing to pause,
// resume or cancel (its page offers no such button).
var errImportNotStarted = msg.Refuse(msg.Conflict, "imports.error.not_started")

// --- reports ---

// downloadImportRows streams one category of an import's rows as CSV.
func (s *Server) downloadImportRows(c echo.Context) error {
	im, err := s.targetImport(c)
	if err != nil {
		return err
	}
	category := c.QueryParam("category")
	if !crowds.ReportCategory(category) {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	ctx := c.Request().Context()
	labels := reportLabels(c)
	stem := strings.TrimSuffix(im.FileName, fileExt(im.FileName))
	name := t(c, "imports.report_file", "File", stem, "Category", t(c, "imports.cat."+category)) + ".csv"
	ascii := fmt.Sprintf("import-%d-%s.csv", im.ID, category)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, rfc5987(name)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	c.Response().WriteHeader(http.StatusOK)
	if err := s.Crowds.WriteReport(ctx, c.Response(), im.ID, category, labels); err != nil {
		s.log(c).Error("write an import report", "import", im.ID, "category", category, "error", err)
	}
	return nil
}

func fileExt(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[i:]
	}
	return ""
}

// rfc5987 percent-encodes a file name for filename* (RFC 5987 attr-char kept).
func rfc5987(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("!#$&+-.^_`|~", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// reportLabels are a report's words in the user's language.
func reportLabels(c echo.Context) crowds.ReportLabels {
	return crowds.ReportLabels{
		Columns: []string{t(c, "imports.report.line"), t(c, "imports.report.raw"), t(c, "imports.report.value"),
			t(c, "imports.report.name"), "omni_user_uuid", t(c, "imports.report.result"), t(c, "imports.report.reason")},
		State: func(state string) string { return t(c, "imports.state."+state) },
		Reason: func(state, reason string) string {
			switch {
			case reason == "":
				return ""
			case state == db.RowDuplicate:
				return t(c, "imports.reason.duplicate", "Line", reason)
			}
			return importsview.ReasonLabel(c.Request().Context(), reason) // the platform's own words when not a code
		},
	}
}
