package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/sends"
	emailview "github.com/jingdesk/jingdesk/templates/email"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The email (EDM) pages (issue 7): the sender mailboxes and the sends
// with their funnels; the form that writes a draft (the HTML body pasted
// or uploaded as a file) and changes a draft, or a scheduled send on the
// platform until it starts; one send with its HTML shown in a sandboxed
// frame that gets its own strict headers, never in the page itself. The
// lifecycle (confirm, approve, cancel, status, records) is the shared
// sendPanels and the /sends/:id routes.

const (
	// emailBodyMax bounds a posted form: the file, the pasted HTML and
	// the other fields (the two bodies may both be sent; the file wins).
	emailBodyMax = 2*emailview.HTMLMax + 256<<10
	// emailsListed is how many sends the list shows.
	emailsListed = 100
	// emailTimeLayout is a datetime-local input's value.
	emailTimeLayout = "2006-01-02T15:04"
)

// emailPreviewCSP replaces the console's policy on the preview: the
// email's HTML is a sandboxed document (no scripts, no same origin, no
// forms), loads nothing from elsewhere (a remote image is a tracking
// pixel: previewing a draft would tell its sender), honours no <base>,
// keeps its own inline styles, and only the console may frame it.
const emailPreviewCSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// emailPreviewRemoteCSP is the policy for one view whose user asked for
// the remote images (https only): everything else stays as strict.
const emailPreviewRemoteCSP = "sandbox; default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; font-src https: data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// remoteImages reports whether this view asked to load the email's remote
// images (?images=remote): a choice for one look, never remembered.
func remoteImages(c echo.Context) bool { return c.QueryParam("images") == "remote" }

func (s *Server) showEmail(c echo.Context) error {
	if s.Sends == nil {
		return s.showArea("email")(c)
	}
	ctx := c.Request().Context()
	v := emailview.List{CanCreate: mayMove(currentUser(c))}
	mbs, err := s.emailMailboxes(ctx)
	if err != nil {
		s.log(c).Warn("list the email mailboxes", "error", err)
		v.MailboxError = t(c, "email.mailboxes.failed", "Error", platformErrorText(c, err))
	}
	v.Mailboxes = mbs
	list, err := s.Store.ListSends(ctx, db.SendFilter{Channel: sends.EDM, Limit: emailsListed})
	if err != nil {
		return err
	}
	for _, sd := range list {
		v.Sends = append(v.Sends, s.emailRow(ctx, sd))
	}
	return s.render(c, http.StatusOK, View{Title: t(c, "nav.email"), Section: "email", Body: emailview.ListPage(v)})
}

// emailMailboxes are the platform's sender addresses.
func (s *Server) emailMailboxes(ctx context.Context) ([]emailview.Mailbox, error) {
	client, err := s.platformClient()
	if err != nil {
		return nil, err
	}
	mbs, err := client.Mailboxes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]emailview.Mailbox, 0, len(mbs))
	for _, m := range mbs {
		out = append(out, emailview.Mailbox{ID: m.MailboxID, Address: m.Address, SenderName: m.SenderName, Verified: m.Verified})
	}
	return out, nil
}

// emailRow is a send as the list and its page show it: the audience is
// the frozen count once confirmed, before that the crowds' member counts.
func (s *Server) emailRow(ctx context.Context, sd db.Send) emailview.Row {
	r := emailview.Row{ID: sd.ID, Name: sd.Name, Subject: sd.Subject, Sender: sd.Sender, State: sd.State,
		PlatformStatus: sd.PlatformStatus, Audience: sd.AudienceCount, SendTime: sd.SendTime, SubmittedAt: sd.SubmittedAt,
		Counts: emailview.Counts{Sent: max(sd.Counts.Sent, sd.Counts.Total), Delivered: sd.Counts.Delivered,
			Opened: sd.Counts.Opened, Clicked: sd.Counts.Clicked, Bounced: sd.Counts.Bounced}}
	if sd.ConfirmedAt == 0 {
		if n, err := s.Sends.AudienceSize(ctx, sd); err == nil {
			r.Audience = n
		}
	}
	for _, g := range sd.GroupIDs {
		if cr, err := s.Store.Crowd(ctx, g); err == nil {
			r.Crowds = append(r.Crowds, cr.Name)
		} else {
			r.Crowds = append(r.Crowds, "#"+strconv.FormatInt(g, 10))
		}
	}
	return r
}

// --- the form ---

func (s *Server) showNewEmail(c echo.Context) error {
	if s.Sends == nil {
		return s.showArea("email")(c)
	}
	f := emailview.Form{Mode: emailview.ModeNew, When: "now"}
	if err := s.fillEmailChoices(c, &f, nil); err != nil {
		return err
	}
	return s.renderNewEmail(c, http.StatusOK, f)
}

