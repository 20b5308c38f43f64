package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
	accountsview "github.com/jingdesk/jingdesk/templates/accounts"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// accountsFixture gives three leads of the copy an account: two name A1,
// which a webhook delivered, one names A2, which only that lead names.
func accountsFixture(t *testing.T) (*harness, *boardRig, []db.Lead, string) {
	h, rig := newBoardHarness(t)
	ctx := context.Background()
	ls, _, err := h.store.ListLeads(ctx, db.LeadFilter{Limit: 3, Sort: "created"})
	if err != nil || len(ls) < 3 {
		t.Fatalf("leads: %v %v", len(ls), err)
	}
	for i, acc := range []string{"A1", "A1", "A2"} {
		ls[i].Fields = []byte(`{"account_id":"` + acc + `"}`)
		ls[i].UpdatedAt++
	}
	if err := h.store.UpsertLeads(ctx, ls); err != nil {
		t.Fatal(err)
	}
	owner := ls[0].Owner
	id, _, err := h.store.StoreWebhookEvent(ctx, db.NewWebhookEvent{DedupKey: "acc-a1", EventType: "object_create", ObjectName: "account",
		EntityID: "A1", Body: "{}", State: db.EventPending})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.ApplyObjectEvent(ctx, db.ObjectEvent{EventID: id, Object: "account", UUID: "A1", At: 1_789_000_000, Tie: "acc-a1",
		Create: true, Set: map[string]any{"name": "苏州恒瑞精密制造有限公司", "owner": owner, "mobile": "13912345678"}}); err != nil {
		t.Fatal(err)
	}
	return h, rig, ls, owner
}

// The list holds the delivered account by name and the one only leads
// name as 未知（id）, each saying where it is known from; search and the
// owner filter narrow it; the account pages say how fresh they are, list
// the leads, and mask contact data for viewers; the lead page links to
// its account.
func TestAccountsListAndPages(t *testing.T) {
	t.Parallel()
	h, _, ls, owner := accountsFixture(t)
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")

	// The sandbox's leads name accounts of their own, never delivered.
	p := parsePage(t, c.get(accountsview.ListPath).Body.String())
	rows := p.all("account-row")
	if len(rows) < 2 || attrOf(rows[0], "data-uuid") != "A1" {
		t.Fatalf("%d rows; the delivered account is not first", len(rows))
	}
	byID := map[string]page{}
	for _, r := range rows {
		byID[attrOf(r, "data-uuid")] = page{t: t, doc: r}
	}
	if got := byID["A1"].text("account-name"); got != "苏州恒瑞精密制造有限公司" {
		t.Fatalf("A1 named %q", got)
	}
	if got := byID["A1"].text("account-leads"); got != "2" {
		t.Fatalf("A1 has %s leads", got)
	}
	if got := byID["A2"].text("account-name"); got != "未知（A2）" {
		t.Fatalf("A2 named %q", got)
	}
	if got := byID["A2"].text("account-known"); got != "仅在线索上见到 id" {
		t.Fatalf("A2 known from %q", got)
	}

	for q, want := range map[string]int{"?q=" + url.QueryEscape("恒瑞"): 1, "?q=A2": 1, "?q=nothing": 0, "?owner=" + owner: 1, "?owner=nobody": 0} {
		if n := len(parsePage(t, c.get(accountsview.ListPath+q).Body.String()).all("account-row")); n != want {
			t.Fatalf("%s: %d rows, want %d", q, n, want)
		}
	}

	a1 := parsePage(t, c.get(accountsview.Path("A1")).Body.String())
	if a1.attr("account-freshness", "data-source") != "webhook" || a1.text("account-title") != "苏州恒瑞精密制造有限公司" {
		t.Fatalf("A1 page: %q %q", a1.attr("account-freshness", "data-source"), a1.text("account-title"))
	}
	if n := len(a1.all("account-lead")); n != 2 {
		t.Fatalf("A1 lists %d leads", n)
	}
	for _, f := range a1.all("account-field") {
		if attrOf(f, "data-field") == "mobile" && nodeText(f) != leads.Mask("13912345678") {
			t.Fatalf("a viewer sees the account's mobile as %q", nodeText(f))
		}
	}
	a2 := parsePage(t, c.get(accountsview.Path("A2")).Body.String())
	if a2.attr("account-freshness", "data-source") != "leads" || a2.text("account-title") != "未知（A2）" || len(a2.all("account-lead")) != 1 {
		t.Fatalf("A2 page: %q %q", a2.attr("account-freshness", "data-source"), a2.text("account-title"))
	}
	wantStatus(t, c.get(accountsview.Path("nobody-knows")), http.StatusNotFound)

	lp := parsePage(t, c.get(leadsview.LeadPath(ls[0].UUID)).Body.String())
	if lp.attr("lead-field-link", "href") != accountsview.Path("A1") || lp.text("lead-field-link") != "苏州恒瑞精密制造有限公司" {
		t.Fatalf("所属客户 shows %q linking %q", lp.text("lead-field-link"), lp.attr("lead-field-link", "href"))
	}
	lp = parsePage(t, c.get(leadsview.LeadPath(ls[2].UUID)).Body.String())
	if lp.text("lead-field-link") != "未知（A2）" {
		t.Fatalf("所属客户 of an undelivered account: %q", lp.text("lead-field-link"))
	}
}
