package jing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"slices"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// Fixtures: testdata/crowd_import_request.json and crowd_import_response.json
// are the examples of ../shared/seeds/002_faa2a903624ce9b6.txt (导入群组用户),
// copied verbatim; the response's "string" values are the page's type
// placeholders.
func TestCrowdImportFixturesDecode(t *testing.T) {
	t.Parallel()
	var req struct {
		GroupID       int64    `json:"group_id"`
		OmniUserUUIDs []string `json:"omni_user_uuids"`
	}
	readFixture(t, "crowd_import_request.json", &req)
	if req.GroupID != 20541 || len(req.OmniUserUUIDs) != 1 || req.OmniUserUUIDs[0] != "ncVpzNSAuAXKjXJyWrr3ZV" {
		t.Fatalf("request %+v", req)
	}
	var resp struct {
		Code    json.RawMessage        `json:"code"`
		Message string                 `json:"message"`
		Data    jing.CrowdImportResult `json:"data"`
	}
	readFixture(t, "crowd_import_response.json", &resp)
	if resp.Code[0] != '"' || resp.Message == "" || resp.Data != (jing.CrowdImportResult{}) {
		t.Fatalf("response %+v", resp)
	}
}

func readFixture(t *testing.T, name string, v any) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return raw
}

// rawPost calls the sandbox without the client (after the client obtained
// a token), to see the envelope exactly as sent.
func rawPost(t *testing.T, r *rig, path string, body any) map[string]json.RawMessage {
	t.Helper()
	if _, err := r.client.ListCrowds(context.Background(), jing.CrowdListRequest{}); err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, r.client.BaseURL()+path, bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("app_id", "sandbox")
	req.Header.Set("access_token", r.tokens.tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	return env
}

func TestCrowdImportAnswersTheDocumentedStringCodeEnvelope(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 300, nil)
	member := r.sb.SamplePersons(1)[0].OmniUserUUID
	env := rawPost(t, r, "/v2/crowd/static/importByUuids", map[string]any{"group_id": oldestCrowd(t, r).GroupID, "omni_user_uuids": []string{member}})
	var fixture map[string]json.RawMessage
	readFixture(t, "crowd_import_response.json", &fixture)
	if !slices.Equal(slices.Sorted(maps.Keys(env)), slices.Sorted(maps.Keys(fixture))) {
		t.Fatalf("envelope keys %v, documented %v", slices.Sorted(maps.Keys(env)), slices.Sorted(maps.Keys(fixture)))
	}
	if string(env["code"]) != `"0"` || string(env["message"]) != `"success"` {
		t.Fatalf("code %s, message %s", env["code"], env["message"])
	}
	var data jing.CrowdImportResult
	if err := json.Unmarshal(env["data"], &data); err != nil || data.SuccessNumber != 1 {
		t.Fatalf("data %s", env["data"])
	}
}

// oldestCrowd is the first crowd the demo tenant was seeded with.
func oldestCrowd(t *testing.T, r *rig) jing.Crowd {
	t.Helper()
	p, err := r.client.ListCrowds(context.Background(), jing.CrowdListRequest{PageRequest: jing.PageRequest{Page: 1, PerPage: 100}})
	if err != nil || len(p.Items) == 0 {
		t.Fatalf("crowds: %+v, %v", p, err)
	}
	return p.Items[len(p.Items)-1]
}

func sampleUUIDs(r *rig, n int) []string {
	var out []string
	for _, p := range r.sb.SamplePersons(n) {
		out = append(out, p.OmniUserUUID)
	}
	return out
}

func TestSeededCrowdsAreListedWithTheirSizes(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 2000, nil)
	ctx := context.Background()
	var names []string
	for cr, err := range r.client.AllCrowds(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		if cr.GroupID < 20000 || cr.UserCount < 30 || cr.UserCount > 2000 || cr.CreatedTimestamp == 0 {
			t.Fatalf("crowd %+v", cr)
		}
		names = append(names, cr.Name)
	}
	if len(names) != 8 || !slices.Contains(names, "2025 上海车展到访客户") || !slices.Contains(names, "测试人群") {
		t.Fatalf("crowds %v", names)
	}
	p, err := r.client.ListCrowds(ctx, jing.CrowdListRequest{Keyword: "经销商"})
	if err != nil || len(p.Items) != 1 || p.Items[0].Name != "华东区经销商联系人" {
		t.Fatalf("keyword 经销商: %+v, %v", p.Items, err)
	}
}

