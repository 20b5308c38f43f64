package refdata

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

// sandboxSets reads the tenant's metadata straight through the client and
// says which sets a refresh must produce, with their sizes.
func sandboxSets(t *testing.T, c *jing.Client) map[string]int {
	t.Helper()
	ctx := context.Background()
	want := map[string]int{}
	for _, object := range []string{jing.ObjectLead, jing.ObjectAccount} {
		bts, err := c.BusinessTypes(ctx, object)
		testkit.Must(t, err)
		want[object+".business_types"] = len(bts)
		var union []jing.ObjectField
		for _, bt := range bts {
			if object == jing.ObjectLead {
				sts, err := c.LeadStatuses(ctx, bt.JingUUID)
				testkit.Must(t, err)
				want["lead.statuses."+bt.JingUUID] = len(sts)
			}
			fs, err := c.Fields(ctx, object, bt.JingUUID)
			testkit.Must(t, err)
			want[object+".fields."+bt.JingUUID] = len(fs)
			for _, f := range fs {
				if !slices.ContainsFunc(union, func(u jing.ObjectField) bool { return u.Code == f.Code }) {
					union = append(union, f)
				}
			}
		}
		for _, f := range union {
			addChoices(t, c, want, object, f)
		}
	}
	members, err := c.AllMembers(ctx)
	testkit.Must(t, err)
	want["members"] = len(members)
	return want
}

// addChoices adds the options or tree of one field, when the platform has them.
func addChoices(t *testing.T, c *jing.Client, want map[string]int, object string, f jing.ObjectField) {
	ctx := context.Background()
	switch {
	case f.Type == jing.FieldOptionSet:
		tree, err := c.OptionSet(ctx, object, f.Code)
		testkit.Must(t, err)
		want[object+".tree."+f.Code] = countNodes(tree)
	case f.Type != jing.FieldSelect && f.Type != jing.FieldMultiSelect,
		f.Code == "business_type", f.Code == "lead_status": // their own sets
	case f.Custom():
		opts, err := c.CustomOptions(ctx, object, f.Code)
		testkit.Must(t, err)
		want[object+".options."+f.Code] = len(opts)
	case f.Writable == 1:
		opts, err := c.SourceOptions(ctx, object, f.Code)
		testkit.Must(t, err)
		want[object+".options."+f.Code] = len(opts)
	default: // life_status, lead_pool, collaborators: derived by the platform, no options listed
		_, err := c.SourceOptions(ctx, object, f.Code)
		if !jing.IsKind(err, jing.KindInvalid) {
			t.Fatalf("%s.%s: the platform lists options (%v)", object, f.Code, err)
		}
	}
}

func countNodes(tree jing.OptionTree) int {
	n := len(tree)
	for _, node := range tree {
		n += countNodes(node.Child)
	}
	return n
}

func TestAFullRefreshFillsEverySet(t *testing.T) {
	t.Parallel()
	r := sandboxRig(t, false)
	if got := r.sets(); len(got) != 3 || !got["members"].FetchedAt.IsZero() || !got["members"].Stale {
		t.Fatalf("before any refresh: %+v, want the three fixed sets, not loaded yet", got)
	}
	job := r.refresh("", db.JobDone)
	want := sandboxSets(t, r.client)
	got := r.sets()
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
		t.Fatalf("sets %v\nwant %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for key, n := range want {
		s := got[key]
		if s.Count != n || len(r.items(key)) != n || s.FetchedAt.IsZero() || s.Stale || s.LastError != "" || s.LastChange != nil {
			t.Errorf("%s: %+v, want %d items, fresh", key, s, n)
		}
	}
	if job.Total != int64(len(want)) || job.Done != job.Total || job.Failed != 0 {
		t.Fatalf("job %+v, want %d sets done", job, len(want))
	}
	if got["members"].Count != 30 {
		t.Fatalf("%d members, want the sandbox's 30", got["members"].Count)
	}
	for key, s := range got {
		if s.Kind == KindStatuses && (s.Count != 6 || s.ScopeName == "") {
			t.Errorf("pipeline %s: %+v", key, s)
		}
	}
	checkLeafPath(t, r, r.client)
}

