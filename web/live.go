package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/webhooks"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	"github.com/jingdesk/jingdesk/templates/live"
	"github.com/jingdesk/jingdesk/templates/settings"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// Live updates (issue 9): the platform's webhooks keep the local copy
// current (web/webhooks.go receives them, internal/webhooks applies them);
// open boards and lead pages follow the copy by polling GET /leads/changes,
// and administrators see the receiving URL and the stored events.

const (
	// liveChangesMax is the most leads one answer of /leads/changes reports.
	liveChangesMax = 200
	// webhookPage is how many events a page of the events list shows.
	webhookPage  = 50
	webhooksPath = "/settings/webhooks"
)

// liveLead is one changed lead as open pages need it.
type liveLead struct {
	UUID         string `json:"uuid"`
	Status       string `json:"status"`
	StatusName   string `json:"status_name,omitempty"`
	BusinessType string `json:"business_type"`
	Voided       bool   `json:"voided"`
	Seq          int64  `json:"seq"`
	// Rev is a digest of what the lead's page shows: a write that changes
	// nothing (a sync, the echo of the console's own write) keeps it.
	Rev string `json:"rev,omitempty"`
	// For the board only (?board=1): whether the lead belongs on this
	// board (its business type and filter), and then its card.
	OnBoard bool   `json:"on_board,omitempty"`
	Card    string `json:"card,omitempty"`
}

// liveAnswer is the answer of /leads/changes.
type liveAnswer struct {
	Last  int64      `json:"last"`
	More  bool       `json:"more,omitempty"` // more changes follow: ask again after Last
	Leads []liveLead `json:"leads"`
	// For the board only, when something changed: every column's count
	// under the board's filter, and their total.
	Counts    map[string]int `json:"counts,omitempty"`
	Total     *int           `json:"total,omitempty"`
	TotalText string         `json:"total_text,omitempty"`
}

// showLeadChanges answers which leads changed after ?after=<seq>, with
// their current status (read from the copy). Without after it only says
// the latest seq. With board=1 and the board's filter it adds, for the
// leads on that board, their cards (as the user may see them) and the
// columns' counts.
func (s *Server) showLeadChanges(c echo.Context) error {
	ctx := c.Request().Context()
	c.Response().Header().Set("Cache-Control", "no-store")
	after := int64(-1)
	if raw := c.QueryParam("after"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
		}
		after = n
	}
	if after < 0 {
		// Where to start following; with lead=<uuid>, that lead's revision.
		ans := liveAnswer{Last: s.liveSeq(ctx), Leads: []liveLead{}}
		if uuid := c.QueryParam("lead"); uuid != "" && len(uuid) <= boardIDMax {
			if l, err := s.Store.Lead(ctx, uuid); err == nil {
				ans.Leads = append(ans.Leads, liveLead{UUID: l.UUID, Status: l.Status, BusinessType: l.BusinessType,
					Voided: l.Voided, Seq: ans.Last, Rev: leadRev(l)})
			}
		}
		return c.JSON(http.StatusOK, ans)
	}
	changes, last, err := s.Store.LeadChangesAfter(ctx, after, liveChangesMax)
	if err != nil {
		return err
	}
	ans := liveAnswer{Last: last, Leads: make([]liveLead, 0, len(changes))}
	if len(changes) == liveChangesMax {
		ans.Last, ans.More = changes[len(changes)-1].Seq, true
	}
	if len(changes) == 0 {
		return c.JSON(http.StatusOK, ans)
	}
	var bc *boardCtx
	var f leadsview.Filter
	r := s.leadResolver()
	if c.QueryParam("board") == "1" {
		if br := s.boardResolver(); br != nil {
			bc, f = s.newBoardCtx(c, br), boardFilter(c, br)
		}
	}
	lang := state(c).loc.Lang
	pd := s.pageData(c, "", "")
	rctx := ui.WithPage(ctx, pd)
	for _, ch := range changes {
		item := liveLead{UUID: ch.UUID, Seq: ch.Seq}
		l, err := s.Store.Lead(ctx, ch.UUID)
		switch {
		case errors.Is(err, db.ErrNotFound):
			item.Voided = true // gone from the copy: as good as voided for open pages
			ans.Leads = append(ans.Leads, item)
			continue
		case err != nil:
			return err
		}
		item.Status, item.BusinessType, item.Voided, item.Rev = l.Status, l.BusinessType, l.Voided, leadRev(l)
		if r != nil {
			item.StatusName, _ = r.Status(lang, l.BusinessType, l.Status)
		}
		if bc != nil && !l.Voided && l.BusinessType == f.BusinessType && leadMatches(l, f, bc) {
			var buf bytes.Buffer
			if err := leadsview.CardView(s.card(bc, l)).Render(rctx, &buf); err != nil {
				return err
			}
			item.OnBoard, item.Card = true, buf.String()
		}
		ans.Leads = append(ans.Leads, item)
	}
	if bc != nil {
		counts, err := s.Store.CountLeadsByStatus(ctx, storeFilter(f, bc.loc.Zone()))
		if err != nil {
			return err
		}
		total := 0
		ans.Counts = map[string]int{}
		for _, st := range s.pipeline(bc, f.BusinessType) {
			ans.Counts[st.Status] = counts[st.Status]
			total += counts[st.Status]
		}
		ans.Total, ans.TotalText = &total, t(c, "leads.board.total", "Count", bc.loc.Number(int64(total)))
	}
	return c.JSON(http.StatusOK, ans)
}

