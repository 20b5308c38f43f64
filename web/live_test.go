package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// Settings → Platform shows administrators the full receiving URL, with
// the secret, and the counts; nobody else sees the secret anywhere.
func TestLiveWebhookCardShowsTheURLToAdminsOnly(t *testing.T) {
	t.Parallel()
	h, rig := newLiveHarness(t)
	sec := rig.secret()
	rig.deliver("wrong", []byte(`{}`))
	rig.deliver(sec, []byte(`{broken`))
	h.addUser("ada", db.RoleAdmin)
	h.addUser("mia", db.RoleMarketer)
	admin := h.login("ada")
	body := admin.get("/settings/platform").Body.String()
	if !hasAttrOn(body, "webhook-url", `value="http://example.com/webhooks/jing/`+sec+`"`) {
		t.Fatalf("the card does not show the URL with the secret:\n%s", excerpt(body, "webhook-card"))
	}
	p := parsePage(t, body)
	card := p.in(p.one("webhook-card"))
	failed := card.where("dd", "data-state", "failed")
	if card.text("webhook-rejected") != "1" || len(failed) != 1 || len(under(failed[0]).where("a", "href", "/settings/webhooks?state=failed")) != 1 || nodeText(failed[0]) != "1" {
		t.Fatalf("the card does not count the rejected and failed deliveries:\n%s", excerpt(body, "webhook-card"))
	}
	if card.attr("webhook-copy", "data-copy-target") != "webhook-url" || len(card.where("form", "action", "/settings/platform/webhook/rotate")) != 1 || !card.linksTo("/settings/webhooks") {
		t.Fatalf("the card lacks its copy button, its rotate form or its link to the events:\n%s", excerpt(body, "webhook-card"))
	}
	mia := h.login("mia")
	if rec := mia.get("/settings/platform"); rec.Code != http.StatusForbidden || appearsInBytes(rec.Body.String(), sec) {
		t.Fatalf("a marketer on Settings → Platform: %d", rec.Code)
	}
	for _, p := range []string{"/leads/board", "/settings/webhooks", "/leads/changes?after=0"} {
		if appearsInBytes(mia.get(p).Body.String(), sec) || appearsInBytes(admin.get(p).Body.String(), sec) {
			t.Fatalf("the secret shows on %s", p)
		}
	}
}

