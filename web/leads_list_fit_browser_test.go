package web

import (
	"context"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// At 1366×768 the list shows at least a dozen leads; the bulk bar appears
// only once rows are chosen and says how many ("已选 N 条"); choosing the
// whole page offers all the filter's leads across pages, which the
// preview counts on the server.
func TestBrowserLeadListDensityAndBulkBar(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	fillBoardLeads(t, h, rig, 120)
	u := h.addUser("mia", db.RoleMarketer)
	if err := h.store.SetUserLang(context.Background(), u.ID, i18n.Chinese); err != nil {
		t.Fatal(err)
	}
	_, total, err := h.store.ListLeads(context.Background(), db.LeadFilter{})
	if err != nil || total <= leadsview.ListPageSize {
		t.Fatalf("%d leads (%v): the test needs more than a page", total, err)
	}
	b := newBrowser(t, h)
	b.enterAs("mia")
	b.run("open the list at 1366×768",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(b.base+leadsview.ListPath),
	)
	b.wired(`[data-testid="lead-row"]`)
	visible := eval[int](b, `[...document.querySelectorAll('[data-testid="lead-row"]')].filter(r => r.getBoundingClientRect().bottom <= innerHeight).length`)
	if visible < 12 {
		t.Errorf("%d rows in the window, want at least 12", visible)
	}
	barShown := `String(document.querySelector('[data-testid="bulk-bar"]').getClientRects().length > 0)`
	if got := eval[string](b, barShown); got != "false" {
		t.Fatal("the bulk bar shows with nothing chosen")
	}
	if !eval[bool](b, `!!document.querySelector('[data-testid="new-lead"]')`) {
		t.Error("no New lead on the list")
	}

	b.run("choose two rows",
		chromedp.Click(`[data-testid="lead-row"]:nth-child(1) [data-testid="lead-check"]`),
		chromedp.Click(`[data-testid="lead-row"]:nth-child(2) [data-testid="lead-check"]`),
	)
	evalUntil(b, "the bar to show", barShown, "true")
	if got := b.text(`[data-testid="bulk-selected"]`); got != "已选 2 条" {
		t.Errorf("the bar says %q, want 已选 2 条", got)
	}
	matching := `String(document.querySelector('[data-testid="bulk-matching"]').getClientRects().length > 0)`
	if eval[string](b, matching) != "false" {
		t.Error("all matching is offered before the whole page is chosen")
	}

	b.run("choose the whole page, then all matching", chromedp.Click(`[data-testid="select-page"]`))
	evalUntil(b, "all matching offered", matching, "true")
	b.run("all matching", chromedp.Click(`[data-testid="bulk-select-matching"]`))
	evalUntil(b, "the count of all matching", `document.querySelector('[data-testid="bulk-selected"]').dataset.count`, strconv.Itoa(total))
	shootBoard(b, "leads-list-bulk-1366x768.png")

	// The preview counts the filter's leads on the server.
	b.run("preview a change of owner",
		chromedp.SetValue(chromedp.CSS(`#bulk-action`), "owner"),
		chromedp.SetValue(chromedp.CSS(`#bulk-owner`), rig.resolver().Members(true)[0].ID),
		chromedp.Click(`[data-testid="bulk-preview"]`),
	)
	b.run("the preview", chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-count"]`)))
	if got := eval[string](b, `document.querySelector('[data-testid="bulk-count"]').dataset.count`); got != strconv.Itoa(total) {
		t.Fatalf("the preview counts %s leads, want %d", got, total)
	}
	if n := eval[int](b, `document.querySelectorAll('form.bulk-confirm input[name="lead"]').length`); n != total {
		t.Fatalf("the confirmation carries %d leads, want %d", n, total)
	}
	b.assertNoProblems()
}
