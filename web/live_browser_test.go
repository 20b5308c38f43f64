package web

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The board follows the platform: a lead's status changed on the platform
// (not through the console) reaches the console as a webhook from the
// embedded sandbox, and the card moves to its new column within 3 s,
// without a reload, highlighted.
func TestBrowserLiveBoardFollowsThePlatform(t *testing.T) {
	h, rig := newLiveHarness(t)
	h.addUser("ada", db.RoleAdmin)
	b := newBrowser(t, h)
	b.enterAs("ada")
	b.run("open the board at 1366×768",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(b.base+leadsview.BoardPath),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="board-card"]`)),
	)
	bt := rig.resolver().DefaultBusinessType("lead")
	pipe := rig.resolver().Statuses(bt)
	l := rig.leadIn(bt, pipe[0].ID)
	to := pipe[1].ID
	if eval[string](b, landed(l.UUID, pipe[0].ID)) != "true" {
		t.Fatalf("the lead %s is not on the board's first column", l.UUID)
	}
	// The sandbox delivers to this server's receiver; the worker applies.
	rig.sandbox().SetWebhookURL(b.base + "/webhooks/jing/" + rig.secret())
	rig.hooks.Start(context.Background())
	t.Cleanup(rig.hooks.Stop)
	eval[bool](b, `window.__liveMarker = "still here"; true`)

	if err := rig.platform().UpdateLeadStatus(context.Background(), l.UUID, to); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	for eval[string](b, landed(l.UUID, to)) != "true" {
		if time.Since(changed) > 3*time.Second {
			t.Fatalf("the card did not move within 3 s (local status %s)", rig.localLead(l.UUID).Status)
		}
		<-time.After(50 * time.Millisecond)
	}
	t.Logf("the card moved %v after the platform's change", time.Since(changed).Round(time.Millisecond))
	if got := eval[string](b, `String(window.__liveMarker)`); got != "still here" {
		t.Fatal("the page was reloaded")
	}
	card := fmt.Sprintf(`document.getElementById(%s)`, jsString(leadsview.CardID(l.UUID)))
	if !eval[bool](b, card+`.classList.contains("board-card-live")`) {
		t.Fatal("the moved card is not highlighted")
	}
	if eval[int](b, fmt.Sprintf(`document.querySelectorAll("#%s").length`, leadsview.CardID(l.UUID))) != 1 {
		t.Fatal("the card is on the board twice")
	}
	stored, _ := h.store.CountLeadsByStatus(context.Background(), db.LeadFilter{BusinessType: bt})
	count := fmt.Sprintf(`Number(document.getElementById(%s).dataset.count)`, jsString(leadsview.CountID(to)))
	if got := eval[int](b, count); got != stored[to] {
		t.Fatalf("column count %d, store %d", got, stored[to])
	}
	saveScreenshot(t, screenshotDir(t), "live-board-after-move-1366x768.png", get(b, "screenshot", chromedp.CaptureScreenshot()))

	b.run("open the webhook events",
		chromedp.Navigate(b.base+"/settings/webhooks"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="webhook-row"]`)),
	)
	if got := eval[int](b, `document.querySelectorAll('[data-testid="webhook-row"][data-state="applied"]').length`); got < 1 {
		t.Fatal("no applied event listed")
	}
	saveScreenshot(t, screenshotDir(t), "live-webhook-events-1366x768.png", get(b, "screenshot", chromedp.CaptureScreenshot()))
	b.run("open Settings → Platform", chromedp.Navigate(b.base+"/settings/platform"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="webhook-card"]`)),
		chromedp.ScrollIntoView(`[data-testid="webhook-card"]`))
	saveScreenshot(t, screenshotDir(t), "live-webhook-card-1366x768.png", get(b, "screenshot", chromedp.CaptureScreenshot()))
	b.assertNoProblems()
}
