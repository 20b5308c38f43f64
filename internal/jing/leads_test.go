package jing_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// crmRig is a rig whose lead, object and member endpoints are not paced
// to 10/s, over a tenant of n leads.
func crmRig(t testing.TB, n int, seed int64) *rig {
	return newRig(t, func(sc *sandbox.Config, cc *jing.Config) {
		cat := fixture.Catalog(t, fixture.Pace{Keys: []string{"leads.", "objects.", "members.list"}})
		sc.Catalog, cc.Catalog = cat, cat
		sc.Seed, sc.Persons, sc.Leads = seed, 300, n
	})
}

// tenantMeta is the reference data a lead form needs, read through the API.
type tenantMeta struct {
	types    []jing.BusinessType
	statuses []jing.LeadStatus // of types[0]
	regions  jing.OptionTree
	sources  []jing.SelectOption
	fields   []jing.ObjectField
	members  []jing.Member
}

func loadMeta(t *testing.T, c *jing.Client) tenantMeta {
	t.Helper()
	ctx := context.Background()
	var m tenantMeta
	var err error
	check := func(e error) {
		t.Helper()
		if e != nil {
			t.Fatal(e)
		}
	}
	m.types, err = c.BusinessTypes(ctx, jing.ObjectLead)
	check(err)
	m.statuses, err = c.LeadStatuses(ctx, m.types[0].JingUUID)
	check(err)
	m.regions, err = c.OptionSet(ctx, jing.ObjectLead, "country_region")
	check(err)
	m.sources, err = c.SourceOptions(ctx, jing.ObjectLead, "source_type")
	check(err)
	m.fields, err = c.Fields(ctx, jing.ObjectLead, m.types[0].JingUUID)
	check(err)
	m.members, err = c.AllMembers(ctx)
	check(err)
	return m
}

// custom is the first custom field of type typ.
func (m tenantMeta) custom(t *testing.T, typ string) jing.ObjectField {
	t.Helper()
	for _, f := range m.fields {
		if f.Custom() && f.Type == typ {
			return f
		}
	}
	t.Fatalf("no custom field of type %s", typ)
	return jing.ObjectField{}
}

func (m tenantMeta) activeMember(t *testing.T, skip int) jing.Member {
	t.Helper()
	for _, mb := range m.members {
		if mb.Active() {
			if skip == 0 {
				return mb
			}
			skip--
		}
	}
	t.Fatal("not enough active members")
	return jing.Member{}
}

// fullLead is a valid input using every kind of field.
func fullLead(t *testing.T, m tenantMeta, mobile string) jing.LeadInput {
	t.Helper()
	in := jing.LeadInput{LeadFields: jing.LeadFields{
		BusinessType: m.types[0].JingUUID, Name: "林晓彤", FirstName: "晓彤", LastName: "林",
		Mobile: mobile, Email: "lin.xiaotong@" + mobile + ".example.cn",
		LeadStatus: m.statuses[1].JingUUID, CompanyID: "杭州云帆网络科技有限公司", Industry: "互联网", Title: "市场总监",
		OfficialWebsite: "https://www.yunfan-tech.com", CountryRegion: m.regions.Leaves()[5].JingUUID,
		Address: "杭州市西湖区文三路 90 号", Description: "官网预约演示", SourceType: m.sources[0].JingUUID,
		SourceName: "官网-预约演示", UTMSource: "baidu", UTMMedium: "cpc", Param1: "spring",
		Owner: m.activeMember(t, 0).ID,
	}}
	testkit.Must(t, in.SetCustom(m.custom(t, jing.FieldText).Code, "wx_lin2026"))
	testkit.Must(t, in.SetCustom(m.custom(t, jing.FieldNumber).Code, 35))
	testkit.Must(t, in.SetCustom(m.custom(t, jing.FieldDate).Code, "2027-01-15"))
	return in
}

func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	testkit.Must(t, json.Unmarshal(b, &m))
	return slices.Sorted(maps.Keys(m))
}

