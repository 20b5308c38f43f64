package jing_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
)

// peopleRig is a rig over a tenant of persons persons, with every rate
// lifted (sendsFast) and clientOnly overrides applied to the client's
// catalog alone (to disable an entry the platform still has, say).
func peopleRig(t testing.TB, persons int, clientOnly map[string]jing.Override) *rig {
	return newRig(t, sendsFast(nil), func(sc *sandbox.Config, cc *jing.Config) {
		sc.Persons = persons
		cat, err := cc.Catalog.ApplyOverrides(clientOnly)
		if err != nil {
			t.Fatal(err)
		}
		cc.Catalog = cat
	})
}

func mobileOf(i int) string { return fmt.Sprintf("1770021%04d", i) }

// newPersons are n persons with a mobile each and an email for the even ones.
func newPersons(n int) []jing.PersonInput {
	in := make([]jing.PersonInput, n)
	for i := range in {
		in[i].Identities = []jing.Identity{{Type: jing.IdentityMobile, Value: mobileOf(i), Name: "手机号"}}
		if i%2 == 0 {
			in[i].Identities = append(in[i].Identities, jing.Identity{Type: jing.IdentityEmail, Value: fmt.Sprintf("buyer%d@example.cn", i)})
		}
		in[i].Fields = map[string]any{"name": fmt.Sprintf("测试客户%d", i), "city": "杭州", "c_level": 3}
		in[i].FieldsSource = &jing.FieldsSource{SourceType: "thirdparty_custom_source", SourceValue: "jingdesk"}
	}
	return in
}

func TestCreatedPersonsAreFoundByMobileAndEmail(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 300, nil)
	ctx := context.Background()
	in := newPersons(3)
	in = append(in, jing.PersonInput{Identities: []jing.Identity{{Type: jing.IdentityMobile, Value: "12345"}}})
	res, err := r.client.CreatePersons(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Success) != 3 || len(res.Failure) != 1 || !strings.Contains(res.Failure[0].Reason, "手机号") {
		t.Fatalf("result %+v", res)
	}
	uuid := res.Success[0].OmniUserUUID
	byMobile, err := r.client.QueryPerson(ctx, jing.IdentityMobile, mobileOf(0))
	if err != nil {
		t.Fatal(err)
	}
	if byMobile.OmniUserUUID != uuid || byMobile.Fields["name"] != "测试客户0" || byMobile.Fields["c_level"] != 3.0 ||
		byMobile.Identity(jing.IdentityEmail) != "buyer0@example.cn" || byMobile.CreatedTimestamp == 0 {
		t.Fatalf("by mobile: %+v", byMobile)
	}
	// Emails are matched without regard to case.
	byEmail, err := r.client.QueryPerson(ctx, jing.IdentityEmail, "Buyer0@Example.CN")
	if err != nil || byEmail.OmniUserUUID != uuid {
		t.Fatalf("by email: %+v, %v", byEmail, err)
	}
}

func TestRecreatingAKnownIdentityMergesIntoThatPerson(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 300, nil)
	ctx := context.Background()
	first, err := r.client.CreatePersons(ctx, newPersons(1)[:1])
	if err != nil {
		t.Fatal(err)
	}
	uuid := first.Success[0].OmniUserUUID
	// The same mobile with a new openid: the same person, one more identity.
	again, err := r.client.CreatePersons(ctx, []jing.PersonInput{{Identities: []jing.Identity{
		{Type: jing.IdentityMobile, Value: mobileOf(0)}, {Type: jing.IdentityWechatOpenID, Value: "oTestOpenID0000000000000001"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Success) != 1 || again.Success[0].OmniUserUUID != uuid || len(again.Success[0].Identities) != 3 {
		t.Fatalf("re-create: %+v (first uuid %s)", again, uuid)
	}
	p, err := r.client.QueryPerson(ctx, jing.IdentityWechatOpenID, "oTestOpenID0000000000000001")
	if err != nil || p.OmniUserUUID != uuid || p.Fields["name"] != "测试客户0" {
		t.Fatalf("by openid: %+v, %v", p, err)
	}
	// Identities of two different persons cannot be merged; nothing changes.
	other, _ := r.client.CreatePersons(ctx, newPersons(2)[1:])
	clash, err := r.client.CreatePersons(ctx, []jing.PersonInput{{Identities: []jing.Identity{
		{Type: jing.IdentityMobile, Value: mobileOf(0)}, {Type: jing.IdentityMobile, Value: mobileOf(1)}}}, {Identities: []jing.Identity{
		{Type: jing.IdentityEmail, Value: "buyer0@example.cn"}, {Type: jing.IdentityWechatOpenID, Value: "oSomeoneElse"}}}})
	if err != nil || len(clash.Failure) != 2 || other.Success[0].OmniUserUUID == uuid {
		t.Fatalf("clashing identities: %+v, %v", clash, err)
	}
}

func TestUpdatePersonsWritesFieldsOfKnownPersonsOnly(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 300, nil)
	ctx := context.Background()
	created, _ := r.client.CreatePersons(ctx, newPersons(2))
	res, err := r.client.UpdatePersons(ctx, []jing.PersonUpdate{
		{OmniUserUUID: created.Success[0].OmniUserUUID, Fields: map[string]any{"city": "苏州", "c_tier": "gold"}},
		{Identities: []jing.Identity{{Type: jing.IdentityMobile, Value: mobileOf(1)}}, Fields: map[string]any{"company": "宁波东海新材料有限公司"}},
		{OmniUserUUID: "NoSuchPersonAtAll00000", Fields: map[string]any{"city": "北京"}},
	})
	if err != nil || len(res.Success) != 2 || len(res.Failure) != 1 || !strings.Contains(res.Failure[0].Reason, "不存在") {
		t.Fatalf("update: %+v, %v", res, err)
	}
	p, _ := r.client.QueryPerson(ctx, jing.IdentityMobile, mobileOf(0))
	q, _ := r.client.QueryPerson(ctx, jing.IdentityMobile, mobileOf(1))
	if p.Fields["city"] != "苏州" || p.Fields["c_tier"] != "gold" || q.Fields["company"] != "宁波东海新材料有限公司" {
		t.Fatalf("after update: %v / %v", p.Fields, q.Fields)
	}
}

func TestPersonBatchesAreSplitAtMaxBatch(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 300, nil)
	res, err := r.client.CreatePersons(context.Background(), newPersons(250))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Success) != 250 || r.calls.count("/v1/user/create") != 3 {
		t.Fatalf("%d created in %d calls", len(res.Success), r.calls.count("/v1/user/create"))
	}
}