// leadMatches reports whether a lead passes the board's filter (the same
// tests as the store's, the search as a plain substring match).
func leadMatches(l db.Lead, f leadsview.Filter, bc *boardCtx) bool {
	sf := storeFilter(f, bc.loc.Zone())
	switch {
	case sf.Owner != "" && l.Owner != sf.Owner,
		sf.Source != "" && l.Source != sf.Source,
		sf.LeadPool != "" && l.LeadPool != sf.LeadPool,
		sf.CreatedFrom > 0 && l.CreatedAt < sf.CreatedFrom,
		sf.CreatedTo > 0 && l.CreatedAt > sf.CreatedTo,
		sf.UpdatedFrom > 0 && l.UpdatedAt < sf.UpdatedFrom,
		sf.UpdatedTo > 0 && l.UpdatedAt > sf.UpdatedTo:
		return false
	}
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" {
		for _, v := range []string{l.Name, l.Mobile, l.Email, l.Company, l.Title} {
			if strings.Contains(strings.ToLower(v), q) {
				return true
			}
		}
		return false
	}
	return true
}

// leadRev digests what a lead's page shows of it.
func leadRev(l db.Lead) string {
	h := fnv.New64a()
	for _, part := range []string{l.BusinessType, l.Status, l.LifeStatus, l.LeadPool, l.Owner, strings.Join(l.Collaborators, ","),
		l.Name, l.Mobile, l.Email, l.Company, l.Title, l.Source, string(l.Fields), strconv.FormatBool(l.Voided)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// liveSeq is the latest seq of the change log: pages start following
// changes from it (0 when it cannot be read: the first poll then reports
// everything in the log, which open pages treat as changes they check).
func (s *Server) liveSeq(ctx context.Context) int64 {
	_, last, err := s.Store.LeadChangesAfter(ctx, 1<<62, 1)
	if err != nil {
		return 0
	}
	return last
}

// --- Settings → Platform: the webhook card ---

// webhookCard fills the Webhook card of Settings → Platform (nil when the
// console has no webhook service).
func (s *Server) webhookCard(c echo.Context) *settings.WebhookCard {
	if s.Webhooks == nil {
		return nil
	}
	ctx := c.Request().Context()
	card := &settings.WebhookCard{Rejected: s.Webhooks.Rejected(), EventsURL: webhooksPath}
	secret, err := s.Webhooks.Secret(ctx)
	if err != nil {
		s.log(c).Error("read the webhook secret", "error", err)
		card.Unreadable = true
	} else {
		card.URL = s.publicBase(c) + "/webhooks/jing/" + secret
	}
	counts, err := s.Store.WebhookCounts(ctx)
	if err != nil {
		s.log(c).Error("count webhook events", "error", err)
	}
	for _, st := range live.States {
		card.Counts = append(card.Counts, settings.StateCount{State: st, Count: counts[st], URL: live.EventsURL(st, 0)})
	}
	r, err := s.Webhooks.Retention(ctx)
	if err != nil {
		s.log(c).Error("read the webhook retention", "error", err)
	}
	card.KeepAppliedDays, card.KeepFailedDays = r.AppliedDays, r.FailedDays
	return card
}

// publicBase is the console's address as the browser reached it: scheme
// and host of the request (behind a trusted proxy, its forwarded scheme).
func (s *Server) publicBase(c echo.Context) string {
	scheme := "http"
	if c.Request().TLS != nil {
		scheme = "https"
	}
	if s.BehindProxy {
		scheme = c.Scheme()
	}
	return scheme + "://" + c.Request().Host
}

// rotateWebhookSecret makes a new secret: the old URL stops working at
// once. The audit log records the rotation, never the value.
func (s *Server) rotateWebhookSecret(c echo.Context) error {
	if s.Webhooks == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	if _, err := s.Webhooks.Rotate(c.Request().Context()); err != nil {
		return err
	}
	s.audit(c, db.AuditEntry{Action: "webhook.rotate", Object: "webhook",
		Summary: "webhook URL secret rotated; the previous URL no longer accepts events"})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "live.webhook.rotated"), platformPath+"#webhook")
}

