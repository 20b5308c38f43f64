package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The board's lead pool and created/updated date filters: the same
// parameters as the list's, narrowing every column.

// boardZone is where the harness reads typed dates (as in TestLeadList).
func boardZone(t *testing.T) *time.Location {
	t.Helper()
	zone, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return zone
}

// dayOf is a Unix time's day in zone, and that day's first and last second.
func dayOf(unix int64, zone *time.Location) (day string, first, last int64) {
	day = time.Unix(unix, 0).In(zone).Format(time.DateOnly)
	start, _ := time.ParseInLocation(time.DateOnly, day, zone)
	return day, start.Unix(), start.AddDate(0, 0, 1).Unix() - 1
}

// boardPath is the board with a filter's query.
func boardPath(q url.Values) string { return leadsview.BoardPath + "?" + q.Encode() }

// leadsOf is the local copy's leads of a business type, oldest first.
func leadsOf(t *testing.T, h *harness, bt string) []db.Lead {
	t.Helper()
	var out []db.Lead
	for _, l := range allLeads(t, h) {
		if l.BusinessType == bt {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b db.Lead) int { return int(a.CreatedAt - b.CreatedAt) })
	if len(out) == 0 {
		t.Fatalf("no leads of %s in the copy", bt)
	}
	return out
}

// wantBoardCounts checks every column of the board at path against the
// store's counts for lf.
func wantBoardCounts(t *testing.T, h *harness, c *client, path string, lf db.LeadFilter, pipe []string) (total int) {
	t.Helper()
	stored, err := h.store.CountLeadsByStatus(context.Background(), lf)
	if err != nil {
		t.Fatal(err)
	}
	rec := c.get(path)
	wantStatus(t, rec, http.StatusOK)
	shown := counts(rec.Body.String())
	for _, st := range pipe {
		if shown[st] != stored[st] {
			t.Errorf("%s: column %s counts %d, the store %d", path, st, shown[st], stored[st])
		}
		total += stored[st]
	}
	return total
}

func TestBoardFiltersNarrowTheColumns(t *testing.T) {
	t.Parallel()
	h, _, c, bt, items := boardAsMarketer(t)
	var pipe []string
	for _, it := range items {
		pipe = append(pipe, it.ID)
	}
	zone := boardZone(t)
	mine := leadsOf(t, h, bt)
	mid := mine[len(mine)/2]
	cday, cfirst, clast := dayOf(mid.CreatedAt, zone)
	uday, ufirst, ulast := dayOf(mid.UpdatedAt, zone)
	pool := ""
	for _, l := range mine {
		pool = cmpOr(pool, l.LeadPool)
	}
	if pool == "" {
		t.Fatal("no lead of the board's business type has a lead pool")
	}
	all := wantBoardCounts(t, h, c, boardPath(url.Values{"business_type": {bt}}), db.LeadFilter{BusinessType: bt}, pipe)

	for _, tc := range []struct {
		name string
		q    url.Values
		lf   db.LeadFilter
	}{
		{"lead pool", url.Values{"lead_pool": {pool}}, db.LeadFilter{LeadPool: pool}},
		{"another lead pool", url.Values{"lead_pool": {"no-such-pool"}}, db.LeadFilter{LeadPool: "no-such-pool"}},
		{"created from", url.Values{"created_from": {cday}}, db.LeadFilter{CreatedFrom: cfirst}},
		{"created to", url.Values{"created_to": {cday}}, db.LeadFilter{CreatedTo: clast}},
		{"updated on a day", url.Values{"updated_from": {uday}, "updated_to": {uday}}, db.LeadFilter{UpdatedFrom: ufirst, UpdatedTo: ulast}},
		{"a bad date is ignored", url.Values{"created_from": {"2024-13-45"}}, db.LeadFilter{}},
	} {
		tc.q.Set("business_type", bt)
		tc.lf.BusinessType = bt
		path := boardPath(tc.q)
		got := wantBoardCounts(t, h, c, path, tc.lf, pipe)
		t.Logf("%s: %d of %d leads", tc.name, got, all)
		switch tc.name {
		case "another lead pool":
			if got != 0 {
				t.Errorf("%s: %d leads on the board", tc.name, got)
			}
		case "created from", "created to":
			if got == 0 { // the middle lead is on that day
				t.Errorf("%s: %d of %d leads", tc.name, got, all)
			}
		case "a bad date is ignored":
			if got != all {
				t.Errorf("%s: %d leads, want all %d", tc.name, got, all)
			}
		}
		// The form keeps the filter, with the list's controls and labels.
		body := c.get(path).Body.String()
		for k := range tc.q {
			v := tc.q.Get(k)
			if k == "business_type" || tc.name == "a bad date is ignored" {
				continue
			}
			if k == "lead_pool" {
				if sel := parseHTML(body).where("select", "name", "lead_pool"); v == pool && (len(sel) != 1 || selectedValue(sel[0]) != v) {
					t.Errorf("%s: the lead pool is not selected in the form", tc.name)
				}
			} else if !hasControl(body, "", k, v) {
				t.Errorf("%s: the form does not keep %s=%s", tc.name, k, v)
			}
			// Moves carry the filter for the counts they answer with.
			if !hasControl(body, "hidden", k, v) {
				t.Errorf("%s: the board's context does not carry %s", tc.name, k)
			}
		}
		if tc.name == "a bad date is ignored" && len(parseHTML(body).where("", "value", "2024-13-45")) > 0 {
			t.Error("a bad date is shown back")
		}
	}

	body := c.get(boardPath(url.Values{"business_type": {bt}})).Body.String()
	for _, want := range []string{"list-created-from", "list-created-to", "list-updated-from", "list-updated-to"} {
		if len(parseHTML(body).allWith(want, "type", "date")) != 1 {
			t.Errorf("the board's filter form has no date input %s", want)
		}
	}
	if len(parseHTML(body).where("select", "name", "lead_pool")) != 1 {
		t.Error("the board's filter form has no lead pool")
	}
	list := c.get(leadsview.ListPath).Body.String()
	for _, label := range []string{"leads.list.lead_pool", "leads.list.created", "leads.list.updated"} {
		l := h.srv.Catalog.Localizer("zh-Hans").T(label)
		if !hasElementText(body, l) || !hasElementText(list, l) {
			t.Errorf("label %q (%s) not on both the board and the list", l, label)
		}
	}
}

