package web

import (
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/refdata"
)

// Settings → Reference data shows the sets; "Refresh now" updates a set's
// age and "as of" without a page reload, and "Refresh all" shows its
// progress while it runs and stops polling when it ends. No CSP problem.
func TestBrowserReferenceRefreshNowUpdatesWithoutReload(t *testing.T) {
	t.Parallel()
	var rig refRig
	h := newHarness(t, withReference(t, &rig, false))
	h.addUser("mia", db.RoleMarketer)
	rig.refresh("")
	h.clock.Advance(3 * time.Hour)

	b := newBrowser(t, h)
	b.enterAs("mia")
	b.open("/settings/reference")
	const row = `[data-testid="refset"][data-key="members"]`
	b.wantText(row+` [data-testid="refset-age"]`, "3 hours ago")
	en := h.srv.Catalog.Localizer(i18n.English)
	oldAsOf := b.text(row + ` [data-testid="refset-asof"]`)
	if want := "as of " + en.DateTime(rig.set("members").FetchedAt.Unix()); oldAsOf != want {
		t.Fatalf("members shows %q, want %q", oldAsOf, want)
	}
	b.shootJobs("reference-1366x768.png")
	eval[bool](b, `window.jingdeskMarker = true`)

	b.run("refresh the members", chromedp.Click(chromedp.CSS(row+` [data-testid="refresh-set"]`)))
	age := `(document.querySelector('` + row + ` [data-testid="refset-age"]') || {}).textContent + ""`
	evalUntil(b, "the age to update", age, "just now")
	evalUntil(b, "the progress to go", `String(document.querySelector('[data-testid="refdata-progress"]') === null)`, "true")
	evalUntil(b, "the table to stop polling", `document.querySelector("#refdata-sets").dataset.live`, "false")
	b.wantText(row+` [data-testid="refset-asof"]`, "as of "+en.DateTime(h.clock.Now().Unix()))
	if got := b.text(row + ` [data-testid="refset-asof"]`); got == oldAsOf {
		t.Fatalf("\"as of\" did not change: %q", got)
	}
	// Only the members were refreshed: another set keeps its age.
	b.wantText(`[data-key="lead.business_types"] [data-testid="refset-age"]`, "3 hours ago")

	// "Refresh all" on a slow platform: the bar shows, the table polls,
	// then every set is fresh and the polling stops.
	rig.sandbox().SetFaults(sandbox.Faults{Latency: 150 * time.Millisecond})
	h.clock.Advance(time.Hour)
	b.run("refresh all", chromedp.Click(chromedp.CSS(`[data-testid="refresh-all"]`)))
	b.run("wait for the progress bar", chromedp.WaitVisible(chromedp.CSS(`[data-testid="refdata-progress"] progress`)))
	if live := eval[string](b, `document.querySelector("#refdata-sets").dataset.live`); live != "true" {
		t.Fatalf("table not polling while a refresh runs: %q", live)
	}
	if disabled := eval[bool](b, `document.querySelector('[data-testid="refresh-all"]').disabled`); !disabled {
		t.Error("Refresh all is enabled while a refresh runs")
	}
	counts := `String(/ of \d+ sets/.test((document.querySelector('[data-testid="refdata-progress-counts"]') || {}).textContent))`
	evalUntil(b, "the bar to count the sets", counts, "true")
	b.shootJobs("reference-refreshing-1366x768.png")
	evalUntil(b, "the refresh to end", `document.querySelector("#refdata-sets").dataset.live`, "false")
	rig.sandbox().SetFaults(sandbox.Faults{})
	fresh := `String([...document.querySelectorAll('[data-testid="refset-age"]')].every(e => e.textContent === "just now"))`
	evalUntil(b, "every set to be fresh", fresh, "true")
	if !eval[bool](b, `window.jingdeskMarker === true`) {
		t.Error("the page reloaded: refreshes must arrive through htmx swaps")
	}

	// The tree browser and the fields table.
	b.open("/settings/reference/set?key=" + url.QueryEscape("lead.tree.country_region"))
	b.run("open a province", chromedp.Click(chromedp.CSS(`[data-depth="1"] > details > summary`)))
	b.shootJobs("reference-tree-1366x768.png")
	b.open("/settings/reference/set?key=" + url.QueryEscape(rig.firstSet(refdata.KindFields, "lead").Key))
	b.run("scroll to the custom fields", chromedp.ScrollIntoView(chromedp.CSS(`[data-testid="field-unwritable"]`)))
	b.shootJobs("reference-fields-1366x768.png")
	b.assertNoProblems()
}
