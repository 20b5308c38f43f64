package web

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// The Platform page tests the connection and checks every endpoint through
// htmx swaps (no reload, no CSP problem), and saving credentials takes the
// Sandbox banner away.
func TestBrowserPlatformPage(t *testing.T) {
	h := newHarness(t, withPlatform(t, nil))
	h.addUser("root", db.RoleAdmin)
	b := newBrowser(t, h)
	b.signIn("root", password("root"))
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
