package web

import (
	"net/http"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The board carries no "Move to…" list: each card's is asked for when
// opened, and holds the other statuses of the lead's own pipeline.
func TestBoardMoveMenuOnDemand(t *testing.T) {
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
