package web

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

// withPlatform gives the server a platform manager on the harness's store:
// with no credentials, a small embedded sandbox. box receives the secret box.
func withPlatform(t testing.TB, box **secret.Box, edit ...func(*platform.Config)) harnessOption {
	return func(d *Deps) {
		key := make([]byte, 32)
		rand.Read(key)
		b, err := secret.NewBox(key)
		if err != nil {
			t.Fatal(err)
		}
		cfg := platform.Config{Store: d.Store, Box: b, Logger: testkit.Quiet(),
			Sandbox: platform.SandboxOptions{Seed: 1, Persons: 200, Leads: 40},
			Tune: func(c *jing.Config) {
				c.Retry = jing.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
			}}
		for _, e := range edit {
			e(&cfg)
		}
		m, err := platform.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		d.Platform, d.CatalogFile = m, "/srv/jingdesk-data/catalog.json"
		if box != nil {
			*box = b
		}
	}
}

// otherPlatform is a sandbox started on its own, with credentials of its
// own: to the console it is a real platform.
func otherPlatform(t *testing.T, appID, appSecret string) *sandbox.Running {
	t.Helper()
	sb, err := sandbox.Start(sandbox.Config{AppID: appID, AppSecret: appSecret, Seed: 3, Persons: 150, Leads: 30}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close(context.Background()) })
	return sb
}

func platformAdmin(t *testing.T, opts ...harnessOption) (*harness, *client) {
	h := newHarness(t, opts...)
	h.addUser("root", db.RoleAdmin)
	return h, h.login("root")
}

