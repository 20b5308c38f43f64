package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	importsview "github.com/jingdesk/jingdesk/templates/imports"
)

// The import wizard's first step: the upload form, and the file streamed
// into the crowds service, which stores it, reads its first rows and
// refuses a file it cannot import.

// uploadSlack is what a multipart body may carry beyond the file (the
// token field, part headers, boundaries) before it is refused unread.
const uploadSlack = 64 << 10

func (a *importsArea) showNewImport(c echo.Context) error {
	return a.renderUpload(c, http.StatusOK, "")
}

func (a *importsArea) renderUpload(c echo.Context, status int, problem string) error {
	ctx := c.Request().Context()
	v := importsview.Upload{MaxSize: importsview.FileSize(ctx, a.imports.MaxUpload()), Error: problem}
	return a.render(c, status, View{Title: t(c, "imports.new_title"), Section: "imports", Body: importsview.UploadPage(v)})
}

// uploadImport streams the file part of a multipart body into the service;
// a body larger than the limit is refused before any of it is read.
func (a *importsArea) uploadImport(c echo.Context) error {
	if err := a.imports.CheckUploadSize(c.Request().ContentLength - uploadSlack); err != nil {
		return a.refuseUpload(c, fmt.Sprintf("%d bytes", c.Request().ContentLength), err)
	}
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return a.renderUpload(c, http.StatusBadRequest, t(c, "imports.error.no_file"))
	}
	for {
		part, err := mr.NextPart()
		if err != nil { // the end of the body (io.EOF) or a broken one: no file in it
			return a.renderUpload(c, http.StatusBadRequest, t(c, "imports.error.no_file"))
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		name := part.FileName()
		if name == "" {
			return a.renderUpload(c, http.StatusBadRequest, t(c, "imports.error.no_file"))
		}
		id, err := a.imports.Upload(c.Request().Context(), currentUser(c).ID, name, part)
		if err != nil && id == 0 {
			return a.refuseUpload(c, fmt.Sprintf("%q", name), err)
		}
		// id != 0 with an error: stored, but reading it failed; the decode step says why.
		a.audit(c, db.AuditEntry{Action: "import.upload", Object: importObject(id), Summary: summary("import_upload", msg.Str("File", name)).Encode()})
		return answerImport(c, id)
	}
}

// refuseUpload audits a refused upload of what and shows the form again
// with why: a file over the limit is a 413 (and the connection is closed
// rather than the rest of the body read), a file that cannot be imported
// a 400; any other error is returned.
func (a *importsArea) refuseUpload(c echo.Context, what string, err error) error {
	text, ok := userMessage(c, err)
	if !ok {
		return err
	}
	entry := db.AuditEntry{Action: "import.upload", Outcome: db.OutcomeFailed,
		Summary: summary("import_upload_refused", msg.Str("What", what), msg.Nested("Error", msg.FromError(err))).Encode()}
	if errors.Is(err, crowds.ErrTooLarge) {
		entry.Summary = summary("import_upload_too_large", msg.Str("What", what), msg.Int("Limit", a.imports.MaxUpload())).Encode()
		a.audit(c, entry)
		c.Response().Header().Set("Connection", "close")
		return a.renderUpload(c, http.StatusRequestEntityTooLarge, text)
	}
	a.audit(c, entry)
	return a.renderUpload(c, http.StatusBadRequest, text)
}
