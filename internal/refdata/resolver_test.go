package refdata

import (
	"context"
	"fmt"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// store puts sets straight into the rig's database and rebuilds the index
// from it, as a refresh would.
func (r *rig) storeSets(sets map[db.RefSet][]db.RefItem) {
	r.t.Helper()
	ctx := context.Background()
	for set, items := range sets {
		set.Connection = "p"
		if _, err := r.store.ReplaceRefSet(ctx, set, items); err != nil {
			r.t.Fatal(err)
		}
	}
	if err := r.svc.rebuild(ctx); err != nil {
		r.t.Fatal(err)
	}
}

func resolverRig(t *testing.T) *rig {
	r := newRig(t, fixture.NewSwitchable(nil, "p"), true)
	r.storeSets(map[db.RefSet][]db.RefItem{
		{Key: "lead.business_types", Kind: KindBusinessTypes, Object: "lead"}: {
			{ID: "bt2", Name: "展会线索", Sort: 1}, {ID: "bt1", Name: "预设业务类型", NameEn: "Default", Preset: true, Sort: 2}},
		{Key: "lead.statuses.bt1", Kind: KindStatuses, Object: "lead", Scope: "bt1"}: {
			{ID: "s1", Name: "新线索", NameEn: "New", Sort: 1}, {ID: "s2", Name: "跟进中", Sort: 2}},
		{Key: "lead.fields.bt1", Kind: KindFields, Object: "lead", Scope: "bt1"}: {
			{ID: "name", Name: "姓名", NameEn: "Name", Type: "text", Preset: true, Required: true, Writable: true},
			{ID: "country_region", Name: "国家/地区", Type: "option_set", Preset: true, Writable: true}},
		{Key: "lead.fields.bt2", Kind: KindFields, Object: "lead", Scope: "bt2"}: {
			{ID: "name", Name: "联系人", Type: "text", Preset: true}},
		{Key: "lead.tree.country_region", Kind: KindOptionTree, Object: "lead", Scope: "country_region"}: {
			{ID: "cn", Name: "中国", NameEn: "China", Sort: 1},
			{ID: "sx", ParentID: "cn", Name: "山西省", NameEn: "Shanxi", Sort: 1},
			{ID: "ty", ParentID: "sx", Name: "太原市", NameEn: "Taiyuan", Sort: 1},
			{ID: "jz", ParentID: "sx", Name: "晋中市", Sort: 2}},
		{Key: "lead.options.source_type", Kind: KindOptions, Object: "lead", Scope: "source_type"}: {
			{ID: "o1", Name: "官网表单", NameEn: "Website form"}},
		{Key: "members", Kind: KindMembers}: {
			{ID: "7", Name: "李雷", Status: "active"}, {ID: "8", Name: "韩梅梅", Status: "inactive"}},
	})
	return r
}

func TestTheResolverGivesFullPathsNamesAndOrder(t *testing.T) {
	t.Parallel()
	res := resolverRig(t).svc.Resolver()
	for _, c := range []struct{ got, want string }{
		{res.OptionPath("zh-CN", "lead", "country_region", "jz"), "中国 / 山西省 / 晋中市"},
		{res.OptionPath("zh-CN", "lead", "country_region", "sx"), "中国 / 山西省"},
		{res.BusinessType("zh-CN", "lead", "bt1"), "预设业务类型"},
		{res.Member("zh-CN", "7"), "李雷"},
		{res.Option("zh-CN", "lead", "source_type", "o1"), "官网表单"},
		{res.Field("zh-CN", "lead", "bt2", "name"), "联系人"},
		{res.Field("zh-CN", "lead", "", "name"), "姓名"},                  // no business type: the default one's field
		{res.Field("zh-CN", "lead", "gone", "country_region"), "国家/地区"}, // unknown business type: any
		// The preset fields whose choices are other sets resolve through them.
		{res.Option("zh-CN", "lead", "business_type", "bt2"), "展会线索"},
		{res.Option("zh-CN", "lead", "owner", "7"), "李雷"},
		{res.Option("zh-CN", "lead", "lead_status", "s2"), "跟进中"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if name, order := res.Status("zh-CN", "bt1", "s2"); name != "跟进中" || order != 2 {
		t.Errorf("status s2: %q, order %d", name, order)
	}
	if name, order := res.Status("zh-CN", "", "s1"); name != "新线索" || order != 1 {
		t.Errorf("status s1 without its business type: %q, order %d", name, order)
	}
	if f, ok := res.FieldMeta("lead", "bt1", "name"); !ok || f.Type != "text" || !f.Required || !f.Writable {
		t.Errorf("field meta %+v %v", f, ok)
	}
	if fs := res.Fields("lead", ""); len(fs) != 2 || fs[0].ID != "name" || fs[1].ID != "country_region" {
		t.Errorf("default business type's fields %+v", fs)
	}
	if res.DefaultBusinessType("lead") != "bt1" {
		t.Errorf("default business type %q", res.DefaultBusinessType("lead"))
	}
	if roots := res.TreeRoots("lead", "country_region"); len(roots) != 1 || len(roots[0].Children[0].Children) != 2 {
		t.Errorf("tree %+v", roots)
	}
	if all, active := res.Members(false), res.Members(true); len(all) != 2 || len(active) != 1 || active[0].ID != "7" {
		t.Errorf("members %+v, active %+v", all, active)
	}
}

func TestTheResolverNeverRendersAnUnknownIdBlank(t *testing.T) {
	t.Parallel()
	res := resolverRig(t).svc.Resolver()
	for _, lang := range []string{"zh-CN", "en"} {
		want := Unknown(lang, "x9")
		for _, got := range []string{
			res.OptionPath(lang, "lead", "country_region", "x9"),
			res.Option(lang, "lead", "source_type", "x9"),
			res.Member(lang, "x9"),
			res.BusinessType(lang, "account", "x9"),
			res.Field(lang, "lead", "bt1", "x9"),
		} {
			if got != want {
				t.Errorf("%s: got %q, want %q", lang, got, want)
			}
		}
		if name, order := res.Status(lang, "bt1", "x9"); name != want || order != -1 {
			t.Errorf("%s: unknown status %q, order %d", lang, name, order)
		}
	}
	if Unknown("zh-CN", "x9") != "未知（x9）" || Unknown("en", "x9") != "unknown (x9)" {
		t.Errorf("Unknown: %q, %q", Unknown("zh-CN", "x9"), Unknown("en", "x9"))
	}
	if res.Member("en", "") != "" || res.OptionPath("en", "lead", "country_region", "") != "" {
		t.Error("an empty id (no value) renders as something")
	}
	// An index with nothing loaded yet still never renders blank.
	if got := emptyResolver("p").Member("zh-CN", "7"); got != "未知（7）" {
		t.Errorf("empty index: %q", got)
	}
}

func TestEnglishFallsBackToTheChineseName(t *testing.T) {
	t.Parallel()
	res := resolverRig(t).svc.Resolver()
	for _, c := range []struct{ got, want string }{
		{res.BusinessType("en", "lead", "bt1"), "Default"},
		{res.BusinessType("en", "lead", "bt2"), "展会线索"}, // no English name given
		{res.BusinessType("en-US", "lead", "bt1"), "Default"},
		{res.OptionPath("en", "lead", "country_region", "ty"), "China / Shanxi / Taiyuan"},
		{res.OptionPath("en", "lead", "country_region", "jz"), "China / Shanxi / 晋中市"}, // per node
		{res.Option("en", "lead", "source_type", "o1"), "Website form"},
		{res.Field("en", "lead", "bt1", "name"), "Name"},
		{res.Field("en", "lead", "bt1", "country_region"), "国家/地区"},
		{res.Member("en", "7"), "李雷"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if name, _ := res.Status("en", "bt1", "s1"); name != "New" {
		t.Errorf("status in English: %q", name)
	}
	if name, _ := res.Status("en", "bt1", "s2"); name != "跟进中" {
		t.Errorf("status without an English name: %q", name)
	}
}

// BenchmarkResolve10000 resolves the ids of a large page or an export
// chunk: 10,000 mixed statuses, option-set paths, members, business types,
// options and unknown ids, per operation, against an index built from
// SQLite with a tenant's worth of reference data.
func BenchmarkResolve10000(b *testing.B) {
	r := newRig(b, fixture.NewSwitchable(nil, "p"), true)
	sets, ids := benchData()
	r.storeSets(sets)
	res := r.svc.Resolver()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for i, id := range ids {
			var s string
			switch i % 6 {
			case 0:
				s, _ = res.Status("zh-CN", "bt1", id)
			case 1:
				s = res.OptionPath("zh-CN", "lead", "country_region", id)
			case 2:
				s = res.Member("en", id)
			case 3:
				s = res.BusinessType("zh-CN", "lead", id)
			case 4:
				s = res.Option("en", "lead", "c_select", id)
			case 5:
				s = res.OptionPath("en", "lead", "country_region", id)
			}
			n += len(s)
		}
		if n == 0 {
			b.Fatal("nothing resolved")
		}
	}
}

// benchData is a tenant's reference data (3 pipelines, a 3-level tree of
// 400 cities, 300 members, 200 options) and 10,000 ids to resolve, one in
// twenty of them unknown.
func benchData() (map[db.RefSet][]db.RefItem, []string) {
	sets := map[db.RefSet][]db.RefItem{}
	var bts, tree, members, opts []db.RefItem
	statusIDs, leafIDs := []string{}, []string{}
	for b := range 3 {
		bt := fmt.Sprintf("bt%d", b+1)
		bts = append(bts, db.RefItem{ID: bt, Name: "业务类型" + bt, Preset: b == 0})
		var sts []db.RefItem
		for s := range 6 {
			id := fmt.Sprintf("%s-s%d", bt, s)
			sts = append(sts, db.RefItem{ID: id, Name: "状态" + id, Sort: s + 1})
			statusIDs = append(statusIDs, id)
		}
		sets[db.RefSet{Key: "lead.statuses." + bt, Kind: KindStatuses, Object: "lead", Scope: bt}] = sts
	}
	for c := range 4 {
		cid := fmt.Sprintf("c%d", c)
		tree = append(tree, db.RefItem{ID: cid, Name: "国家" + cid, NameEn: "Country " + cid})
		for p := range 10 {
			pid := fmt.Sprintf("%s-p%d", cid, p)
			tree = append(tree, db.RefItem{ID: pid, ParentID: cid, Name: "省" + pid})
			for y := range 10 {
				yid := fmt.Sprintf("%s-y%d", pid, y)
				tree = append(tree, db.RefItem{ID: yid, ParentID: pid, Name: "市" + yid})
				leafIDs = append(leafIDs, yid)
			}
		}
	}
	for m := range 300 {
		members = append(members, db.RefItem{ID: fmt.Sprint(1000 + m), Name: fmt.Sprintf("成员%d", m), Status: "active"})
	}
	for o := range 200 {
		opts = append(opts, db.RefItem{ID: fmt.Sprintf("o%d", o), Name: fmt.Sprintf("选项%d", o)})
	}
	sets[db.RefSet{Key: "lead.business_types", Kind: KindBusinessTypes, Object: "lead"}] = bts
	sets[db.RefSet{Key: "lead.tree.country_region", Kind: KindOptionTree, Object: "lead", Scope: "country_region"}] = tree
	sets[db.RefSet{Key: "members", Kind: KindMembers}] = members
	sets[db.RefSet{Key: "lead.options.c_select", Kind: KindOptions, Object: "lead", Scope: "c_select"}] = opts
	ids := make([]string, 10_000)
	for i := range ids {
		if i%20 == 19 {
			ids[i] = fmt.Sprintf("missing-%d", i)
			continue
		}
		switch i % 6 {
		case 0:
			ids[i] = statusIDs[i%len(statusIDs)]
		case 1, 5:
			ids[i] = leafIDs[i%len(leafIDs)]
		case 2:
			ids[i] = members[i%len(members)].ID
		case 3:
			ids[i] = bts[i%len(bts)].ID
		case 4:
			ids[i] = opts[i%len(opts)].ID
		}
	}
	return sets, ids
}
