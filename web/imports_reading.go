package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/importfile"
	importsview "github.com/jingdesk/jingdesk/templates/imports"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The import wizard's second step: how the file is read (encoding,
// delimiter, sheet, header row), its first rows as read, a role per
// column, and the validation of the whole file (within the request, or by
// a job whose progress the step shows).

// decodeView fills the decode and mapping step from the preview kept with
// the import (the file is not opened to show it).
func (a *importsArea) decodeView(c echo.Context, im db.Import, v *importsview.Wizard, e *wizardEdits) error {
	ctx := c.Request().Context()
	_, p, err := a.imports.ImportPreview(ctx, im.ID)
	if err != nil {
		return err
	}
	v.IsXLSX = p.Options.Format == importfile.FormatXLSX
	for _, enc := range importfile.Encodings {
		label := detected(c, importsview.EncodingLabel(ctx, enc), enc == p.Detected.Encoding)
		v.Encodings = append(v.Encodings, importsview.Option{Value: enc, Label: label, Selected: enc == p.Options.Encoding})
	}
	for _, d := range importfile.Delimiters {
		label := detected(c, importsview.DelimiterLabel(ctx, string(d)), d == p.Detected.Delimiter)
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
		v.ReadError = state(c).loc.Message(p.Err.Message())
	}
	v.HeaderRow = p.HeaderRow
	for _, r := range p.HeaderChoices() {
		label := detected(c, importsview.RowCells(ctx, previewRow(r)), r.Row == p.Proposed)
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
		mapping = e.mapping // a refused validation shows the roles as chosen
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
	return a.validationView(c, im, v)
}

// detected marks the label of the value detection found.
func detected(c echo.Context, label string, found bool) string {
	if found {
		return t(c, "imports.detected", "What", label)
	}
	return label
}

// validationView shows a validation job under way, or how the last one
// ended when it did not validate.
func (a *importsArea) validationView(c echo.Context, im db.Import, v *importsview.Wizard) error {
	val, err := a.imports.Validation(c.Request().Context(), im)
	if err != nil {
		return err
	}
	if val.Job.Active() {
		vv := a.validatingView(c, im, val)
		v.Validating = &vv
	}
	v.Notice = state(c).loc.Message(val.Ended)
	return nil
}

// validatingView is a validation job's progress: rows read, and the share
// of the file read (its rate gives the time left).
func (a *importsArea) validatingView(c echo.Context, im db.Import, val crowds.Validation) importsview.Validating {
	j := val.Job
	v := importsview.Validating{ID: im.ID, Row: val.Row, CanCancel: crowds.MayChange(jobActor(c), im)}
	if j.Total > 0 {
		v.Percent = min(100, j.Done*100/j.Total)
	}
	if j.State == db.JobRunning {
		now := a.now().Unix()
		_, v.SecondsLeft = pace(j, now)
		if elapsed := now - j.RunStartedAt; elapsed > 0 && val.Row > 0 {
			v.PerMinute = val.Row * 60 / elapsed
		}
	}
	return v
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

// setImportReading changes how the file is read (encoding, delimiter,
// sheet, header row), or goes back from the summary to the mapping, and
// shows the step. The mapping in the form is kept when the columns stay
// the same.
func (a *importsArea) setImportReading(c echo.Context) error {
	im, err := a.editableImport(c, "reading")
	if err != nil {
		return err
	}
	headerRow, _ := strconv.Atoi(c.FormValue("header_row"))
	choice := crowds.ReadingChoice{Encoding: c.FormValue("encoding"), Delimiter: c.FormValue("delimiter"),
		Sheet: c.FormValue("sheet"), HeaderRow: headerRow}
	_, err = a.imports.ChooseReading(c.Request().Context(), im.ID, choice, formMapping(c, len(im.Mapping)))
	switch text, shown := userMessage(c, err); {
	case errors.Is(err, crowds.ErrStarted):
		return answerImport(c, im.ID)
	case shown: // a sheet that is not in the workbook: the step as it was
		return a.renderImport(c, http.StatusUnprocessableEntity, im, &wizardEdits{mapError: text})
	case err != nil:
		return err
	}
	if !wantsFragment(c) {
		return answerImport(c, im.ID)
	}
	if im, err = a.store.Import(c.Request().Context(), im.ID); err != nil {
		return err
	}
	return a.renderImport(c, http.StatusOK, im, &wizardEdits{identity: c.FormValue("identity")})
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
		if vals, ok := form["col_"+strconv.Itoa(i)]; ok && len(vals) > 0 {
			found, out[i] = true, vals[0]
		}
	}
	if !found {
		return nil
	}
	return out
}

// validateImport checks the whole file with the chosen mapping: at once
// for a small file, by a job for a large one (the page then shows its
// progress). A refusal shows the step with the roles as chosen.
func (a *importsArea) validateImport(c echo.Context) error {
	im, err := a.editableImport(c, "validate")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	mapping := formMapping(c, len(im.Mapping))
	res, err := a.imports.Validate(ctx, im.ID, currentUser(c).ID, mapping, c.FormValue("identity"))
	switch text, shown := userMessage(c, err); {
	case errors.Is(err, crowds.ErrStarted):
		return answerImport(c, im.ID)
	case shown:
		edits := &wizardEdits{mapping: mapping, identity: c.FormValue("identity"), mapError: text}
		if now, err := a.store.Import(ctx, im.ID); err == nil {
			im = now // a file that could not be read this way: the step as it now is
		}
		return a.renderImport(c, http.StatusUnprocessableEntity, im, edits)
	case err != nil:
		return err
	}
	entry := db.AuditEntry{Action: "import.validate", Object: importObject(im.ID)}
	if res.JobID != 0 {
		entry.Summary = summary("import_validating", msg.Str("File", im.FileName), msg.Str("Identity", res.Identity), msg.Int("Job", res.JobID)).Encode()
	} else {
		n := res.Counts
		entry.Summary = summary("import_validated", msg.Str("File", im.FileName), msg.Str("Identity", res.Identity),
			msg.Int("Title", int64(n.Title)), msg.Int("Total", int64(n.Total)), msg.Int("Valid", int64(n.Valid)),
			msg.Int("Invalid", int64(n.Invalid)), msg.Int("Duplicate", int64(n.Duplicate)), msg.Int("Empty", int64(n.Empty))).Encode()
	}
	a.audit(c, entry)
	return answerImport(c, im.ID)
}

// cancelImportValidation stops a validation job under way.
func (a *importsArea) cancelImportValidation(c echo.Context) error {
	im, err := a.editableImport(c, "validate")
	if err != nil {
		return err
	}
	stopped, err := a.imports.CancelValidation(c.Request().Context(), im.ID)
	if err != nil {
		return err
	}
	if stopped {
		a.audit(c, db.AuditEntry{Action: "import.validate", Object: importObject(im.ID),
			Summary: summary("import_validate_stopped", msg.Str("File", im.FileName)).Encode()})
	}
	return answerImport(c, im.ID)
}
