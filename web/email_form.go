package web

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/sends"
	emailview "github.com/jingdesk/jingdesk/templates/email"
)

// The email form: read as typed (the HTML body pasted, or uploaded as a
// file that wins), refused in place with everything kept.

const (
	// emailBodyMax bounds a posted form: the file, the pasted HTML and
	// the other fields (the two bodies may both be sent; the file wins).
	emailBodyMax = 2*sends.HTMLMax + 256<<10
	// emailTimeLayout is a datetime-local input's value.
	emailTimeLayout = "2006-01-02T15:04"
)

// readEmailForm reads the form as typed: the uploaded file, when one
// came, replaces the pasted HTML (and is put in the box, so a refusal
// keeps it). mode ModeScheduled reads no name nor audience. err is what
// parsing refuses (a body over the limit, a file that is not HTML text, a
// time that is not one); the draft itself is the service's to check.
func readEmailForm(c echo.Context, mode string) (emailview.Form, sends.Draft, []int64, error) {
	f := emailview.Form{Mode: mode}
	file, err := parseEmailBody(c)
	if err != nil {
		return f, sends.Draft{}, nil, err
	}
	form := c.Request().Form
	val := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	f.Name, f.Subject, f.MailboxID, f.When, f.At = val("name"), val("subject"), val("mailbox_id"), val("when"), val("send_at")
	f.HTML = form.Get("html")
	var groups []int64
	for _, g := range form["group_id"] {
		if id, err := strconv.ParseInt(g, 10, 64); err == nil && !slices.Contains(groups, id) {
			groups = append(groups, id)
		}
	}
	if file != nil {
		html, err := sends.ReadHTML(file.Filename, func() (io.ReadCloser, error) { return file.Open() })
		if err != nil {
			return f, sends.Draft{}, groups, err
		}
		f.HTML, f.FileNote = html, t(c, "email.form.file_kept", "File", file.Filename)
	}
	d := sends.Draft{Name: f.Name, Subject: f.Subject, MailboxID: f.MailboxID, HTML: f.HTML, GroupIDs: groups}
	if mode == emailview.ModeScheduled {
		f.When = "at"
	}
	if f.When != "at" {
		f.When = "now"
		return f, d, groups, nil
	}
	at, err := time.ParseInLocation(emailTimeLayout, f.At, state(c).loc.Zone())
	if err != nil {
		at, err = time.ParseInLocation(emailTimeLayout+":05", f.At, state(c).loc.Zone())
	}
	if err != nil {
		return f, d, groups, sends.ErrNoTime
	}
	d.SendTime = at.Unix()
	return f, d, groups, nil
}

// parseEmailBody parses the posted form, bounded by emailBodyMax, and
// returns the uploaded HTML file if one came. A body over the limit is
// the service's refusal of a too large file (the connection then closes:
// the rest of the upload is not read); one that cannot be parsed is a
// bad request.
func parseEmailBody(c echo.Context) (*multipart.FileHeader, error) {
	req := c.Request()
	if !isMultipart(req) {
		if err := req.ParseForm(); err != nil {
			return nil, echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
		}
		return nil, nil
	}
	req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, emailBodyMax)
	if err := req.ParseMultipartForm(emailBodyMax); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.Response().Header().Set("Connection", "close")
			return nil, sends.ErrFileTooLarge.Because(err)
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	if fs := req.MultipartForm.File["html_file"]; len(fs) > 0 && fs[0].Filename != "" {
		return fs[0], nil
	}
	return nil, nil
}

// refuseEmailForm puts a refusal in the form and returns the status to
// answer with (413 for a body over the limit); ok is false for an error
// that is not a refusal (the caller returns it).
func refuseEmailForm(c echo.Context, f *emailview.Form, err error) (status int, ok bool) {
	r, ok := refusalInForm(c, err)
	f.Error, f.Field = r.Text, r.Field
	if tooBig := new(http.MaxBytesError); errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge, ok
	}
	return r.Status, ok
}

// fillEmailChoices puts the mailboxes and the crowds (from the local
// copy, with their member counts) in the form, checking groups.
func (a *sendsArea) fillEmailChoices(c echo.Context, f *emailview.Form, groups []int64) error {
	f.Zone = state(c).loc.Zone().String()
	mbs, failed := a.emailMailboxes(c)
	if failed != "" && f.Error == "" {
		f.Error = failed
	}
	f.Mailboxes = mbs
	crowds, _, err := a.ledger.ListCrowds(c.Request().Context(), db.CrowdFilter{Limit: 500})
	if err != nil {
		return err
	}
	f.Crowds = f.Crowds[:0]
	for _, cr := range crowds {
		f.Crowds = append(f.Crowds, emailview.Crowd{ID: cr.GroupID, Name: cr.Name, Members: cr.UserCount, Checked: slices.Contains(groups, cr.GroupID)})
	}
	// A crowd the send names but the local copy no longer has still shows.
	for _, g := range groups {
		if !slices.ContainsFunc(f.Crowds, func(cr emailview.Crowd) bool { return cr.ID == g }) {
			f.Crowds = append(f.Crowds, emailview.Crowd{ID: g, Name: "#" + strconv.FormatInt(g, 10), Checked: true})
		}
	}
	return nil
}
