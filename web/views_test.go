package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// viewIDs are the saved views the page's bar lists, by name.
func viewIDs(p page) map[string]string {
	out := map[string]string{}
	for _, n := range p.all("view-link") {
		out[attrOf(n, "data-view-name")] = attrOf(n, "data-view-id")
	}
	return out
}

func saveView(t *testing.T, c *client, page, name, query string, shared, def bool) string {
	t.Helper()
	form := url.Values{"page": {page}, "name": {name}, "query": {query}}
	if shared {
		form.Set("shared", "1")
	}
	if def {
		form.Set("default", "1")
	}
	rec := c.post(leadsview.ViewsPath, form)
	wantStatus(t, rec, http.StatusSeeOther)
	loc := rec.Header().Get("Location")
	u, err := url.Parse(loc)
	if err != nil || u.Query().Get("view") == "" {
		t.Fatalf("saving a view went to %q, want the view's URL", loc)
	}
	return loc
}

func TestSavedViews(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	h.addUser("ada", db.RoleAdmin)
	mia, vic, ada := h.login("mia"), h.login("vic"), h.login("ada")
	r := rig.resolver()
	bt := r.DefaultBusinessType("lead")
	status := r.Statuses(bt)[0].ID
	all := allLeads(t, h)
	inStatus := countWhere(all, func(l db.Lead) bool { return l.BusinessType == bt && l.Status == status })
	inType := countWhere(all, func(l db.Lead) bool { return l.BusinessType == bt })

	teamURL := saveView(t, mia, "list", "Team first stage", url.Values{"business_type": {bt}, "status": {status}, "cols": {"company,status"}, "page": {"3"}}.Encode(), true, false)
	saveView(t, mia, "list", "Mine only", "owner=nobody", false, false)
	saveView(t, mia, "board", "Board team", url.Values{"business_type": {bt}}.Encode(), true, false)
	if n := h.countAudit("view.create", db.OutcomeOK); n != 3 {
		t.Fatalf("%d view.create audit entries, want 3", n)
	}

	t.Run("a view is its URL: the filter, the sort and the columns", func(t *testing.T) {
		u, _ := url.Parse(teamURL)
		if u.Query().Get("page") != "" || u.Query().Get("cols") != "company,status" {
			t.Fatalf("view URL %s keeps the page number or loses the columns", teamURL)
		}
		p := getList(t, mia, u.Query())
		if p.total != inStatus {
			t.Fatalf("the view shows %d leads, want %d", p.total, inStatus)
		}
		doc := parsePage(t, p.body)
		if !doc.has("list-head-company") || !doc.has("list-head-status") || doc.has("list-head-mobile") || doc.has("list-head-owner") {
			t.Fatal("the view's columns are not the ones saved")
		}
		if doc.attr("view-active", "data-view-id") != u.Query().Get("view") {
			t.Fatal("the page does not say which view it shows")
		}
	})

	t.Run("private views are the owner's, shared ones the team's", func(t *testing.T) {
		mine := viewIDs(parsePage(t, getList(t, mia, url.Values{"view": {"none"}}).body))
		theirs := viewIDs(parsePage(t, getList(t, vic, url.Values{"view": {"none"}}).body))
		if len(mine) != 2 || mine["Mine only"] == "" || mine["Team first stage"] == "" {
			t.Fatalf("mia sees %v", mine)
		}
		if len(theirs) != 1 || theirs["Team first stage"] == "" {
			t.Fatalf("vic sees %v, want only the shared list view", theirs)
		}
		if rec := vic.get(leadsview.ViewPath(atoi64(t, mine["Mine only"]))); rec.Code != http.StatusNotFound {
			t.Fatalf("vic opening mia's private view: %d, want 404", rec.Code)
		}
		shared := leadsview.ViewPath(atoi64(t, mine["Team first stage"]))
		wantStatus(t, vic.post(shared, url.Values{"name": {"mine now"}}), http.StatusForbidden)
		wantStatus(t, vic.post(shared+"/delete", nil), http.StatusForbidden)
		if got := viewIDs(parsePage(t, getList(t, vic, url.Values{"view": {"none"}}).body)); got["Team first stage"] == "" {
			t.Fatalf("vic renamed mia's shared view: %v", got)
		}
		if n := h.countAudit("view.update", ""); n != 0 {
			t.Fatalf("a refused rename was audited as done (%d)", n)
		}
		// The board lists the board's views only.
		board := parsePage(t, vic.get("/leads/board?view=none").Body.String())
		if got := viewIDs(board); len(got) != 1 || got["Board team"] == "" {
			t.Fatalf("vic's board lists %v", got)
		}
		// An administrator may rename anyone's view; it is audited.
		rec := ada.post(shared, url.Values{"name": {"Team first stage (ada)"}, "shared": {"1"}})
		wantStatus(t, rec, http.StatusSeeOther)
		if n := h.countAudit("view.update", db.OutcomeOK); n != 1 {
			t.Fatalf("%d view.update audit entries, want 1", n)
		}
	})

	t.Run("one default per user opens the page without a query", func(t *testing.T) {
		ids := viewIDs(parsePage(t, getList(t, vic, url.Values{"view": {"none"}}).body))
		id := ids["Team first stage (ada)"]
		rec := vic.post(leadsview.ViewPath(atoi64(t, id))+"/default", url.Values{"on": {"1"}})
		wantStatus(t, rec, http.StatusSeeOther)
		rec = vic.get(leadsview.ListPath)
		wantStatus(t, rec, http.StatusSeeOther)
		if loc, _ := url.Parse(rec.Header().Get("Location")); loc.Query().Get("view") != id || loc.Query().Get("status") != status {
			t.Fatalf("vic's plain list went to %s, want the default view %s", rec.Header().Get("Location"), id)
		}
		// Others keep theirs (none); a query, or ?view=none, opens the page itself.
		wantStatus(t, mia.get(leadsview.ListPath), http.StatusOK)
		wantStatus(t, vic.get(leadsview.ListPath+"?view=none"), http.StatusOK)
		wantStatus(t, vic.get(leadsview.ListPath+"?q="), http.StatusOK)
		// The default is marked in the bar, once.
		p := parsePage(t, getList(t, vic, url.Values{"view": {"none"}}).body)
		if len(p.all("view-default")) != 1 || !p.has("view-none") {
			t.Fatal("the bar does not mark the one default")
		}
		// Deleting the view (its owner does) ends vic's default.
		wantStatus(t, mia.post(leadsview.ViewPath(atoi64(t, id))+"/delete", nil), http.StatusSeeOther)
		wantStatus(t, vic.get(leadsview.ListPath), http.StatusOK)
		if n := h.countAudit("view.delete", db.OutcomeOK); n != 1 {
			t.Fatalf("%d view.delete audit entries, want 1", n)
		}
	})

	t.Run("a view whose status no longer exists opens without it, with a notice", func(t *testing.T) {
		loc := saveView(t, mia, "list", "Gone stage", url.Values{"business_type": {bt}, "status": {"status-gone-42"}}.Encode(), false, false)
		u, _ := url.Parse(loc)
		rec := mia.get(loc)
		wantStatus(t, rec, http.StatusOK)
		p := parsePage(t, rec.Body.String())
		if !strings.Contains(p.text("list-dropped"), "status-gone-42") {
			t.Fatalf("no notice naming the dropped status: %q", p.text("list-dropped"))
		}
		if got := getList(t, mia, u.Query()).total; got != inType {
			t.Fatalf("the view shows %d leads, want the business type's %d", got, inType)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		rec := mia.post(leadsview.ViewsPath, url.Values{"page": {"list"}, "name": {"  "}, "query": {"q=x"}}, withReferer("/leads/list?q=x"))
		wantStatus(t, rec, http.StatusSeeOther)
		if rec.Header().Get("Location") != "/leads/list?q=x" {
			t.Fatalf("an unnamed view went to %s, want back to the list", rec.Header().Get("Location"))
		}
		wantStatus(t, mia.post(leadsview.ViewsPath, url.Values{"page": {"list"}, "name": {"x"}}, noCSRF()), http.StatusForbidden)
	})
}

func withReferer(path string) reqOption {
	return func(r *http.Request) { r.Header.Set("Referer", "http://jingdesk.test"+path) }
}

func atoi64(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not an id: %q", s)
	}
	return n
}
