package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/platform"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// verify runs "Verify answers" as an administrator confirms it, and
// returns the Platform page it lands on.
func verify(t *testing.T, admin *client) page {
	t.Helper()
	rec := admin.post("/settings/platform/verify", url.Values{"confirm": {"1"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/settings/platform#verify" {
		t.Fatalf("verify: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	return parsePage(t, admin.get("/settings/platform").Body.String())
}

func callsOf(sb *sandbox.Running) map[string]int {
	out := map[string]int{}
	for _, e := range jing.DefaultCatalog().All() {
		out[e.Key] = sb.CallsToday(e.Key)
	}
	return out
}

func TestVerifyAnswersShowsWhatItWillSpendFirstThenTheReport(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("root", db.RoleAdmin)
	h.addUser("mia", db.RoleMarketer)
	admin, mia := h.login("root"), h.login("mia")
	sb := rig.sandbox()

	p := parsePage(t, admin.get("/settings/platform").Body.String())
	if !p.has("verify-card") || !p.has("verify-never") || !p.has("verify-start") {
		t.Fatal("no Verify answers card, or it claims a report")
	}
	before := callsOf(sb)

	// The confirmation step: every read-only endpoint with its call and
	// today's count against its quota; the writes never called. Asking
	// for it calls nothing.
	plan := parsePage(t, admin.get("/settings/platform/verify", htmx()).Body.String())
	reads := platform.ReadOnlyEndpoints()
	if rows := plan.all("plan-row"); len(rows) != len(reads) {
		t.Fatalf("%d plan rows, want %d", len(rows), len(reads))
	}
	// No SMS send yet: sms.send_detail has nothing to read, so one call less.
	if got := plan.attr("verify-plan", "data-calls"); got != "27" || plan.attr("verify-writes", "data-count") != "16" {
		t.Fatalf("plan: %s calls, %s writes", got, plan.attr("verify-writes", "data-count"))
	}
	if !strings.Contains(plan.text("verify-plan-summary"), "27 次调用") || !plan.has("verify-confirm") {
		t.Fatalf("summary %q", plan.text("verify-plan-summary"))
	}
	for _, row := range plan.all("plan-row") {
		if attrOf(row, "data-endpoint") == "members.list" && !strings.Contains(nodeText(row), "0 / 10,000") {
			t.Errorf("members.list's plan row: %q", nodeText(row))
		}
	}
	// Without script the plan comes in the page; a post without the
	// confirmation shows it again. Neither calls anything.
	if p := parsePage(t, admin.get("/settings/platform/verify").Body.String()); !p.has("verify-plan") || !p.has("platform-connection") {
		t.Fatal("the plan without script is not in the page")
	}
	if p := parsePage(t, admin.post("/settings/platform/verify", nil).Body.String()); !p.has("verify-plan") || p.has("verify-report") {
		t.Fatal("an unconfirmed post did not show the plan")
	}
	if after := callsOf(sb); after["members.list"] != before["members.list"] || after["oauth.token"] != before["oauth.token"] {
		t.Fatal("the plan called the platform")
	}
	// Administrators only.
	if rec := mia.get("/settings/platform/verify"); rec.Code != http.StatusForbidden {
		t.Fatalf("marketer, plan: %d", rec.Code)
	}
	if rec := mia.post("/settings/platform/verify", url.Values{"confirm": {"1"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("marketer, verify: %d", rec.Code)
	}

	report := verify(t, admin)
	if report.attr("verify-report", "data-problems") != "0" || !report.has("verify-token-note") {
		t.Fatalf("report: %s problems", report.attr("verify-report", "data-problems"))
	}
	rows := report.all("verify-row")
	if len(rows) != len(reads) {
		t.Fatalf("%d report rows, want %d", len(rows), len(reads))
	}
	for _, row := range rows {
		want := "understood"
		if attrOf(row, "data-endpoint") == "sms.send_detail" {
			want = "skipped"
		}
		if got := attrOf(row, "data-status"); got != want {
			t.Errorf("%s: %s, want %s (%s)", attrOf(row, "data-endpoint"), got, want, nodeText(row))
		}
	}
	if !strings.Contains(report.text("verify-when"), "已于") {
		t.Errorf("when: %q", report.text("verify-when"))
	}
	after := callsOf(sb)
	for _, e := range jing.DefaultCatalog().All() {
		switch {
		case e.Write && after[e.Key] != before[e.Key]:
			t.Errorf("the verification called %s, a write", e.Key)
		case !e.Write && e.Key != "sms.send_detail" && !strings.HasPrefix(e.Key, "oauth.") && after[e.Key]-before[e.Key] != 1:
			t.Errorf("%s called %d times, want once", e.Key, after[e.Key]-before[e.Key])
		}
	}
	if h.countAudit("platform.verify", db.OutcomeOK) != 1 {
		t.Fatal("the verification is not in the audit log")
	}
}

func TestTheVerifyBannerIsForAdminsAndGoesAfterACleanVerification(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("root", db.RoleAdmin)
	h.addUser("mia", db.RoleMarketer)
	admin, mia := h.login("root"), h.login("mia")
	setQuirks(t, rig.sandbox(), "items-renamed=crowds.list")

	report := verify(t, admin)
	if report.attr("verify-report", "data-problems") != "1" {
		t.Fatalf("problems: %s", report.attr("verify-report", "data-problems"))
	}
	for _, row := range report.all("verify-row") {
		if attrOf(row, "data-endpoint") == "crowds.list" &&
			(attrOf(row, "data-status") != "not_understood" || attrOf(row, "data-field") != "items" || !strings.Contains(nodeText(row), "crowds.list")) {
			t.Fatalf("crowds.list's row: %s %s %q", attrOf(row, "data-status"), attrOf(row, "data-field"), nodeText(row))
		}
	}

	// Administrators: a banner on every page, naming the endpoint.
	for _, path := range []string{"/settings/account", "/crowds", "/jobs"} {
		p := parsePage(t, admin.get(path).Body.String())
		if p.attr("verify-banner", "data-endpoints") != "crowds.list" || !p.has("verify-banner-link") {
			t.Errorf("admin %s: banner %q", path, p.attr("verify-banner", "data-endpoints"))
		}
	}
	// Everyone, where they would act on crowds: the crowd list and the
	// import wizard say which endpoint failed.
	for _, path := range []string{"/crowds", "/imports/new"} {
		p := parsePage(t, mia.get(path).Body.String())
		if p.has("verify-banner") {
			t.Errorf("marketer %s: the administrators' banner", path)
		}
		lines := p.all("feature-warning-endpoint")
		if !p.has("feature-warning") || len(lines) != 1 || attrOf(lines[0], "data-endpoint") != "crowds.list" ||
			attrOf(lines[0], "data-status") != "not_understood" || !strings.Contains(p.text("feature-warning"), "管理员") {
			t.Errorf("marketer %s: warning %q", path, p.text("feature-warning"))
		}
	}
	if p := parsePage(t, mia.get("/settings/account").Body.String()); p.has("feature-warning") || p.has("verify-banner") {
		t.Error("a page of no feature warns the marketer")
	}

	setQuirks(t, rig.sandbox())
	if report := verify(t, admin); report.attr("verify-report", "data-problems") != "0" {
		t.Fatal("the clean verification found problems")
	}
	for _, path := range []string{"/settings/account", "/crowds"} {
		if p := parsePage(t, admin.get(path).Body.String()); p.has("verify-banner") || p.has("feature-warning") {
			t.Errorf("admin %s: still warned after a clean verification", path)
		}
	}
	if p := parsePage(t, mia.get("/imports/new").Body.String()); p.has("feature-warning") {
		t.Error("marketer: still warned after a clean verification")
	}
}

func TestTheLeadPagesSayWhenTheirEndpointsFailedVerification(t *testing.T) {
	t.Parallel()
	h, rig, mia, bt, _ := boardAsMarketer(t)
	h.addUser("root", db.RoleAdmin)
	admin := h.login("root")
	setQuirks(t, rig.ref.sandbox(), "json-404=leads.query")
	verify(t, admin)
	setQuirks(t, rig.ref.sandbox())

	ls, _, err := h.store.ListLeads(context.Background(), db.LeadFilter{BusinessType: bt, Limit: 1})
	if err != nil || len(ls) == 0 {
		t.Fatal(err)
	}
	for _, path := range []string{"/leads/board", "/leads/list", leadsview.EditPath(ls[0].UUID)} {
		p := parsePage(t, mia.get(path).Body.String())
		lines := p.all("feature-warning-endpoint")
		if len(lines) != 1 || attrOf(lines[0], "data-endpoint") != "leads.query" || attrOf(lines[0], "data-status") != "not_found" ||
			p.attr("feature-warning", "data-feature") != "leads" {
			t.Errorf("%s: warning %q", path, p.text("feature-warning"))
		}
	}
	// The administrator's warning leads to the report.
	if p := parsePage(t, admin.get("/leads/board").Body.String()); !p.has("feature-warning") || !p.has("verify-banner") ||
		p.attr("verify-banner-link", "href") != "/settings/platform#verify" {
		t.Error("the administrator is not led to the report")
	}
}