// The request example of seeds/001_1c11edf65e87a273.txt (Lead Creation),
// copied verbatim into testdata/lead_create_request.json: every documented
// field survives a decode and encode of LeadInput, none lands in Custom.
func TestLeadCreateRequestFixtureRoundTrips(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/lead_create_request.json")
	testkit.Must(t, err)
	var in jing.LeadInput
	testkit.Must(t, json.Unmarshal(raw, &in))
	if len(in.Custom) != 0 {
		t.Fatalf("documented fields taken for custom ones: %v", slices.Collect(maps.Keys(in.Custom)))
	}
	out, err := json.Marshal(in)
	testkit.Must(t, err)
	if got, want := jsonKeys(t, out), jsonKeys(t, raw); !slices.Equal(got, want) {
		t.Fatalf("field set changed:\n got %v\nwant %v", got, want)
	}
	if in.Owner != "string" || in.Param5 != "string" || in.SourceCustomParam != "string" {
		t.Fatalf("fields not decoded: %+v", in.LeadFields)
	}
	// A custom field travels at the same level, and Clear sends "".
	testkit.Must(t, in.SetCustom("c_input_6wat4u6y", "的萨芬萨"))
	in.Clear = []string{"c_select_g8l2rowh"}
	out, _ = json.Marshal(in)
	var flat map[string]any
	testkit.Must(t, json.Unmarshal(out, &flat))
	if flat["c_input_6wat4u6y"] != "的萨芬萨" || flat["c_select_g8l2rowh"] != "" || flat["name"] != "string" {
		t.Fatalf("custom fields not flat: %s", out)
	}
}

// The response example of the same page (testdata/lead_create_response.json)
// is answered verbatim by a stand-in platform: CreateLead decodes it.
func TestLeadCreateResponseFixtureDecodes(t *testing.T) {
	t.Parallel()
	resp, err := os.ReadFile("testdata/lead_create_response.json")
	testkit.Must(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/oauth2/token" {
			w.Write([]byte(`{"code":0,"msg":"success","data":{"access_token":"a","refresh_token":"r","expires_in":4511}}`))
			return
		}
		w.Write(resp)
	}))
	defer srv.Close()
	c, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: srv.URL, AppID: "x", AppSecret: "y"}})
	testkit.Must(t, err)
	uuid, err := c.CreateLead(context.Background(), jing.LeadInput{LeadFields: jing.LeadFields{Name: "n"}})
	if err != nil || uuid != "string" {
		t.Fatalf("CreateLead over the documented answer: %q, %v", uuid, err)
	}
}

func TestACreatedLeadIsListedAndQueriedWithTheSameFields(t *testing.T) {
	t.Parallel()
	r := crmRig(t, 80, 1)
	ctx := context.Background()
	m := loadMeta(t, r.client)
	in := fullLead(t, m, "13912345678")
	start := r.clock.Now().Unix()
	uuid, err := r.client.CreateLead(ctx, in)
	testkit.Must(t, err)
	if len(uuid) != 22 {
		t.Fatalf("jing_uuid %q", uuid)
	}
	for _, key := range []jing.LeadKey{{JingUUID: uuid}, {Mobile: in.Mobile}, {Email: in.Email}} {
		got, err := r.client.QueryLead(ctx, key)
		testkit.Must(t, err)
		sameLead(t, got, uuid, in)
	}
	var found []jing.Lead
	for l, err := range r.client.AllLeads(ctx, jing.LeadFilter{BusinessType: in.BusinessType, UpdatedSince: start}) {
		testkit.Must(t, err)
		found = append(found, l)
	}
	if len(found) != 1 {
		t.Fatalf("list since the creation: %d leads", len(found))
	}
	sameLead(t, found[0], uuid, in)
	if found[0].LifeStatus == "" || found[0].LeadPool != "" || found[0].CreatedTimestamp < start {
		t.Fatalf("system fields: %+v", found[0])
	}
}

