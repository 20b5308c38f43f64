package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/refdata"
)

// refRig is the real reference-data service wired into a harness: the
// embedded sandbox behind a platform manager, and the job runner the
// refreshes run on (held, not started, when a test wants a refresh to
// stay queued).
type refRig struct {
	t      testing.TB
	svc    *refdata.Service
	runner *jobs.Runner
	plat   *platform.Manager
}

// withReference wires refdata.New on the harness's store and clock.
func withReference(t testing.TB, rig *refRig, hold bool) harnessOption {
	return func(d *Deps) {
		withPlatform(t, nil, func(c *platform.Config) { c.Catalog = unpaced(t) })(d)
		runner := jobs.New(d.Store, jobs.Config{Logger: d.Logger, Heartbeat: 50 * time.Millisecond})
		svc, err := refdata.New(context.Background(), refdata.Config{Store: d.Store, Platform: d.Platform,
			Runner: runner, Logger: d.Logger, Now: d.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(svc.Stop)
		*rig = refRig{t: t, svc: svc, runner: runner, plat: d.Platform}
		d.Reference, d.Jobs = svc, runner
		if !hold {
			rig.start()
		}
	}
}

// unpaced lifts the catalog's pacing (10 calls/s on the metadata
// endpoints), so a full refresh takes milliseconds, not seconds.
func unpaced(t testing.TB) jing.Catalog {
	t.Helper()
	rate, over := 5000.0, map[string]jing.Override{}
	for _, e := range jing.DefaultCatalog().All() {
		over[e.Key] = jing.Override{RatePerSecond: &rate}
	}
	cat, err := jing.DefaultCatalog().ApplyOverrides(over)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func (r *refRig) start() {
	r.t.Helper()
	if err := r.runner.Start(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.runner.Stop(ctx)
	})
}

// sandbox is the embedded platform, for injecting faults.
func (r *refRig) sandbox() *sandbox.Running { return r.plat.SandboxServer() }

// refresh refreshes key ("" for all) and waits for the job to end.
func (r *refRig) refresh(key string) {
	r.t.Helper()
	if _, err := r.svc.RequestRefresh(context.Background(), 0, key); err != nil {
		r.t.Fatal(err)
	}
	r.waitIdle()
}

// waitIdle polls until no refresh is queued or running.
func (r *refRig) waitIdle() {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, active, err := r.svc.ActiveRefresh(context.Background())
		if err != nil {
			r.t.Fatal(err)
		}
		if !active {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatal("timed out waiting for the refresh to end")
		}
		<-time.After(10 * time.Millisecond)
	}
}

func (r *refRig) sets() []refdata.SetInfo {
	r.t.Helper()
	sets, err := r.svc.Sets(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return sets
}

func (r *refRig) set(key string) refdata.SetInfo {
	r.t.Helper()
	for _, s := range r.sets() {
		if s.Key == key {
			return s
		}
	}
	r.t.Fatalf("no set %s", key)
	return refdata.SetInfo{}
}

// firstSet is the first set of kind for object.
func (r *refRig) firstSet(kind, object string) refdata.SetInfo {
	r.t.Helper()
	for _, s := range r.sets() {
		if s.Kind == kind && s.Object == object {
			return s
		}
	}
	r.t.Fatalf("no %s set for %q", kind, object)
	return refdata.SetInfo{}
}

// refRow is the HTML of the sets table's row for key.
func refRow(t testing.TB, body, key string) string { return rowWith(t, body, "data-key", key) }

// codeRow is the fields table's row for a field code.
func codeRow(t testing.TB, body, code string) string { return rowWith(t, body, "data-code", code) }

// rowWith is the table row whose attr is value, as HTML to query.
func rowWith(t testing.TB, body, attr, value string) string {
	t.Helper()
	rows := parseHTML(body).where("tr", attr, value)
	if len(rows) != 1 {
		t.Fatalf("%d rows with %s=%q, want 1", len(rows), attr, value)
	}
	return outerHTML(rows[0])
}

func wantStatus(t testing.TB, rec interface{ Result() *http.Response }, want int) {
	t.Helper()
	if got := rec.Result().StatusCode; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
}

func refMarketer(t *testing.T, hold bool) (*harness, *refRig, *client) {
	t.Helper()
	var rig refRig
	h := newHarness(t, withReference(t, &rig, hold))
	h.addUser("mia", db.RoleMarketer)
	return h, &rig, h.login("mia")
}

// Before any refresh the fixed sets are listed as never loaded; after
// "Refresh all" every set is listed, grouped by object, with its count,
// its age and "as of".
func TestReferencePageListsEverySetWithCounts(t *testing.T) {
	t.Parallel()
	h, rig, c := refMarketer(t, false)
	rec := c.get("/settings/reference")
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	row := refRow(t, body, "lead.business_types")
	if !hasAttrOn(row, "refset", `data-loaded="false"`) || !hasTestIDText(row, "refset-not-loaded", "尚未加载") || !hasTestIDText(row, "refset-not-loaded", "刷新后即可使用") {
		t.Fatalf("a never-loaded set does not say so:\n%s", row)
	}
	if !currentTab(body, "reference", "/settings/reference") {
		t.Fatal("the Reference data tab is not current")
	}

	rec = c.post("/settings/reference/refresh", nil, htmx())
	wantStatus(t, rec, http.StatusOK)
	if frag := rec.Body.String(); isFullPage(frag) || !hasAttrOn(frag, "refdata-sets", `id="refdata-sets"`) {
		t.Fatalf("htmx refresh did not answer with the sets fragment:\n%s", frag)
	}
	rig.waitIdle()

	body = c.get("/settings/reference").Body.String()
	loc := h.srv.Catalog.Localizer(i18n.Chinese)
	sets := rig.sets()
	if len(sets) < 10 {
		t.Fatalf("only %d sets after a full refresh", len(sets))
	}
	for _, s := range sets {
		row := refRow(t, body, s.Key)
		if s.FetchedAt.IsZero() {
			t.Errorf("set %s not loaded by a full refresh (error %q)", s.Key, s.LastError)
			continue
		}
		r := parseHTML(row)
		if got, want := r.text("refset-count"), loc.Number(int64(s.Count)); got != want {
			t.Errorf("set %s: count %q, want %q", s.Key, got, want)
		}
		if got := r.text("refset-age"); !strings.HasPrefix(got, "刚刚") {
			t.Errorf("set %s: age %q, want 刚刚", s.Key, got)
		}
		if got, want := r.text("refset-asof"), "截至 "+loc.DateTime(s.FetchedAt.Unix()); !strings.Contains(got, want) {
			t.Errorf("set %s: %q, want %q", s.Key, got, want)
		}
	}
	if bad := inlineScriptOrStyle(body); len(bad) > 0 {
		t.Errorf("inline style or script on the page: %v", bad)
	}
	p := parsePage(t, body)
	var groups []string
	for _, th := range tagsIn(p.one("refdata-table"), "th") {
		if attrOf(th, "scope") == "rowgroup" {
			groups = append(groups, nodeText(th))
		}
	}
	for _, want := range []string{"线索", "客户", "成员"} {
		if !slices.Contains(groups, want) {
			t.Errorf("no group %q in %v", want, groups)
		}
	}
	names := strings.Join(testIDTexts(body, "refset-name"), "\n")
	for _, want := range []string{"选项集 · 国家/地区", "状态 · ", "字段 · ", "业务类型"} {
		if !strings.Contains(names, want) {
			t.Errorf("no set named %q", want)
		}
	}
	es, err := h.store.ListAudit(context.Background(), db.AuditFilter{Action: "refdata.refresh", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Object != "all" || es[0].Username != "mia" || !strings.Contains(es[0].Summary, "audit.summary.refresh_all") {
		t.Fatalf("audit: %+v", es)
	}

	// Three hours later the page says so, by the request's clock.
	h.clock.Advance(3 * time.Hour)
	row = refRow(t, c.get("/settings/reference").Body.String(), "members")
	if !hasTestIDText(row, "refset-age", "3 小时前") {
		t.Fatalf("age after 3 hours:\n%s", row)
	}
}

// Viewers look but have no buttons, and a refresh from them is refused.
func TestReferenceViewersSeeNoRefreshButtons(t *testing.T) {
	t.Parallel()
	var rig refRig
	h := newHarness(t, withReference(t, &rig, false))
	h.addUser("vic", db.RoleViewer)
	vic := h.login("vic")
	if parseHTML(vic.get("/settings/account").Body.String()).attr("settings-tab-reference", "href") != "/settings/reference" {
		t.Fatal("viewer has no Reference data tab")
	}
	rec := vic.get("/settings/reference")
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	for _, bad := range []string{"refresh-all", "refresh-set"} {
		if hasTestID(body, bad) {
			t.Errorf("viewer's page has %s", bad)
		}
	}
	if len(parseHTML(body).where("form", "action", "/settings/reference/refresh")) > 0 {
		t.Error("viewer's page has a refresh form")
	}
	if !hasTestIDText(refRow(t, body, "members"), "refset-not-loaded", "营销人员或管理员可以刷新") {
		t.Error("a never-loaded set does not tell a viewer who can load it")
	}
	rec = vic.post("/settings/reference/refresh", url.Values{"key": {"members"}}, htmx())
	wantStatus(t, rec, http.StatusForbidden)
	if _, active, _ := rig.svc.ActiveRefresh(context.Background()); active {
		t.Fatal("a viewer's request started a refresh")
	}
	rig.refresh("")
	set := rig.firstSet(refdata.KindFields, "lead")
	if hasTestID(vic.get("/settings/reference/set?key="+url.QueryEscape(set.Key)).Body.String(), "refresh-set") {
		t.Error("viewer sees a refresh button on a set's page")
	}
}

// Two requests while one refresh is queued make one job; the table polls
// while it is pending and stops once it ended.
func TestReferenceRefreshCoalescesAndPollsOnlyWhileActive(t *testing.T) {
	t.Parallel()
	h, rig, c := refMarketer(t, true)
	frag := c.get("/settings/reference/sets", htmx()).Body.String()
	if !hasAttrOn(frag, "refdata-sets", `data-live="false"`) || !pollsNothing(frag) {
		t.Fatalf("idle table polls:\n%s", frag)
	}

	first := c.post("/settings/reference/refresh", nil, htmx())
	wantStatus(t, first, http.StatusOK)
	second := c.post("/settings/reference/refresh", url.Values{"key": {"members"}}, htmx())
	wantStatus(t, second, http.StatusOK)
	jobsOfKind := func() []db.Job {
		all, err := h.store.ListJobs(context.Background(), db.JobFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		var out []db.Job
		for _, j := range all {
			if j.Kind == refdata.JobKind {
				out = append(out, j)
			}
		}
		return out
	}
	js := jobsOfKind()
	if len(js) != 1 {
		t.Fatalf("%d refresh jobs after two requests, want 1", len(js))
	}
	for _, rec := range []string{first.Body.String(), second.Body.String(), c.get("/settings/reference/sets").Body.String()} {
		p := parseHTML(rec)
		if len(p.allWith("refdata-sets", "data-live", "true", "hx-get", "/settings/reference/sets", "hx-trigger", "every 2s")) != 1 {
			t.Error("pending refresh: the table does not poll itself every 2 s")
		}
		if p.attr("refdata-job", "href") != "/jobs/"+itoa(int(js[0].ID)) || !strings.Contains(p.text("refdata-progress"), "刷新等待开始") {
			t.Errorf("pending refresh: no progress that links the job: %q", p.text("refdata-progress"))
		}
		if len(p.allWith("refresh-all", "disabled", "*")) != 1 {
			t.Error("Refresh all is not disabled while a refresh is pending")
		}
	}
	es, err := h.store.ListAudit(context.Background(), db.AuditFilter{Action: "refdata.refresh", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Object != "members" || !strings.Contains(es[0].Summary, "joined") || es[1].Object != "all" {
		t.Fatalf("audit: %+v", es)
	}

	// Without script, a refresh is an ordinary post that comes back with a message.
	rec := c.post("/settings/reference/refresh", url.Values{"key": {"members"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/settings/reference" {
		t.Fatalf("plain post: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	if body := c.get("/settings/reference").Body.String(); !hasTestIDText(body, "flash", "已有刷新在进行") {
		t.Error("no message that the request joined the running refresh")
	}
	// From a set's own page, the post comes back to that page.
	next := "/settings/reference/set?key=members"
	rec = c.post("/settings/reference/refresh", url.Values{"key": {"members"}, "next": {next}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != next {
		t.Fatalf("plain post from the set's page: %d %s", rec.Code, rec.Header().Get("Location"))
	}

	rig.start()
	rig.waitIdle()
	frag = c.get("/settings/reference/sets", htmx()).Body.String()
	if !hasAttrOn(frag, "refdata-sets", `data-live="false"`) || !pollsNothing(frag) ||
		hasTestID(frag, "refdata-progress") || len(parseHTML(frag).where("", "disabled", "*")) > 0 {
		t.Fatalf("finished refresh: the table still polls or shows progress:\n%s", frag)
	}
	if len(jobsOfKind()) != 1 {
		t.Fatal("more than one refresh job ran")
	}

	// An unknown set is not found, and nothing is queued for it.
	wantStatus(t, c.post("/settings/reference/refresh", url.Values{"key": {"lead.options.no_such_field"}}, htmx()), http.StatusNotFound)
	if len(jobsOfKind()) != 1 {
		t.Fatal("a refresh of an unknown set was queued")
	}
}

// When the platform fails, every set keeps its copy and says "as of", and
// the failure is the platform error's own translated sentence, never Go text.
func TestReferencePlatformFailureKeepsTheCopyAndIsTranslated(t *testing.T) {
	t.Parallel()
	h, rig, _ := refMarketer(t, false)
	rig.refresh("")
	before := rig.set("members")
	h.clock.Advance(time.Hour)
	rig.sandbox().SetFaults(sandbox.Faults{ErrorRate: 1})
	rig.refresh("")

	for _, lang := range []string{i18n.Chinese, i18n.English} {
		u, err := h.store.UserByName(context.Background(), "mia")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.SetUserLang(context.Background(), u.ID, lang); err != nil {
			t.Fatal(err)
		}
		c := h.login("mia")
		body := c.get("/settings/reference").Body.String()
		loc := h.srv.Catalog.Localizer(lang)
		if !hasTestID(body, "refdata-failing") {
			t.Errorf("%s: no notice that refreshes failed", lang)
		}
		for _, s := range rig.sets() {
			if s.LastErr == nil {
				t.Fatalf("set %s: no failure recorded", s.Key)
			}
			row := refRow(t, body, s.Key)
			e, ok := jing.AsError(s.LastErr)
			if !ok {
				t.Fatalf("set %s: the failure is not a platform error: %v", s.Key, s.LastErr)
			}
			if want := loc.Message(e.Message()); !hasTestIDText(row, "refset-error", want) {
				t.Errorf("%s: set %s does not show %q:\n%s", lang, s.Key, want, row)
			}
			if appearsInBytes(row, html.EscapeString(s.LastError)) || appearsInBytes(row, "jing ") {
				t.Errorf("%s: set %s shows Go error text:\n%s", lang, s.Key, row)
			}
			if !hasAttrOn(row, "refset", `data-loaded="true"`) || !hasTestIDText(row, "refset-asof", loc.DateTime(s.FetchedAt.Unix())) {
				t.Errorf("%s: set %s lost its copy or its \"as of\":\n%s", lang, s.Key, row)
			}
		}
		if got := rig.set("members"); got.Count != before.Count || !got.FetchedAt.Equal(before.FetchedAt) {
			t.Fatalf("members after a failed refresh: %d as of %v, want %d as of %v", got.Count, got.FetchedAt, before.Count, before.FetchedAt)
		}
	}
}

// The option-set browser nests country → province → city, with counts.
func TestReferenceTreeBrowser(t *testing.T) {
	t.Parallel()
	_, rig, c := refMarketer(t, false)
	rig.refresh("")
	const key = "lead.tree.country_region"
	roots, err := rig.svc.Tree(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	var china *refdata.TreeNode
	for _, r := range roots {
		if r.Name == "中国" {
			china = r
		}
	}
	if china == nil || len(china.Children) == 0 || len(china.Children[0].Children) == 0 {
		t.Fatalf("the sandbox's tree has no 中国 → province → city: %+v", roots)
	}
	province, city := china.Children[0], china.Children[0].Children[0]
	rec := c.get("/settings/reference/set?key=" + url.QueryEscape(key))
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	if !hasAttrOn(body, "refset-detail", `data-kind="option_tree"`) || !hasTestIDText(body, "refset-detail", "选项集 · 国家/地区") {
		t.Fatal("not the tree's page")
	}
	parent := parsePage(t, body).one("refset-tree")
	for _, n := range []struct {
		node  *refdata.TreeNode
		depth string
	}{{china, "0"}, {province, "1"}, {city, "2"}} {
		nodes := under(parent).allWith("tree-node", "data-id", n.node.ID, "data-depth", n.depth)
		if len(nodes) != 1 {
			t.Fatalf("%s is not nested at depth %s in its parent", n.node.Name, n.depth)
		}
		parent = nodes[0]
		if got := under(parent).textIn("tree-node", "reftree-name"); got != n.node.Name {
			t.Fatalf("node %s shows the name %q, want %q", n.node.ID, got, n.node.Name)
		}
	}
	if !hasTestIDText(body, "tree-node", "下级 "+itoa(len(china.Children))+" 项") {
		t.Error("中国 does not say how many provinces it holds")
	}
	if len(tagsIn(parsePage(t, body).one("refset-tree"), "details")) < 1+len(china.Children) {
		t.Error("branches are not expandable")
	}
}

// The fields table lists code, name, type, preset or custom, required and
// writable, and marks the custom types the API cannot write.
func TestReferenceFieldsTableMarksUnwritableTypes(t *testing.T) {
	t.Parallel()
	_, rig, c := refMarketer(t, false)
	rig.refresh("")
	set := rig.firstSet(refdata.KindFields, "lead")
	items, err := rig.svc.Items(context.Background(), set.Key)
	if err != nil {
		t.Fatal(err)
	}
	body := c.get("/settings/reference/set?key=" + url.QueryEscape(set.Key)).Body.String()
	for _, want := range []string{"编码", "类型", "预设/自定义", "必填", "可写入", "字段 · "} {
		if !strings.Contains(testIDText(body, "refset-detail"), want) {
			t.Errorf("fields page lacks %q", want)
		}
	}
	marked := 0
	for _, f := range items {
		row := codeRow(t, body, f.ID)
		unwritable := !f.Preset && (f.Type == "department" || f.Type == "multi_department" || f.Type == "image" || f.Type == "look_up")
		if got := hasTestIDText(row, "field-unwritable", "无法通过接口写入"); got != unwritable {
			t.Errorf("field %s (%s, preset %v): marked unwritable %v, want %v", f.ID, f.Type, f.Preset, got, unwritable)
		}
		if unwritable {
			marked++
		}
		origin := "自定义"
		if f.Preset {
			origin = "预设"
		}
		if text := testIDText(row, "refset-field"); !strings.Contains(text, origin) || !strings.Contains(text, f.Name) {
			t.Errorf("field %s: row lacks its name or %s:\n%s", f.ID, origin, row)
		}
	}
	if marked < 4 {
		t.Errorf("only %d fields marked unwritable; the sandbox has a custom field of each such type", marked)
	}
	wantStatus(t, c.get("/settings/reference/set?key=no.such.set"), http.StatusNotFound)
	wantStatus(t, c.get("/settings/reference/set"), http.StatusNotFound)
}

// A refresh that changed a set says what changed: a summary, and the
// names before and after.
func TestReferenceShowsTheLastChange(t *testing.T) {
	t.Parallel()
	_, rig, c := refMarketer(t, false)
	rig.refresh("")
	statuses := rig.firstSet(refdata.KindStatuses, "lead")
	stages, err := rig.svc.Items(context.Background(), statuses.Key)
	if err != nil || len(stages) < 2 {
		t.Fatalf("statuses: %v %v", stages, err)
	}
	options, err := rig.svc.Items(context.Background(), "lead.options.source_type")
	if err != nil || len(options) < 2 {
		t.Fatalf("source_type options: %v %v", options, err)
	}
	sb := rig.sandbox()
	if err := sb.RenameLeadStatus(statuses.Scope, stages[1].ID, "深度沟通"); err != nil {
		t.Fatal(err)
	}
	if err := sb.RemoveOption("lead", "source_type", options[0].ID); err != nil {
		t.Fatal(err)
	}
	rig.refresh("")

	body := c.get("/settings/reference").Body.String()
	row := refRow(t, body, statuses.Key)
	if !hasTestIDText(row, "refset-change", "1 项变化：改名 1 项") || !changeListed(row, "change-renamed", stages[1].Name, "深度沟通") {
		t.Errorf("statuses row lacks the rename of %q to 深度沟通:\n%s", stages[1].Name, row)
	}
	row = refRow(t, body, "lead.options.source_type")
	if !hasTestIDText(row, "refset-change", "1 项变化：删除 1 项") || !changeListed(row, "change-removed", options[0].Name, "") {
		t.Errorf("options row does not show the removal:\n%s", row)
	}
	if row := refRow(t, body, "members"); !strings.Contains(testIDText(row, "refset"), "未发现变化") || hasTestID(row, "refset-change") {
		t.Errorf("an unchanged set shows a change:\n%s", row)
	}
	page := c.get("/settings/reference/set?key=" + url.QueryEscape(statuses.Key)).Body.String()
	if !hasTestIDText(page, "refset-change", "深度沟通") || !hasTestIDText(page, "refset-change", "改名 1 项") {
		t.Error("the set's page lacks the renamed status or the change")
	}
}

// changeListed reports whether a set's row lists a change of class kind
// (change-renamed, change-removed) from before (struck out) to after ("" for
// a removal).
func changeListed(row, kind, before, after string) bool {
	for _, li := range parseHTML(row).where("li", "class", kind) {
		del, ins := tagsIn(li, "del"), tagsIn(li, "ins")
		gotAfter := ""
		if len(ins) == 1 {
			gotAfter = nodeText(ins[0])
		}
		if len(del) == 1 && nodeText(del[0]) == before && gotAfter == after {
			return true
		}
	}
	return false
}
