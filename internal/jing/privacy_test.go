package jing_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
)

// Fixtures: testdata/privacy_status_request.json and
// privacy_status_response.json are the examples of
// ../shared/seeds/000_43b747f4b0a4c89a.txt (查询用户授权状态), copied verbatim.
func TestPrivacyStatusFixturesDecode(t *testing.T) {
	t.Parallel()
	var req struct {
		Identity struct {
			IdentityType  string `json:"identity_type"`
			IdentityValue string `json:"identity_value"`
		} `json:"identity"`
		jing.PageRequest
	}
	readFixture(t, "privacy_status_request.json", &req)
	if req.Identity.IdentityType != jing.IdentityMobile || req.Identity.IdentityValue != "18984283773" || req.PerPage != 20 || req.Page != 1 {
		t.Fatalf("request %+v", req)
	}
	var resp struct {
		Code int                           `json:"code"`
		Data jing.Page[jing.PrivacyPolicy] `json:"data"`
	}
	readFixture(t, "privacy_status_response.json", &resp)
	meta, items := resp.Data.Meta, resp.Data.Items
	if meta.TotalCount != 137 || meta.PageCount != 14 || meta.PerPage != 10 || len(items) != 1 {
		t.Fatalf("meta %+v, %d items", meta, len(items))
	}
	pol := items[0]
	v := pol.PolicyInfos[0]
	if pol.JingUUID != "NNMb4EHH4rMuvKknapkerW" || pol.MID != 222 || pol.OwnerID != 2125 || pol.DataOwnerID != "2125" ||
		string(pol.DeletedAt) != "null" || v.Info != "<p>测试条款授权-走模板</p>" || v.Required != 1 || v.Version != 1 {
		t.Fatalf("policy %+v", pol)
	}
	if !v.Authorized() || v.AuthHistory.OmniUserUUID != "K8TQQow9hpCQSyz6c9Kv27" || v.AuthHistory.PolicyInfoUUID != v.JingUUID ||
		!slices.Equal(pol.AuthorizedVersions(), []int{1}) {
		t.Fatalf("authorisation %+v", v.AuthHistory)
	}
}

// samplesByConsent finds a seeded person with a consent history and one without.
func samplesByConsent(t *testing.T, r *rig) (with, without sandbox.SamplePerson) {
	t.Helper()
	for _, p := range r.sb.SamplePersons(300) {
		if p.Authorized > 0 && with.Mobile == "" {
			with = p
		}
		if p.Authorized == 0 && without.Mobile == "" {
			without = p
		}
	}
	if with.Mobile == "" || without.Mobile == "" {
		t.Fatal("no seeded person with (or without) a consent history")
	}
	return with, without
}

func TestPrivacyStatusShowsWhatThePersonAuthorized(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 300, nil)
	ctx := context.Background()
	with, without := samplesByConsent(t, r)
	if n := authorizedVersions(t, r, with); n != with.Authorized {
		t.Fatalf("%s authorised %d versions, the sandbox says %d", with.Name, n, with.Authorized)
	}
	if n := authorizedVersions(t, r, without); n != 0 {
		t.Fatalf("%s authorised nothing but %d versions show", without.Name, n)
	}
	// The same person found by email sees the same.
	if with.Email != "" {
		p, err := r.client.PrivacyStatus(ctx, jing.IdentityEmail, with.Email, jing.PageRequest{PerPage: 20})
		if err != nil || len(p.Items) != 3 {
			t.Fatalf("by email: %+v, %v", p, err)
		}
	}
	_, err := r.client.PrivacyStatus(ctx, jing.IdentityMobile, "13000000000", jing.PageRequest{})
	if !isCode(err, jing.CodeBusinessFailed) {
		t.Fatalf("unknown person: %v", err)
	}
	if _, err := r.client.PrivacyStatus(ctx, "", "13000000000", jing.PageRequest{}); !isCode(err, jing.CodeMissingParameter) {
		t.Fatalf("no identity type: %v", err)
	}
}

// authorizedVersions counts the authorised versions over every page (one
// policy per page, to exercise paging).
func authorizedVersions(t *testing.T, r *rig, p sandbox.SamplePerson) int {
	t.Helper()
	n, pages := 0, 0
	for page := 1; ; page++ {
		got, err := r.client.PrivacyStatus(context.Background(), jing.IdentityMobile, p.Mobile, jing.PageRequest{Page: page, PerPage: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, pol := range got.Items {
			for _, v := range pol.PolicyInfos {
				if v.Authorized() && (v.AuthHistory.OmniUserUUID != p.OmniUserUUID || v.AuthHistory.PolicyInfoUUID != v.JingUUID) {
					t.Fatalf("history %+v of version %s", v.AuthHistory, v.JingUUID)
				}
			}
			n += len(pol.AuthorizedVersions())
		}
		pages++
		if page >= got.Meta.PageCount {
			break
		}
	}
	if pages != 3 {
		t.Fatalf("%d pages of one policy, want 3", pages)
	}
	return n
}

// The sandbox answers with exactly the documented members, at every level.
func TestSandboxPrivacyAnswerHasTheDocumentedShape(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 300, nil)
	with, _ := samplesByConsent(t, r)
	var got json.RawMessage
	body := map[string]any{"identity": map[string]string{"identity_type": "mobile", "identity_value": with.Mobile}, "perPage": 20, "page": 1}
	if err := r.client.Call(context.Background(), "privacy.status", body, &got); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	readFixture(t, "privacy_status_response.json", &doc)
	want, have := shapeOf(t, doc.Data), shapeOf(t, got)
	for level, keys := range want {
		if !slices.Equal(have[level], keys) {
			t.Errorf("%s: members %v, documented %v", level, have[level], keys)
		}
	}
}

// shapeOf lists the member names of the page, its first policy, that
// policy's first authorised version and its history.
func shapeOf(t *testing.T, data json.RawMessage) map[string][]string {
	t.Helper()
	var page map[string]json.RawMessage
	mustJSON(t, data, &page)
	var items []map[string]json.RawMessage
	mustJSON(t, page["items"], &items)
	var infos []map[string]json.RawMessage
	mustJSON(t, items[0]["policy_infos"], &infos)
	info := infos[0]
	for _, v := range infos {
		if _, ok := v["policy_auth_history"]; ok {
			info = v
		}
	}
	var history, meta map[string]json.RawMessage
	mustJSON(t, info["policy_auth_history"], &history)
	mustJSON(t, page["_meta"], &meta)
	keys := func(m map[string]json.RawMessage) []string { return slices.Sorted(maps.Keys(m)) }
	return map[string][]string{"data": keys(page), "_meta": keys(meta), "policy": keys(items[0]),
		"policy_info": keys(info), "policy_auth_history": keys(history)}
}

func mustJSON(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}