func sameLead(t *testing.T, got jing.Lead, uuid string, in jing.LeadInput) {
	t.Helper()
	if got.JingUUID != uuid || got.LeadFields != in.LeadFields {
		t.Fatalf("lead differs:\n got %+v\nwant %+v", got.LeadFields, in.LeadFields)
	}
	for code, want := range in.Custom {
		if string(got.Custom[code]) != string(want) {
			t.Fatalf("custom %s: got %s, want %s", code, got.Custom[code], want)
		}
	}
}

func TestLeadValidationAnswersTheDocumentedCodes(t *testing.T) {
	t.Parallel()
	r := crmRig(t, 80, 1)
	ctx := context.Background()
	m := loadMeta(t, r.client)
	base := func() jing.LeadInput { return fullLead(t, m, "13700001111") }
	province := m.regions[0].Child[0].JingUUID
	other, err := r.client.LeadStatuses(ctx, m.types[1].JingUUID)
	testkit.Must(t, err)
	cases := []struct {
		name string
		edit func(*jing.LeadInput)
		code int
		kind jing.Kind
		says string
	}{
		{"no business type", func(in *jing.LeadInput) { in.BusinessType = "" }, 40001, jing.KindInvalid, "缺少必选参数: business_type"},
		{"no name", func(in *jing.LeadInput) { in.Name = "" }, 40001, jing.KindInvalid, "缺少必选参数: name"},
		{"no mobile nor email", func(in *jing.LeadInput) { in.Mobile, in.Email = "", "" }, 40001, jing.KindInvalid, "mobile"},
		{"unknown business type", func(in *jing.LeadInput) { in.BusinessType = "NoSuchBusinessType2345" }, 40002, jing.KindInvalid, "参数无效: business_type"},
		{"bad mobile", func(in *jing.LeadInput) { in.Mobile = "12345" }, 40002, jing.KindInvalid, "参数无效: mobile"},
		{"bad email", func(in *jing.LeadInput) { in.Email = "lin@" }, 40002, jing.KindInvalid, "参数无效: email"},
		{"status of another pipeline", func(in *jing.LeadInput) { in.LeadStatus = other[0].JingUUID }, 40002, jing.KindInvalid, "参数无效: lead_status"},
		{"region not innermost", func(in *jing.LeadInput) { in.CountryRegion = province }, 40002, jing.KindInvalid, "参数无效: country_region"},
		{"owner not a member", func(in *jing.LeadInput) { in.Owner = "99999" }, 40002, jing.KindInvalid, "参数无效: owner"},
		{"unknown source type", func(in *jing.LeadInput) { in.SourceType = "NoSuchOption" }, 40002, jing.KindInvalid, "参数无效: source_type"},
		{"unknown field", func(in *jing.LeadInput) { in.SetCustom("c_input_nosuchfield", "x") }, 40002, jing.KindInvalid, "c_input_nosuchfield"},
		{"number field", func(in *jing.LeadInput) { in.SetCustom(m.custom(t, jing.FieldNumber).Code, "很多") }, 40002, jing.KindInvalid, "必须是数字"},
		{"select option", func(in *jing.LeadInput) { in.SetCustom(m.custom(t, jing.FieldSelect).Code, "nope") }, 40002, jing.KindInvalid, "不是有效的选项"},
	}
	for _, typ := range []string{jing.FieldDepartment, jing.FieldMultiDepartment, jing.FieldImage, jing.FieldLookUp} {
		code := m.custom(t, typ).Code
		cases = append(cases, struct {
			name string
			edit func(*jing.LeadInput)
			code int
			kind jing.Kind
			says string
		}{"custom " + typ, func(in *jing.LeadInput) { in.SetCustom(code, "x") }, 40004, jing.KindBusiness, "不能创建或更新"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.edit(&in)
			_, err := r.client.CreateLead(ctx, in)
			wantError(t, err, tc.code, tc.kind, tc.says)
		})
	}
	if p, _ := r.client.ListLeads(ctx, jing.LeadFilter{}, jing.PageRequest{PerPage: 1}); p.Meta.TotalCount != 80 {
		t.Fatalf("refused creations left leads behind: %d", p.Meta.TotalCount)
	}
	// The valid form of the same input passes; a second one with the same mobile is a duplicate.
	_, err = r.client.CreateLead(ctx, base())
	testkit.Must(t, err)
	_, err = r.client.CreateLead(ctx, base())
	wantError(t, err, 40004, jing.KindBusiness, "已存在")
	_, err = r.client.QueryLead(ctx, jing.LeadKey{Mobile: "13000000000"})
	wantError(t, err, 40004, jing.KindBusiness, "线索不存在")
	// A custom field of another business type is not a field of this one.
	expoOnly := customOnlyIn(t, r.client, m.types[1].JingUUID, m.fields)
	in := base()
	in.Mobile = "13700002222"
	testkit.Must(t, in.SetCustom(expoOnly, "A12"))
	_, err = r.client.CreateLead(ctx, in)
	wantError(t, err, 40002, jing.KindInvalid, expoOnly)
	err = r.client.UpdateLeadStatus(ctx, "NoSuchLead", m.statuses[0].JingUUID)
	wantError(t, err, 40004, jing.KindBusiness, "线索不存在")
}

