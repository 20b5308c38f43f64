package web

import (
	"strings"

	"testing"

	"github.com/chromedp/chromedp"

	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// Issue 19 item 13: the mobile field takes a number as people type it
// ("138-0013-8009": no 11-character cut in the browser), and the lead is
// saved with its 11 digits.
func TestBrowserLeadFormTakesAMobileWithDashes(t *testing.T) {
	t.Parallel()
	_, rig, b := boardBrowser(t)
	bt := rig.resolver().DefaultBusinessType("lead")
	b.run("open the new lead form at 1366×768",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(b.base+leadsview.NewLeadURL(bt)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="lead-form"] #f-mobile`)),
	)
	// Three steps, each in a step's time: a key is three calls to the
	// browser, and a loaded machine once took over 15 s for the 27 keys.
	b.run("type a name", chromedp.SendKeys(chromedp.CSS(`#f-name`), "连字符线索"))
	b.run("type a company", chromedp.SendKeys(chromedp.CSS(`#f-company_id`), "连字符测试有限公司"))
	b.run("type a mobile with dashes", chromedp.SendKeys(chromedp.CSS(`#f-mobile`), "138-0013-8009"))
	if typed := eval[string](b, `document.querySelector("#f-mobile").value`); typed != "138-0013-8009" {
		t.Fatalf("the field holds %q: the browser cut what was typed", typed)
	}
	b.run("save", chromedp.Click(chromedp.CSS(`[data-testid="lead-form-save"]`)))
	b.run("wait for the lead's page", chromedp.PollFunction[chromedp.Void](`() => document.readyState === "complete" &&
		location.pathname.startsWith("/leads/") && location.pathname !== "/leads/new"`))
	uuid := strings.TrimPrefix(b.location(), "/leads/")
	if l := rig.localLead(uuid); l.Name != "连字符线索" || l.Mobile != "13800138009" {
		t.Fatalf("saved %q with mobile %q, want 13800138009", l.Name, l.Mobile)
	}
	if p := rig.platformLead(uuid); p.Mobile != "13800138009" {
		t.Fatalf("the platform holds mobile %q", p.Mobile)
	}
	b.assertNoProblems()
}