// Load more asks for the next page under the same filter.
func TestBoardLoadMoreKeepsTheFilter(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	ctx := context.Background()
	zone := boardZone(t)
	bt := rig.resolver().DefaultBusinessType("lead")
	status := rig.resolver().Statuses(bt)[0].ID
	rig.addLeads(bt, status, 2*boardPage+5)
	added := rig.leadIn(bt, status)
	for _, l := range leadsOf(t, h, bt) {
		if l.Status == status && l.LeadPool != "" {
			added = l
		}
	}
	day, first, _ := dayOf(added.CreatedAt-86400, zone)
	f := leadsview.Filter{BusinessType: bt, LeadPool: added.LeadPool, CreatedFrom: day}
	lf := db.LeadFilter{BusinessType: bt, LeadPool: added.LeadPool, CreatedFrom: first}
	stored, err := h.store.CountLeadsByStatus(ctx, lf)
	if err != nil {
		t.Fatal(err)
	}
	if stored[status] <= boardPage {
		t.Fatalf("%d leads in %s under the filter; the test needs more than a page", stored[status], status)
	}
	board := c.get(leadsview.BoardURL(f)).Body.String()
	more := leadsview.ColumnURL(leadsview.Column{Status: status, More: boardPage, Filter: f})
	for _, p := range []string{"lead_pool=", "created_from=" + day} {
		if !strings.Contains(more, p) {
			t.Fatalf("the column URL %s has no %s", more, p)
		}
	}
	if !loadsMore(board, more) {
		t.Fatalf("no load-more sentinel carrying the filter (%s)", more)
	}
	rec := c.get(more, htmx())
	wantStatus(t, rec, http.StatusOK)
	lf.Status, lf.Sort, lf.Limit, lf.Offset = status, "updated", boardPage, boardPage
	next, _, err := h.store.ListLeads(ctx, lf)
	if err != nil {
		t.Fatal(err)
	}
	got, want := cardUUIDs(rec.Body.String()), []string(nil)
	for _, l := range next {
		want = append(want, l.UUID)
	}
	if len(want) == 0 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("next page %v, want %v", got, want)
	}
	// Without the filter the next page differs when the filter narrows.
	unfiltered := leadsview.ColumnURL(leadsview.Column{Status: status, More: boardPage, Filter: leadsview.Filter{BusinessType: bt, LeadPool: "no-such-pool"}})
	if cards := cardUUIDs(c.get(unfiltered, htmx()).Body.String()); len(cards) != 0 {
		t.Fatalf("a pool with no leads shows %d cards on its next page", len(cards))
	}
}