// customOnlyIn is a custom field of business type bt that is not among fields.
func customOnlyIn(t *testing.T, c *jing.Client, bt string, fields []jing.ObjectField) string {
	t.Helper()
	all, err := c.Fields(context.Background(), jing.ObjectLead, bt)
	testkit.Must(t, err)
	for _, f := range all {
		if f.Custom() && !slices.Contains(fields, f) {
			return f.Code
		}
	}
	t.Fatal("no custom field of its own")
	return ""
}

func wantError(t *testing.T, err error, code int, kind jing.Kind, says string) {
	t.Helper()
	e, ok := jing.AsError(err)
	if !ok || e.Code != code || e.Kind != kind || !strings.Contains(e.Msg, says) || e.RequestID == "" {
		t.Fatalf("got %v; want code %d kind %s saying %q", err, code, kind, says)
	}
}

// lastEvent is the newest event of type typ about lead uuid.
func lastEvent(t *testing.T, sb *sandbox.Server, typ, uuid string) jing.WebhookEvent {
	t.Helper()
	evs := sb.RecentLeadEvents()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].EventType == typ && evs[i].ExtraData.EntityID == uuid {
			return evs[i]
		}
	}
	t.Fatalf("no %s event for %s among %d", typ, uuid, len(evs))
	return jing.WebhookEvent{}
}

func TestAStatusUpdateMovesTheLeadAndIsPushed(t *testing.T) {
	t.Parallel()
	r := crmRig(t, 80, 1)
	ctx := context.Background()
	m := loadMeta(t, r.client)
	first, next := m.statuses[0], m.statuses[1]
	page, err := r.client.ListLeads(ctx, jing.LeadFilter{BusinessType: m.types[0].JingUUID, LeadStatus: first.JingUUID}, jing.PageRequest{})
	testkit.Must(t, err)
	if len(page.Items) == 0 {
		t.Fatal("no lead at the first status")
	}
	l := page.Items[0]
	testkit.Must(t, r.client.UpdateLeadStatus(ctx, l.JingUUID, next.JingUUID))
	if !listed(t, r.client, jing.LeadFilter{LeadStatus: next.JingUUID}, l.JingUUID) ||
		listed(t, r.client, jing.LeadFilter{LeadStatus: first.JingUUID}, l.JingUUID) {
		t.Fatal("the lead did not move between the status lists")
	}
	ev := lastEvent(t, r.sb, jing.EventObjectUpdateStatus, l.JingUUID)
	ch := ev.ExtraData.Changes()["lead_status"]
	if ch.Before != first.JingUUID || ch.After != next.JingUUID || ch.BeforeLabel != first.Name || ch.AfterLabel != next.Name {
		t.Fatalf("status change pushed as %+v", ch)
	}
	x := ev.ExtraData
	if ev.MID == "" || ev.EventCategory != "object_v2" || x.ObjectName != "lead" || x.BusinessTypeName != m.types[0].Name {
		t.Fatalf("event %+v", ev)
	}
	if _, err := time.Parse(time.DateTime, x.CreatedTimestamp); err != nil {
		t.Fatalf("created_timestamp %q", x.CreatedTimestamp)
	}
	// A converted lead keeps its status.
	won := m.statuses[4]
	testkit.Must(t, r.client.UpdateLeadStatus(ctx, l.JingUUID, won.JingUUID))
	err = r.client.UpdateLeadStatus(ctx, l.JingUUID, first.JingUUID)
	wantError(t, err, 40004, jing.KindBusiness, "已转化")
	if lc := lastEvent(t, r.sb, jing.EventObjectUpdateLifeCycle, l.JingUUID); lc.ExtraData.LifeStatus != "customer" {
		t.Fatalf("life cycle event %+v", lc.ExtraData)
	}
}

