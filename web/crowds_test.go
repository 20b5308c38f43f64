package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/leads"
)

// crowdIDs are the group ids of the crowd rows of a page or fragment, in order.
func crowdIDs(body string) []string {
	var out []string
	for _, r := range parseHTML(body).all("crowd-row") {
		out = append(out, attrOf(r, "data-id"))
	}
	return out
}

func TestCrowdListShowsTheDemoCrowdsWithCountsAndSearches(t *testing.T) {
	t.Parallel()
	h, _ := newCrowdsHarness(t)
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	local, total, err := h.store.ListCrowds(context.Background(), db.CrowdFilter{Limit: 500})
	if err != nil || total < 5 {
		t.Fatalf("local copy: %d crowds, %v", total, err)
	}
	rec := c.get("/crowds")
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /crowds: %d", rec.Code)
	}
	if got := len(crowdIDs(body)); got != total {
		t.Fatalf("%d rows, want %d", got, total)
	}
	rows := map[string]*html.Node{}
	for _, r := range parseHTML(body).all("crowd-row") {
		rows[attrOf(r, "data-id")] = r
	}
	for _, cr := range local {
		r := rows[strconv.FormatInt(cr.GroupID, 10)]
		if r == nil {
			t.Fatalf("crowd %q not listed", cr.Name)
		}
		name, members := within(r, "crowd-name"), within(r, "crowd-members")
		if len(name) != 1 || nodeText(name[0]) != cr.Name || attrOf(name[0], "href") != fmt.Sprintf("/crowds/%d", cr.GroupID) ||
			len(members) != 1 || attrOf(members[0], "data-count") != strconv.FormatInt(cr.UserCount, 10) {
			t.Fatalf("row of %q lacks its name, link or count %d", cr.Name, cr.UserCount)
		}
	}
	if !hasTestID(body, "crowds-asof") || hasTestID(body, "crowds-syncing") {
		t.Fatal("a fresh list shows no as-of line, or says it is refreshing")
	}
	// The viewer sees no controls that change anything.
	for _, ctl := range []string{"crowd-new-form", "crowds-sync"} {
		if hasTestID(body, ctl) {
			t.Fatalf("viewer sees %s", ctl)
		}
	}
	if len(parseHTML(body).where("form", "action", "/crowds", "method", "post")) > 0 {
		t.Fatal("viewer sees a form that creates a crowd")
	}

	// The search narrows (name or description), as a page and as the table.
	rec = c.get("/crowds?q=" + url.QueryEscape("经销商"))
	if ids := crowdIDs(rec.Body.String()); len(ids) != 1 || !hasTestIDText(rec.Body.String(), "crowd-name", "华东区经销商联系人") {
		t.Fatalf("search by name: %v", ids)
	}
	rec = c.get("/crowds/table?q="+url.QueryEscape("白皮书"), htmx())
	frag := rec.Body.String()
	if isFullPage(frag) || len(crowdIDs(frag)) != 1 || !hasTestIDText(frag, "crowd-name", "白皮书下载用户") {
		t.Fatalf("table fragment for a search: %s", frag)
	}
	if got := rec.Header().Get("HX-Push-Url"); got != "/crowds?q="+url.QueryEscape("白皮书") {
		t.Fatalf("the search puts %q in the address bar", got)
	}
	if rec := c.get("/crowds/table?poll=1", htmx()); rec.Header().Get("HX-Push-Url") != "" {
		t.Fatal("polling changes the address bar")
	}
	rec = c.get("/crowds?q=" + url.QueryEscape("没有这个人群"))
	if !hasTestID(rec.Body.String(), "crowds-empty-search") || len(crowdIDs(rec.Body.String())) != 0 {
		t.Fatal("a search matching nothing does not say so")
	}
}

