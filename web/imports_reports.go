package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	importsview "github.com/jingdesk/jingdesk/templates/imports"
)

// An import's reports: one category of its rows (rejected, imported, not
// found, …) as a CSV in the reader's language, streamed from the store.

// downloadImportRows streams one category of an import's rows as CSV.
func (a *importsArea) downloadImportRows(c echo.Context) error {
	im, err := a.targetImport(c)
	if err != nil {
		return err
	}
	category := c.QueryParam("category")
	if !crowds.ReportCategory(category) {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	stem := strings.TrimSuffix(im.FileName, fileExt(im.FileName))
	name := t(c, "imports.report_file", "File", stem, "Category", t(c, "imports.cat."+category)) + ".csv"
	ascii := fmt.Sprintf("import-%d-%s.csv", im.ID, category)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, rfc5987(name)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	c.Response().WriteHeader(http.StatusOK)
	if err := a.imports.WriteReport(c.Request().Context(), c.Response(), im.ID, category, reportLabels(c)); err != nil {
		// The status is sent: the download ends short, and the log says why.
		a.log(c).Error("write an import report", "import", im.ID, "category", category, "error", err)
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