func listed(t *testing.T, c *jing.Client, f jing.LeadFilter, uuid string) bool {
	t.Helper()
	for l, err := range c.AllLeads(context.Background(), f) {
		testkit.Must(t, err)
		if l.JingUUID == uuid {
			return true
		}
	}
	return false
}

func TestListFiltersAndPagingWalkEveryLeadOnce(t *testing.T) {
	t.Parallel()
	const n = 80
	r := crmRig(t, n, 3)
	ctx := context.Background()
	m := loadMeta(t, r.client)
	// Small pages, by hand: every lead once.
	seen := map[string]bool{}
	for page := 1; ; page++ {
		p, err := r.client.ListLeads(ctx, jing.LeadFilter{}, jing.PageRequest{Page: page, PerPage: 7})
		testkit.Must(t, err)
		if p.Meta.TotalCount != n || p.Meta.PageCount != (n+6)/7 || p.Meta.CurrentPage != page {
			t.Fatalf("meta %+v", p.Meta)
		}
		for _, l := range p.Items {
			if seen[l.JingUUID] {
				t.Fatalf("lead %s twice", l.JingUUID)
			}
			seen[l.JingUUID] = true
		}
		if page >= p.Meta.PageCount {
			break
		}
	}
	if len(seen) != n {
		t.Fatalf("walked %d leads, want %d", len(seen), n)
	}
	// The business types partition the leads; each filter keeps only matches.
	total := 0
	for _, bt := range m.types {
		for l, err := range r.client.AllLeads(ctx, jing.LeadFilter{BusinessType: bt.JingUUID}) {
			testkit.Must(t, err)
			if l.BusinessType != bt.JingUUID {
				t.Fatalf("business type filter let %s through", l.BusinessType)
			}
			total++
		}
	}
	if total != n {
		t.Fatalf("business types cover %d leads, want %d", total, n)
	}
	owner := m.activeMember(t, 0).ID
	since := r.clock.Now().Add(-60 * 24 * time.Hour).Unix()
	for _, f := range []jing.LeadFilter{{LeadStatus: m.statuses[0].JingUUID}, {Owner: owner}, {UpdatedSince: since}} {
		count := 0
		for l, err := range r.client.AllLeads(ctx, f) {
			testkit.Must(t, err)
			count++
			if (f.LeadStatus != "" && l.LeadStatus != f.LeadStatus) || (f.Owner != "" && l.Owner != f.Owner) || l.UpdatedTimestamp < f.UpdatedSince {
				t.Fatalf("filter %+v let %+v through", f, l)
			}
		}
		if count == 0 || count == n {
			t.Fatalf("filter %+v kept %d of %d leads: not a filter", f, count, n)
		}
	}
	_, err := r.client.ListLeads(ctx, jing.LeadFilter{Owner: "1"}, jing.PageRequest{})
	wantError(t, err, 40002, jing.KindInvalid, "owner")
}

