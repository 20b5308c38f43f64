package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/sends"
	sendsview "github.com/jingdesk/jingdesk/templates/sends"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The sends area (issue 7): the SMS pages (sms.go), the email pages
// (email.go, email_form.go), the steps every send shares (this file: the
// test send, the confirmation with the frozen count, the second approval,
// cancelling, the decision on an unknown outcome), its lifecycle panels,
// delivery and records (send_panels.go), and Settings → Sends
// (send_settings.go). The rules and the exactly-once ledger are
// internal/sends'; these handlers parse, call one method, and show it.
type sendsArea struct {
	*kit
	sends  sendService
	ledger sendReader
}

// sendService is what the area asks of internal/sends.
type sendService interface {
	Messages(ctx context.Context) ([]jing.SMSMessage, error)
	Mailboxes(ctx context.Context) ([]jing.Mailbox, error)
	Audience(ctx context.Context, sd db.Send) int64
	CreateDraft(ctx context.Context, userID int64, channel string, d sends.Draft) (int64, error)
	Change(ctx context.Context, id int64, user *db.User, d sends.Draft) (db.Send, error)
	RequestConsentCheck(ctx context.Context, id, userID int64) (int64, error)
	PrepareConfirmation(ctx context.Context, id int64) (sends.Confirmation, error)
	Confirm(ctx context.Context, id int64, user *db.User, typed string) (db.Send, error)
	TestSend(ctx context.Context, draftID int64, user *db.User) (db.Send, error)
	Approve(ctx context.Context, id int64, user *db.User) (db.Send, error)
	Reject(ctx context.Context, id int64, user *db.User, note string) error
	Cancel(ctx context.Context, id int64, user *db.User) error
	Decide(ctx context.Context, id int64, user *db.User, decision string) (db.Send, error)
	Poll(ctx context.Context, id int64) (db.Send, error)
	SyncRecords(ctx context.Context, id int64) (int, error)
	Settings(ctx context.Context) (sends.Settings, error)
	SaveSettingsText(ctx context.Context, in sends.SettingsText) (sends.Settings, error)
}

// sendReader is what the sends pages read of the store: the ledger, its
// records and timeline, and the names of the crowds, users and jobs a
// send mentions.
type sendReader interface {
	Send(ctx context.Context, id int64) (db.Send, error)
	ListSends(ctx context.Context, f db.SendFilter) ([]db.Send, error)
	SendRecords(ctx context.Context, id int64, f db.SendRecordFilter) ([]db.SendRecord, int, error)
	SendFailureReasons(ctx context.Context, id int64) ([]db.ReasonCount, error)
	ListAudit(ctx context.Context, f db.AuditFilter) ([]db.AuditEntry, error)
	Crowd(ctx context.Context, groupID int64) (db.Crowd, error)
	ListCrowds(ctx context.Context, f db.CrowdFilter) ([]db.Crowd, int, error)
	User(ctx context.Context, id int64) (db.User, error)
	Job(ctx context.Context, id int64) (db.Job, error)
}

