package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"golang.org/x/net/html"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// inputValues are the values of the inputs named name under n.
func inputValues(n *html.Node, name string) []string {
	var out []string
	if n.Type == html.ElementNode && n.Data == "input" && attrOf(n, "name") == name {
		out = append(out, attrOf(n, "value"))
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, inputValues(c, name)...)
	}
	return out
}

// "All N matching" previews the list's filter's leads as the server
// counts them now (not the page's), and says when the count changed
// since the user chose them; the rows checked on the page do not narrow it.
func TestLeadListBulkAllMatching(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	h.addUser("mia", db.RoleMarketer)
	mia := h.login("mia")
	bt := rig.resolver().DefaultBusinessType("lead")
	want, total, err := h.store.ListLeads(context.Background(), db.LeadFilter{BusinessType: bt, Limit: db.MaxLeadLimit})
	if err != nil || total < 3 {
		t.Fatalf("%d leads (%v)", total, err)
	}
	back := leadsview.ListURL(leadsview.ListFilter{Filter: leadsview.Filter{BusinessType: bt}})
	form := url.Values{"lead": {want[0].UUID}, "all_matching": {"1"}, "matching_seen": {strconv.Itoa(total)},
		"action": {"owner"}, "owner": {rig.resolver().Members(true)[0].ID}, "back": {back}}
	rec := mia.post(leadsview.BulkPreviewPath, form)
	wantStatus(t, rec, http.StatusOK)
	p := parsePage(t, rec.Body.String())
	if got := p.attr("bulk-count", "data-count"); got != strconv.Itoa(total) {
		t.Fatalf("the preview counts %s, want the filter's %d", got, total)
	}
	var sent, wantUUIDs []string
	sent = inputValues(p.doc, "lead")
	for _, l := range want {
		wantUUIDs = append(wantUUIDs, l.UUID)
	}
	slices.Sort(sent)
	slices.Sort(wantUUIDs)
	if !slices.Equal(sent, wantUUIDs) {
		t.Fatalf("the confirmation carries %d leads, want the filter's %d", len(sent), len(wantUUIDs))
	}
	if p.has("bulk-matching-changed") {
		t.Fatal("the preview says the count changed; it did not")
	}

	// Leads the user did not see arrived since: the preview says so.
	form.Set("matching_seen", strconv.Itoa(total-2))
	if p := parsePage(t, mia.post(leadsview.BulkPreviewPath, form).Body.String()); !p.has("bulk-matching-changed") {
		t.Fatal("the preview does not say the filter now matches more leads")
	}
}