func saveCredentials(t *testing.T, c *client, base, appID, appSecret string) {
	t.Helper()
	rec := c.post("/settings/platform", url.Values{"base_url": {base}, "app_id": {appID}, "app_secret": {appSecret}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/settings/platform" {
		t.Fatalf("save: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
}

func TestPlatformSettingsAreForAdministrators(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t, withPlatform(t, nil))
	h.addUser("mia", db.RoleMarketer)
	mia := h.login("mia")
	if rec := mia.get("/settings/platform"); rec.Code != http.StatusForbidden {
		t.Fatalf("marketer: %d", rec.Code)
	}
	if parseHTML(mia.get("/settings/account").Body.String()).has("settings-tab-platform") {
		t.Fatal("a marketer sees the Platform tab")
	}
	rec := admin.get("/settings/platform")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !hasTestID(body, "platform-mode") || !hasTestIDText(body, "platform-mode", "沙箱") {
		t.Fatalf("admin: %d\n%s", rec.Code, body)
	}
	if parseHTML(body).attr("settings-tab-platform", "href") != "/settings/platform" || !hasTestIDText(body, "endpoint-check-card", "/srv/jingdesk-data/catalog.json") {
		t.Fatal("no Platform tab, or the catalog file is not named")
	}
}

func TestTheSecretIsSealedAndNeverRenderedBack(t *testing.T) {
	t.Parallel()
	var box *secret.Box
	h, admin := platformAdmin(t, withPlatform(t, &box))
	const secretValue = "s3cr3t-Value-7Qx"
	pf := otherPlatform(t, "app-9", secretValue)
	if body := admin.get("/settings/platform").Body.String(); !hasTestIDText(body, "secret-state", "未设置") {
		t.Fatal("the secret is not shown as not set")
	}
	saveCredentials(t, admin, pf.URL, "app-9", secretValue)
	page := admin.get("/settings/platform").Body.String()
	if appearsInBytes(page, secretValue) {
		t.Fatal("the page renders the secret")
	}
	if !hasTestID(page, "secret-state") || !hasTestIDText(page, "secret-state", "已设置") || !hasTestIDText(page, "platform-connection", "app-9") {
		t.Fatal("the page does not say the secret is set")
	}
	// A form refused for another field does not echo the typed secret either.
	rec := admin.post("/settings/platform", url.Values{"base_url": {"ftp://x"}, "app_id": {"app-9"}, "app_secret": {secretValue + "-new"}})
	if rec.Code != http.StatusUnprocessableEntity || appearsInBytes(rec.Body.String(), secretValue) {
		t.Fatalf("refused form: %d, secret echoed: %v", rec.Code, appearsInBytes(rec.Body.String(), secretValue))
	}
	raw, err := sql.Open("sqlite", "file:"+h.store.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var sealed string
	if err := raw.QueryRow(`SELECT value FROM settings WHERE key = 'platform.app_secret'`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, secretValue) {
		t.Fatal("the secret is stored in clear")
	}
	if plain, err := box.Open(sealed); err != nil || plain != secretValue {
		t.Fatalf("the stored secret does not open to the saved one: %v", err)
	}
	entries, _ := h.store.ListAudit(context.Background(), db.AuditFilter{Action: "platform.settings"})
	if len(entries) != 1 || entries[0].Username != "root" || strings.Contains(entries[0].Summary, secretValue) ||
		!strings.Contains(entries[0].Summary, "audit.summary.secret_replaced") {
		t.Fatalf("audit entries %+v", entries)
	}
}

func TestTestConnectionSucceedsAndFailsInTheUsersLanguage(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t, withPlatform(t, nil))
	rec := admin.post("/settings/platform/test", nil, htmx())
	if rec.Code != http.StatusOK || !hasAttrOn(rec.Body.String(), "platform-test-result", `data-ok="true"`) || !hasTestIDText(rec.Body.String(), "platform-test-result", "30 名成员") {
		t.Fatalf("test against the embedded sandbox: %d\n%s", rec.Code, rec.Body.String())
	}
	pf := otherPlatform(t, "app-t", "right-secret")
	saveCredentials(t, admin, pf.URL, "app-t", "wrong-secret")
	admin.post("/lang", url.Values{"lang": {"en"}, "next": {"/settings/platform"}})
	rec = admin.post("/settings/platform/test", nil, htmx())
	body := rec.Body.String()
	if !hasAttrOn(body, "platform-test-result", `data-ok="false"`) || !hasTestIDText(body, "platform-test-result", "The platform refused this console's credentials") {
		t.Fatalf("wrong secret: %s", body)
	}
	for _, goText := range []string{"jing oauth", "auth (code", "request_id=", "dial tcp", "%!"} {
		if appearsInBytes(body, goText) {
			t.Fatalf("Go error text %q shown: %s", goText, body)
		}
	}
	// Without script the page comes back with the result in it.
	if page := admin.post("/settings/platform/test", nil).Body.String(); !hasTestID(page, "platform-test-result") ||
		!isFullPage(page) {
		t.Fatal("the no-script test does not render the page with its result")
	}
	if h.countAudit("platform.test", db.OutcomeOK) != 1 || h.countAudit("platform.test", db.OutcomeFailed) != 2 {
		t.Fatalf("audit: %d ok, %d failed", h.countAudit("platform.test", db.OutcomeOK), h.countAudit("platform.test", db.OutcomeFailed))
	}
}

func TestCheckEndpointsListsEveryEntryAndAWrongPath(t *testing.T) {
	t.Parallel()
	wrong := "/v1/member/query"
	cat, err := jing.DefaultCatalog().ApplyOverrides(map[string]jing.Override{"members.list": {Path: &wrong}})
	if err != nil {
		t.Fatal(err)
	}
	pf := otherPlatform(t, "chk", "chk-secret")
	_, admin := platformAdmin(t, withPlatform(t, nil, func(c *platform.Config) {
		c.Catalog = cat
		c.Overrides = platform.Overrides{BaseURL: pf.URL, AppID: "chk", AppSecret: "chk-secret"}
	}))
	rec := admin.post("/settings/platform/check", nil, htmx())
	body := rec.Body.String()
	if rec.Code != http.StatusOK || isFullPage(body) {
		t.Fatalf("check: %d (want the table alone)", rec.Code)
	}
	for _, e := range cat.All() {
		if !hasAttrOn(body, "check-row", `data-endpoint="`+e.Key+`"`) {
			t.Errorf("no row for %s", e.Key)
		}
	}
	if countTestID(body, "check-row") != len(cat.All()) {
		t.Fatalf("%d rows for %d entries", countTestID(body, "check-row"), len(cat.All()))
	}
	if !strings.Contains(parseHTML(body).textWith("check-row", "data-endpoint", "members.list", "data-status", "path_not_found"), "平台上不存在此路径") {
		t.Fatal("members.list is not reported as path not found")
	}
	for _, key := range []string{"oauth.token", "oauth.refresh"} {
		if len(parseHTML(body).allWith("check-row", "data-endpoint", key, "data-status", "reachable")) != 1 {
			t.Errorf("%s is not reachable", key)
		}
	}
	if !hasTestID(body, "overridden") || !hasTestIDText(body, "check-row", "暂定") || !hasTestIDText(body, "check-row", "有文档") {
		t.Fatal("the overridden or documented/provisional badges are missing")
	}
}

func TestTheSandboxBannerFollowsTheConnection(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t, withPlatform(t, nil))
	const banner = "sandbox-banner"
	if !hasTestID(admin.get("/leads/board").Body.String(), banner) {
		t.Fatal("no sandbox banner with the embedded default")
	}
	pf := otherPlatform(t, "live-app", "live-secret")
	saveCredentials(t, admin, pf.URL, "live-app", "live-secret")
	if hasTestID(admin.get("/leads/board").Body.String(), banner) {
		t.Fatal("the banner stays after switching to credentials")
	}
	if rec := admin.post("/settings/platform/test", nil, htmx()); !hasAttrOn(rec.Body.String(), "platform-test-result", `data-ok="true"`) || pf.Issued() != 1 {
		t.Fatalf("the switched client does not reach the configured platform: %s (issued %d)", rec.Body.String(), pf.Issued())
	}
	rec := admin.post("/settings/platform/secret/clear", nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("clear: %d", rec.Code)
	}
	if !hasTestID(admin.get("/leads/board").Body.String(), banner) {
		t.Fatal("no banner after clearing the secret")
	}
	if h.countAudit("platform.settings", "") != 1 || h.countAudit("platform.secret_clear", "") != 1 {
		t.Fatal("the changes were not audited")
	}
}

func TestLockedSettingsAreReadOnly(t *testing.T) {
	t.Parallel()
	pf := otherPlatform(t, "env-app", "env-secret")
	_, admin := platformAdmin(t, withPlatform(t, nil, func(c *platform.Config) {
		c.Overrides = platform.Overrides{BaseURL: pf.URL, AppID: "env-app", AppSecret: "env-secret"}
	}))
	page := admin.get("/settings/platform").Body.String()
	p := parseHTML(page)
	for _, want := range []string{"--jing-base-url", "--jing-app-id", "JINGDESK_JING_APP_SECRET"} {
		if !strings.Contains(p.text("platform-form"), want) {
			t.Errorf("the form does not mention %q", want)
		}
	}
	for _, id := range []string{"platform-base_url", "platform-app_id"} {
		if len(p.where("input", "id", id, "readonly", "*")) != 1 {
			t.Errorf("%s is not read-only", id)
		}
	}
	if len(p.where("", "name", "app_id")) != 0 || len(p.where("", "name", "app_secret")) != 0 || appearsInBytes(page, "env-secret") {
		t.Fatal("locked fields are editable, or the secret is shown")
	}
	if hasTestID(admin.get("/leads/board").Body.String(), "sandbox-banner") {
		t.Fatal("sandbox banner with credentials from the environment")
	}
}

func TestUsagePageShowsEveryEndpointWithItsQuota(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t, withPlatform(t, nil))
	for range 2 {
		if err := h.srv.Platform.Client().Call(context.Background(), "members.list", jing.PageRequest{Page: 1, PerPage: 1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	h.srv.Platform.Client().Call(context.Background(), "leads.create", map[string]string{}, nil) // refused: an error to show
	rec := admin.get("/settings/platform/usage")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || countTestID(body, "usage-row") != len(jing.DefaultCatalog().All()) {
		t.Fatalf("usage: %d, %d rows", rec.Code, countTestID(body, "usage-row"))
	}
	p := parseHTML(body)
	row := p.allWith("usage-row", "data-endpoint", "members.list")
	if len(row) != 1 || len(under(row[0]).where("progress", "value", "2", "max", "10000")) != 1 || !strings.Contains(under(row[0]).text("calls-today"), "2 / 10,000") {
		t.Fatalf("members.list row: %v", testIDTexts(body, "calls-today"))
	}
	if lead := p.allWith("usage-row", "data-endpoint", "leads.create"); len(lead) != 1 || !under(lead[0]).has("last-error") {
		t.Fatalf("leads.create shows no last error: %q", p.textWith("usage-row", "data-endpoint", "leads.create"))
	}
	if p.text("token-renewals") != "1" {
		t.Fatal("the token renewals are not shown")
	}
}

// A server is never built without the services its areas call: New names
// what Deps lacks (a page that could not work is not left to a 404 or a
// nil pointer on first use).
func TestNewRefusesDepsWithoutTheRequiredServices(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	d := h.srv.Deps
	d.Platform, d.Webhooks = nil, nil
	if _, err := New(d); err == nil || !strings.Contains(err.Error(), "Platform, Webhooks") {
		t.Fatalf("New without a platform and webhooks: %v", err)
	}
	d = h.srv.Deps
	d.Store = nil
	if _, err := New(d); err == nil || !strings.Contains(err.Error(), "Store") {
		t.Fatalf("New without a store: %v", err)
	}
}

func TestPlatformPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	t.Parallel()
	_, admin := platformAdmin(t, withPlatform(t, nil))
	pages := map[string]string{
		"connection": admin.get("/settings/platform").Body.String(),
		"usage":      admin.get("/settings/platform/usage").Body.String(),
		"check":      admin.post("/settings/platform/check", nil).Body.String(),
		"test":       admin.post("/settings/platform/test", nil).Body.String(),
	}
	for name, body := range pages {
		if !isFullPage(body) {
			t.Errorf("%s: not a full page", name)
		}
		if bad := inlineScriptOrStyle(body); len(bad) > 0 {
			t.Errorf("%s has inline code: %v", name, bad)
		}
	}
	if !hasTestID(pages["check"], "check-table") {
		t.Fatal("the no-script check does not show its table")
	}
}

func TestInvalidSettingsAreRefusedWithTranslatedMessages(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t, withPlatform(t, nil))
	admin.get("/settings/platform") // the form's page (its webhook card makes the webhook's secret on first view)
	before := snapshot(t, h)
	rec := admin.post("/settings/platform", url.Values{"base_url": {"https://user:pw@jing.example/?x=1"}, "app_id": {"has space"}, "app_secret": {"a\tb"}})
	body := rec.Body.String()
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", rec.Code)
	}
	for _, id := range []string{"platform-base_url-error", "platform-app_id-error", "platform-app_secret-error"} {
		if len(parseHTML(body).where("", "id", id)) != 1 {
			t.Errorf("no message %s", id)
		}
	}
	if !hasTestIDText(body, "platform-form", "app_id 不能包含空格") || snapshot(t, h) != before || !h.srv.Platform.Sandbox() {
		t.Fatal("refused settings were stored or switched the connection")
	}
}