// checkLeafPath resolves a city of the country_region tree to its full path.
func checkLeafPath(t *testing.T, r *rig, c *jing.Client) {
	t.Helper()
	tree, err := c.OptionSet(context.Background(), jing.ObjectLead, "country_region")
	testkit.Must(t, err)
	var jinzhong string
	for _, leaf := range tree.Leaves() {
		if leaf.Name == "晋中市" {
			jinzhong = leaf.JingUUID
		}
	}
	res := r.svc.Resolver()
	if got := res.OptionPath("zh-CN", jing.ObjectLead, "country_region", jinzhong); got != "中国 / 山西省 / 晋中市" {
		t.Fatalf("path of 晋中市: %q", got)
	}
	leaves := 0
	for _, it := range r.items("lead.tree.country_region") {
		if !slices.ContainsFunc(r.items("lead.tree.country_region"), func(c Item) bool { return c.ParentID == it.ID }) {
			leaves++
		}
	}
	if leaves != len(tree.Leaves()) {
		t.Fatalf("%d leaves cached, the platform has %d", leaves, len(tree.Leaves()))
	}
	roots, err := r.svc.Tree(context.Background(), "lead.tree.country_region")
	testkit.Must(t, err)
	if len(roots) != len(tree) || roots[0].Name != "中国" || len(roots[0].Children) != len(tree[0].Child) {
		t.Fatalf("tree roots %+v", roots)
	}
}

// firstStatus is the first two statuses of the default lead business type's pipeline, and its id.
func firstStatus(t *testing.T, c *jing.Client) (first, second jing.LeadStatus, businessType string) {
	t.Helper()
	ctx := context.Background()
	bts, err := c.BusinessTypes(ctx, jing.ObjectLead)
	testkit.Must(t, err)
	sts, err := c.LeadStatuses(ctx, bts[0].JingUUID)
	testkit.Must(t, err)
	return sts[0], sts[1], bts[0].JingUUID
}

func TestTheDiffNamesTheRenameAndTheRemoval(t *testing.T) {
	t.Parallel()
	r := sandboxRig(t, false)
	r.refresh("", db.JobDone)
	first, _, bt := firstStatus(t, r.client)
	sources, err := r.client.SourceOptions(context.Background(), jing.ObjectLead, "source_type")
	testkit.Must(t, err)
	removed := sources[2]
	testkit.Must(t, r.sb.RenameLeadStatus(bt, first.JingUUID, "首次接触"))
	testkit.Must(t, r.sb.RemoveOption(jing.ObjectLead, "source_type", removed.JingUUID))

	r.clock.Advance(time.Hour)
	r.refresh("", db.JobDone)
	got := r.sets()
	statuses, options := got["lead.statuses."+bt], got["lead.options.source_type"]
	wantRename := &Change{At: r.clock.Now(), Renamed: []ItemChange{{ID: first.JingUUID, Before: first.Name, After: "首次接触"}}}
	wantRemoval := &Change{At: r.clock.Now(), Removed: []ItemChange{{ID: removed.JingUUID, Before: removed.Name}}}
	if !sameChange(statuses.LastChange, wantRename) {
		t.Errorf("statuses change %+v, want %+v", statuses.LastChange, wantRename)
	}
	if !sameChange(options.LastChange, wantRemoval) {
		t.Errorf("source_type change %+v, want %+v", options.LastChange, wantRemoval)
	}
	for key, s := range got {
		if s.LastChange != nil && key != statuses.Key && key != options.Key {
			t.Errorf("%s changed too: %+v", key, s.LastChange)
		}
	}
	if name, order := r.svc.Resolver().Status("zh-CN", bt, first.JingUUID); name != "首次接触" || order != 1 {
		t.Fatalf("renamed status resolves to %q (order %d)", name, order)
	}
	if got := r.svc.Resolver().Option("zh-CN", jing.ObjectLead, "source_type", removed.JingUUID); got != Unknown("zh-CN", removed.JingUUID) {
		t.Fatalf("removed option resolves to %q", got)
	}
}