func TestACrowdsLifeFromCreationToDeletion(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 2000, nil)
	ctx := context.Background()
	id, err := r.client.CreateCrowd(ctx, "2026 双十一预热名单", "jingdesk 导入")
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.client.ListCrowds(ctx, jing.CrowdListRequest{Keyword: "双十一"})
	if err != nil || len(p.Items) != 1 || p.Items[0].GroupID != id || p.Items[0].UserCount != 0 {
		t.Fatalf("new crowd in the list: %+v, %v", p.Items, err)
	}

	uuids := sampleUUIDs(r, 1500)
	importAll(t, r, id, uuids, 2)
	// Importing the same persons again succeeds and adds no one.
	importAll(t, r, id, uuids, 4)
	walkMembers(t, r, id, uuids)

	// Unknown uuids are counted as errors, known ones as successes.
	res, err := r.client.ImportToCrowd(ctx, id, []string{uuids[0], "NoSuchPerson0000000001", "NoSuchPerson0000000002"})
	if err != nil || res != (jing.CrowdImportResult{SuccessNumber: 1, ErrorNumber: 2}) {
		t.Fatalf("mixed import: %+v, %v", res, err)
	}

	if err := r.client.UpdateCrowd(ctx, id, "2026 双十一主会场名单", "改名"); err != nil {
		t.Fatal(err)
	}
	if cr, err := r.client.CrowdDetail(ctx, id); err != nil || cr.Name != "2026 双十一主会场名单" || cr.UserCount != 1500 {
		t.Fatalf("after update: %+v, %v", cr, err)
	}
	if err := r.client.DeleteCrowd(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.CrowdDetail(ctx, id); !isCode(err, jing.CodeBusinessFailed) {
		t.Fatalf("detail of a deleted crowd: %v", err)
	}
	if _, err := r.client.ImportToCrowd(ctx, id, uuids[:1]); !isCode(err, jing.CodeBusinessFailed) {
		t.Fatalf("import into a deleted crowd: %v", err)
	}
}

// importAll imports uuids and checks the counts and the calls made so far.
func importAll(t *testing.T, r *rig, id int64, uuids []string, callsSoFar int) {
	t.Helper()
	res, err := r.client.ImportToCrowd(context.Background(), id, uuids)
	if err != nil || res != (jing.CrowdImportResult{SuccessNumber: len(uuids)}) {
		t.Fatalf("import: %+v, %v", res, err)
	}
	if n := r.calls.count("/v2/crowd/static/importByUuids"); n != callsSoFar {
		t.Fatalf("%d import calls, want %d", n, callsSoFar)
	}
	if cr, err := r.client.CrowdDetail(context.Background(), id); err != nil || cr.UserCount != len(uuids) {
		t.Fatalf("after import: %+v, %v", cr, err)
	}
}

// walkMembers pages through the crowd and finds every uuid exactly once.
func walkMembers(t *testing.T, r *rig, id int64, uuids []string) {
	t.Helper()
	seen := map[string]bool{}
	for m, err := range r.client.AllCrowdUsers(context.Background(), id) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[m.OmniUserUUID] || m.JoinedTimestamp == 0 {
			t.Fatalf("member %+v twice or without a joining time", m)
		}
		seen[m.OmniUserUUID] = true
	}
	for _, u := range uuids {
		if !seen[u] {
			t.Fatalf("%s missing from the walk", u)
		}
	}
	if len(seen) != len(uuids) || r.calls.count("/v2/crowd/static/users") != 15 {
		t.Fatalf("walked %d members in %d pages", len(seen), r.calls.count("/v2/crowd/static/users"))
	}
}

func isCode(err error, code int) bool {
	e, ok := jing.AsError(err)
	return ok && e.Code == code
}

func TestCrowdRulesAreEnforced(t *testing.T) {
	t.Parallel()
	r := peopleRig(t, 300, nil)
	ctx := context.Background()
	seeded := oldestCrowd(t, r)
	if _, err := r.client.CreateCrowd(ctx, seeded.Name, ""); !isCode(err, jing.CodeBusinessFailed) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := r.client.CreateCrowd(ctx, "  ", "空名"); !isCode(err, jing.CodeMissingParameter) {
		t.Fatalf("empty name: %v", err)
	}
	id, _ := r.client.CreateCrowd(ctx, "新人群", "")
	if err := r.client.UpdateCrowd(ctx, id, seeded.Name, ""); !isCode(err, jing.CodeBusinessFailed) {
		t.Fatalf("rename onto another crowd's name: %v", err)
	}
	if err := r.client.UpdateCrowd(ctx, id, "新人群", "描述可改，名字不变"); err != nil {
		t.Fatalf("keeping its own name: %v", err)
	}
	tooMany := map[string]any{"group_id": id, "omni_user_uuids": make([]string, 1001)}
	if err := r.client.Call(ctx, "crowds.import", tooMany, nil); !isCode(err, jing.CodeInvalidParameter) {
		t.Fatalf("1,001 uuids in one call: %v", err)
	}
	if _, err := r.client.ImportToCrowd(ctx, 999999, sampleUUIDs(r, 1)); !isCode(err, jing.CodeBusinessFailed) {
		t.Fatalf("unknown group: %v", err)
	}
	if _, err := r.client.CrowdUsers(ctx, 0, jing.PageRequest{}); !isCode(err, jing.CodeMissingParameter) {
		t.Fatalf("no group_id: %v", err)
	}
}