func TestCrowdListPagesAndShowsAnEmptyState(t *testing.T) {
	t.Parallel()
	h, _ := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	ctx := context.Background()
	var many []db.Crowd
	for i := range 120 {
		many = append(many, db.Crowd{GroupID: int64(90000 + i), Name: fmt.Sprintf("批次 %03d", i), UserCount: int64(i), UpdatedAt: int64(1_700_000_000 + i)})
	}
	st, _ := h.store.CrowdSyncState(ctx)
	if err := h.store.ReplaceCrowds(ctx, st.Connection, many); err != nil {
		t.Fatal(err)
	}
	first := c.get("/crowds").Body.String()
	if ids := crowdIDs(first); len(ids) != 50 || ids[0] != "90119" {
		t.Fatalf("first page: %d rows from %v", len(ids), ids[:1])
	}
	if !hasTestIDText(first, "crowds-total", "1–50") || !hasTestIDText(first, "crowds-total", "120") || !hasAttrOn(first, "page-next", `href="/crowds?page=2"`) {
		t.Fatal("first page lacks its count or the next page link")
	}
	third := c.get("/crowds/table?page=3", htmx()).Body.String()
	if ids := crowdIDs(third); len(ids) != 20 || ids[19] != "90000" || hasTestID(third, "page-next") {
		t.Fatalf("last page: %v", ids)
	}
	// Past the end: the last page.
	if ids := crowdIDs(c.get("/crowds?page=99").Body.String()); len(ids) != 20 {
		t.Fatalf("page past the end: %d rows", len(ids))
	}

	if err := h.store.ReplaceCrowds(ctx, st.Connection, nil); err != nil {
		t.Fatal(err)
	}
	empty := c.get("/crowds").Body.String()
	if !hasTestID(empty, "empty-state") || !under(parsePage(t, empty).one("empty-state")).linksTo("/imports/new") ||
		!hasTestID(empty, "crowd-new-form") {
		t.Fatal("no crowds: no empty state with the way to create or import one")
	}
}

func TestCrowdViewerIsRefusedEveryWrite(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	cr := firstCrowd(t, h)
	page := c.get(fmt.Sprintf("/crowds/%d", cr.GroupID)).Body.String()
	for _, ctl := range []string{"crowd-edit-form", "crowd-delete-form", "crowd-delete"} {
		if hasTestID(page, ctl) {
			t.Fatalf("viewer sees %s on the crowd page", ctl)
		}
	}
	for _, p := range []struct {
		path string
		form url.Values
	}{
		{"/crowds", url.Values{"name": {"查看者的人群"}}},
		{"/crowds/sync", nil},
		{fmt.Sprintf("/crowds/%d", cr.GroupID), url.Values{"name": {"改名"}}},
		{fmt.Sprintf("/crowds/%d/delete", cr.GroupID), url.Values{"confirm": {strconv.FormatInt(cr.UserCount, 10)}}},
	} {
		if rec := c.post(p.path, p.form); rec.Code != http.StatusForbidden {
			t.Fatalf("viewer POST %s: %d, want 403", p.path, rec.Code)
		}
	}
	if _, err := rig.plat.Client().CrowdDetail(context.Background(), cr.GroupID); err != nil {
		t.Fatalf("crowd gone from the platform after refused writes: %v", err)
	}
}

func firstCrowd(t *testing.T, h *harness) db.Crowd {
	t.Helper()
	list, _, err := h.store.ListCrowds(context.Background(), db.CrowdFilter{Query: "白皮书"})
	if err != nil || len(list) != 1 {
		t.Fatalf("demo crowd: %v %v", list, err)
	}
	return list[0]
}

var locationCrowd = regexp.MustCompile(`^/crowds/(\d+)$`)