func sameChange(a, b *Change) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.At.Equal(b.At) && slices.Equal(a.Added, b.Added) && slices.Equal(a.Renamed, b.Renamed) && slices.Equal(a.Removed, b.Removed)
}

func TestAFailingEndpointKeepsTheOldCopyOfItsSetsAndUpdatesTheOthers(t *testing.T) {
	t.Parallel()
	r := sandboxRig(t, false)
	r.refresh("", db.JobDone)
	before := r.sets()
	first, _, bt := firstStatus(t, r.client)
	testkit.Must(t, r.sb.RenameLeadStatus(bt, first.JingUUID, "首次接触"))

	// This deployment's catalog has custom_options at a path the platform
	// does not know: every custom select field's options fail.
	wrong := "/v1/object/customOptionSet/lists"
	r.fake.Use(newClient(t, r.sb.URL, fastCatalog(t, map[string]jing.Override{"objects.custom_options": {Path: &wrong}})), "sandbox")
	r.clock.Advance(time.Hour)
	job := r.refresh("", db.JobDone)
	errs, err := r.store.ListJobErrors(context.Background(), job.ID, 0)
	testkit.Must(t, err)
	var failedKeys []string
	for _, e := range errs {
		failedKeys = append(failedKeys, e.Item)
	}
	after := r.sets()
	var custom []string
	for key, s := range before {
		if s.Kind == KindOptions && !isPresetField(r, s) {
			custom = append(custom, key)
		}
	}
	slices.Sort(custom)
	slices.Sort(failedKeys)
	if len(custom) == 0 || !slices.Equal(failedKeys, custom) || job.Failed != int64(len(custom)) || job.Done != job.Total-job.Failed {
		t.Fatalf("job %+v failed %v, want exactly the custom option sets %v", job, failedKeys, custom)
	}
	for _, key := range custom {
		s := after[key]
		var je *jing.Error
		if s.Count != before[key].Count || len(r.items(key)) != s.Count || !s.FetchedAt.Equal(before[key].FetchedAt) ||
			!s.LastAttemptAt.Equal(r.clock.Now()) || s.LastError == "" || !errors.As(s.LastErr, &je) || je.Kind != jing.KindInvalidPath {
			t.Errorf("failed set %s: %+v", key, s)
		}
	}
	if s := after["lead.statuses."+bt]; !s.FetchedAt.Equal(r.clock.Now()) || s.LastChange == nil || s.LastError != "" {
		t.Errorf("the statuses were not refreshed beside the failures: %+v", s)
	}
	if len(after) != len(before) {
		t.Fatalf("%d sets after, %d before: a failure must not delete sets", len(after), len(before))
	}
}

func isPresetField(r *rig, s SetInfo) bool {
	f, _ := r.svc.Resolver().FieldMeta(s.Object, "", s.Scope)
	return f.Preset
}

func TestAnUnreachablePlatformFailsTheJobAndKeepsEverySet(t *testing.T) {
	t.Parallel()
	r := sandboxRig(t, false)
	r.refresh("", db.JobDone)
	before := r.sets()
	res := r.svc.Resolver()
	bt := res.DefaultBusinessType(jing.ObjectLead)
	btName := res.BusinessType("zh-CN", jing.ObjectLead, bt)

	// The same platform, now unreachable: nothing listens on its address.
	down := startSandbox(t, 1, sandbox.Faults{})
	testkit.Must(t, down.Close(context.Background()))
	r.fake.Use(newClient(t, down.URL, jing.Catalog{}), "sandbox")
	r.clock.Advance(time.Hour)
	job := r.refresh("", db.JobFailed)
	if job.Failed != job.Total || job.Done != 0 {
		t.Fatalf("job %+v: every set should have failed", job)
	}
	for key, s := range r.sets() {
		if s.Count != before[key].Count || len(r.items(key)) != s.Count || !s.FetchedAt.Equal(before[key].FetchedAt) || s.LastError == "" {
			t.Errorf("%s after the failure: %+v", key, s)
		}
	}
	if got := r.svc.Resolver().BusinessType("zh-CN", jing.ObjectLead, bt); got != btName {
		t.Fatalf("business type resolves to %q after a failed refresh, want the cached %q", got, btName)
	}
}

