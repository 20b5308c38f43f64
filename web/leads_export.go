package web

import (
	"bytes"
	"context"
	"fmt"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leadexport"
	"github.com/jingdesk/jingdesk/internal/sheet"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The leads list's export (internal/leadexport): exactly what the list's
// filter shows, masked as the list masks it. The export form posts to
// /leads/export with the list's query in its address; a small export is
// the answer itself, a large one a job whose page offers the file.

// leadExports is what the list's export calls.
type leadExports interface {
	Begin(ctx context.Context, u *db.User, req leadexport.Request) (leadexport.Plan, error)
	Write(ctx context.Context, w io.Writer, req leadexport.Request, done func(rows int)) error
	File(ctx context.Context, u *db.User, id int64) (leadexport.Download, error)
	Now() time.Time
}

func (a *leadsArea) exportLeads(c echo.Context) error {
	r, ok := a.pipelines()
	if !ok {
		return leadexport.ErrNoReference
	}
	loc := state(c).loc
	f := listFilter(c, r)
	req := leadexport.Request{Filter: listStoreFilter(f, loc.Zone()), Format: sheet.Format(c.FormValue("format")), Lang: loc.Lang,
		Query: leadsview.ListURL(leadsview.ListFilter{Filter: f.Filter, Status: f.Status, Sort: f.Sort})}
	plan, err := a.exports.Begin(c.Request().Context(), currentUser(c), req)
	if err != nil {
		return err
	}
	entry := db.AuditEntry{Action: "leads.export", Object: "leads", Outcome: db.OutcomeOK,
		Summary: exportSummary("leads_export", plan.Rows, req.Query, string(req.Format), plan.Masked)}
	if plan.JobID != 0 {
		entry.Object = "job:" + strconv.FormatInt(plan.JobID, 10)
		entry.Summary = exportSummary("leads_export_job", plan.Rows, req.Query, string(req.Format), plan.Masked)
		a.audit(c, entry)
		addFlash(c, "success", t(c, "leadexport.flash.job", "Count", plan.Rows))
		return c.Redirect(http.StatusSeeOther, "/jobs/"+strconv.FormatInt(plan.JobID, 10))
	}
	a.audit(c, entry)
	return a.streamExport(c, plan.Request)
}

// exportSummary is an export's audit summary (id, or id_masked when the
// file's contact data is masked).
func exportSummary(id string, rows int, query, format string, masked bool) string {
	if masked {
		id += "_masked"
	}
	return summary(id, msg.Int("Count", int64(rows)), msg.Str("Filter", query), msg.Str("Format", format)).Encode()
}

// streamExport writes a small export as the answer: CSV as it is read, a
// workbook once complete (its rows wait in a temporary file), so a
// failure before the first byte is still an error page.
func (a *leadsArea) streamExport(c echo.Context, req leadexport.Request) error {
	attach := func() {
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, req.Format.ContentType())
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+leadexport.FileName(req.Format, a.exports.Now().In(state(c).loc.Zone()))+`"`)
		h.Set("Cache-Control", "no-store")
		c.Response().WriteHeader(http.StatusOK)
	}
	var out io.Writer = c.Response()
	var book *bytes.Buffer
	if req.Format == sheet.XLSX {
		book = &bytes.Buffer{}
		out = book
	} else {
		attach()
	}
	err := a.exports.Write(c.Request().Context(), out, req, nil)
	if err == nil && book != nil {
		attach()
		_, err = book.WriteTo(c.Response())
	}
	if err != nil {
		a.log(c).Error("export leads", "format", req.Format, "error", err)
		if !c.Response().Committed {
			return err
		}
	}
	return nil
}

// downloadExport serves a large export's file to its owner (or an admin).
func (a *leadsArea) downloadExport(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	d, err := a.exports.File(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set(echo.HeaderContentType, d.Format.ContentType())
	return c.Attachment(d.Path, d.Name)
}

// exportDownload is the job page's link to a finished export's file.
func exportDownload(s *leadexport.Service) func(u *db.User, j db.Job) string {
	return func(u *db.User, j db.Job) string {
		if s == nil || !s.Ready(u, j) {
			return ""
		}
		return fmt.Sprintf("/leads/exports/%d/file", j.ID)
	}
}