// Rotating makes a new secret at once: the old URL is a 404, the new one
// takes events; the audit log records the rotation without the value.
func TestLiveRotateWebhookSecret(t *testing.T) {
	t.Parallel()
	h, rig := newLiveHarness(t)
	old := rig.secret()
	h.addUser("ada", db.RoleAdmin)
	admin := h.login("ada")
	admin.get("/settings/platform")
	rec := admin.post("/settings/platform/webhook/rotate", nil)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/settings/platform") {
		t.Fatalf("rotate: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	fresh := rig.secret()
	if fresh == old || len(fresh) < 20 {
		t.Fatalf("secret not rotated: %q → %q", old, fresh)
	}
	if rec := rig.deliver(old, []byte(`{}`)); rec.Code != http.StatusNotFound {
		t.Fatalf("old secret: %d, want 404", rec.Code)
	}
	if rec := rig.deliver(fresh, []byte(`{"event_type":"add_omni_user_success","create_time":5,"extra_data":{}}`)); rec.Code != http.StatusOK {
		t.Fatalf("new secret: %d", rec.Code)
	}
	page := admin.get("/settings/platform").Body.String()
	if !strings.HasSuffix(parseHTML(page).attr("webhook-url", "value"), "/webhooks/jing/"+fresh) || appearsInBytes(page, old) {
		t.Fatal("the card does not show the new URL only")
	}
	if n := h.countAudit("webhook.rotate", db.OutcomeOK); n != 1 {
		t.Fatalf("%d webhook.rotate audit entries", n)
	}
	es, _ := h.store.ListAudit(context.Background(), db.AuditFilter{Limit: 500})
	for _, e := range es {
		if strings.Contains(e.Summary+e.Object, old) || strings.Contains(e.Summary+e.Object, fresh) {
			t.Fatalf("the audit log holds the secret: %+v", e)
		}
	}
	// A marketer cannot rotate.
	h.addUser("mia", db.RoleMarketer)
	mia := h.login("mia")
	mia.get("/leads/board")
	if rec := mia.post("/settings/platform/webhook/rotate", nil); rec.Code != http.StatusForbidden || rig.secret() != fresh {
		t.Fatalf("a marketer rotated: %d", rec.Code)
	}
}

// The events page lists newest first, filters by state, and shows one
// event's body as text (it is untrusted).
func TestLiveWebhookEventsPage(t *testing.T) {
	t.Parallel()
	h, rig := newLiveHarness(t)
	bt := rig.resolver().DefaultBusinessType("lead")
	pipe := rig.resolver().Statuses(bt)
	l := rig.leadIn(bt, pipe[0].ID)
	rig.deliver(rig.secret(), []byte(`{"event_type":"object_update","x":"<script>alert(1)</script>"`))
	rig.deliver(rig.secret(), rig.statusEvent(l.UUID, pipe[1].ID))
	rig.deliver(rig.secret(), []byte(`{"event_type":"object_frobnicate","create_time":7,"extra_data":{"object_name":"lead","entity_id":"`+l.UUID+`"}}`))
	rig.apply()
	h.addUser("ada", db.RoleAdmin)
	admin := h.login("ada")

	body := admin.get("/settings/webhooks").Body.String()
	states := testIDAttrs(body, "webhook-row", "data-state")
	if len(states) != 3 || states[0] != db.EventUnknown || states[1] != db.EventApplied || states[2] != db.EventFailed {
		t.Fatalf("rows newest first: %v", states)
	}
	if !hasTestIDText(body, "webhook-row", "unknown event type object_frobnicate") || !hasTestIDText(body, "webhook-row", "object_update_status") {
		t.Fatal("the table lacks the type or the reason")
	}
	body = admin.get("/settings/webhooks?state=failed").Body.String()
	states, ids := testIDAttrs(body, "webhook-row", "data-state"), testIDAttrs(body, "webhook-row", "data-id")
	if len(states) != 1 || states[0] != db.EventFailed {
		t.Fatalf("filtered by failed: %v", states)
	}
	one := admin.get("/settings/webhooks/" + ids[0])
	if one.Code != http.StatusOK {
		t.Fatalf("event page: %d", one.Code)
	}
	page := one.Body.String()
	if appearsInBytes(page, "<script>alert(1)") || !strings.Contains(testIDText(page, "webhook-body"), "<script>alert(1)</script>") {
		t.Fatalf("the body is not escaped:\n%s", excerpt(page, "webhook-body"))
	}
	if !hasTestID(page, "webhook-event-reason") {
		t.Fatal("the event page lacks the reason")
	}
	if admin.get("/settings/webhooks/999999").Code != http.StatusNotFound || admin.get("/settings/webhooks/x").Code != http.StatusNotFound {
		t.Fatal("an unknown event is not a 404")
	}
	// Keyset paging: 60 more events make a second page.
	for i := range 60 {
		rig.deliver(rig.secret(), []byte(`{"event_type":"add_omni_user_success","create_time":`+itoa64(int64(100+i))+`,"extra_data":{}}`))
	}
	first := admin.get("/settings/webhooks").Body.String()
	if n := countTestID(first, "webhook-row"); n != webhookPage {
		t.Fatalf("first page %d rows", n)
	}
	older := testIDAttrs(first, "webhook-older", "href")
	if len(older) != 1 {
		t.Fatal("no link to older events")
	}
	second := admin.get(older[0]).Body.String()
	if n := countTestID(second, "webhook-row"); n != 63-webhookPage {
		t.Fatalf("second page %d rows", n)
	}
	h.addUser("mia", db.RoleMarketer)
	if rec := h.login("mia").get("/settings/webhooks"); rec.Code != http.StatusForbidden {
		t.Fatalf("a marketer on the events page: %d", rec.Code)
	}
}

// "Apply again" puts a failed or unknown event back in the queue, audited.
func TestLiveRequeueWebhookEvents(t *testing.T) {
	t.Parallel()
	h, rig := newLiveHarness(t)
	rig.deliver(rig.secret(), []byte(`{broken`))
	rig.deliver(rig.secret(), []byte(`{"event_type":"object_frobnicate","create_time":7,"extra_data":{"object_name":"lead","entity_id":"u1"}}`))
	rig.apply()
	failed, unknown := rig.events(db.EventFailed), rig.events(db.EventUnknown)
	if len(failed) != 1 || len(unknown) != 1 {
		t.Fatalf("failed %d unknown %d", len(failed), len(unknown))
	}
	h.addUser("ada", db.RoleAdmin)
	admin := h.login("ada")
	if !hasTestID(admin.get("/settings/webhooks").Body.String(), "requeue-all") {
		t.Fatal("no Apply again for all")
	}
	rec := admin.post("/settings/webhooks/requeue", url.Values{"id": {itoa64(failed[0].ID)}, "next": {"/settings/webhooks?state=failed"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/settings/webhooks?state=failed" {
		t.Fatalf("requeue: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	if ev, _ := h.store.WebhookEvent(context.Background(), failed[0].ID); ev.State != db.EventPending {
		t.Fatalf("requeued event is %s", ev.State)
	}
	if ev, _ := h.store.WebhookEvent(context.Background(), unknown[0].ID); ev.State != db.EventUnknown {
		t.Fatalf("the other event is %s", ev.State)
	}
	rig.apply() // still unreadable: failed again, with its reason
	if ev, _ := h.store.WebhookEvent(context.Background(), failed[0].ID); ev.State != db.EventFailed || ev.Reason == "" {
		t.Fatalf("re-applied: %+v", ev)
	}
	rec = admin.post("/settings/webhooks/requeue", url.Values{"all": {"1"}, "next": {"https://evil.example/"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/settings/webhooks" {
		t.Fatalf("requeue all: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	if n := len(rig.events(db.EventPending)); n != 2 {
		t.Fatalf("%d pending after all=1", n)
	}
	if n := h.countAudit("webhook.requeue", db.OutcomeOK); n != 2 {
		t.Fatalf("%d webhook.requeue audit entries", n)
	}
	if rec := admin.post("/settings/webhooks/requeue", url.Values{"id": {"x"}}); rec.Code != http.StatusBadRequest {
		t.Fatalf("a bad id: %d", rec.Code)
	}
}

// /leads/changes: a starting point, then the leads written after it; for
// the board, the card and every column's count under its filter.
func TestLiveLeadChangesForTheBoard(t *testing.T) {
	t.Parallel()
	h, rig := newLiveHarness(t)
	bt := rig.resolver().DefaultBusinessType("lead")
	pipe := rig.resolver().Statuses(bt)
	l := rig.leadIn(bt, pipe[0].ID)
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	board := c.get("/leads/board").Body.String()
	seq := parseHTML(board).attr("board", "data-live-seq")
	if !isNumber(seq) {
		t.Fatalf("the board has no data-live-seq: %q", seq)
	}
	m := []string{"", seq}
	base := changesJSON(t, c, "/leads/changes")
	if itoa64(base.Last) != m[1] || len(base.Leads) != 0 {
		t.Fatalf("baseline %+v, board at %s", base, m[1])
	}
	if rec := c.get("/leads/changes?after=-3"); rec.Code != http.StatusBadRequest {
		t.Fatalf("after=-3: %d", rec.Code)
	}
	if ans := changesJSON(t, c, "/leads/changes?after="+m[1]); len(ans.Leads) != 0 || ans.Last != base.Last {
		t.Fatalf("nothing changed, yet %+v", ans)
	}
	rig.deliver(rig.secret(), rig.statusEvent(l.UUID, pipe[1].ID))
	rig.apply()
	ans := changesJSON(t, c, "/leads/changes?board=1&business_type="+url.QueryEscape(bt)+"&after="+m[1])
	if len(ans.Leads) != 1 || ans.Leads[0].UUID != l.UUID || !ans.Leads[0].OnBoard || ans.Leads[0].Status != pipe[1].ID {
		t.Fatalf("changes: %+v", ans)
	}
	card := ans.Leads[0].Card
	if !hasAttrOn(card, "board-card", `id="`+leadsview.CardID(l.UUID)+`"`) || !hasAttrOn(card, "board-card", `data-status="`+pipe[1].ID+`"`) ||
		len(parseHTML(card).allWith("board-card", "data-movable", "*")) > 0 {
		t.Fatalf("card for a viewer: %s", card)
	}
	stored, _ := h.store.CountLeadsByStatus(context.Background(), db.LeadFilter{BusinessType: bt})
	if ans.Counts[pipe[1].ID] != stored[pipe[1].ID] || ans.Counts[pipe[0].ID] != stored[pipe[0].ID] || ans.Total == nil || ans.TotalText == "" {
		t.Fatalf("counts %v total %v, store %v", ans.Counts, ans.Total, stored)
	}
	// Under a filter the lead does not match, it is not on the board.
	ans = changesJSON(t, c, "/leads/changes?board=1&business_type="+url.QueryEscape(bt)+"&q=zzzz-no-such&after="+m[1])
	if len(ans.Leads) != 1 || ans.Leads[0].OnBoard || ans.Leads[0].Card != "" || ans.Counts[pipe[1].ID] != 0 {
		t.Fatalf("filtered changes: %+v", ans)
	}
	// The lead page starts from the seq and its revision; after the change
	// the revision differs.
	page := c.get(leadsview.LeadPath(l.UUID)).Body.String()
	if !hasAttrOn(page, "lead-live-notice", `data-live-lead="`+l.UUID+`"`) || !isNumber(parseHTML(page).attr("lead-live-notice", "data-live-seq")) || !hasAttrOn(page, "lead-live-notice", `data-live-rev="`+ans.Leads[0].Rev+`"`) {
		t.Fatalf("lead page lacks its live notice:\n%s", excerpt(page, "lead-live-notice"))
	}
	if anon := h.anon().get("/leads/changes?after=0"); anon.Code == http.StatusOK {
		t.Fatal("anonymous changes")
	}
}

// excerpt is the element of a page with data-testid id, for failure messages.
func excerpt(body, id string) string {
	if n := parseHTML(body).all(id); len(n) > 0 {
		return outerHTML(n[0])
	}
	return "(no " + id + ")"
}