func (s *Server) renderNewEmail(c echo.Context, status int, f emailview.Form) error {
	return s.render(c, status, View{Title: t(c, "email.new_title"), Section: "email", Body: emailview.NewPage(f)})
}

// fillEmailChoices puts the mailboxes and the crowds (from the local
// copy, with their member counts) in the form, checking groups.
func (s *Server) fillEmailChoices(c echo.Context, f *emailview.Form, groups []int64) error {
	ctx := c.Request().Context()
	f.Zone = state(c).loc.Zone().String()
	mbs, err := s.emailMailboxes(ctx)
	if err != nil && f.Error == "" {
		s.log(c).Warn("list the email mailboxes", "error", err)
		f.Error = t(c, "email.mailboxes.failed", "Error", platformErrorText(c, err))
	}
	f.Mailboxes = mbs
	crowds, _, err := s.Store.ListCrowds(ctx, db.CrowdFilter{Limit: 500})
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

// emailRefusal is a form the console refuses: what to say, about which
// field, with which status.
type emailRefusal struct {
	msg, field string
	status     int
}

func (r *emailRefusal) Error() string { return r.msg }

// readEmailForm reads the form as typed: the uploaded file, when one
// came, replaces the pasted HTML (and is put in the box, so a refusal
// keeps it). mode ModeScheduled reads no name nor audience.
func (s *Server) readEmailForm(c echo.Context, mode string) (emailview.Form, sends.Draft, []int64, *emailRefusal) {
	f := emailview.Form{Mode: mode}
	req := c.Request()
	var file *multipart.FileHeader
	if isMultipart(req) {
		req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, emailBodyMax)
		if err := req.ParseMultipartForm(emailBodyMax); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				c.Response().Header().Set("Connection", "close")
				return f, sends.Draft{}, nil, &emailRefusal{t(c, "email.error.too_large", "MB", "2"), "file", http.StatusRequestEntityTooLarge}
			}
			return f, sends.Draft{}, nil, &emailRefusal{t(c, "email.error.bad_form"), "", http.StatusBadRequest}
		}
		if fs := req.MultipartForm.File["html_file"]; len(fs) > 0 && fs[0].Filename != "" {
			file = fs[0]
		}
	} else if err := req.ParseForm(); err != nil {
		return f, sends.Draft{}, nil, &emailRefusal{t(c, "email.error.bad_form"), "", http.StatusBadRequest}
	}
	val := func(k string) string { return strings.TrimSpace(req.Form.Get(k)) }
	f.Name, f.Subject, f.MailboxID, f.When, f.At = val("name"), val("subject"), val("mailbox_id"), val("when"), val("send_at")
	f.HTML = req.Form.Get("html")
	var groups []int64
	for _, g := range req.Form["group_id"] {
		if id, err := strconv.ParseInt(g, 10, 64); err == nil && !slices.Contains(groups, id) {
			groups = append(groups, id)
		}
	}
	if mode == emailview.ModeScheduled {
		f.When = "at"
	}
	var refusal *emailRefusal
	refuse := func(field, id string, data ...any) {
		if refusal == nil {
			refusal = &emailRefusal{t(c, id, data...), field, http.StatusUnprocessableEntity}
		}
	}
	if file != nil {
		html, reason := readHTMLFile(file)
		switch reason {
		case "":
			f.HTML = html
			f.FileNote = t(c, "email.form.file_kept", "File", file.Filename)
		case "too_large":
			refuse("file", "email.error.too_large", "MB", "2")
		default:
			refuse("file", "email.error.file_"+reason, "File", file.Filename)
		}
	}
	d := sends.Draft{Name: f.Name, Subject: f.Subject, MailboxID: f.MailboxID, HTML: f.HTML, GroupIDs: groups}
	if f.When == "at" {
		at, err := time.ParseInLocation(emailTimeLayout, f.At, state(c).loc.Zone())
		if err != nil {
			at, err = time.ParseInLocation(emailTimeLayout+":05", f.At, state(c).loc.Zone())
		}
		if err != nil {
			refuse("when", "email.error.no_time")
		}
		d.SendTime = at.Unix()
	} else {
		f.When = "now"
	}
	switch {
	case mode != emailview.ModeScheduled && f.Name == "":
		refuse("name", "email.error.no_name")
	case f.Subject == "":
		refuse("subject", "email.error.no_subject")
	case f.MailboxID == "":
		refuse("mailbox", "email.error.no_mailbox")
	case strings.TrimSpace(f.HTML) == "":
		refuse("html", "email.error.no_html")
	case len(f.HTML) > emailview.HTMLMax:
		refuse("html", "email.error.too_large", "MB", "2")
	case mode != emailview.ModeScheduled && len(groups) == 0:
		refuse("audience", "email.error.no_audience")
	}
	return f, d, groups, refusal
}

