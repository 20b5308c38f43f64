package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

// auditPage loads an audit page and returns its body and the action codes listed, in order.
func auditPage(t *testing.T, c *client, path string) (string, []string) {
	t.Helper()
	rec := c.get(path)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, rec.Code)
	}
	body := rec.Body.String()
	codes := testIDTexts(body, "audit-action")
	if n := countTestID(body, "audit-row"); n != len(codes) {
		t.Fatalf("%d rows but %d action codes", n, len(codes))
	}
	return body, codes
}

func TestAuditLogShowsSignInsAndAccountChangesNewestFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	alice := h.addUser("alice", db.RoleViewer)
	admin.post(userURL(alice, "role"), url.Values{"role": {"marketer"}})
	body, codes := auditPage(t, admin, "/settings/audit")
	if len(codes) != 2 || codes[0] != "user.role" || codes[1] != "auth.login" {
		t.Fatalf("listed %v, want the role change, then the sign-in", codes)
	}
	for _, want := range []string{"Role changed", "Sign-in", "user:alice", "Role Viewer → Marketer", "192.0.2.10", "root"} {
		if !hasTestIDText(body, "audit-row", want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	if ok := parseHTML(body).allWith("audit-outcome", "class", "badge badge-success"); len(ok) == 0 || nodeText(ok[0]) != "OK" {
		t.Error("no entry marked OK")
	}
	es, _ := h.store.ListAudit(context.Background(), db.AuditFilter{Limit: 1})
	if es[0].RequestID == "" || !hasTestIDText(body, "audit-row", es[0].RequestID) {
		t.Error("request id not shown")
	}
}

func TestAuditFiltersByOutcomeActionGroupAndUsername(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, root := h.addEnglishAdmin("root")
	alice := h.addUser("alice", db.RoleViewer)
	h.signIn("alice", "not her password")                             // auth.login failed, as alice
	h.signIn("bob", "no such account")                                // auth.login failed, as bob
	admin.post(userURL(alice, "disable"), nil)                        // user.disable ok
	admin.post(userURL(root, "role"), url.Values{"role": {"viewer"}}) // user.role denied
	cases := []struct {
		query string
		want  []string
	}{
		{"?outcome=failed", []string{"auth.login", "auth.login"}},
		{"?outcome=denied", []string{"user.role"}},
		{"?action=user", []string{"user.role", "user.disable"}},
		{"?action=auth&outcome=ok", []string{"auth.login"}},
		{"?user=ALICE", []string{"auth.login"}},
		{"?user=bob&outcome=failed", []string{"auth.login"}},
		{"?action=setup", nil},
		// Values the form does not offer are ignored rather than matching nothing.
		{"?action=%25&outcome=maybe", []string{"user.role", "user.disable", "auth.login", "auth.login", "auth.login"}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			body, codes := auditPage(t, admin, "/settings/audit"+tc.query)
			if strings.Join(codes, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("listed %v, want %v", codes, tc.want)
			}
			if len(tc.want) == 0 && !hasTestID(body, "empty-state") {
				t.Fatal("no empty state when nothing matches")
			}
		})
	}
	// The filter form shows what was chosen.
	body, _ := auditPage(t, admin, "/settings/audit?action=user&outcome=denied&user=root")
	filter := parseHTML(body)
	for name, want := range map[string]string{"action": "user", "outcome": "denied"} {
		if sel := filter.where("select", "name", name); len(sel) != 1 || selectedValue(sel[0]) != want {
			t.Errorf("filter form does not show %s=%s chosen", name, want)
		}
	}
	if filter.inputValue("user") != "root" || filter.attr("audit-clear", "href") != "/settings/audit" || filter.text("audit-clear") != "Clear filters" {
		t.Errorf("filter form lacks the user or the way to clear it: %q, %q", filter.inputValue("user"), filter.text("audit-clear"))
	}
}

func TestAuditPagingWalksEveryEntryOnceAndKeepsTheFilter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	ctx := context.Background()
	for i := 0; i < 2*auditPageSize+7; i++ {
		outcome := db.OutcomeOK
		if i%2 == 0 {
			outcome = db.OutcomeFailed
		}
		if err := h.store.Audit(ctx, db.AuditEntry{Action: "user.test", Summary: fmt.Sprintf("entry %d", i), Outcome: outcome}); err != nil {
			t.Fatal(err)
		}
	}
	total := h.countAudit("", "")
	seen := map[string]bool{}
	path, pages := "/settings/audit", 0
	for path != "" {
		body, codes := auditPage(t, admin, html.UnescapeString(path))
		pages++
		if pages > 1 && !hasTestID(body, "audit-newest") {
			t.Fatal("a later page has no way back to the newest entries")
		}
		for _, m := range testIDTexts(body, "audit-summary") {
			if !strings.HasPrefix(m, "entry ") {
				continue
			}
			if seen[m] {
				t.Fatalf("%s shown twice", m)
			}
			seen[m] = true
		}
		if len(codes) > auditPageSize {
			t.Fatalf("page of %d rows", len(codes))
		}
		path = ""
		if older := testIDAttrs(body, "audit-older", "href"); len(older) == 1 {
			path = older[0]
		}
	}
	if pages != 3 || len(seen) != total-1 { // the sign-in is the one entry without "entry N"
		t.Fatalf("%d pages, %d entries seen of %d", pages, len(seen), total)
	}
	// The older link keeps the filter.
	body, codes := auditPage(t, admin, "/settings/audit?outcome=failed")
	older := testIDAttrs(body, "audit-older", "href")
	if len(codes) != auditPageSize || len(older) != 1 || !strings.Contains(older[0], "outcome=failed") {
		t.Fatalf("filtered first page: %d rows, older link %v", len(codes), older)
	}
	body, _ = auditPage(t, admin, older[0])
	if len(parseHTML(body).allWith("audit-outcome", "data-outcome", db.OutcomeOK)) > 0 || len(parseHTML(body).where("", "class", "badge badge-success")) > 0 {
		t.Fatal("the second filtered page holds entries outside the filter")
	}
}

func TestAuditLogEscapesHTMLFromUsers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	admin.post("/settings/users", url.Values{"username": {"<b>eve"}, "display_name": {"<script>alert(1)</script>"},
		"role": {"viewer"}, "password": {"a long enough password"}})
	h.signIn(`<img src=x onerror=alert(1)>`, "whatever password")
	h.store.Audit(context.Background(), db.AuditEntry{Action: "job.cancel", Summary: "<script>alert(2)</script>"})
	body, _ := auditPage(t, admin, "/settings/audit")
	for _, raw := range []string{"<b>eve", "<script>alert(2)", "<img src=x"} {
		if appearsInBytes(body, raw) {
			t.Errorf("%q reached the page unescaped", raw)
		}
	}
	for _, text := range []string{"user:<b>eve", "<script>alert(2)</script>", "<img src=x onerror=alert(1)>"} {
		if !hasTestIDText(body, "audit-row", text) {
			t.Errorf("%q not shown as text", text)
		}
	}
}

func TestAuditLogIsForAdministratorsOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("mia", db.RoleMarketer)
	if rec := h.login("mia").get("/settings/audit"); rec.Code != http.StatusForbidden {
		t.Fatalf("marketer read the audit log: %d", rec.Code)
	}
	if rec := h.anon().get("/settings/audit"); rec.Code != http.StatusSeeOther {
		t.Fatalf("anonymous visitor: %d", rec.Code)
	}
}
