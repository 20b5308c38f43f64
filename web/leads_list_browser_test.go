package web

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// Typing in the list's search box narrows the table without a page load,
// and the address bar keeps the search (bookmarkable); "select all on this
// page" checks every row of the new table.
func TestBrowserLeadListSearchUpdatesTheTable(t *testing.T) {
	t.Parallel()
	h, _ := newBoardHarness(t)
	h.addUser("mia", db.RoleMarketer)
	all, total, err := h.store.ListLeads(context.Background(), db.LeadFilter{Limit: db.MaxLeadLimit})
	if err != nil || total == 0 {
		t.Fatalf("no leads (%v)", err)
	}
	name := []rune(all[len(all)/2].Name)
	query := string(name[len(name)-min(len(name), 3):])
	_, want, err := h.store.ListLeads(context.Background(), db.LeadFilter{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	if want == total {
		t.Fatalf("%q matches every lead; the test needs a narrower one", query)
	}
	b := newBrowser(t, h)
	b.enterAs("mia")
	b.run("open the list",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(b.base+leadsview.ListPath),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="lead-row"]`)),
	)
	tableTotal := `document.querySelector('[data-testid="leads-table"]').dataset.total`
	for _, p := range eval[[]string](b, layoutCheck) {
		t.Errorf("layout: %s", p)
	}
	saveScreenshot(t, screenshotDir(t), "leads-list.png", get(b, "screenshot", chromedp.CaptureScreenshot()))
	if got := eval[string](b, tableTotal); got != strconv.Itoa(total) {
		t.Fatalf("the table counts %s leads, want %d", got, total)
	}
	eval[bool](b, `window.listMarker = true; true`)
	b.run("type a search", chromedp.SendKeys(`#list-q`, query))
	evalUntil(b, "the table to narrow", tableTotal, strconv.Itoa(want))
	if !eval[bool](b, `window.listMarker === true`) {
		t.Fatal("the page was reloaded")
	}
	if got := eval[int](b, `document.querySelectorAll('[data-testid="lead-row"]').length`); got != min(want, leadsview.ListPageSize) {
		t.Errorf("%d rows, want %d", got, min(want, leadsview.ListPageSize))
	}
	evalUntil(b, "the address to keep the search", `String(new URL(location.href).searchParams.get("q"))`, query)
	if loc := b.location(); !strings.HasPrefix(loc, leadsview.ListPath+"?") || !strings.Contains(loc, "q="+url.QueryEscape(query)) {
		t.Errorf("at %s", loc)
	}
	b.run("select all on the page", chromedp.Click(`[data-testid="select-page"]`))
	checked := `document.querySelectorAll('[data-testid="lead-check"]:checked').length`
	evalUntil(b, "every row checked", `String(`+checked+`)`, strconv.Itoa(min(want, leadsview.ListPageSize)))
	b.assertNoProblems()
}