// readHTMLFile reads an uploaded HTML body as UTF-8: UTF-8 as it is (a
// byte order mark dropped); a GBK/GB2312/GB18030 file that says so in its
// charset declaration converted, its declaration then saying UTF-8. Any
// other encoding is refused ("not_utf8"), as is an empty or binary file.
func readHTMLFile(fh *multipart.FileHeader) (string, string) {
	if fh.Size > emailview.HTMLMax {
		return "", "too_large"
	}
	f, err := fh.Open()
	if err != nil {
		return "", "unreadable"
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, emailview.HTMLMax+1))
	switch {
	case err != nil:
		return "", "unreadable"
	case len(b) > emailview.HTMLMax:
		return "", "too_large"
	}
	return decodeHTML(b)
}

var htmlCharset = regexp.MustCompile(`(?i)<meta[^>]*charset\s*=\s*["']?\s*([a-z0-9_.:-]+)`)

// decodeHTML is readHTMLFile's decoding, on the bytes.
func decodeHTML(b []byte) (string, string) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(b)) == 0 {
		return "", "empty"
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return "", "binary"
	}
	if utf8.Valid(b) {
		return string(b), ""
	}
	head := b[:min(len(b), 4096)]
	m := htmlCharset.FindSubmatchIndex(head)
	if m == nil {
		return "", "not_utf8"
	}
	switch strings.ToLower(string(head[m[2]:m[3]])) {
	case "gbk", "gb2312", "gb18030", "x-gbk", "cp936", "windows-936":
	default:
		return "", "not_utf8"
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil || !utf8.Valid(out) {
		return "", "not_utf8"
	}
	// The declaration is ASCII, so it sits at the same offsets after decoding.
	if loc := htmlCharset.FindSubmatchIndex(out[:min(len(out), 8192)]); loc != nil {
		out = append(append(append([]byte{}, out[:loc[2]]...), "utf-8"...), out[loc[3]:]...)
	}
	return string(out), ""
}

// emailError turns what the service or the platform refused into what
// the form says (nil: not a refusal; the caller returns err).
func (s *Server) emailError(c echo.Context, err error) *emailRefusal {
	r := func(field, id string, status int) *emailRefusal { return &emailRefusal{t(c, id), field, status} }
	switch {
	case errors.Is(err, sends.ErrNoName):
		return r("name", "email.error.no_name", http.StatusUnprocessableEntity)
	case errors.Is(err, sends.ErrNoMailbox):
		return r("mailbox", "email.error.mailbox_unverified", http.StatusUnprocessableEntity)
	case errors.Is(err, sends.ErrNoSubject):
		return r("subject", "email.error.no_subject", http.StatusUnprocessableEntity)
	case errors.Is(err, sends.ErrNoAudience), errors.Is(err, sends.ErrBothAudiences):
		return r("audience", "email.error.no_audience", http.StatusUnprocessableEntity)
	case errors.Is(err, db.ErrNotFound):
		return r("audience", "email.error.crowd_gone", http.StatusUnprocessableEntity)
	case errors.Is(err, sends.ErrPastTime):
		return r("when", "email.error.past_time", http.StatusUnprocessableEntity)
	case errors.Is(err, sends.ErrNotDraft):
		return r("", "email.error.not_draft", http.StatusConflict)
	case errors.Is(err, sends.ErrStarted):
		return r("", "email.error.started", http.StatusConflict)
	case errors.Is(err, sends.ErrNotAllowed):
		return r("", "email.error.not_allowed", http.StatusForbidden)
	case errors.Is(err, errNoPlatform):
		return r("", "email.error.no_platform", http.StatusServiceUnavailable)
	}
	if je, ok := jing.AsError(err); ok {
		msg := state(c).loc.Message(je.Message())
		if je.RequestID != "" {
			msg = t(c, "email.error.platform", "Message", msg, "Ref", je.RequestID)
		}
		return &emailRefusal{msg, "", http.StatusBadGateway}
	}
	return nil
}

func (s *Server) createEmail(c echo.Context) error {
	if s.Sends == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	f, d, groups, bad := s.readEmailForm(c, emailview.ModeNew)
	if bad == nil {
		id, err := s.Sends.CreateDraft(c.Request().Context(), currentUser(c).ID, sends.EDM, d)
		if err == nil {
			return redirectWithFlash(c, ui.FlashSuccess, t(c, "email.created_flash", "Name", f.Name), emailview.SendPath(id))
		}
		if bad = s.emailError(c, err); bad == nil {
			return err
		}
	}
	f.Error, f.Field = bad.msg, bad.field
	if err := s.fillEmailChoices(c, &f, groups); err != nil {
		return err
	}
	return s.renderNewEmail(c, bad.status, f)
}

