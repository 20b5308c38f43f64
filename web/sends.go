package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/sends"
	"github.com/jingdesk/jingdesk/internal/sheet"
	sendsview "github.com/jingdesk/jingdesk/templates/sends"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The shared steps of a send (issue 7), the same for SMS and email: the
// test send, the confirmation with the frozen count, the second approval,
// cancelling, the decision on an unknown outcome, the delivery (polled)
// and the per-recipient records. The service (internal/sends) keeps the
// ledger exactly-once and audits every step; these handlers show it.

// sendFromParam is the send of the route's :id; unknown is a 404.
func (s *Server) sendFromParam(c echo.Context) (db.Send, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if s.Sends == nil || err != nil || id <= 0 {
		return db.Send{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return s.Store.Send(c.Request().Context(), id)
}

// sendSection is the navigation section of a channel.
func sendSection(channel string) string {
	if channel == sends.EDM {
		return "email"
	}
	return "sms"
}

// sendPanels is the lifecycle part of a send's page, the same for both
// channels: state, confirmation, approval, the decision on an unknown
// outcome, delivery and records. The channel pages put it under their own
// content (message, audience, preview).
func (s *Server) sendPanels(c echo.Context, sd db.Send) (templ.Component, error) {
	v, err := s.sendPanelsView(c, sd)
	if err != nil {
		return nil, err
	}
	return sendsview.Lifecycle(v), nil
}

func (s *Server) sendPanelsView(c echo.Context, sd db.Send) (sendsview.Panels, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	v := sendsview.Panels{ID: sd.ID, Channel: sd.Channel, State: sd.State, Test: sd.Test, Now: s.Now().Unix(),
		CanAct: mayMove(u), IsAuthor: u != nil && (u.ID == sd.CreatedBy || u.ID == sd.ConfirmedBy),
		AudienceCount: sd.AudienceCount, CreatedByName: sd.CreatedByName, CreatedAt: sd.CreatedAt,
		ConfirmedAt: sd.ConfirmedAt, ApprovedByName: sd.ApprovedByName, ApprovedAt: sd.ApprovedAt,
		SubmittedAt: sd.SubmittedAt, UpdatedAt: sd.UpdatedAt, SendTime: sd.SendTime, PlatformID: sd.PlatformID,
		Evidence: state(c).loc.Stored(sd.Evidence), LastError: state(c).loc.Stored(sd.LastError), RequestID: sd.RequestID}
	if sd.ConfirmedBy != 0 {
		if cu, err := s.Store.User(ctx, sd.ConfirmedBy); err == nil {
			v.ConfirmedByName = cmp.Or(cu.DisplayName, cu.Username)
		}
	}
	if sd.State != db.SendDraft && sd.State != db.SendUnknown {
		v.Evidence = ""
	}
	if sendsview.HasDelivery(sd.State) {
		d, err := s.deliveryView(c, sd)
		if err != nil {
			return v, err
		}
		v.Delivery = d
	}
	entries, err := s.Store.ListAudit(ctx, db.AuditFilter{Object: fmt.Sprintf("send:%d", sd.ID), Limit: 200})
	if err != nil {
		return v, err
	}
	slices.Reverse(entries) // the timeline reads oldest first
	for _, e := range entries {
		v.Timeline = append(v.Timeline, sendsview.Event{At: e.At, User: e.Username, Action: strings.TrimPrefix(e.Action, "send."),
			Summary: e.Summary, Outcome: e.Outcome, RequestID: e.RequestID})
	}
	return v, nil
}

func (s *Server) deliveryView(c echo.Context, sd db.Send) (sendsview.Delivery, error) {
	d := sendsview.Delivery{ID: sd.ID, Channel: sd.Channel, State: sd.State, PlatformStatus: sd.PlatformStatus,
		Counts: sendsview.Counts(sd.Counts), CheckedAt: sd.CheckedAt, Now: s.Now().Unix(), SendTime: sd.SendTime,
		CanSync: mayMove(currentUser(c))}
	reasons, err := s.Store.SendFailureReasons(c.Request().Context(), sd.ID)
	if err != nil {
		return d, err
	}
	for _, r := range reasons {
		d.Reasons = append(d.Reasons, sendsview.Reason{Reason: r.Reason, Count: r.Count})
	}
	return d, nil
}

// sendErrorText is what a user reads for a refusal of the service or the
// platform (with the platform's request id); ok is false for other errors.
func sendErrorText(c echo.Context, err error) (msg, ref string, ok bool) {
	if je, isJing := jing.AsError(err); isJing {
		return state(c).loc.Message(je.Message()), je.RequestID, true
	}
	for _, k := range []struct {
		err error
		id  string
	}{
		{sends.ErrNoName, "no_name"}, {sends.ErrNoMessage, "no_message"}, {sends.ErrNoAudience, "no_audience"},
		{sends.ErrBothAudiences, "both_audiences"}, {sends.ErrNoMailbox, "no_mailbox"}, {sends.ErrNoSubject, "no_subject"},
		{sends.ErrPastTime, "past_time"}, {sends.ErrNotDraft, "not_draft"}, {sends.ErrCountMismatch, "count_mismatch"},
		{sends.ErrOwnApproval, "own_approval"}, {sends.ErrNotAllowed, "not_allowed"}, {sends.ErrStateChanged, "state_changed"},
		{sends.ErrEmptyAudience, "empty_audience"}, {sends.ErrNoTestRecipients, "no_test_recipients"},
		{sends.ErrBadSettings, "bad_settings"}, {sends.ErrStarted, "started"}, {sends.ErrConsentNeedsList, "consent_needs_list"},
	} {
		if errors.Is(err, k.err) {
			return t(c, "sends.error."+k.id), "", true
		}
	}
	return "", "", false
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

// stepDone ends a step: refusals the user can act on go back to the
// send's page as an error flash; other errors are errors.
func (s *Server) stepDone(c echo.Context, sd db.Send, err error, success string) error {
	if err == nil {
		return backToSend(c, sd, ui.FlashSuccess, success)
	}
	if errors.Is(err, sends.ErrNotAllowed) {
		return echo.NewHTTPError(http.StatusForbidden, errForbidden)
	}
	msg, ref, ok := sendErrorText(c, err)
	if !ok {
		return err
	}
	if ref != "" {
		msg += " " + t(c, "sends.request_id", "ID", ref)
	}
	return backToSend(c, sd, ui.FlashError, msg)
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
func (s *Server) audienceText(c echo.Context, sd db.Send) string {
	if len(sd.Mobiles) > 0 {
		return t(c, "sends.audience.mobiles", "Count", state(c).loc.Number(int64(len(sd.Mobiles)-len(sd.Excluded))))
	}
	names := make([]string, 0, len(sd.GroupIDs))
	for _, g := range sd.GroupIDs {
		if cr, err := s.Store.Crowd(c.Request().Context(), g); err == nil {
			names = append(names, cr.Name)
		} else {
			names = append(names, "#"+strconv.FormatInt(g, 10))
		}
	}
	return t(c, "sends.audience.crowds", "Names", strings.Join(names, "、"))
}

func (s *Server) confirmView(c echo.Context, id int64) (sendsview.Confirm, error) {
	cf, err := s.Sends.PrepareConfirmation(c.Request().Context(), id)
	if err != nil {
		return sendsview.Confirm{}, err
	}
	sd := cf.Send
	v := sendsview.Confirm{ID: sd.ID, Channel: sd.Channel, Name: sd.Name, Count: cf.Count, MustType: cf.MustType,
		NeedsApproval: cf.NeedsApproval, SendTime: sd.SendTime, Audience: s.audienceText(c, sd), Sender: sd.Sender}
	if sd.Channel == sends.EDM {
		v.Message = sd.Subject
	} else {
		v.Message = smsSigned(sd.Signature, sd.Content)
	}
	return v, nil
}

func (s *Server) renderConfirm(c echo.Context, status int, sd db.Send, v sendsview.Confirm) error {
	if isHTMX(c) {
		return s.renderFragment(c, status, sendsview.ConfirmBox(v))
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
	return s.render(c, status, View{Title: t(c, "sends.confirm.title"), Section: sendSection(sd.Channel), Body: body})
}

func (s *Server) showSendConfirmation(c echo.Context) error {
	sd, err := s.sendFromParam(c)
	if err != nil {
		return err
	}
	if sd.State != db.SendDraft {
		kind, msg := outcomeFlash(c, sd)
		return backToSend(c, sd, kind, msg)
	}
	v, err := s.confirmView(c, sd.ID)
	if err != nil {
		return err
	}
	return s.renderConfirm(c, http.StatusOK, sd, v)
}

// confirmSend freezes the audience and sends (or waits for approval).
// Exactly once: of racing confirmations one wins; the others, like a
// confirmation of a send that has moved on, land on the send's page.
func (s *Server) confirmSend(c echo.Context) error {
	sd, err := s.sendFromParam(c)
	if err != nil {
		return err
	}
	typed := clip(c.FormValue("typed"), 40)
	now, err := s.Sends.Confirm(c.Request().Context(), sd.ID, currentUser(c), typed)
	switch {
	case errors.Is(err, sends.ErrCountMismatch), errors.Is(err, sends.ErrEmptyAudience):
		v, verr := s.confirmView(c, sd.ID)
		if verr != nil {
			return verr
		}
		v.Typed = typed
		v.Error, _, _ = sendErrorText(c, err)
		return s.renderConfirm(c, http.StatusUnprocessableEntity, sd, v)
	case errors.Is(err, sends.ErrNotDraft), errors.Is(err, sends.ErrStateChanged):
		cur, lerr := s.Store.Send(c.Request().Context(), sd.ID)
		if lerr != nil {
			return lerr
		}
		kind, msg := outcomeFlash(c, cur)
		return backToSend(c, cur, kind, t(c, "sends.flash.already")+" "+msg)
	case err != nil:
		return s.stepDone(c, sd, err, "")
	}
	kind, msg := outcomeFlash(c, now)
	return backToSend(c, now, kind, msg)
}

// --- test, approval, cancel, decision ---

// testSend sends the draft's message to the test recipients only.
func (s *Server) testSend(c echo.Context) error {
	sd, err := s.sendFromParam(c)
	if err != nil {
		return err
	}
	ts, err := s.Sends.TestSend(c.Request().Context(), sd.ID, currentUser(c))
	notice, link, problem, ref := "", "", "", ""
	if err != nil {
		if errors.Is(err, sends.ErrNotAllowed) {
			return echo.NewHTTPError(http.StatusForbidden, errForbidden)
		}
		var ok bool
		if problem, ref, ok = sendErrorText(c, err); !ok {
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
	cur, err := s.Store.Send(c.Request().Context(), sd.ID)
	if err != nil {
		return err
	}
	v, err := s.sendPanelsView(c, cur)
	if err != nil {
		return err
	}
	v.Notice, v.NoticeLink, v.Error, v.ErrorRef = notice, link, problem, ref
	status := http.StatusOK
	if problem != "" {
		status = http.StatusUnprocessableEntity
	}
	return s.renderFragment(c, status, sendsview.Lifecycle(v))
}

func (s *Server) approveSend(c echo.Context) error {
	sd, err := s.sendFromParam(c)
	if err != nil {
		return err
	}
	now, err := s.Sends.Approve(c.Request().Context(), sd.ID, currentUser(c))
	if errors.Is(err, sends.ErrOwnApproval) {
		// Refused, and audited as such by the service.
		addFlash(c, ui.FlashError, t(c, "sends.error.own_approval"))
		if isHTMX(c) {
			c.Response().Header().Set("HX-Redirect", sendsview.PagePath(sd.Channel, sd.ID))
		}
		return s.forbiddenStep(c, sd)
	}
	if err != nil {
		return s.stepDone(c, sd, err, "")
	}
	kind, msg := outcomeFlash(c, now)
	return backToSend(c, now, kind, msg)
}

// forbiddenStep answers a refused step with 403 and the send's page
// address, the reason being in the flash the page then shows.
func (s *Server) forbiddenStep(c echo.Context, sd db.Send) error {
	to := sendsview.PagePath(sd.Channel, sd.ID)
	c.Response().Header().Set(echo.HeaderLocation, to)
	return c.HTML(http.StatusForbidden, `<!doctype html><meta charset="utf-8"><title>403</title><p>`+
		templ.EscapeString(t(c, "sends.error.own_approval"))+` <a href="`+to+`">`+templ.EscapeString(t(c, "sends.back"))+`</a></p>`)
}

func (s *Server) rejectSend(c echo.Context) error {
	sd, err := s.sendFromParam(c)
	if err != nil {
		return err
	}
	note := clip(strings.TrimSpace(c.FormValue("note")), 500)
	err = s.Sends.Reject(c.Request().Context(), sd.ID, currentUser(c), note)
	return s.stepDone(c, sd, err, t(c, "sends.flash.rejected"))
}

func (s *Server) cancelSend(c echo.Context) error {
	sd, err := s.sendFromParam(c)
	if err != nil {
		return err
	}
	err = s.Sends.Cancel(c.Request().Context(), sd.ID, currentUser(c))
	return s.stepDone(c, sd, err, t(c, "sends.flash.cancelled"))
}

// decideSend settles an unknown outcome by a person's decision.
func (s *Server) decideSend(c echo.Context) error {
	sd, err := s.sendFromParam(c)
	if err != nil {
		return err
	}
	decision := c.FormValue("decision")
	if decision != sends.DecideSent && decision != sends.DecideAgain {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	now, err := s.Sends.Decide(c.Request().Context(), sd.ID, currentUser(c), decision)
	if err != nil {
		return s.stepDone(c, sd, err, "")
	}
	if decision == sends.DecideSent {
		return backToSend(c, now, ui.FlashSuccess, t(c, "sends.flash.marked_sent"))
	}
	kind, msg := outcomeFlash(c, now)
	return backToSend(c, now, kind, msg)
}

// --- delivery ---

// refreshThrottle keeps the status polling of many open pages from asking
// the platform more than once per refreshEvery per send.
var refreshThrottle = struct {
	sync.Mutex
	last map[refreshKey]time.Time
}{last: map[refreshKey]time.Time{}}

type refreshKey struct {
	s  *Server
	id int64
}

const refreshEvery = 5 * time.Second

// mayRefresh reports whether send id may be refreshed now, and if so
// notes it (real time: the platform's sends run in real time).
func (s *Server) mayRefresh(id int64) bool {
	refreshThrottle.Lock()
	defer refreshThrottle.Unlock()
	k, now := refreshKey{s, id}, time.Now()
	if last, ok := refreshThrottle.last[k]; ok && now.Sub(last) < refreshEvery {
		return false
	}
	for key, at := range refreshThrottle.last {
		if now.Sub(at) > time.Minute {
			delete(refreshThrottle.last, key)
		}
	}
	refreshThrottle.last[k] = now
	return true
}

// showSendStatus is the delivery fragment, polled while the send is under
// way: it asks the platform (at most once per 5 s per send), and once the
// platform is done copies the recipients' outcomes.
func (s *Server) showSendStatus(c echo.Context) error {
	sd, err := s.sendFromParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var problem, ref string
	if sd.State == db.SendSubmitted && s.mayRefresh(sd.ID) {
		now, err := s.Sends.Refresh(ctx, sd.ID)
		if err != nil {
			msg, r, ok := sendErrorText(c, err)
			if !ok {
				return err
			}
			problem, ref = t(c, "sends.delivery.refresh_failed", "Error", msg), r
		} else {
			if now.State == db.SendDone {
				if _, err := s.Sends.SyncRecords(ctx, sd.ID); err != nil {
					s.log(c).Warn("copy a send's records", "send", sd.ID, "error", err)
				}
			}
			sd = now
		}
	}
	d, err := s.deliveryView(c, sd)
	if err != nil {
		return err
	}
	d.Error, d.ErrorRef = problem, ref
	return s.renderFragment(c, http.StatusOK, sendsview.DeliveryPanel(d))
}

// --- records ---

func recordsFilter(value func(string) string) (db.SendRecordFilter, int) {
	f := db.SendRecordFilter{Query: clip(strings.TrimSpace(value("q")), 100), Status: clip(value("status"), 20), Limit: sendsview.RecordsPageSize}
	page := 1
	if p, err := strconv.Atoi(value("page")); err == nil && p > 1 {
		page = p
	}
	f.Offset = (page - 1) * sendsview.RecordsPageSize
	return f, page
}

func (s *Server) recordsView(c echo.Context, sd db.Send, f db.SendRecordFilter, page int) (sendsview.Records, error) {
	u := currentUser(c)
	v := sendsview.Records{ID: sd.ID, Channel: sd.Channel, Q: f.Query, Status: f.Status, Page: page,
		CanExport: mayMove(u), CanSync: mayMove(u), Submitted: sd.PlatformID != "" && sendsview.HasDelivery(sd.State)}
	rows, total, err := s.Store.SendRecords(c.Request().Context(), sd.ID, f)
	if err != nil {
		return v, err
	}
	v.Total, v.Pages = total, (total+sendsview.RecordsPageSize-1)/sendsview.RecordsPageSize
	mask := !mayMove(u)
	for _, r := range rows {
		rec := sendsview.Record{Recipient: r.Recipient, Status: r.Status, Error: r.Error, At: r.At}
		if mask {
			rec.Recipient = leads.Mask(r.Recipient)
		}
		v.Rows = append(v.Rows, rec)
	}
	return v, nil
}

func (s *Server) showSendRecords(c echo.Context) error {
	sd, err := s.sendFromParam(c)
	if err != nil {
		return err
	}
	f, page := recordsFilter(c.QueryParam)
	v, err := s.recordsView(c, sd, f, page)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return s.render(c, http.StatusOK, View{Title: t(c, "sends.records.title"), Section: sendSection(sd.Channel), Body: sendsview.RecordsTable(v)})
	}
	return s.renderFragment(c, http.StatusOK, sendsview.RecordsTable(v))
}

// syncSendRecords copies every recipient's outcome from the platform now.
func (s *Server) syncSendRecords(c echo.Context) error {
	sd, err := s.sendFromParam(c)
	if err != nil {
		return err
	}
	if _, err := s.Sends.SyncRecords(c.Request().Context(), sd.ID); err != nil {
		return s.stepDone(c, sd, err, "")
	}
	if !isHTMX(c) {
		return backToSend(c, sd, ui.FlashSuccess, t(c, "sends.flash.synced"))
	}
	v, err := s.recordsView(c, sd, db.SendRecordFilter{Limit: sendsview.RecordsPageSize}, 1)
	if err != nil {
		return err
	}
	return s.renderFragment(c, http.StatusOK, sendsview.RecordsTable(v))
}

// exportSendRecords streams the recipients matching the search as CSV
// (UTF-8 with a BOM, so spreadsheet programs read Chinese correctly).
func (s *Server) exportSendRecords(c echo.Context) error {
	sd, err := s.sendFromParam(c)
	if err != nil {
		return err
	}
	f, _ := recordsFilter(c.QueryParam)
	ctx := c.Request().Context()
	name := t(c, "sends.records.file", "Name", sd.Name) + ".csv"
	ascii := fmt.Sprintf("send-%d-records.csv", sd.ID)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, sheet.CSV.ContentType())
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, rfc5987(name)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	c.Response().WriteHeader(http.StatusOK)
	w, err := sheet.New(c.Response(), sheet.CSV)
	if err != nil {
		return nil // the client went away
	}
	_ = w.WriteText(t(c, "sends.records.col.recipient"), t(c, "sends.records.col.status"), t(c, "sends.records.col.error"), t(c, "sends.records.col.at"))
	const batch = 1000
	f.Limit = batch
	for f.Offset = 0; ; f.Offset += batch {
		rows, _, err := s.Store.SendRecords(ctx, sd.ID, f)
		if err != nil {
			s.log(c).Error("export a send's records", "send", sd.ID, "error", err)
			break
		}
		for _, r := range rows {
			at := ""
			if r.At > 0 {
				at = state(c).loc.DateTime(r.At)
			}
			_ = w.WriteText(r.Recipient, t(c, "sends.rstatus."+r.Status), r.Error, at)
		}
		if len(rows) < batch || w.Flush() != nil {
			break
		}
	}
	_ = w.Close()
	return nil
}