// saveWebhookRetention sets how long finished events are kept (days; 0: forever).
func (s *Server) saveWebhookRetention(c echo.Context) error {
	if s.Webhooks == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	applied, err1 := strconv.Atoi(strings.TrimSpace(c.FormValue("keep_applied_days")))
	failed, err2 := strconv.Atoi(strings.TrimSpace(c.FormValue("keep_failed_days")))
	r := webhooks.Retention{AppliedDays: applied, FailedDays: failed}
	var err error = webhooks.ErrRetention // a number that is not one is out of range too
	if err1 == nil && err2 == nil {
		err = s.Webhooks.SaveRetention(c.Request().Context(), r)
	}
	if text, refused := userMessage(c, err); refused {
		return redirectWithFlash(c, ui.FlashError, text, platformPath+"#webhook")
	}
	if err != nil {
		return err
	}
	s.audit(c, db.AuditEntry{Action: "webhook.retention", Object: "webhook",
		Summary: fmt.Sprintf("webhook events kept: applied %d days, failed %d days (0: forever)", applied, failed)})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "live.retention.saved"), platformPath+"#webhook")
}

// --- Settings → Webhook events ---

// showWebhookEvents lists the stored events newest first, by state, a
// page at a time (keyset: ?before=<id>).
func (s *Server) showWebhookEvents(c echo.Context) error {
	if s.Webhooks == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
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
	rows, err := s.Store.ListWebhookEvents(ctx, f)
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
	counts, err := s.Store.WebhookCounts(ctx)
	if err != nil {
		return err
	}
	for _, st := range live.States {
		v.Counts = append(v.Counts, live.StateCount{State: st, Count: counts[st]})
		if st == db.EventUnknown || st == db.EventFailed {
			v.Requeueable += counts[st]
		}
	}
	v.Rejected = s.Webhooks.Rejected()
	return s.render(c, http.StatusOK, View{Title: t(c, "live.events.title"), Section: "settings", Body: live.Events(v)})
}

func eventRow(r db.WebhookEventRow) live.EventRow {
	return live.EventRow{ID: r.ID, ReceivedAt: r.ReceivedAt, EventTime: r.EventTime, Type: r.EventType, Object: r.ObjectName,
		EntityID: r.EntityID, State: r.State, Reason: r.Reason, Duplicates: r.Duplicates, AppliedAt: r.AppliedAt}
}

// showWebhookEvent is one stored event: its body pretty-printed (as text:
// it is untrusted input) and how applying it ended.
func (s *Server) showWebhookEvent(c echo.Context) error {
	if s.Webhooks == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	r, err := s.Store.WebhookEvent(c.Request().Context(), id)
	if err != nil {
		return err // ErrNotFound → 404
	}
	v := live.EventView{Event: eventRow(r), Body: prettyBody(r.Body), BodySize: len(r.Body)}
	return s.render(c, http.StatusOK, View{Title: t(c, "live.event.title", "ID", id), Section: "settings", Body: live.Event(v)})
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
func (s *Server) requeueWebhookEvents(c echo.Context) error {
	if s.Webhooks == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
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
	n, err := s.Store.RequeueWebhookEvents(ctx, ids)
	if err != nil {
		return err
	}
	s.Webhooks.Kick()
	summary := fmt.Sprintf("%d webhook events queued to apply again", n)
	if all {
		summary += " (all unknown and failed)"
	} else if len(ids) <= 20 {
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = strconv.FormatInt(id, 10)
		}
		summary += " (ids " + strings.Join(parts, ", ") + ")"
	}
	s.audit(c, db.AuditEntry{Action: "webhook.requeue", Object: "webhook", Summary: summary})
	if n == 0 {
		return redirectWithFlash(c, ui.FlashInfo, t(c, "live.requeue.nothing"), back)
	}
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "live.requeue.done", "Count", state(c).loc.Number(n)), back)
}
