package web

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/sends"
)

// A send waiting for approval is counted in the nav badge of those who
// may approve it (another marketer, an administrator), not of its author
// nor of a viewer, and listed on /sends/approvals; once approved, the
// badge and the list are empty again.
func TestApprovalsBadgeAndListPerRole(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	mia := sendsSetup(t, h, rig, sends.Settings{ConfirmTypeAbove: 1000, ApprovalAbove: 1})
	h.addUser("ned", db.RoleMarketer)
	h.addUser("ada", db.RoleAdmin)
	h.addUser("vic", db.RoleViewer)
	ned, ada, vic := h.login("ned"), h.login("ada"), h.login("vic")

	id, _ := mobilesDraft(t, mia, rig, 2)
	sid := strconv.FormatInt(id, 10)
	badge := func(c *client) string {
		t.Helper()
		p := parsePage(t, c.get("/jobs").Body.String())
		if !p.has("approvals-badge") {
			return "none"
		}
		return p.attr("approvals-badge", "data-count")
	}
	for name, c := range map[string]*client{"mia": mia, "ned": ned, "ada": ada} {
		if got := badge(c); got != "0" {
			t.Errorf("%s's badge before any confirmation: %s", name, got)
		}
	}
	mia.post("/sends/"+sid+"/confirm", url.Values{})
	if sd := sendState(t, h, id); sd.State != db.SendAwaitingApproval {
		t.Fatalf("state %s", sd.State)
	}

	want := map[string]string{"mia": "0", "ned": "1", "ada": "1", "vic": "none"}
	for name, c := range map[string]*client{"mia": mia, "ned": ned, "ada": ada, "vic": vic} {
		if got := badge(c); got != want[name] {
			t.Errorf("%s's badge: %s, want %s", name, got, want[name])
		}
	}
	if rec := vic.get("/sends/approvals"); rec.Code != http.StatusForbidden {
		t.Errorf("a viewer's approvals page: %d", rec.Code)
	}

	list := parsePage(t, ned.get("/sends/approvals").Body.String())
	forYou := within(list.one("approvals-for-you"), "approval-row")
	if len(forYou) != 1 || attrOf(forYou[0], "data-id") != sid || len(within(list.one("approvals-yours"), "approval-row")) != 0 {
		t.Fatalf("ned's list: %d for him", len(forYou))
	}
	own := parsePage(t, mia.get("/sends/approvals").Body.String())
	if len(within(own.one("approvals-for-you"), "approval-row")) != 0 || !own.has("approvals-none") {
		t.Error("the author is asked to approve her own send")
	}
	if yours := within(own.one("approvals-yours"), "approval-row"); len(yours) != 1 || attrOf(yours[0], "data-id") != sid {
		t.Error("the author's own send waiting for someone else is not listed")
	}

	if rec := ned.post("/sends/"+sid+"/approve", url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d", rec.Code)
	}
	if got := badge(ada); got != "0" {
		t.Errorf("the admin's badge after ned approved: %s", got)
	}
	if len(within(parsePage(t, ada.get("/sends/approvals").Body.String()).one("approvals-for-you"), "approval-row")) != 0 {
		t.Error("an approved send is still listed")
	}
}
