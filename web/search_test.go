package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
	searchview "github.com/jingdesk/jingdesk/templates/search"
)

// searchFixture is the accounts fixture plus a crowd, a send and an
// import whose names share 华东区.
func searchFixture(t *testing.T) (*harness, []db.Lead) {
	h, _, ls, _ := accountsFixture(t)
	ctx := context.Background()
	u := h.addUser("mia", db.RoleMarketer)
	if err := h.store.SaveCrowd(ctx, db.Crowd{GroupID: 77, Name: "华东区重点客户", UserCount: 120}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.CreateSend(ctx, "search-send", u.ID, db.SendDraftInput{Channel: "sms", Name: "华东区双十一短信"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.CreateImport(ctx, db.NewImport{UserID: u.ID, FileName: "华东区展会名单.xlsx", FilePath: "x"}); err != nil {
		t.Fatal(err)
	}
	return h, ls
}

// groupsOf are the kinds of a results page and their items' titles.
func groupsOf(p page) map[string][]string {
	out := map[string][]string{}
	for _, g := range p.all("search-group") {
		gp := page{t: p.t, doc: g}
		for _, a := range gp.all("search-link") {
			out[attrOf(g, "data-kind")] = append(out[attrOf(g, "data-kind")], nodeText(a))
		}
	}
	return out
}

// One query finds crowds, sends and imports by a Chinese substring; a
// lead by two characters of its name; an account by name; a viewer sees
// the leads' contact data masked; an overlong query is refused in place.
func TestSearchEverything(t *testing.T) {
	t.Parallel()
	h, ls := searchFixture(t)
	c := h.login("mia")

	got := groupsOf(parsePage(t, c.get(searchview.URL("华东区")).Body.String()))
	if len(got["crowds"]) != 1 || len(got["sends"]) != 1 || len(got["imports"]) != 1 || got["imports"][0] != "华东区展会名单.xlsx" {
		t.Fatalf("华东区: %v", got)
	}
	got = groupsOf(parsePage(t, c.get(searchview.URL("恒瑞")).Body.String()))
	if len(got["accounts"]) != 1 || got["accounts"][0] != "苏州恒瑞精密制造有限公司" {
		t.Fatalf("恒瑞: %v", got)
	}

	var l db.Lead
	for _, x := range ls {
		if utf8.RuneCountInString(x.Name) >= 3 && x.Mobile != "" {
			l = x
			break
		}
	}
	if l.UUID == "" {
		t.Fatal("no lead with a name of 3 characters and a mobile")
	}
	two := string([]rune(l.Name)[1:3])
	p := parsePage(t, c.get(searchview.URL(two)).Body.String())
	found := false
	for _, it := range p.all("search-item") {
		ip := page{t: t, doc: it}
		if strings.HasSuffix(ip.attr("search-link", "href"), l.UUID) {
			found = true
			if !strings.Contains(ip.text("search-detail"), l.Mobile) {
				t.Fatalf("a marketer sees %q", ip.text("search-detail"))
			}
		}
	}
	if !found {
		t.Fatalf("%q does not find %q", two, l.Name)
	}

	h.addUser("vic", db.RoleViewer)
	v := h.login("vic")
	p = parsePage(t, v.get(searchview.URL(two)).Body.String())
	if !p.has("search-masked") {
		t.Fatal("a viewer is not told contact data is masked")
	}
	for _, it := range p.all("search-item") {
		ip := page{t: t, doc: it}
		if strings.HasSuffix(ip.attr("search-link", "href"), l.UUID) && (strings.Contains(ip.text("search-detail"), l.Mobile) ||
			!strings.Contains(ip.text("search-detail"), leads.Mask(l.Mobile))) {
			t.Fatalf("a viewer sees %q", ip.text("search-detail"))
		}
	}

	rec := c.get(searchview.Path + "?q=" + url.QueryEscape(strings.Repeat("长", 101)))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if !parsePage(t, rec.Body.String()).has("search-error") {
		t.Fatal("an overlong query is not refused in place")
	}
	if p := parsePage(t, c.get(searchview.Path).Body.String()); !p.has("search-hint") {
		t.Fatal("an empty search shows no hint")
	}
}

// In a browser, "/" and Ctrl+K put the cursor in the header's search box
// (not while typing in a field); Enter shows the results.
func TestBrowserSearchShortcut(t *testing.T) {
	t.Parallel()
	h, _ := searchFixture(t)
	b := newBrowser(t, h)
	b.enterAs("mia")
	b.open("/jobs")
	focused := `document.activeElement && document.activeElement.id`
	b.run("press /", chromedp.KeyEvent("/"))
	if got := eval[string](b, focused); got != searchview.InputID {
		t.Fatalf("after /, the focus is on %q", got)
	}
	// CDP's key event types its character after the keydown handler moved
	// the focus (a real keyboard's keydown, prevented, types nothing).
	eval[bool](b, `document.getElementById("global-search").value = ""; true`)
	b.run("type and search", chromedp.SendKeys("#"+searchview.InputID, "华东区\r"))
	b.wired(`[data-testid="search-group"]`)
	if loc := b.location(); !strings.HasPrefix(loc, searchview.Path+"?q=") {
		t.Fatalf("the results are at %s", loc)
	}
	if n := eval[int](b, `document.querySelectorAll('[data-testid="search-group"]').length`); n != 3 {
		t.Fatalf("%d groups for 华东区", n)
	}
	// Typing "/" in a field types it; Ctrl+K still jumps to the box.
	b.run("focus the page's own box", chromedp.Focus("#search-q"), chromedp.KeyEvent("/"))
	if got := eval[string](b, focused); got != "search-q" {
		t.Fatalf("/ in a field moved the focus to %q", got)
	}
	b.run("press Ctrl+K", chromedp.KeyEvent("k", chromedp.KeyModifiers(2)))
	if got := eval[string](b, focused); got != searchview.InputID {
		t.Fatalf("after Ctrl+K, the focus is on %q", got)
	}
	b.assertNoProblems()
}
