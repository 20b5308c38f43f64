package web

import (
	"context"
	"net/http"
	"testing"

	"golang.org/x/net/html"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The board carries no "Move to…" list: each card's is asked for when
// opened, and holds the other statuses of the lead's own pipeline.
func TestBoardMoveMenuOnDemand(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	mia := h.login("mia")
	bt := rig.resolver().DefaultBusinessType("lead")
	pipe := rig.resolver().Statuses(bt)
	l := rig.leadIn(bt, pipe[0].ID)

	board := parsePage(t, mia.get(leadsview.BoardPath).Body.String())
	if n := len(board.all("move-to")); n != 0 {
		t.Fatalf("the board carries %d move buttons, want none", n)
	}
	if !board.has("move-menu") || !board.has("new-lead") {
		t.Fatal("a marketer's board has no Move to… menus or no New lead link")
	}

	res := mia.get(leadsview.MenuPath(l.UUID), htmx())
	if res.Code != http.StatusOK {
		t.Fatalf("menu: %d", res.Code)
	}
	menu := parsePage(t, res.Body.String())
	var got []string
	for _, b := range menu.all("move-to") {
		got = append(got, attrOf(b, "data-status"))
	}
	if len(got) != len(pipe)-1 {
		t.Fatalf("menu offers %v, want the %d other statuses", got, len(pipe)-1)
	}
	for _, s := range got {
		if s == l.Status {
			t.Fatalf("menu offers the lead's own status %s", s)
		}
	}
	if menu.inputValue("_csrf") == "" {
		t.Fatal("the menu's form has no CSRF token")
	}

	// Without script it is a page of its own.
	if page := parsePage(t, mia.get(leadsview.MenuPath(l.UUID)).Body.String()); !page.has("move-page") || len(page.all("move-to")) != len(pipe)-1 {
		t.Fatal("the menu as a page has no move buttons")
	}
	// Viewers move nothing.
	if code := h.login("vic").get(leadsview.MenuPath(l.UUID), htmx()).Code; code != http.StatusForbidden {
		t.Fatalf("viewer's menu: %d, want 403", code)
	}
	if parsePage(t, h.login("vic").get(leadsview.BoardPath).Body.String()).has("new-lead") {
		t.Fatal("a viewer's board links to New lead")
	}
}

// A card says how long its lead has been in its status from the
// platform's timestamps, and how well that is known: a lead first seen
// 102 days after its last update reads "at least 102 days", never the
// minutes since the console's sync.
func TestBoardTimeInStageFromThePlatform(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	u := h.addUser("mia", db.RoleMarketer)
	if err := h.store.SetUserLang(context.Background(), u.ID, i18n.Chinese); err != nil {
		t.Fatal(err)
	}
	bt := rig.resolver().DefaultBusinessType("lead")
	now := h.clock.Now().Unix()
	const day = 86400
	l := rig.leadIn(bt, rig.resolver().Statuses(bt)[0].ID)
	l.UUID, l.Name, l.StatusSince = "00000000-0000-4000-8000-0000000a1b2c", "老线索", 0
	l.CreatedAt, l.UpdatedAt = now-200*day, now-102*day
	if err := h.store.UpsertLeads(context.Background(), []db.Lead{l}); err != nil {
		t.Fatal(err)
	}
	board := parsePage(t, h.login("mia").get(leadsview.BoardPath).Body.String())
	var age *html.Node
	for _, c := range board.all("board-card") {
		if attrOf(c, "data-uuid") == l.UUID {
			if a := within(c, "card-age"); len(a) == 1 {
				age = a[0]
			}
		}
	}
	if age == nil {
		t.Fatal("no card, or no age on it")
	}
	if got := nodeText(age); got != "阶段至少 102 天" || attrOf(age, "data-precision") != "at_least" || attrOf(age, "title") == "" {
		t.Fatalf("age %q (%s), title %q", got, attrOf(age, "data-precision"), attrOf(age, "title"))
	}
}