// The board⇄list toggle keeps the filters both understand.
func TestBoardListToggleKeepsTheFilter(t *testing.T) {
	t.Parallel()
	h, _, c, bt, pipe := boardAsMarketer(t)
	zone := boardZone(t)
	mine := leadsOf(t, h, bt)
	day, _, _ := dayOf(mine[len(mine)/2].CreatedAt, zone)
	uday, _, _ := dayOf(mine[len(mine)/2].UpdatedAt, zone)
	pool := ""
	for _, l := range mine {
		pool = cmpOr(pool, l.LeadPool)
	}
	f := leadsview.Filter{BusinessType: bt, LeadPool: pool, CreatedFrom: day, CreatedTo: day, UpdatedFrom: uday, UpdatedTo: uday}
	esc := func(s string) string { return strings.ReplaceAll(s, "&", "&amp;") }

	// Board → list: every board filter.
	board := c.get(leadsview.BoardURL(f)).Body.String()
	toList := leadsview.ListURL(leadsview.ListFilter{Filter: f})
	if !hasAttrOn(board, "view-list", `href="`+esc(toList)+`"`) {
		t.Fatalf("the board's list link is %s, want %s", parseHTML(board).attr("view-list", "href"), toList)
	}
	p := getList(t, c, leadsview.ListFilter{Filter: f}.Values())
	for k, v := range f.Values() {
		if k == "business_type" || k == "lead_pool" {
			continue
		}
		if !hasControl(p.body, "", k, v[0]) {
			t.Errorf("the list opened from the board does not keep %s=%s", k, v[0])
		}
	}
	lf := listStoreFilter(leadsview.ListFilter{Filter: f}, zone)
	_, total, err := h.store.ListLeads(context.Background(), lf)
	if err != nil {
		t.Fatal(err)
	}
	if p.total != total {
		t.Errorf("the list opened from the board shows %d leads, the store %d", p.total, total)
	}

	// List → board: the list's status, sort and page stay behind.
	lfl := leadsview.ListFilter{Filter: f, Status: pipe[0].ID, Sort: "name"}
	list := getList(t, c, lfl.Values()).body
	toBoard := leadsview.BoardURL(f)
	if !hasAttrOn(list, "view-board", `href="`+esc(toBoard)+`"`) {
		t.Fatalf("the list's board link is %s, want %s", parseHTML(list).attr("view-board", "href"), toBoard)
	}
	for _, p := range []string{"lead_pool=", "created_from=", "created_to=", "updated_from=", "updated_to="} {
		if !strings.Contains(toBoard, p) {
			t.Errorf("the board link %s has no %s", toBoard, p)
		}
	}
	if strings.Contains(toBoard, "status=") || strings.Contains(toBoard, "sort=") {
		t.Errorf("the board link %s carries the list's own parameters", toBoard)
	}
}

// Two boards differing only by the lead pool are cached apart.
func TestBoardCacheKeepsPoolsApart(t *testing.T) {
	t.Parallel()
	h, _, c, bt, items := boardAsMarketer(t)
	var pipe []string
	for _, it := range items {
		pipe = append(pipe, it.ID)
	}
	pool := ""
	for _, l := range leadsOf(t, h, bt) {
		pool = cmpOr(pool, l.LeadPool)
	}
	before := len(h.srv.areas.leads.board.entries)
	for round := range 2 {
		withPool := wantBoardCounts(t, h, c, boardPath(url.Values{"business_type": {bt}, "lead_pool": {pool}}),
			db.LeadFilter{BusinessType: bt, LeadPool: pool}, pipe)
		other := wantBoardCounts(t, h, c, boardPath(url.Values{"business_type": {bt}, "lead_pool": {"no-such-pool"}}),
			db.LeadFilter{BusinessType: bt, LeadPool: "no-such-pool"}, pipe)
		if withPool == 0 || other != 0 {
			t.Fatalf("round %d: %d leads in the pool, %d in no pool", round, withPool, other)
		}
	}
	if got := len(h.srv.areas.leads.board.entries); got != before+2 {
		t.Fatalf("%d cached boards after two pools (%d before)", got, before)
	}
}