// createdMobiles creates n persons and returns mobile → omni_user_uuid.
func createdMobiles(t *testing.T, r *rig, n int) map[string]string {
	t.Helper()
	res, err := r.client.CreatePersons(context.Background(), newPersons(n))
	if err != nil || len(res.Success) != n {
		t.Fatalf("create %d persons: %d created, %v", n, len(res.Success), err)
	}
	want := map[string]string{}
	for i, s := range res.Success {
		want[mobileOf(i)] = s.OmniUserUUID
	}
	return want
}

// lookupValues are the known mobiles followed by unknown ones.
func lookupValues(known map[string]string, unknown int) []string {
	values := make([]string, 0, len(known)+unknown)
	for m := range known {
		values = append(values, m)
	}
	for i := range unknown {
		values = append(values, fmt.Sprintf("1660000%04d", i))
	}
	return values
}

func TestIdentityBatchOf250IsSplitIntoThreeCalls(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 300, nil)
	want := createdMobiles(t, r, 240)
	got, err := r.client.ResolveIdentities(context.Background(), jing.IdentityMobile, lookupValues(want, 10))
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("resolved %d of %d, or to the wrong persons", len(got), len(want))
	}
	if n := r.calls.count("/v1/user/identity/batchQuery"); n != 3 {
		t.Fatalf("250 values took %d calls, want 3", n)
	}
	if plan := r.client.ResolvePlanFor(250); !plan.Batched || plan.Calls != 3 {
		t.Fatalf("plan %+v", plan)
	}
}

func TestResolvingFallsBackToQueryWhenIdentityBatchIsDisabled(t *testing.T) {
	t.Parallel()
	off := true
	r := peopleRig(t, 300, map[string]jing.Override{"users.identity_batch": {Disabled: &off}})
	want := createdMobiles(t, r, 20)
	values := lookupValues(want, 5)
	got, err := r.client.ResolveIdentities(context.Background(), jing.IdentityMobile, values)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("fallback resolved %v, want %v", got, want)
	}
	if r.calls.count("/v1/user/identity/batchQuery") != 0 || r.calls.count("/v1/user/query") != len(values) {
		t.Fatalf("batch calls %d, query calls %d for %d values",
			r.calls.count("/v1/user/identity/batchQuery"), r.calls.count("/v1/user/query"), len(values))
	}
	if plan := r.client.ResolvePlanFor(250); plan.Batched || plan.Calls != 250 || plan.Takes <= 0 {
		t.Fatalf("plan %+v", plan)
	}
}

func TestUserCallsAreValidatedAsThePlatformDoes(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 300, nil)
	ctx := context.Background()
	cases := []struct {
		name     string
		key      string
		body     any
		wantCode int
	}{
		{"unknown person", "users.query", map[string]any{"identity": map[string]string{"identity_type": "mobile", "identity_value": "13000000000"}}, jing.CodeBusinessFailed},
		{"no identity", "users.query", map[string]any{}, jing.CodeMissingParameter},
		{"unknown type", "users.query", map[string]any{"identity": map[string]string{"identity_type": "qq", "identity_value": "1"}}, jing.CodeInvalidParameter},
		{"create needs an array", "users.create", map[string]any{"identities": []any{}}, jing.CodeInvalidParameter},
		{"batch over 100", "users.identity_batch", map[string]any{"identity_type": "mobile", "identity_values": make([]string, 101)}, jing.CodeInvalidParameter},
		{"batch without values", "users.identity_batch", map[string]any{"identity_type": "email"}, jing.CodeMissingParameter},
	}
	for _, tc := range cases {
		err := r.client.Call(ctx, tc.key, tc.body, nil)
		if e, ok := jing.AsError(err); !ok || e.Code != tc.wantCode {
			t.Errorf("%s: %v, want code %d", tc.name, err, tc.wantCode)
		}
	}
}
