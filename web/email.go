package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/sends"
	emailview "github.com/jingdesk/jingdesk/templates/email"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The email (EDM) pages (issue 7): the sender mailboxes and the sends
// with their funnels; the form that writes a draft (the HTML body pasted
// or uploaded as a file, email_form.go) and changes a draft, or a
// scheduled send on the platform until it starts; one send with its HTML
// shown in a sandboxed frame that gets its own strict headers, never in
// the page itself. The lifecycle (confirm, approve, cancel, status,
// records) is the shared sendPanels and the /sends/:id routes.

// emailsListed is how many sends the list shows.
const emailsListed = 100

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

func (a *sendsArea) showEmail(c echo.Context) error {
	v := emailview.List{CanCreate: maySend(c)}
	v.Mailboxes, v.MailboxError = a.emailMailboxes(c)
	list, err := a.ledger.ListSends(c.Request().Context(), db.SendFilter{Channel: sends.EDM, Limit: emailsListed})
	if err != nil {
		return err
	}
	for _, sd := range list {
		v.Sends = append(v.Sends, a.emailRow(c, sd))
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "nav.email"), Section: "email", Body: emailview.ListPage(v)})
}

// emailMailboxes are the platform's sender addresses, or why they could
// not be listed.
func (a *sendsArea) emailMailboxes(c echo.Context) ([]emailview.Mailbox, string) {
	mbs, err := a.sends.Mailboxes(c.Request().Context())
	if err != nil {
		a.log(c).Warn("list the email mailboxes", "error", err)
		why, ok := userMessage(c, err)
		if !ok {
			why = platformErrorText(c, err)
		}
		return nil, t(c, "email.mailboxes.failed", "Error", why)
	}
	out := make([]emailview.Mailbox, 0, len(mbs))
	for _, m := range mbs {
		out = append(out, emailview.Mailbox{ID: m.MailboxID, Address: m.Address, SenderName: m.SenderName, Verified: m.Verified})
	}
	return out, ""
}

// emailRow is a send as the list and its page show it.
func (a *sendsArea) emailRow(c echo.Context, sd db.Send) emailview.Row {
	ctx := c.Request().Context()
	r := emailview.Row{ID: sd.ID, Name: sd.Name, Subject: sd.Subject, Sender: sd.Sender, State: sd.State,
		PlatformStatus: sd.PlatformStatus, Audience: a.sends.Audience(ctx, sd), SendTime: sd.SendTime, SubmittedAt: sd.SubmittedAt,
		Counts: emailview.Counts{Sent: max(sd.Counts.Sent, sd.Counts.Total), Delivered: sd.Counts.Delivered,
			Opened: sd.Counts.Opened, Clicked: sd.Counts.Clicked, Bounced: sd.Counts.Bounced}}
	for _, cr := range a.sendCrowds(ctx, sd.GroupIDs) {
		r.Crowds = append(r.Crowds, cr.Name)
	}
	return r
}

// --- the form ---

func (a *sendsArea) showNewEmail(c echo.Context) error {
	f := emailview.Form{Mode: emailview.ModeNew, When: "now"}
	if err := a.fillEmailChoices(c, &f, nil); err != nil {
		return err
	}
	return a.renderNewEmail(c, http.StatusOK, f)
}

func (a *sendsArea) renderNewEmail(c echo.Context, status int, f emailview.Form) error {
	return a.render(c, status, View{Title: t(c, "email.new_title"), Section: "email", Body: emailview.NewPage(f)})
}

func (a *sendsArea) createEmail(c echo.Context) error {
	f, d, groups, err := readEmailForm(c, emailview.ModeNew)
	if err == nil {
		var id int64
		if id, err = a.sends.CreateDraft(c.Request().Context(), currentUser(c).ID, sends.EDM, d); err == nil {
			return redirectWithFlash(c, ui.FlashSuccess, t(c, "email.created_flash", "Name", f.Name), emailview.SendPath(id))
		}
	}
	status, ok := refuseEmailForm(c, &f, err)
	if !ok {
		return err
	}
	if err := a.fillEmailChoices(c, &f, groups); err != nil {
		return err
	}
	return a.renderNewEmail(c, status, f)
}

