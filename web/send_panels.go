package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/sheet"
	sendsview "github.com/jingdesk/jingdesk/templates/sends"
)

// The lifecycle part of a send's page, the same for both channels: its
// state, confirmation, approval, the decision on an unknown outcome, the
// delivery (polled while the platform sends) and the per-recipient
// records with their export.

// sendPanels is the lifecycle part the channel pages put under their own
// content (message, audience, preview).
func (a *sendsArea) sendPanels(c echo.Context, sd db.Send) (templ.Component, error) {
	v, err := a.panelsView(c, sd)
	if err != nil {
		return nil, err
	}
	return sendsview.Lifecycle(v), nil
}

func (a *sendsArea) panelsView(c echo.Context, sd db.Send) (sendsview.Panels, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	v := sendsview.Panels{ID: sd.ID, Channel: sd.Channel, State: sd.State, Test: sd.Test, Now: a.now().Unix(),
		CanAct: maySend(c), IsAuthor: u != nil && (u.ID == sd.CreatedBy || u.ID == sd.ConfirmedBy),
		AudienceCount: sd.AudienceCount, CreatedByName: sd.CreatedByName, CreatedAt: sd.CreatedAt,
		ConfirmedAt: sd.ConfirmedAt, ApprovedByName: sd.ApprovedByName, ApprovedAt: sd.ApprovedAt,
		SubmittedAt: sd.SubmittedAt, UpdatedAt: sd.UpdatedAt, SendTime: sd.SendTime, PlatformID: sd.PlatformID,
		Evidence: state(c).loc.Stored(sd.Evidence), LastError: state(c).loc.Stored(sd.LastError), RequestID: sd.RequestID}
	if sd.ConfirmedBy != 0 {
		if cu, err := a.ledger.User(ctx, sd.ConfirmedBy); err == nil {
			v.ConfirmedByName = cmp.Or(cu.DisplayName, cu.Username)
		}
	}
	if sd.State != db.SendDraft && sd.State != db.SendUnknown {
		v.Evidence = ""
	}
	if sendsview.HasDelivery(sd.State) {
		d, err := a.deliveryView(c, sd)
		if err != nil {
			return v, err
		}
		v.Delivery = d
	}
	entries, err := a.ledger.ListAudit(ctx, db.AuditFilter{Object: fmt.Sprintf("send:%d", sd.ID), Limit: 200})
	if err != nil {
		return v, err
	}
	slices.Reverse(entries) // the timeline reads oldest first
	for _, e := range entries {
		v.Timeline = append(v.Timeline, sendsview.Event{At: e.At, User: e.Username, Action: strings.TrimPrefix(e.Action, "send."),
			Summary: state(c).loc.Stored(e.Summary), Outcome: e.Outcome, RequestID: e.RequestID})
	}
	return v, nil
}

func (a *sendsArea) deliveryView(c echo.Context, sd db.Send) (sendsview.Delivery, error) {
	d := sendsview.Delivery{ID: sd.ID, Channel: sd.Channel, State: sd.State, PlatformStatus: sd.PlatformStatus,
		Counts: sendsview.Counts(sd.Counts), CheckedAt: sd.CheckedAt, Now: a.now().Unix(), SendTime: sd.SendTime,
		CanSync: maySend(c)}
	reasons, err := a.ledger.SendFailureReasons(c.Request().Context(), sd.ID)
	if err != nil {
		return d, err
	}
	for _, r := range reasons {
		d.Reasons = append(d.Reasons, sendsview.Reason{Reason: r.Reason, Count: r.Count})
	}
	return d, nil
}

// showSendStatus is the delivery fragment, polled while the send is under
// way: the service asks the platform (at most once per sends.PollEvery
// per send, however many pages poll) and, once the platform is done,
// copies the recipients' outcomes. A failed look is said in the panel,
// over the counts as last known.
func (a *sendsArea) showSendStatus(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	sd, err := a.sends.Poll(c.Request().Context(), id)
	problem := ""
	if err != nil {
		text, ok := userMessage(c, err)
		if !ok || sd.ID == 0 {
			return err
		}
		problem = t(c, "sends.delivery.refresh_failed", "Error", text)
	}
	d, err := a.deliveryView(c, sd)
	if err != nil {
		return err
	}
	d.Error = problem
	return a.renderFragment(c, http.StatusOK, sendsview.DeliveryPanel(d))
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

func (a *sendsArea) recordsView(c echo.Context, sd db.Send, f db.SendRecordFilter, page int) (sendsview.Records, error) {
	may := maySend(c)
	v := sendsview.Records{ID: sd.ID, Channel: sd.Channel, Q: f.Query, Status: f.Status, Page: page,
		CanExport: may, CanSync: may, Submitted: sd.PlatformID != "" && sendsview.HasDelivery(sd.State)}
	rows, total, err := a.ledger.SendRecords(c.Request().Context(), sd.ID, f)
	if err != nil {
		return v, err
	}
	v.Total, v.Pages = total, (total+sendsview.RecordsPageSize-1)/sendsview.RecordsPageSize
	for _, r := range rows {
		rec := sendsview.Record{Recipient: r.Recipient, Status: r.Status, Error: r.Error, At: r.At}
		if !may {
			rec.Recipient = leads.Mask(r.Recipient)
		}
		v.Rows = append(v.Rows, rec)
	}
	return v, nil
}

func (a *sendsArea) showSendRecords(c echo.Context) error {
	sd, err := a.targetSend(c, "")
	if err != nil {
		return err
	}
	f, page := recordsFilter(c.QueryParam)
	v, err := a.recordsView(c, sd, f, page)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return a.render(c, http.StatusOK, View{Title: t(c, "sends.records.title"), Section: sendSection(sd.Channel), Body: sendsview.RecordsTable(v)})
	}
	return a.renderFragment(c, http.StatusOK, sendsview.RecordsTable(v))
}

// syncSendRecords copies every recipient's outcome from the platform now.
func (a *sendsArea) syncSendRecords(c echo.Context) error {
	sd, err := a.targetSend(c, "")
	if err != nil {
		return err
	}
	if _, err := a.sends.SyncRecords(c.Request().Context(), sd.ID); err != nil {
		return stepDone(c, sd, err, "")
	}
	if !isHTMX(c) {
		return stepDone(c, sd, nil, t(c, "sends.flash.synced"))
	}
	v, err := a.recordsView(c, sd, db.SendRecordFilter{Limit: sendsview.RecordsPageSize}, 1)
	if err != nil {
		return err
	}
	return a.renderFragment(c, http.StatusOK, sendsview.RecordsTable(v))
}

// exportSendRecords streams the recipients matching the search as CSV
// (UTF-8 with a BOM, so spreadsheet programs read Chinese correctly).
func (a *sendsArea) exportSendRecords(c echo.Context) error {
	sd, err := a.targetSend(c, "")
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
		rows, _, err := a.ledger.SendRecords(ctx, sd.ID, f)
		if err != nil {
			// Said in the file itself: a short file must not pass for a whole one.
			a.log(c).Error("export a send's records", "send", sd.ID, "error", err)
			_ = w.WriteText(t(c, "sends.records.export_stopped"))
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