func TestConcurrentRequestsCoalesceIntoOneJob(t *testing.T) {
	t.Parallel()
	r := sandboxRig(t, true)
	ids := make([]int64, 10)
	var wg sync.WaitGroup
	for i := range ids {
		key := ""
		if i%2 == 1 {
			key = "members"
		}
		wg.Go(func() {
			id, err := r.svc.RequestRefresh(context.Background(), 0, key)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	if ids[0] == 0 || slices.ContainsFunc(ids, func(id int64) bool { return id != ids[0] }) {
		t.Fatalf("job ids %v, want one job", ids)
	}
	active, ok, err := r.svc.ActiveRefresh(context.Background())
	if err != nil || !ok || active != ids[0] {
		t.Fatalf("active refresh %d %v %v, want %d", active, ok, err, ids[0])
	}
	r.startRunner()
	r.waitJob(ids[0], db.JobDone)
	if _, ok, _ := r.svc.ActiveRefresh(context.Background()); ok {
		t.Fatal("a refresh is still active after the job ended")
	}
	if _, err := r.svc.RequestRefresh(context.Background(), 0, "lead.statuses.nope"); !errors.Is(err, ErrUnknownSet) {
		t.Fatalf("refresh of an unknown set: %v", err)
	}
}

func TestASingleSetRefreshTouchesThatSetAlone(t *testing.T) {
	t.Parallel()
	r := sandboxRig(t, false)
	r.refresh("", db.JobDone)
	loaded := r.clock.Now()
	first, _, bt := firstStatus(t, r.client)
	testkit.Must(t, r.sb.RenameLeadStatus(bt, first.JingUUID, "首次接触"))
	r.clock.Advance(time.Minute)
	job := r.refresh("lead.statuses."+bt, db.JobDone)
	if job.Total != 1 || job.Done != 1 {
		t.Fatalf("job %+v, want one set", job)
	}
	for key, s := range r.sets() {
		wantAt := loaded
		if key == "lead.statuses."+bt {
			wantAt = r.clock.Now()
		}
		if !s.FetchedAt.Equal(wantAt) {
			t.Errorf("%s fetched at %v, want %v", key, s.FetchedAt, wantAt)
		}
	}
	if name, _ := r.svc.Resolver().Status("zh-CN", bt, first.JingUUID); name != "首次接触" {
		t.Fatalf("the index was not rebuilt after a single-set refresh: %q", name)
	}
}

func TestStartRefreshesWhenNothingIsLoadedOrTheTTLHasPassed(t *testing.T) {
	t.Parallel()
	r := sandboxRig(t, false)
	ctx := context.Background()
	testkit.Must(t, r.svc.Start(ctx))
	id, ok, err := r.svc.ActiveRefresh(ctx)
	if err != nil || !ok {
		t.Fatalf("nothing loaded: start-up requested no refresh (%v)", err)
	}
	r.waitJob(id, db.JobDone)
	loaded := r.clock.Now()

	// A restart an hour later: everything is fresh, nothing to do.
	r.clock.Advance(time.Hour)
	_, again := r.service()
	testkit.Must(t, again.Start(ctx))
	if _, ok, _ := again.ActiveRefresh(ctx); ok {
		t.Fatal("a restart within the TTL requested a refresh")
	}
	if bt := again.Resolver().DefaultBusinessType(jing.ObjectLead); bt == "" ||
		again.Resolver().BusinessType("zh-CN", jing.ObjectLead, bt) != "预设业务类型" {
		t.Fatal("a restart does not resolve names from what SQLite holds")
	}
	// Members are refreshed by hand later; then the TTL passes for the rest.
	r.clock.Advance(4 * time.Hour)
	r.refresh("members", db.JobDone)
	membersAt := r.clock.Now()
	r.clock.Advance(2 * time.Hour)
	id, err = r.svc.refreshIfDue(ctx, false)
	if err != nil || id == 0 {
		t.Fatalf("sets older than the TTL: no refresh requested (%v)", err)
	}
	r.waitJob(id, db.JobDone)
	for key, s := range r.sets() {
		want := r.clock.Now()
		if key == "members" {
			want = membersAt // still fresh: left alone
		}
		if !s.FetchedAt.Equal(want) {
			t.Errorf("%s fetched at %v (loaded %v), want %v", key, s.FetchedAt, loaded, want)
		}
	}
}

func TestTheBackgroundCheckRefreshesOnTheTTLAndBacksOffAfterFailures(t *testing.T) {
	t.Parallel()
	r := sandboxRig(t, false, func(c *Config) { c.CheckEvery = 10 * time.Millisecond })
	r.refresh("", db.JobDone)
	ctx := context.Background()
	testkit.Must(t, r.svc.Start(ctx))
	first := latestJob(t, r)
	r.clock.Advance(7 * time.Hour)
	testkit.WaitFor(t, "the background check to start a refresh", func() bool { return latestJob(t, r).ID != first.ID })
	r.waitJob(latestJob(t, r).ID, db.JobDone)

	rows, _ := r.store.RefSets(ctx, "sandbox")
	now := r.clock.Now()
	for i := range rows {
		rows[i].FetchedAt, rows[i].LastAttemptAt = now.Add(-7*time.Hour).Unix(), now.Add(-time.Minute).Unix()
	}
	if r.svc.due(rows, now, false) {
		t.Fatal("sets whose last attempt failed a minute ago are due again")
	}
	if !r.svc.due(rows, now, true) {
		t.Fatal("start-up does not retry stale sets")
	}
}

func latestJob(t *testing.T, r *rig) db.Job {
	t.Helper()
	list, err := r.store.ListJobs(context.Background(), db.JobFilter{Limit: 1})
	if err != nil || len(list) == 0 {
		t.Fatalf("no job (%v)", err)
	}
	return list[0]
}

func TestTheRefreshResumesAfterTheSetsItHadDone(t *testing.T) {
	t.Parallel()
	r := sandboxRig(t, true)
	// A run stopped after the three fixed sets, as its checkpoint says.
	done := []string{"lead.business_types", "account.business_types", "members"}
	cp := fmt.Sprintf(`{"done":["%s","%s","%s"],"fetched":3}`, done[0], done[1], done[2])
	ctx := context.Background()
	id, err := r.svc.RequestRefresh(ctx, 0, "")
	testkit.Must(t, err)
	claimed, err := r.store.ClaimJob(ctx, "crashed", []string{JobKind}, time.Second)
	testkit.Must(t, err)
	for _, sp := range fixedSpecs() {
		items, err := fetch(ctx, r.client, sp)
		testkit.Must(t, err)
		_, err = r.store.ReplaceRefSet(ctx, sp.row("sandbox"), items)
		testkit.Must(t, err)
	}
	_, err = r.store.SaveProgress(ctx, claimed.ID, "crashed", db.JobProgress{Total: 3, Done: 3, Checkpoint: cp})
	testkit.Must(t, err)
	testkit.Must(t, r.store.ReleaseJob(ctx, claimed.ID, "crashed"))
	r.clock.Advance(time.Minute)

	r.startRunner()
	job := r.waitJob(id, db.JobDone)
	want := sandboxSets(t, r.client)
	if job.Done != int64(len(want)) || job.Total != job.Done {
		t.Fatalf("resumed job %+v, want %d sets done once each", job, len(want))
	}
	for key, s := range r.sets() {
		resumed := !slices.Contains(done, key)
		if s.FetchedAt.Equal(r.clock.Now()) != resumed {
			t.Errorf("%s fetched at %v: the sets done before the restart are not fetched again, the others are", key, s.FetchedAt)
		}
	}
}