func TestTheSameSeedGivesTheSameLeads(t *testing.T) {
	t.Parallel()
	pageOf := func(seed int64) string {
		r := crmRig(t, 80, seed)
		p, err := r.client.ListLeads(context.Background(), jing.LeadFilter{}, jing.PageRequest{Page: 2, PerPage: 30})
		testkit.Must(t, err)
		b, err := json.Marshal(p.Items)
		testkit.Must(t, err)
		return string(b)
	}
	a, b, c := pageOf(7), pageOf(7), pageOf(8)
	if a != b {
		t.Fatal("two sandboxes with seed 7 answer different leads")
	}
	if a == c {
		t.Fatal("seeds 7 and 8 answer the same leads")
	}
}

func TestUpdatesChangeOwnersAndCollaborators(t *testing.T) {
	t.Parallel()
	r := crmRig(t, 80, 1)
	ctx := context.Background()
	m := loadMeta(t, r.client)
	in := fullLead(t, m, "15800002222")
	uuid, err := r.client.CreateLead(ctx, in)
	testkit.Must(t, err)
	// A field change and a cleared field: object_update with [before, after].
	testkit.Must(t, r.client.UpdateLead(ctx, uuid, jing.LeadInput{LeadFields: jing.LeadFields{Title: "采购经理"}, Clear: []string{"company_id"}}))
	got, err := r.client.QueryLead(ctx, jing.LeadKey{JingUUID: uuid})
	testkit.Must(t, err)
	if got.Title != "采购经理" || got.CompanyID != "" || got.Name != in.Name {
		t.Fatalf("after update: %+v", got.LeadFields)
	}
	ch := lastEvent(t, r.sb, jing.EventObjectUpdate, uuid).ExtraData.Changes()
	if ch["title"].Before != "市场总监" || ch["company_id"].After != nil || ch["company_id"].AfterLabel != "-" {
		t.Fatalf("update pushed as %+v", ch)
	}
	// Clearing the owner puts the lead in the public pool.
	testkit.Must(t, r.client.UpdateLead(ctx, uuid, jing.LeadInput{Clear: []string{"owner"}}))
	got, _ = r.client.QueryLead(ctx, jing.LeadKey{JingUUID: uuid})
	if got.Owner != "" || got.LeadPool == "" {
		t.Fatalf("unassigned lead: owner %q pool %q", got.Owner, got.LeadPool)
	}
	if ev := lastEvent(t, r.sb, jing.EventObjectChangeOwner, uuid); ev.ActionKeyword != jing.ActionManualDistribution {
		t.Fatalf("owner change action %q", ev.ActionKeyword)
	}
	a, b := m.activeMember(t, 1).ID, m.activeMember(t, 2).ID
	testkit.Must(t, r.client.UpdateCollaborators(ctx, uuid, []jing.MemberID{a, b}, nil))
	testkit.Must(t, r.client.UpdateCollaborators(ctx, uuid, nil, []jing.MemberID{a}))
	got, _ = r.client.QueryLead(ctx, jing.LeadKey{JingUUID: uuid})
	if !slices.Equal(got.Collaborators, []jing.MemberID{b}) {
		t.Fatalf("collaborators %v", got.Collaborators)
	}
	lastEvent(t, r.sb, jing.EventObjectAddTeamMember, uuid)
	lastEvent(t, r.sb, jing.EventObjectRemoveTeamMember, uuid)
	err = r.client.UpdateCollaborators(ctx, uuid, []jing.MemberID{"424242"}, nil)
	wantError(t, err, 40002, jing.KindInvalid, "424242")
	err = r.client.UpdateLead(ctx, uuid, jing.LeadInput{LeadFields: jing.LeadFields{BusinessType: m.types[1].JingUUID}})
	wantError(t, err, 40004, jing.KindBusiness, "业务类型")
	link, err := r.client.LeadDetailLink(ctx, uuid)
	if err != nil || link != "/sandbox/leads/"+uuid {
		t.Fatalf("detail link %q, %v", link, err)
	}
}
