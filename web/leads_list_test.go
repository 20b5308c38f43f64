package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// listPage is one page of the list as the client sees it.
type listPage struct {
	body  string
	total int
	uuids []string
}

func getList(t *testing.T, c *client, q url.Values, opts ...reqOption) listPage {
	t.Helper()
	path := leadsview.ListPath
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	rec := c.get(path, opts...)
	wantStatus(t, rec, http.StatusOK)
	p := listPage{body: rec.Body.String()}
	total := testIDAttrs(p.body, "leads-table", "data-total")
	if len(total) != 1 {
		t.Fatalf("%s: %d tables in the answer, want 1", path, len(total))
	}
	p.total, _ = strconv.Atoi(total[0])
	p.uuids = testIDAttrs(p.body, "lead-row", "data-uuid")
	return p
}

// allLeads is every lead of the local copy (not voided).
func allLeads(t *testing.T, h *harness) []db.Lead {
	t.Helper()
	var out []db.Lead
	for off := 0; ; off += db.MaxLeadLimit {
		page, total, err := h.store.ListLeads(context.Background(), db.LeadFilter{Limit: db.MaxLeadLimit, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if len(out) >= total || len(page) == 0 {
			return out
		}
	}
}

func countWhere(ls []db.Lead, keep func(db.Lead) bool) int {
	n := 0
	for _, l := range ls {
		if keep(l) {
			n++
		}
	}
	return n
}

// walkList pages through the list with q and returns every lead's uuid in order.
func walkList(t *testing.T, c *client, q url.Values) []string {
	t.Helper()
	first := getList(t, c, q)
	out := first.uuids
	pages := (first.total + leadsview.ListPageSize - 1) / leadsview.ListPageSize
	for p := 2; p <= pages; p++ {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(p))
		pg := getList(t, c, v)
		if len(pg.uuids) == 0 {
			t.Fatalf("page %d of %d is empty", p, pages)
		}
		out = append(out, pg.uuids...)
	}
	if len(out) != first.total {
		t.Fatalf("walked %d leads, the list counts %d", len(out), first.total)
	}
	return out
}

func TestLeadList(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	mia, vic := h.login("mia"), h.login("vic")
	r := rig.resolver()
	orig := allLeads(t, h) // the sandbox's own leads
	slices.SortFunc(orig, func(a, b db.Lead) int { return int(a.CreatedAt - b.CreatedAt) })
	bt0 := r.DefaultBusinessType("lead")
	rig.addLeads(bt0, r.Statuses(bt0)[0].ID, 30) // more than a page
	all := allLeads(t, h)
	if len(all) <= leadsview.ListPageSize {
		t.Fatalf("the sandbox copy has %d leads; the paging tests need more than a page", len(all))
	}
	byUUID := map[string]db.Lead{}
	for _, l := range all {
		byUUID[l.UUID] = l
	}
	zone, _ := time.LoadLocation("Asia/Shanghai")

	t.Run("shows synced leads with resolved names", func(t *testing.T) {
		p := getList(t, mia, nil)
		if p.total != len(all) {
			t.Fatalf("total %d, want %d", p.total, len(all))
		}
		if len(p.uuids) != leadsview.ListPageSize {
			t.Fatalf("%d rows on the first page, want %d", len(p.uuids), leadsview.ListPageSize)
		}
		l := byUUID[p.uuids[0]]
		status, _ := r.Status("zh-Hans", l.BusinessType, l.Status)
		pg := parsePage(t, p.body)
		row := pg.in(pg.allWith("lead-row", "data-uuid", l.UUID)[0])
		if name := row.one("lead-name"); attrOf(name, "href") != "/leads/"+l.UUID || nodeText(name) != strings.Join(strings.Fields(l.Name), " ") {
			t.Errorf("the row's name %q links to %q", nodeText(name), attrOf(name, "href"))
		}
		if st := row.one("lead-status"); attrOf(st, "data-status") != l.Status || nodeText(st) != status {
			t.Errorf("the row's status %q (%s), want %q (%s)", nodeText(st), attrOf(st, "data-status"), status, l.Status)
		}
		if got, want := row.text("lead-business-type"), r.BusinessType("zh-Hans", "lead", l.BusinessType); got != want {
			t.Errorf("the row's business type %q, want %q", got, want)
		}
		if !hasTestID(p.body, "view-board") || !isCurrentLink(p.body, "view-list", "/leads/list") {
			t.Error("the list has no Board/List toggle with the list current")
		}
		if strings.Contains(status, "未知") {
			t.Errorf("status %s of the first lead does not resolve: %s", l.Status, status)
		}
		// Owners resolve to names, not ids.
		for _, uuid := range p.uuids {
			if o := byUUID[uuid].Owner; o != "" && !hasTestIDText(p.body, "lead-owner", r.Member("zh-Hans", o)) {
				t.Errorf("owner %s of %s not shown by name", o, uuid)
			}
		}
		board := mia.get("/leads/board").Body.String()
		if !hasTestID(board, "view-list") || parseHTML(board).attr("view-board", "aria-current") != "page" {
			t.Error("the board has no Board/List toggle")
		}
	})

	t.Run("search by a Chinese substring of a company", func(t *testing.T) {
		var sub string
		for _, l := range orig {
			rs := []rune(l.Company)
			if len(rs) >= 5 && unicode.Is(unicode.Han, rs[1]) && unicode.Is(unicode.Han, rs[2]) && unicode.Is(unicode.Han, rs[3]) {
				sub = string(rs[1:4])
				break
			}
		}
		if sub == "" {
			t.Fatal("no lead with a Chinese company name")
		}
		want := countWhere(all, func(l db.Lead) bool {
			for _, f := range []string{l.Name, l.Mobile, l.Email, l.Company, l.Title} {
				if strings.Contains(strings.ToLower(f), strings.ToLower(sub)) {
					return true
				}
			}
			return false
		})
		p := getList(t, mia, url.Values{"q": {sub}})
		t.Logf("search %q: %d of %d leads", sub, p.total, len(all))
		if p.total != want || p.total == 0 || p.total >= len(all) {
			t.Fatalf("search %q: %d leads, want %d (of %d)", sub, p.total, want, len(all))
		}
		for _, u := range p.uuids {
			if !strings.Contains(byUUID[u].Company+byUUID[u].Name+byUUID[u].Title, sub) {
				t.Errorf("lead %s (%s) does not match %q", u, byUUID[u].Company, sub)
			}
		}
		if !hasAttrOn(p.body, "list-q", `value="`+sub+`"`) {
			t.Error("the search box does not keep the query")
		}
	})

	t.Run("each filter", func(t *testing.T) {
		some := all[len(all)/2]
		bt, status := some.BusinessType, some.Status
		var owner, pool, source string
		for _, l := range all {
			owner, pool, source = cmpOr(owner, l.Owner), cmpOr(pool, l.LeadPool), cmpOr(source, l.Source)
		}
		mid := orig[len(orig)/2]
		day := time.Unix(mid.CreatedAt, 0).In(zone).Format(time.DateOnly)
		dayStart, _ := time.ParseInLocation(time.DateOnly, day, zone)
		uday := time.Unix(mid.UpdatedAt, 0).In(zone).Format(time.DateOnly)
		udayStart, _ := time.ParseInLocation(time.DateOnly, uday, zone)
		for _, tc := range []struct {
			name string
			q    url.Values
			keep func(db.Lead) bool
		}{
			{"business type", url.Values{"business_type": {bt}}, func(l db.Lead) bool { return l.BusinessType == bt }},
			{"status", url.Values{"business_type": {bt}, "status": {status}}, func(l db.Lead) bool { return l.BusinessType == bt && l.Status == status }},
			{"owner", url.Values{"owner": {owner}}, func(l db.Lead) bool { return l.Owner == owner }},
			{"lead pool", url.Values{"lead_pool": {pool}}, func(l db.Lead) bool { return l.LeadPool == pool }},
			{"source", url.Values{"source": {source}}, func(l db.Lead) bool { return l.Source == source }},
			{"created from", url.Values{"created_from": {day}}, func(l db.Lead) bool { return l.CreatedAt >= dayStart.Unix() }},
			{"created to", url.Values{"created_to": {day}}, func(l db.Lead) bool { return l.CreatedAt < dayStart.AddDate(0, 0, 1).Unix() }},
			{"updated on a day", url.Values{"updated_from": {uday}, "updated_to": {uday}}, func(l db.Lead) bool {
				return l.UpdatedAt >= udayStart.Unix() && l.UpdatedAt < udayStart.AddDate(0, 0, 1).Unix()
			}},
			{"a status without its business type is ignored", url.Values{"status": {status}}, func(db.Lead) bool { return true }},
		} {
			want := countWhere(all, tc.keep)
			p := getList(t, mia, tc.q)
			t.Logf("%s: %d of %d leads", tc.name, want, len(all))
			if p.total != want {
				t.Errorf("%s (%v): %d leads, want %d", tc.name, tc.q, p.total, want)
			}
			if want == 0 && !hasTestID(p.body, "list-empty") {
				t.Errorf("%s: no empty state", tc.name)
			}
			for _, u := range p.uuids {
				if !tc.keep(byUUID[u]) {
					t.Errorf("%s: lead %s should not be listed", tc.name, u)
				}
			}
		}
		p := getList(t, mia, url.Values{"q": {"不可能匹配的搜索词"}})
		if p.total != 0 || !hasTestID(p.body, "list-empty") {
			t.Errorf("no match: total %d, empty state shown %v", p.total, hasTestID(p.body, "list-empty"))
		}
	})

	t.Run("sort", func(t *testing.T) {
		p := getList(t, mia, url.Values{"sort": {"name"}})
		names := make([]string, len(p.uuids))
		for i, u := range p.uuids {
			names[i] = byUUID[u].Name
		}
		if !slices.IsSorted(names) {
			t.Errorf("sorted by name: %v", names)
		}
		p = getList(t, mia, url.Values{"sort": {"created"}})
		for i := 1; i < len(p.uuids); i++ {
			if byUUID[p.uuids[i-1]].CreatedAt < byUUID[p.uuids[i]].CreatedAt {
				t.Fatalf("sorted by created: row %d is newer than row %d", i, i-1)
			}
		}
		p = getList(t, mia, nil)
		for i := 1; i < len(p.uuids); i++ {
			if byUUID[p.uuids[i-1]].UpdatedAt < byUUID[p.uuids[i]].UpdatedAt {
				t.Fatalf("by default, sorted by updated: row %d is newer than row %d", i, i-1)
			}
		}
	})

	t.Run("paging walks every lead once", func(t *testing.T) {
		got := walkList(t, mia, url.Values{"sort": {"name"}})
		seen := map[string]bool{}
		for _, u := range got {
			if seen[u] {
				t.Fatalf("lead %s listed twice", u)
			}
			seen[u] = true
		}
		if len(seen) != len(all) {
			t.Fatalf("walked %d leads, want %d", len(seen), len(all))
		}
		p := getList(t, mia, url.Values{"page": {"2"}})
		if testIDText(p.body, "page-current") != "2" || !hasTestID(p.body, "page-prev") {
			t.Error("page 2 does not show itself as current with a link back")
		}
		// Past the end: the last page.
		p = getList(t, mia, url.Values{"page": {"99999"}})
		if len(p.uuids) == 0 {
			t.Error("a page past the end shows nothing")
		}
	})

	t.Run("viewers see mobile and email masked, marketers in full", func(t *testing.T) {
		q := url.Values{"sort": {"name"}}
		full, masked := getList(t, mia, q), getList(t, vic, q)
		if !slices.Equal(full.uuids, masked.uuids) {
			t.Fatal("viewer and marketer see different leads")
		}
		fm, mm := testIDTexts(full.body, "lead-mobile"), testIDTexts(masked.body, "lead-mobile")
		fe, me := testIDTexts(full.body, "lead-email"), testIDTexts(masked.body, "lead-email")
		if len(fm) != len(full.uuids) || len(mm) != len(full.uuids) || len(fe) != len(full.uuids) || len(me) != len(full.uuids) {
			t.Fatal("a row lacks its mobile or email cell")
		}
		checked := 0
		for i, u := range full.uuids {
			l := byUUID[u]
			if fm[i] != l.Mobile || fe[i] != l.Email {
				t.Errorf("marketer sees %q %q for %s, want %q %q", fm[i], fe[i], u, l.Mobile, l.Email)
			}
			if mm[i] != leads.Mask(l.Mobile) || me[i] != leads.Mask(l.Email) {
				t.Errorf("viewer sees %q %q for %s", mm[i], me[i], u)
			}
			if l.Mobile != "" {
				checked++
				if appearsInBytes(masked.body, l.Mobile) {
					t.Errorf("the viewer's page holds the full mobile %s", l.Mobile)
				}
			}
			if l.Email != "" && appearsInBytes(masked.body, html.EscapeString(l.Email)) {
				t.Errorf("the viewer's page holds the full email %s", l.Email)
			}
		}
		if checked == 0 {
			t.Fatal("no lead on the page has a mobile number")
		}
		if !hasTestIDText(masked.body, "lead-mobile", "****") {
			t.Error("no masked value on the viewer's page")
		}
	})

	t.Run("htmx filter request answers with the table only", func(t *testing.T) {
		bt := r.DefaultBusinessType("lead")
		p := getList(t, vic, url.Values{"business_type": {bt}}, htmx())
		frag := parseFrag(t, p.body)
		if isFullPage(p.body) || frag.has("list-filters") || frag.has("main-nav") {
			t.Error("the htmx answer holds more than the table")
		}
		if first := firstElement(frag.doc); first == nil || attrOf(first, "id") != "leads-table" {
			t.Errorf("the htmx answer does not start with the table: %.80s", p.body)
		}
		oob := frag.where("div", "id", "list-status-field", "hx-swap-oob", "true")
		if len(oob) != 1 {
			t.Fatal("the status filter of the chosen business type is not sent out of band")
		}
		offered := optionValues(frag.in(oob[0]).one("list-status"))
		for _, st := range r.Statuses(bt) {
			if !slices.Contains(offered, st.ID) {
				t.Errorf("status %s of %s not offered", st.ID, bt)
			}
		}
		full := getList(t, vic, url.Values{"business_type": {bt}})
		if !isFullPage(full.body) || len(parseHTML(full.body).allWith("list-filters", "id", "list-filters", "hx-get", "/leads/list", "hx-push-url", "true")) != 1 {
			t.Error("the full page lacks the htmx filter form")
		}
	})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
