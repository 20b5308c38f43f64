package web

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/platform"
)

// The Platform page tests the connection and checks every endpoint through
// htmx swaps (no reload, no CSP problem), and saving credentials takes the
// Sandbox banner away.
func TestBrowserPlatformPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlatform(t, nil))
	h.addUser("root", db.RoleAdmin)
	b := newBrowser(t, h)
	b.enterAs("root")
	b.open("/settings/platform")
	if n := eval[int](b, `document.querySelectorAll(".sandbox-banner").length`); n != 1 {
		t.Fatalf("%d sandbox banners with the embedded default", n)
	}
	b.shootJobs("platform-top-1366x768.png")
	eval[bool](b, `window.jingdeskMarker = true`)

	b.run("test the connection", chromedp.Click(chromedp.CSS(`[data-testid="platform-test"]`)))
	evalUntil(b, "the test result", `(document.querySelector('[data-testid="platform-test-result"]') || {dataset: {}}).dataset.ok + ""`, "true")
	b.run("check endpoints", chromedp.Click(chromedp.CSS(`[data-testid="check-endpoints"]`)))
	rows := strconv.Itoa(len(jing.DefaultCatalog().All()))
	evalUntil(b, "a row per endpoint", `document.querySelectorAll('[data-testid="check-row"]').length + ""`, rows)
	if !eval[bool](b, `window.jingdeskMarker === true`) {
		t.Error("the page reloaded: results must arrive through htmx swaps")
	}
	b.run("scroll to the table", chromedp.ScrollIntoView(chromedp.CSS(`[data-endpoint="users.create"]`)))
	b.shootJobs("platform-check-1366x768.png")

	pf := otherPlatform(t, "browser-app", "browser-secret")
	b.run("fill the settings",
		chromedp.SetValue(chromedp.CSS("#platform-base_url"), pf.URL),
		chromedp.SetValue(chromedp.CSS("#platform-app_id"), "browser-app"),
		chromedp.SetValue(chromedp.CSS("#platform-app_secret"), "browser-secret"),
		chromedp.Click(chromedp.CSS(`[data-testid="platform-form"] button[type=submit]`)),
	)
	evalUntil(b, "the banner to go", `document.querySelectorAll(".sandbox-banner").length + ""`, "0")
	b.wantText(`[data-testid="platform-base-url"]`, pf.URL)
	if v := eval[string](b, `document.querySelector("#platform-app_secret").value`); v != "" {
		t.Fatalf("the secret field was filled back in: %q", v)
	}
	b.open("/settings/platform/usage")
	b.shootJobs("platform-usage-1366x768.png")
	b.assertNoProblems()
}

// "Verify answers" in a browser: the plan swaps in through htmx, the
// confirmation posts (boosted) and lands on the report, and the
// administrators' banner comes with a failure and goes with a clean run.
func TestBrowserVerifyAnswers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlatform(t, nil))
	h.addUser("root", db.RoleAdmin)
	sb := h.srv.Platform.SandboxServer()
	setQuirks(t, sb, "no-code=edm.list")
	b := newBrowser(t, h)
	b.enterAs("root")
	b.open("/settings/platform")
	eval[bool](b, `window.jingdeskMarker = true`)
	b.run("ask for the plan", chromedp.Click(chromedp.CSS(`[data-testid="verify-start"]`)))
	evalUntil(b, "the plan", `document.querySelectorAll('[data-testid="plan-row"]').length + ""`,
		strconv.Itoa(len(platform.ReadOnlyEndpoints())))
	if !eval[bool](b, `window.jingdeskMarker === true`) {
		t.Error("the plan reloaded the page: it must swap in")
	}
	if sb.CallsToday("edm.list") != 0 {
		t.Fatal("showing the plan called the platform")
	}
	b.run("scroll to the plan", chromedp.ScrollIntoView(chromedp.CSS(`[data-testid="verify-plan"]`)))
	b.shootJobs("platform-verify-plan-1366x768.png")
	b.run("confirm", chromedp.Click(chromedp.CSS(`[data-testid="verify-confirm"]`)))
	evalUntil(b, "the report", `(document.querySelector('[data-testid="verify-report"]') || {dataset: {}}).dataset.problems + ""`, "1")
	evalUntil(b, "the banner", `(document.querySelector('[data-testid="verify-banner"]') || {dataset: {}}).dataset.endpoints + ""`, "edm.list")
	b.run("scroll to the report", chromedp.ScrollIntoView(chromedp.CSS(`[data-testid="verify-row"][data-endpoint="edm.list"]`)))
	b.shootJobs("platform-verify-report-1366x768.png")
	b.open("/settings/account")
	b.shootJobs("platform-verify-banner-1366x768.png")
	b.open("/settings/platform")

	setQuirks(t, sb)
	b.run("ask again", chromedp.Click(chromedp.CSS(`[data-testid="verify-start"]`)))
	evalUntil(b, "the plan again", `document.querySelectorAll('[data-testid="verify-confirm"]').length + ""`, "1")
	b.run("confirm again", chromedp.Click(chromedp.CSS(`[data-testid="verify-confirm"]`)))
	evalUntil(b, "a clean report", `(document.querySelector('[data-testid="verify-report"]') || {dataset: {}}).dataset.problems + ""`, "0")
	evalUntil(b, "the banner to go", `document.querySelectorAll('[data-testid="verify-banner"]').length + ""`, "0")
	b.assertNoProblems()
}
