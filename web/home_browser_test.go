package web

import (
	"testing"

	"github.com/chromedp/chromedp"

	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// Home and the list with its saved views bar in Chromium at 1366×768:
// laid out without overflow, and saving a view from the list's bar lands
// on the view's URL with the view marked current.
func TestBrowserHomeAndSavedViews(t *testing.T) {
	t.Parallel()
	_, _, b := boardBrowser(t)
	b.run("open Home",
		chromedp.Navigate(b.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="home-week"]`)),
	)
	if !eval[bool](b, `document.fonts.ready.then(() => true)`) {
		t.Fatal("fonts not ready")
	}
	for _, p := range eval[[]string](b, layoutCheck) {
		t.Errorf("Home layout: %s", p)
	}
	saveScreenshot(t, screenshotDir(t), "home-1366x768.png", get(b, "screenshot", chromedp.CaptureScreenshot()))

	b.run("save the list's view",
		chromedp.Navigate(b.base+leadsview.ListPath+"?sort=name"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="views-bar"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="view-save-open"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="view-name"]`), "按姓名"),
		chromedp.Click(chromedp.CSS(`[data-testid="view-save-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="view-active"]`)),
	)
	if got := eval[string](b, `document.querySelector('[data-testid="view-link"][aria-current="page"]').dataset.viewName`); got != "按姓名" {
		t.Fatalf("the current view is %q", got)
	}
	if got := eval[string](b, `new URL(location.href).searchParams.get("sort")`); got != "name" {
		t.Fatalf("the view's URL sorts by %q", got)
	}
	for _, p := range eval[[]string](b, layoutCheck) {
		t.Errorf("list layout: %s", p)
	}
	saveScreenshot(t, screenshotDir(t), "list-views-1366x768.png", get(b, "screenshot", chromedp.CaptureScreenshot()))
}