// emailMode is the form a send can still be changed with (internal/sends
// says how it can change), or "".
func emailMode(sd db.Send) string {
	switch sends.Changeable(sd) {
	case sends.AsDraft:
		return emailview.ModeDraft
	case sends.AsScheduled:
		return emailview.ModeScheduled
	}
	return ""
}

// emailFormOf is the change form filled from the send as stored.
func (a *sendsArea) emailFormOf(c echo.Context, sd db.Send, mode string) (emailview.Form, error) {
	f := emailview.Form{Mode: mode, ID: sd.ID, Name: sd.Name, Subject: sd.Subject, MailboxID: sd.MailboxID, HTML: sd.Content, When: "now"}
	if sd.SendTime > 0 {
		f.When, f.At = "at", time.Unix(sd.SendTime, 0).In(state(c).loc.Zone()).Format(emailTimeLayout)
	}
	return f, a.fillEmailChoices(c, &f, sd.GroupIDs)
}

func (a *sendsArea) showEmailSend(c echo.Context) error {
	sd, err := a.targetSend(c, sends.EDM)
	if err != nil {
		return err
	}
	var form *emailview.Form
	if mode := emailMode(sd); mode != "" && maySend(c) {
		f, err := a.emailFormOf(c, sd, mode)
		if err != nil {
			return err
		}
		form = &f
	}
	return a.renderEmailSend(c, http.StatusOK, sd, form)
}

func (a *sendsArea) renderEmailSend(c echo.Context, status int, sd db.Send, form *emailview.Form) error {
	panels, err := a.sendPanels(c, sd)
	if err != nil {
		return err
	}
	v := emailview.Send{Row: a.emailRow(c, sd), MailboxID: sd.MailboxID, Form: form,
		CanCancel: emailMode(sd) == emailview.ModeScheduled && maySend(c),
		HasHTML:   strings.TrimSpace(sd.Content) != "", HTMLBytes: len(sd.Content), RemoteImages: remoteImages(c)}
	return a.render(c, status, View{Title: sd.Name, Section: "email", Body: emailview.SendPage(v, panels)})
}

// updateEmail changes a draft, or a scheduled send on the platform (its
// subject, sender, body and time; the audience stays as confirmed). A
// send that can no longer change (the service audits the refusal) shows
// as it now is, without the form.
func (a *sendsArea) updateEmail(c echo.Context) error {
	sd, err := a.targetSend(c, sends.EDM)
	if err != nil {
		return err
	}
	mode := emailMode(sd)
	f, d, groups, err := readEmailForm(c, mode)
	f.ID = sd.ID
	if mode == emailview.ModeScheduled {
		f.Name, groups = sd.Name, sd.GroupIDs
	}
	ctx := c.Request().Context()
	if err == nil || mode == "" {
		if _, err = a.sends.Change(ctx, sd.ID, currentUser(c), d); err == nil {
			flash := map[string]string{emailview.ModeDraft: "email.saved_flash", emailview.ModeScheduled: "email.updated_flash"}[mode]
			return redirectWithFlash(c, ui.FlashSuccess, t(c, flash), emailview.SendPath(sd.ID))
		}
		// The send may have moved on meanwhile: show it as it is now.
		if now, lerr := a.ledger.Send(ctx, sd.ID); lerr == nil {
			sd = now
		}
	}
	if errors.Is(err, sends.ErrStarted) || errors.Is(err, sends.ErrNotDraft) {
		text, _ := userMessage(c, err)
		addFlash(c, ui.FlashError, text)
		return a.renderEmailSend(c, http.StatusConflict, sd, nil)
	}
	status, ok := refuseEmailForm(c, &f, err)
	if !ok {
		return err
	}
	f.Open = true
	if err := a.fillEmailChoices(c, &f, groups); err != nil {
		return err
	}
	return a.renderEmailSend(c, status, sd, &f)
}

// previewEmail serves the stored HTML for the send page's sandboxed
// frame, under its own headers: the console's policy and DENY framing
// are replaced by the preview's (a sandboxed document that runs no
// script and only the console may frame), and nothing is cached.
func (a *sendsArea) previewEmail(c echo.Context) error {
	sd, err := a.targetSend(c, sends.EDM)
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
