package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/webhooks"
	"github.com/jingdesk/jingdesk/templates/live"
	"github.com/jingdesk/jingdesk/templates/settings"
	"github.com/jingdesk/jingdesk/templates/ui"
)

const (
	// webhookPage is how many events a page of the events list shows.
	webhookPage  = 50
	webhooksPath = "/settings/webhooks"
)

// webhooksArea is the platform's webhook receiver, and for administrators
// the webhook card of Settings → Platform (its URL, counts and retention)
// and the stored events (Settings → Webhook events). internal/webhooks
// stores and applies the events; open pages follow the local copy through
// /leads/changes (live.go).
type webhooksArea struct {
	*kit
	hooks  webhookService
	events webhookEventStore
}

// webhookService is what the area needs of internal/webhooks.
type webhookService interface {
	Accepts(ctx context.Context, secret string) bool
	Receive(ctx context.Context, body []byte) (fresh bool, err error)
	Rejected() int64
	Secret(ctx context.Context) (string, error)
	Rotate(ctx context.Context) (string, error)
	Retention(ctx context.Context) (webhooks.Retention, error)
	SaveRetention(ctx context.Context, r webhooks.Retention) error
	Kick()
}

// webhookEventStore is what the events pages read and change in the store.
type webhookEventStore interface {
	WebhookCounts(ctx context.Context) (map[string]int64, error)
	ListWebhookEvents(ctx context.Context, f db.WebhookFilter) ([]db.WebhookEventRow, error)
	WebhookEvent(ctx context.Context, id int64) (db.WebhookEventRow, error)
	RequeueWebhookEvents(ctx context.Context, ids []int64) (int64, error)
}

// receiveWebhook is the platform's webhook: POST /webhooks/jing/<secret>.
// The secret in the path is the only credential (the platform signs
// nothing), so a wrong one is a plain 404, counted. The event is stored
// first and applied after: the answer comes in milliseconds. Nothing here
// answers 500: a body that cannot be stored is a 503, so the platform
// sends it again.
func (a *webhooksArea) receiveWebhook(c echo.Context) error {
	ctx := c.Request().Context()
	if !a.hooks.Accepts(ctx, c.Param("secret")) {
		return c.NoContent(http.StatusNotFound)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, webhooks.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return c.JSON(http.StatusRequestEntityTooLarge, webhookAnswer{Code: http.StatusRequestEntityTooLarge, Msg: "body larger than 1 MB"})
	case err != nil:
		return c.JSON(http.StatusBadRequest, webhookAnswer{Code: http.StatusBadRequest, Msg: "the body could not be read"})
	}
	_, err = a.hooks.Receive(ctx, body)
	switch {
	case errors.Is(err, webhooks.ErrUnreadable):
		return c.JSON(http.StatusBadRequest, webhookAnswer{Code: http.StatusBadRequest, Msg: "not a webhook event; kept for inspection"})
	case err != nil:
		a.log(c).Error("store a webhook event", "error", err)
		return c.JSON(http.StatusServiceUnavailable, webhookAnswer{Code: http.StatusServiceUnavailable, Msg: "not stored; send it again"})
	}
	return c.JSON(http.StatusOK, webhookAnswer{Code: 0, Msg: "ok"})
}

type webhookAnswer struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// --- Settings → Platform: the webhook card ---

// card fills the Webhook card of Settings → Platform.
func (a *webhooksArea) card(c echo.Context) *settings.WebhookCard {
	ctx := c.Request().Context()
	card := &settings.WebhookCard{Rejected: a.hooks.Rejected(), EventsURL: webhooksPath}
	secret, err := a.hooks.Secret(ctx)
	if err != nil {
		a.log(c).Error("read the webhook secret", "error", err)
		card.Unreadable = true
	} else {
		card.URL = a.publicBase(c) + "/webhooks/jing/" + secret
	}
	counts, err := a.events.WebhookCounts(ctx)
	if err != nil {
		a.log(c).Error("count webhook events", "error", err)
	}
	for _, st := range live.States {
		card.Counts = append(card.Counts, settings.StateCount{State: st, Count: counts[st], URL: live.EventsURL(st, 0)})
	}
	r, err := a.hooks.Retention(ctx)
	if err != nil {
		a.log(c).Error("read the webhook retention", "error", err)
	}
	card.KeepAppliedDays, card.KeepFailedDays = r.AppliedDays, r.FailedDays
	return card
}

// rotateWebhookSecret makes a new secret: the old URL stops working at
// once. The audit log records the rotation, never the value.
func (a *webhooksArea) rotateWebhookSecret(c echo.Context) error {
	if _, err := a.hooks.Rotate(c.Request().Context()); err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "webhook.rotate", Object: "webhook",
		Summary: summary("webhook_rotate").Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "live.webhook.rotated"), platformPath+"#webhook")
}