// targetSend is the send of the route's :id, of channel ("" for any);
// an unknown one, or one of the other channel, is a 404.
func (a *sendsArea) targetSend(c echo.Context, channel string) (db.Send, error) {
	id, err := pathID(c)
	if err != nil {
		return db.Send{}, err
	}
	sd, err := a.ledger.Send(c.Request().Context(), id)
	if err == nil && channel != "" && sd.Channel != channel {
		return sd, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return sd, err
}

// maySend reports whether the signed-in user may send (internal/sends' rule).
func maySend(c echo.Context) bool { return sends.MaySend(currentUser(c)) }

// sendCrowd is a crowd a send names, as the local copy knows it (a crowd
// it no longer has shows by its id).
type sendCrowd struct {
	ID      int64
	Name    string
	Members int64
}

func (a *sendsArea) sendCrowds(ctx context.Context, ids []int64) []sendCrowd {
	out := make([]sendCrowd, 0, len(ids))
	for _, g := range ids {
		cr := sendCrowd{ID: g, Name: "#" + strconv.FormatInt(g, 10)}
		if known, err := a.ledger.Crowd(ctx, g); err == nil {
			cr.Name, cr.Members = known.Name, known.UserCount
		}
		out = append(out, cr)
	}
	return out
}

// sendSection is the navigation section of a channel.
func sendSection(channel string) string {
	if channel == sends.EDM {
		return "email"
	}
	return "sms"
}

// backToSend ends a step on the send's page with a flash (a full
// navigation for htmx too, since the whole page changes with the state).
func backToSend(c echo.Context, sd db.Send, kind, msg string) error {
	to := sendsview.PagePath(sd.Channel, sd.ID)
	if msg != "" {
		addFlash(c, kind, msg)
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// stepDone ends a step: a refusal the user can act on (the service's or
// the platform's) goes back to the send's page as an error flash; a step
// the user may not take, and any other error, is returned.
func stepDone(c echo.Context, sd db.Send, err error, success string) error {
	if err == nil {
		return backToSend(c, sd, ui.FlashSuccess, success)
	}
	if errors.Is(err, sends.ErrNotAllowed) {
		return err
	}
	text, ok := userMessage(c, err)
	if !ok {
		return err
	}
	return backToSend(c, sd, ui.FlashError, text)
}

// outcomeFlash says how a submission ended.
func outcomeFlash(c echo.Context, sd db.Send) (string, string) {
	switch sd.State {
	case db.SendAwaitingApproval:
		return ui.FlashInfo, t(c, "sends.flash.awaiting")
	case db.SendSubmitted, db.SendDone:
		return ui.FlashSuccess, t(c, "sends.flash.submitted", "Count", state(c).loc.Number(sd.AudienceCount))
	case db.SendFailed:
		return ui.FlashError, t(c, "sends.flash.failed")
	case db.SendUnknown:
		return ui.FlashError, t(c, "sends.flash.unknown")
	}
	return ui.FlashInfo, t(c, "sends.flash.state", "State", t(c, "sends.state."+sd.State))
}

// --- confirmation ---

// audienceText describes a send's audience: its crowds by name, or the
// pasted list's size.
func (a *sendsArea) audienceText(c echo.Context, sd db.Send) string {
	if len(sd.Mobiles) > 0 {
		return t(c, "sends.audience.mobiles", "Count", state(c).loc.Number(int64(len(sd.Mobiles)-len(sd.Excluded))))
	}
	var names []string
	for _, cr := range a.sendCrowds(c.Request().Context(), sd.GroupIDs) {
		names = append(names, cr.Name)
	}
	return t(c, "sends.audience.crowds", "Names", strings.Join(names, "、"))
}

func (a *sendsArea) confirmView(c echo.Context, id int64) (sendsview.Confirm, error) {
	cf, err := a.sends.PrepareConfirmation(c.Request().Context(), id)
	if err != nil {
		return sendsview.Confirm{}, err
	}
	sd := cf.Send
	v := sendsview.Confirm{ID: sd.ID, Channel: sd.Channel, Name: sd.Name, Count: cf.Count, MustType: cf.MustType,
		NeedsApproval: cf.NeedsApproval, SendTime: sd.SendTime, Audience: a.audienceText(c, sd), Sender: sd.Sender}
	if sd.Channel == sends.EDM {
		v.Message = sd.Subject
	} else {
		v.Message = smsSigned(sd.Signature, sd.Content)
	}
	return v, nil
}

func (a *sendsArea) renderConfirm(c echo.Context, status int, sd db.Send, v sendsview.Confirm) error {
	if isHTMX(c) {
		return a.renderFragment(c, status, sendsview.ConfirmBox(v))
	}
	body := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, `<div id="`+sendsview.ConfirmID+`">`); err != nil {
			return err
		}
		if err := sendsview.ConfirmBox(v).Render(ctx, w); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</div>`)
		return err
	})
	return a.render(c, status, View{Title: t(c, "sends.confirm.title"), Section: sendSection(sd.Channel), Body: body})
}

func (a *sendsArea) showSendConfirmation(c echo.Context) error {
	sd, err := a.targetSend(c, "")
	if err != nil {
		return err
	}
	if sd.State != db.SendDraft {
		kind, msg := outcomeFlash(c, sd)
		return backToSend(c, sd, kind, msg)
	}
	v, err := a.confirmView(c, sd.ID)
	if err != nil {
		return err
	}
	return a.renderConfirm(c, http.StatusOK, sd, v)
}

// confirmSend freezes the audience and sends (or waits for approval).
// Exactly once: of racing confirmations one wins; the others, like a
// confirmation of a send that has moved on, land on the send's page.
func (a *sendsArea) confirmSend(c echo.Context) error {
	sd, err := a.targetSend(c, "")
	if err != nil {
		return err
	}
	typed := clip(c.FormValue("typed"), 40)
	now, err := a.sends.Confirm(c.Request().Context(), sd.ID, currentUser(c), typed)
	switch {
	case errors.Is(err, sends.ErrCountMismatch), errors.Is(err, sends.ErrEmptyAudience):
		v, verr := a.confirmView(c, sd.ID)
		if verr != nil {
			return verr
		}
		v.Typed = typed
		v.Error, _ = userMessage(c, err)
		return a.renderConfirm(c, http.StatusUnprocessableEntity, sd, v)
	case errors.Is(err, sends.ErrNotDraft), errors.Is(err, sends.ErrStateChanged):
		cur, lerr := a.ledger.Send(c.Request().Context(), sd.ID)
		if lerr != nil {
			return lerr
		}
		kind, msg := outcomeFlash(c, cur)
		return backToSend(c, cur, kind, t(c, "sends.flash.already")+" "+msg)
	case err != nil:
		return stepDone(c, sd, err, "")
	}
	kind, msg := outcomeFlash(c, now)
	return backToSend(c, now, kind, msg)
}

// --- test, approval, cancel, decision ---

// testSend sends the draft's message to the test recipients only. For
// htmx it answers with the lifecycle panels, saying how the test went.
func (a *sendsArea) testSend(c echo.Context) error {
	sd, err := a.targetSend(c, "")
	if err != nil {
		return err
	}
	ts, err := a.sends.TestSend(c.Request().Context(), sd.ID, currentUser(c))
	notice, link, problem := "", "", ""
	if err != nil {
		var ok bool
		if problem, ok = userMessage(c, err); !ok || errors.Is(err, sends.ErrNotAllowed) {
			return err
		}
	} else {
		link = sendsview.PagePath(ts.Channel, ts.ID)
		_, notice = outcomeFlash(c, ts)
		notice = t(c, "sends.test.done", "Count", state(c).loc.Number(ts.AudienceCount)) + " " + notice
	}
	if !isHTMX(c) {
		if problem != "" {
			return backToSend(c, sd, ui.FlashError, problem)
		}
		return backToSend(c, ts, ui.FlashSuccess, notice)
	}
	cur, err := a.ledger.Send(c.Request().Context(), sd.ID)
	if err != nil {
		return err
	}
	v, err := a.panelsView(c, cur)
	if err != nil {
		return err
	}
	v.Notice, v.NoticeLink, v.Error = notice, link, problem
	status := http.StatusOK
	if problem != "" {
		status = http.StatusUnprocessableEntity
	}
	return a.renderFragment(c, status, sendsview.Lifecycle(v))
}

func (a *sendsArea) approveSend(c echo.Context) error {
	sd, err := a.targetSend(c, "")
	if err != nil {
		return err
	}
	now, err := a.sends.Approve(c.Request().Context(), sd.ID, currentUser(c))
	if errors.Is(err, sends.ErrOwnApproval) {
		// Refused, and audited as such by the service.
		text, _ := userMessage(c, err)
		addFlash(c, ui.FlashError, text)
		if isHTMX(c) {
			c.Response().Header().Set("HX-Redirect", sendsview.PagePath(sd.Channel, sd.ID))
		}
		return forbiddenStep(c, sd, text)
	}
	if err != nil {
		return stepDone(c, sd, err, "")
	}
	kind, msg := outcomeFlash(c, now)
	return backToSend(c, now, kind, msg)
}

// forbiddenStep answers a refused step with 403 and the send's page
// address, the reason (why, also in the flash the page then shows) in a
// minimal page of its own.
func forbiddenStep(c echo.Context, sd db.Send, why string) error {
	to := sendsview.PagePath(sd.Channel, sd.ID)
	c.Response().Header().Set(echo.HeaderLocation, to)
	return c.HTML(http.StatusForbidden, `<!doctype html><meta charset="utf-8"><title>403</title><p>`+
		templ.EscapeString(why)+` <a href="`+to+`">`+templ.EscapeString(t(c, "sends.back"))+`</a></p>`)
}

func (a *sendsArea) rejectSend(c echo.Context) error {
	sd, err := a.targetSend(c, "")
	if err != nil {
		return err
	}
	note := clip(strings.TrimSpace(c.FormValue("note")), 500)
	err = a.sends.Reject(c.Request().Context(), sd.ID, currentUser(c), note)
	return stepDone(c, sd, err, t(c, "sends.flash.rejected"))
}

func (a *sendsArea) cancelSend(c echo.Context) error {
	sd, err := a.targetSend(c, "")
	if err != nil {
		return err
	}
	err = a.sends.Cancel(c.Request().Context(), sd.ID, currentUser(c))
	return stepDone(c, sd, err, t(c, "sends.flash.cancelled"))
}

// decideSend settles an unknown outcome by a person's decision.
func (a *sendsArea) decideSend(c echo.Context) error {
	sd, err := a.targetSend(c, "")
	if err != nil {
		return err
	}
	decision := c.FormValue("decision")
	if decision != sends.DecideSent && decision != sends.DecideAgain {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	now, err := a.sends.Decide(c.Request().Context(), sd.ID, currentUser(c), decision)
	if err != nil {
		return stepDone(c, sd, err, "")
	}
	if decision == sends.DecideSent {
		return backToSend(c, now, ui.FlashSuccess, t(c, "sends.flash.marked_sent"))
	}
	kind, msg := outcomeFlash(c, now)
	return backToSend(c, now, kind, msg)
}