// emailSend is the send the path names; only an email send.
func (s *Server) emailSend(c echo.Context) (db.Send, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || s.Sends == nil {
		return db.Send{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	sd, err := s.Store.Send(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) || (err == nil && sd.Channel != sends.EDM) {
		return db.Send{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return sd, err
}

// emailMode is how the send can still change: as a draft, as a scheduled
// send on the platform, or not at all ("").
func emailMode(sd db.Send) string {
	switch {
	case sd.State == db.SendDraft:
		return emailview.ModeDraft
	case sd.State == db.SendSubmitted && sd.PlatformStatus == "scheduled":
		return emailview.ModeScheduled
	}
	return ""
}

// emailFormOf is the change form filled from the send as stored.
func (s *Server) emailFormOf(c echo.Context, sd db.Send, mode string) (emailview.Form, error) {
	f := emailview.Form{Mode: mode, ID: sd.ID, Name: sd.Name, Subject: sd.Subject, MailboxID: sd.MailboxID, HTML: sd.Content, When: "now"}
	if sd.SendTime > 0 {
		f.When, f.At = "at", time.Unix(sd.SendTime, 0).In(state(c).loc.Zone()).Format(emailTimeLayout)
	}
	return f, s.fillEmailChoices(c, &f, sd.GroupIDs)
}

func (s *Server) showEmailSend(c echo.Context) error {
	if s.Sends == nil {
		return s.showArea("email")(c)
	}
	sd, err := s.emailSend(c)
	if err != nil {
		return err
	}
	var form *emailview.Form
	if mode := emailMode(sd); mode != "" && mayMove(currentUser(c)) {
		f, err := s.emailFormOf(c, sd, mode)
		if err != nil {
			return err
		}
		form = &f
	}
	return s.renderEmailSend(c, http.StatusOK, sd, form)
}

func (s *Server) renderEmailSend(c echo.Context, status int, sd db.Send, form *emailview.Form) error {
	panels, err := s.sendPanels(c, sd)
	if err != nil {
		return err
	}
	v := emailview.Send{Row: s.emailRow(c.Request().Context(), sd), MailboxID: sd.MailboxID, Form: form,
		CanCancel: emailMode(sd) == emailview.ModeScheduled && mayMove(currentUser(c)),
		HasHTML:   strings.TrimSpace(sd.Content) != "", HTMLBytes: len(sd.Content), RemoteImages: remoteImages(c)}
	return s.render(c, status, View{Title: sd.Name, Section: "email", Body: emailview.SendPage(v, panels)})
}

// updateEmail changes a draft, or a scheduled send on the platform (its
// subject, sender, body and time; the audience stays as confirmed).
func (s *Server) updateEmail(c echo.Context) error {
	sd, err := s.emailSend(c)
	if err != nil {
		return err
	}
	mode := emailMode(sd)
	if mode == "" {
		s.audit(c, db.AuditEntry{Action: "send.update", Object: fmt.Sprintf("send:%d", sd.ID), Outcome: db.OutcomeDenied,
			Summary: "refused: the email is " + sd.State + " and can no longer change"})
		addFlash(c, ui.FlashError, t(c, "email.error.started"))
		return s.renderEmailSend(c, http.StatusConflict, sd, nil)
	}
	f, d, groups, bad := s.readEmailForm(c, mode)
	f.ID = sd.ID
	if mode == emailview.ModeScheduled {
		f.Name, groups = sd.Name, sd.GroupIDs
	}
	if bad == nil {
		ctx := c.Request().Context()
		flash := "email.saved_flash"
		if mode == emailview.ModeDraft {
			err = s.Sends.UpdateDraft(ctx, sd.ID, d)
		} else {
			_, err = s.Sends.UpdateScheduled(ctx, sd.ID, currentUser(c), d)
			flash = "email.updated_flash"
		}
		if err == nil {
			return redirectWithFlash(c, ui.FlashSuccess, t(c, flash), emailview.SendPath(sd.ID))
		}
		if bad = s.emailError(c, err); bad == nil {
			return err
		}
		// The send may have moved on meanwhile: show it as it is now.
		if now, err := s.Store.Send(ctx, sd.ID); err == nil {
			sd = now
		}
	}
	f.Error, f.Field, f.Open = bad.msg, bad.field, true
	if err := s.fillEmailChoices(c, &f, groups); err != nil {
		return err
	}
	return s.renderEmailSend(c, bad.status, sd, &f)
}

// previewEmail serves the stored HTML for the send page's sandboxed
// frame, under its own headers: the console's policy and DENY framing
// are replaced by the preview's (a sandboxed document that runs no
// script and only the console may frame), and nothing is cached.
func (s *Server) previewEmail(c echo.Context) error {
	sd, err := s.emailSend(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	csp := emailPreviewCSP
	if remoteImages(c) {
		csp = emailPreviewRemoteCSP
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
	return c.Blob(http.StatusOK, "text/html; charset=utf-8", []byte(sd.Content))
}