// saveWebhookRetention sets how long finished events are kept (days; 0: forever).
func (a *webhooksArea) saveWebhookRetention(c echo.Context) error {
	applied, err1 := strconv.Atoi(strings.TrimSpace(c.FormValue("keep_applied_days")))
	failed, err2 := strconv.Atoi(strings.TrimSpace(c.FormValue("keep_failed_days")))
	r := webhooks.Retention{AppliedDays: applied, FailedDays: failed}
	var err error = webhooks.ErrRetention // a number that is not one is out of range too
	if err1 == nil && err2 == nil {
		err = a.hooks.SaveRetention(c.Request().Context(), r)
	}
	if text, refused := userMessage(c, err); refused {
		return redirectWithFlash(c, ui.FlashError, text, platformPath+"#webhook")
	}
	if err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "webhook.retention", Object: "webhook",
		Summary: summary("webhook_retention", msg.Int("Applied", int64(applied)), msg.Int("Failed", int64(failed))).Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "live.retention.saved"), platformPath+"#webhook")
}

// --- Settings → Webhook events ---

// showWebhookEvents lists the stored events newest first, by state, a
// page at a time (keyset: ?before=<id>).
func (a *webhooksArea) showWebhookEvents(c echo.Context) error {
	ctx := c.Request().Context()
	v := live.EventsView{State: c.QueryParam("state")}
	if v.State != "" && !slices.Contains(live.States, v.State) {
		v.State = ""
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	v.Paged = before > 0
	f := db.WebhookFilter{BeforeID: max(before, 0), Limit: webhookPage + 1}
	if v.State != "" {
		f.States = []string{v.State}
	}
	rows, err := a.events.ListWebhookEvents(ctx, f)
	if err != nil {
		return err
	}
	if len(rows) > webhookPage {
		rows = rows[:webhookPage]
		v.OlderURL = live.EventsURL(v.State, rows[len(rows)-1].ID)
	}
	for _, r := range rows {
		v.Events = append(v.Events, eventRow(r))
	}
	counts, err := a.events.WebhookCounts(ctx)
	if err != nil {
		return err
	}
	for _, st := range live.States {
		v.Counts = append(v.Counts, live.StateCount{State: st, Count: counts[st]})
		if st == db.EventUnknown || st == db.EventFailed {
			v.Requeueable += counts[st]
		}
	}
	v.Rejected = a.hooks.Rejected()
	return a.render(c, http.StatusOK, View{Title: t(c, "live.events.title"), Section: "settings", Body: live.Events(v)})
}

func eventRow(r db.WebhookEventRow) live.EventRow {
	return live.EventRow{ID: r.ID, ReceivedAt: r.ReceivedAt, EventTime: r.EventTime, Type: r.EventType, Object: r.ObjectName,
		EntityID: r.EntityID, State: r.State, Reason: r.Reason, Duplicates: r.Duplicates, AppliedAt: r.AppliedAt}
}

// showWebhookEvent is one stored event: its body pretty-printed (as text:
// it is untrusted input) and how applying it ended.
func (a *webhooksArea) showWebhookEvent(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r, err := a.events.WebhookEvent(c.Request().Context(), id)
	if err != nil {
		return err // ErrNotFound → 404
	}
	v := live.EventView{Event: eventRow(r), Body: prettyBody(r.Body), BodySize: len(r.Body)}
	return a.render(c, http.StatusOK, View{Title: t(c, "live.event.title", "ID", id), Section: "settings", Body: live.Event(v)})
}

// prettyBody indents a JSON body (characters as sent: the page escapes
// them); anything that is not JSON is shown as it came.
func prettyBody(body string) string {
	var v any
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return body
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return body
	}
	return strings.TrimRight(out.String(), "\n")
}

// requeueWebhookEvents sets unknown and failed events back to pending
// (the chosen ids, or all of them with all=1) and wakes the worker.
func (a *webhooksArea) requeueWebhookEvents(c echo.Context) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	var ids []int64 // none with all=1: every unknown and failed event
	all := form.Get("all") == "1"
	if !all {
		for _, raw := range form["id"] {
			id, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || id <= 0 {
				return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
			}
			ids = append(ids, id)
		}
		if len(ids) == 0 || len(ids) > 1000 {
			return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
		}
	}
	back := safeNext(form.Get("next"))
	if !strings.HasPrefix(back, webhooksPath) {
		back = webhooksPath
	}
	n, err := a.events.RequeueWebhookEvents(ctx, ids)
	if err != nil {
		return err
	}
	a.hooks.Kick()
	said := summary("webhook_requeue", msg.Int("Count", int64(n)))
	if all {
		said = summary("webhook_requeue_all", msg.Int("Count", int64(n)))
	} else if len(ids) <= 20 {
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = strconv.FormatInt(id, 10)
		}
		said = summary("webhook_requeue_ids", msg.Int("Count", int64(n)), msg.Str("IDs", strings.Join(parts, ", ")))
	}
	a.audit(c, db.AuditEntry{Action: "webhook.requeue", Object: "webhook", Summary: said.Encode()})
	if n == 0 {
		return redirectWithFlash(c, ui.FlashInfo, t(c, "live.requeue.nothing"), back)
	}
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "live.requeue.done", "Count", state(c).loc.Number(n)), back)
}