func TestCrowdCreateRenameAndDelete(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	ctx := context.Background()

	// Create: on the platform, in the local copy, audited; the crowd's page follows.
	rec := c.post("/crowds", url.Values{"name": {" 双十一预热 "}, "description": {"11 月活动预热名单"}})
	m := locationCrowd.FindStringSubmatch(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d → %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	onPlatform, err := rig.plat.Client().CrowdDetail(ctx, id)
	if err != nil || onPlatform.Name != "双十一预热" || onPlatform.Description != "11 月活动预热名单" {
		t.Fatalf("on the platform: %+v %v", onPlatform, err)
	}
	if local, err := h.store.Crowd(ctx, id); err != nil || local.Name != "双十一预热" {
		t.Fatalf("local copy: %+v %v", local, err)
	}
	page := c.get(rec.Header().Get("Location")).Body.String()
	if !hasTestIDText(page, "crowd-title", "双十一预热") || !hasTestID(page, "crowd-edit-form") ||
		!hasAttrOn(page, "crowd-members", `hx-get="/crowds/`+m[1]+`/members"`) || !hasAttrOn(page, "flash", `class="flash flash-success"`) {
		t.Fatal("the new crowd's page lacks its name, its edit form, the members fragment or the flash")
	}
	if !hasAttrOn(c.get("/crowds").Body.String(), "crowd-row", `data-id="`+m[1]+`"`) {
		t.Fatal("the new crowd is not in the list")
	}
	if n := h.countAudit("crowd.create", db.OutcomeOK); n != 1 {
		t.Fatalf("%d crowd.create audit entries", n)
	}

	// A name already used: the form again, with what was typed and the platform's words.
	rec = c.post("/crowds", url.Values{"name": {"白皮书下载用户"}, "description": {"我的描述 <b>"}})
	body := rec.Body.String()
	if rec.Code != http.StatusUnprocessableEntity || !hasTestID(body, "crowd-new-error") ||
		!hasTestIDText(body, "crowd-new-error", "人群名称已存在") || !hasTestIDText(body, "crowd-new-error", "40004") ||
		!hasAttrOn(body, "crowd-name-input", `value="白皮书下载用户"`) || !hasAttrOn(body, "crowd-description-input", `value="我的描述 &lt;b&gt;"`) {
		t.Fatalf("duplicate name: %d\n%s", rec.Code, body)
	}
	if n := h.countAudit("crowd.create", db.OutcomeFailed); n != 1 {
		t.Fatalf("%d refused crowd.create audit entries", n)
	}
	// An empty name never reaches the platform.
	if rec := c.post("/crowds", url.Values{"name": {"  "}}); rec.Code != http.StatusUnprocessableEntity ||
		!hasTestID(rec.Body.String(), "crowd-new-error") {
		t.Fatalf("empty name: %d", rec.Code)
	}

	// Rename.
	path := "/crowds/" + m[1]
	rec = c.post(path, url.Values{"name": {"双十一预热（改）"}, "description": {""}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != path {
		t.Fatalf("rename: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if pc, _ := rig.plat.Client().CrowdDetail(ctx, id); pc.Name != "双十一预热（改）" || pc.Description != "" {
		t.Fatalf("renamed on the platform: %+v", pc)
	}
	if local, _ := h.store.Crowd(ctx, id); local.Name != "双十一预热（改）" {
		t.Fatalf("renamed locally: %+v", local)
	}
	// Renaming to a name in use: refused, input kept.
	rec = c.post(path, url.Values{"name": {"测试人群"}, "description": {"保留"}})
	if body := rec.Body.String(); rec.Code != http.StatusUnprocessableEntity || !hasTestIDText(body, "crowd-edit-error", "人群名称已存在") ||
		!hasAttrOn(body, "crowd-name-input", `value="测试人群"`) || !hasAttrOn(body, "crowd-description-input", `value="保留"`) {
		t.Fatalf("rename to a used name: %d", rec.Code)
	}
	if n := h.countAudit("crowd.update", ""); n != 2 {
		t.Fatalf("%d crowd.update audit entries, want 2 (one refused)", n)
	}

	// Delete: the confirmation names the crowd and its exact count first.
	if _, err := rig.plat.Client().ImportToCrowd(ctx, id, uuids(rig.sandbox().SamplePersons(7))); err != nil {
		t.Fatal(err)
	}
	rec = c.post(path+"/delete", nil, htmx())
	body = rec.Body.String()
	if rec.Code != http.StatusOK || isFullPage(body) || !hasTestIDText(body, "crowd-delete-confirm", "双十一预热（改）") ||
		!hasTestIDText(body, "crowd-delete-confirm-submit", "7") || !hasAttrOn(body, "crowd-delete-count", `name="confirm"`) {
		t.Fatalf("confirmation: %d\n%s", rec.Code, body)
	}
	for _, wrong := range []string{"", "6", "all"} {
		rec = c.post(path+"/delete", url.Values{"confirm": {wrong}})
		if rec.Code != http.StatusUnprocessableEntity || !hasTestID(rec.Body.String(), "crowd-delete-error") {
			t.Fatalf("confirm %q: %d", wrong, rec.Code)
		}
	}
	if _, err := rig.plat.Client().CrowdDetail(ctx, id); err != nil {
		t.Fatalf("deleted without the right count: %v", err)
	}
	rec = c.post(path+"/delete", url.Values{"confirm": {"7"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/crowds" {
		t.Fatalf("delete: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	_, err = rig.plat.Client().CrowdDetail(ctx, id)
	if je, ok := jing.AsError(err); !ok || je.Code != jing.CodeBusinessFailed {
		t.Fatalf("still on the platform: %v", err)
	}
	if slices.Contains(crowdIDs(c.get("/crowds").Body.String()), m[1]) {
		t.Fatal("deleted crowd still listed")
	}
	if rec := c.get(path); rec.Code != http.StatusNotFound {
		t.Fatalf("deleted crowd's page: %d", rec.Code)
	}
	if n := h.countAudit("crowd.delete", db.OutcomeOK); n != 1 {
		t.Fatalf("%d crowd.delete audit entries", n)
	}
}

func uuids(ps []sandbox.SamplePerson) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.OmniUserUUID)
	}
	return out
}

func TestCrowdUnknownIDIsNotFound(t *testing.T) {
	t.Parallel()
	h, _ := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	for _, p := range []string{"/crowds/1", "/crowds/abc", "/crowds/-4", "/crowds/1/members", "/crowds/abc/members"} {
		if rec := c.get(p); rec.Code != http.StatusNotFound {
			t.Fatalf("GET %s: %d, want 404", p, rec.Code)
		}
	}
	if rec := c.post("/crowds/1/delete", url.Values{"confirm": {"0"}}); rec.Code != http.StatusNotFound {
		t.Fatalf("delete unknown: %d", rec.Code)
	}
}

func TestCrowdMembersPageThroughWithImportedIdentities(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	mia := h.addUser("mia", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	ctx := context.Background()

	// An import of 60 known persons into a new crowd, through the service.
	people := rig.sandbox().SamplePersons(60)
	imID := importPeople(t, rig, mia, people, "名单.csv", "导入的人群")
	im, err := h.store.Import(ctx, imID)
	if err != nil || im.CrowdID == 0 {
		t.Fatalf("import: %+v %v", im, err)
	}
	path := fmt.Sprintf("/crowds/%d", im.CrowdID)

	c := h.login("mia")
	page := c.get(path).Body.String()
	if !hasTestID(page, "crowd-import") || !hasTestIDText(page, "crowd-import", "名单.csv") || !under(parsePage(t, page).one("crowd-import")).linksTo("/imports/"+strconv.FormatInt(imID, 10)) {
		t.Fatal("the crowd page does not list the import that fed it")
	}

	first := c.get(path+"/members", htmx()).Body.String()
	if isFullPage(first) || countTestID(first, "member-row") != 50 ||
		!hasAttrOn(first, "members-fragment", `data-pages="2"`) || !hasAttrOn(first, "members-fragment", `data-total="60"`) ||
		!hasAttrOn(first, "members-next", `hx-get="`+path+`/members?page=2"`) {
		t.Fatalf("first page of members:\n%.2000s", first)
	}
	second := c.get(path+"/members?page=2", htmx()).Body.String()
	if countTestID(second, "member-row") != 10 || !hasTestID(second, "members-prev") ||
		hasTestID(second, "members-next") {
		t.Fatal("second page of members")
	}
	// Members are named by the identity the import resolved; viewers see it masked.
	all := first + second
	p := people[0]
	if !hasTestIDText(all, "member-identity", p.Mobile) || !hasTestIDText(all, "member-name", p.Name) {
		t.Fatalf("member %s shown without the imported mobile %s", p.OmniUserUUID, p.Mobile)
	}
	v := h.login("vic")
	masked := v.get(path+"/members", htmx()).Body.String() + v.get(path+"/members?page=2", htmx()).Body.String()
	if appearsInBytes(masked, p.Mobile) || !hasTestIDText(masked, "member-identity", leads.Mask(p.Mobile)) {
		t.Fatal("viewer sees an unmasked mobile")
	}

	// A platform refusal (the crowd was deleted on the platform meanwhile):
	// the fragment says so with the platform's words and a retry, never a 500.
	if err := rig.plat.Client().DeleteCrowd(ctx, im.CrowdID); err != nil {
		t.Fatal(err)
	}
	rec := c.get(path+"/members", htmx())
	if rec.Code != http.StatusOK || !hasTestID(rec.Body.String(), "members-error") ||
		!hasTestID(rec.Body.String(), "members-retry") || !hasTestIDText(rec.Body.String(), "members-error", "40004") {
		t.Fatalf("members with the platform failing: %d\n%s", rec.Code, rec.Body.String())
	}
}

func TestCrowdStaleListRefreshesInTheBackground(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	ctx := context.Background()
	before, _ := h.store.CrowdSyncState(ctx)
	// Made on the platform behind the console's back; the list is then stale.
	id, err := rig.plat.Client().CreateCrowd(ctx, "平台上新建的人群", "")
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(crowds.DefaultTTL + time.Minute)
	body := c.get("/crowds").Body.String()
	pending, err := h.store.PendingJobs(ctx, crowds.SyncJobKind)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) == 0 {
		// The runner may already have finished it: the sync state moved on.
		if st, _ := h.store.CrowdSyncState(ctx); st.SyncedAt == before.SyncedAt {
			t.Fatal("a stale list asked for no refresh")
		}
	} else if !hasAttrOn(body, "crowds-table", `hx-trigger="every 2s"`) || !hasTestID(body, "crowds-syncing") {
		t.Fatal("the table does not poll while the refresh runs")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		frag := c.get("/crowds/table?poll=1", htmx()).Body.String()
		if !hasAttrOn(frag, "crowds-table", `data-syncing="true"`) {
			if !hasAttrOn(frag, "crowd-row", fmt.Sprintf(`data-id="%d"`, id)) || !pollsNothing(frag) {
				t.Fatalf("after the refresh the table lacks the new crowd or still polls")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresh did not end")
		}
		<-time.After(10 * time.Millisecond)
	}
}

// A crowd deleted on the platform behind the console's back: asking to
// delete it, or confirming, goes back to the list, which no longer has it,
// saying so by name.
func TestCrowdGoneFromThePlatformIsSaidByName(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	ctx := context.Background()
	for _, form := range []url.Values{nil, {"confirm": {"0"}}} {
		cr, err := rig.svc.Create(ctx, "mia", "平台上已删除", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := rig.plat.Client().DeleteCrowd(ctx, cr.GroupID); err != nil {
			t.Fatal(err)
		}
		rec := c.post(fmt.Sprintf("/crowds/%d/delete", cr.GroupID), form)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/crowds" {
			t.Fatalf("delete %v of a crowd gone: %d → %q", form, rec.Code, rec.Header().Get("Location"))
		}
		list := parsePage(t, c.get("/crowds").Body.String())
		flashes := list.all("flash")
		if len(flashes) != 1 || attrOf(flashes[0], "data-kind") != "info" || !strings.Contains(nodeText(flashes[0]), "“平台上已删除”") {
			t.Fatalf("the list after a delete %v of a crowd gone says %d flashes", form, len(flashes))
		}
		for _, row := range list.all("crowd-row") {
			if attrOf(row, "data-id") == strconv.FormatInt(cr.GroupID, 10) {
				t.Fatal("the list still has the crowd gone from the platform")
			}
		}
		if n := h.countAudit("crowd.delete", ""); n != 0 {
			t.Fatalf("%d audit entries for a delete that found nothing to delete", n)
		}
	}
}

// The crowds and imports pages need the crowds service: a server without
// it is refused at start, naming it, rather than failing on a page.
func TestTheServerNeedsTheCrowdsService(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	d := h.srv.Deps
	d.Crowds = nil
	if _, err := New(d); err == nil || !strings.Contains(err.Error(), "Crowds") {
		t.Fatalf("New without the crowds service: %v", err)
	}
}

// importPeople imports people (mobile and name) into a new crowd through
// the import service, as user, and returns the import's id once it ended.
func importPeople(t *testing.T, rig *crowdsRig, user db.User, people []sandbox.SamplePerson, fileName, crowdName string) int64 {
	t.Helper()
	ctx := context.Background()
	var csv bytes.Buffer
	csv.WriteString("手机号,姓名\n")
	for _, p := range people {
		fmt.Fprintf(&csv, "%s,%s\n", p.Mobile, p.Name)
	}
	imID, err := rig.svc.Upload(ctx, user.ID, fileName, &csv)
	if err != nil {
		t.Fatal(err)
	}
	_, pv, err := rig.svc.ImportPreview(ctx, imID)
	if err != nil || pv.Err != nil {
		t.Fatalf("preview: %v %v", err, pv.Err)
	}
	if _, err := rig.svc.Validate(ctx, imID, user.ID, pv.Mapping, "mobile"); err != nil {
		t.Fatal(err)
	}
	jobID, err := rig.svc.Start(ctx, imID, user.ID, user.Username, crowds.Target{NewCrowd: crowdName})
	if err != nil {
		t.Fatal(err)
	}
	rig.waitJob(jobID)
	return imID
}
