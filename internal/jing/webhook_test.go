package jing_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// Fixtures:
//   - webhook_account_object_create.json is copied verbatim from
//     ../shared/seeds/004_e53580df8efda58b.txt (Webhook: Account), the
//     page's only JSON example.
//   - webhook_lead_object_update.json is a lead update built from the shape
//     in ../shared/jing-api/webhooks.md (its documented {"company_id":
//     [null,"中山大学"]} / ["-","中山大学"] update), string-encoded as the
//     platform sends lead events; webhook_lead_object_update_objects.json is
//     the same event in the other encoding the platform uses (objects,
//     numbers as strings and the reverse, another key order).

func readWebhook(t *testing.T, name string) (jing.WebhookEvent, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := jing.DecodeWebhook(raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev, raw
}

func TestDecodeWebhookAccountCreateFixture(t *testing.T) {
	t.Parallel()
	ev, _ := readWebhook(t, "webhook_account_object_create.json")
	if ev.MID != "124" || ev.EventCategory != jing.EventCategoryObject || ev.EventType != jing.EventObjectCreate ||
		ev.ActionKeyword != jing.EventObjectCreate || ev.CreateTime != 1673262057 {
		t.Fatalf("envelope fields: %+v", ev)
	}
	x := ev.ExtraData
	if x.ObjectName != jing.ObjectAccount || x.EntityID != "nssGJLofjZ55N5KgdKfEYS" || x.ObjectID != "627" ||
		x.BusinessType != "SLmviLvtezwNT94uQUT9df" || x.BusinessTypeName != "预设业务类型" ||
		x.OperatorType != jing.OperatorBackOffice || x.OperatorID != 18404 || x.IsFollowUp != 0 ||
		x.CreatedTimestamp != "2023-01-09 19:00:57" || x.LoginPlatform != "jing" || x.LoginEnvironment != "pc" ||
		x.LoginSourceType != "jingmodule" {
		t.Fatalf("extra_data fields: %+v", x)
	}
	if !strings.Contains(x.TimelineData, `"login_source_type":"jingmodule"`) {
		t.Errorf("timeline_data = %q", x.TimelineData)
	}
	if len(x.Extra) != 0 {
		t.Errorf("documented fields left unnamed: %v", x.Extra)
	}
	changes := x.Changes()
	if len(changes) != 17 {
		t.Errorf("%d changed fields, want the 17 of the example", len(changes))
	}
	want := map[string]jing.Change{
		"name":              {After: "webhook测试第六个客户sdfadfas", AfterLabel: "webhook测试第六个客户sdfadfas"},
		"country_region":    {After: "DDBZ2PzWkNnbiNULR8iKZZ", AfterLabel: "中国/山西省/晋中市"},
		"c_select_g8l2rowh": {After: "jgZtc37SjZVJbh8x9cmi8,9Rtu9yYfDqmCSX258rsSid", AfterLabel: "选项1;选项3"},
		"official_website":  {After: "http://www.baidu.com", AfterLabel: "http://www.baidu.com"},
		"account_logo":      {After: `["124\/jkff7tLwb32ySDgwrX9AaM"]`, AfterLabel: "image"},
	}
	for field, w := range want {
		if got := changes[field]; !reflect.DeepEqual(got, w) {
			t.Errorf("Changes()[%s] = %+v, want %+v", field, got, w)
		}
	}
}

func TestDecodeWebhookBothEncodingsAgree(t *testing.T) {
	t.Parallel()
	str, _ := readWebhook(t, "webhook_lead_object_update.json")
	obj, _ := readWebhook(t, "webhook_lead_object_update_objects.json")
	if !reflect.DeepEqual(str, obj) {
		t.Fatalf("encodings decode differently:\n%+v\n%+v", str, obj)
	}
	if str.MID != "124" || str.CreateTime != 1720682517 || str.ExtraData.ObjectID != "3318" ||
		str.ExtraData.OperatorID != 18404 || str.ExtraData.OperatorType != jing.OperatorMember {
		t.Errorf("tolerant fields: %+v", str)
	}
	if str.DedupKey() != obj.DedupKey() {
		t.Errorf("DedupKey differs between encodings: %s vs %s", str.DedupKey(), obj.DedupKey())
	}
}

func TestWebhookChangesOnUpdate(t *testing.T) {
	t.Parallel()
	ev, _ := readWebhook(t, "webhook_lead_object_update.json")
	changes := ev.ExtraData.Changes()
	want := map[string]jing.Change{
		"company_id": {Before: nil, After: "中山大学", HasBefore: true, BeforeLabel: "-", AfterLabel: "中山大学"},
		"title":      {Before: "工程师", After: "采购经理", HasBefore: true, BeforeLabel: "工程师", AfterLabel: "采购经理"},
	}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("Changes() = %+v\nwant %+v", changes, want)
	}
}

// TestWebhookChangesOfBuiltEvent covers events the sandbox builds in
// memory, whose values are Go slices rather than decoded []any.
func TestWebhookChangesOfBuiltEvent(t *testing.T) {
	t.Parallel()
	x := jing.WebhookExtraData{
		MappingData:     map[string]any{"lead_status": []string{"s1", "s2"}, "mobile": []any{"13800000000"}, "owner": 18404},
		MappingDataText: map[string]any{"lead_status": []string{"新线索", "已联系"}},
	}
	got := x.Changes()
	want := map[string]jing.Change{
		"lead_status": {Before: "s1", After: "s2", HasBefore: true, BeforeLabel: "新线索", AfterLabel: "已联系"},
		"mobile":      {After: "13800000000"},
		"owner":       {After: 18404},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Changes() = %+v\nwant %+v", got, want)
	}
}

// TestWebhookMarshalRoundTrip: Marshal writes the platform's shape
// (mapping data as JSON strings) and decodes back to the same event.
func TestWebhookMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	names, _ := filepath.Glob(filepath.Join("testdata", "webhook_*.json"))
	if len(names) < 3 {
		t.Fatalf("fixtures: %v", names)
	}
	for _, path := range names {
		ev, _ := readWebhook(t, filepath.Base(path))
		out, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var shape struct {
			MID       string `json:"mid"`
			ExtraData struct {
				MappingData     string `json:"mapping_data"`
				MappingDataText string `json:"mapping_data_text"`
				OperatorID      int64  `json:"operator_id"`
			} `json:"extra_data"`
		}
		if err := json.Unmarshal(out, &shape); err != nil {
			t.Fatalf("%s: not the platform's shape: %v\n%s", path, err, out)
		}
		if !strings.HasPrefix(shape.ExtraData.MappingData, "{") || shape.MID != ev.MID {
			t.Errorf("%s: mapping_data %q, mid %q", path, shape.ExtraData.MappingData, shape.MID)
		}
		back, err := jing.DecodeWebhook(out)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, ev) || back.DedupKey() != ev.DedupKey() {
			t.Errorf("%s: round trip changed the event:\n%+v\n%+v", path, ev, back)
		}
	}
}

func TestWebhookDedupKey(t *testing.T) {
	t.Parallel()
	ev, raw := readWebhook(t, "webhook_account_object_create.json")
	// The same event re-sent with its keys in another order (Go sorts map keys).
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	reordered, _ := json.Marshal(generic)
	resent, err := jing.DecodeWebhook(reordered)
	if err != nil {
		t.Fatal(err)
	}
	if resent.DedupKey() != ev.DedupKey() {
		t.Errorf("re-sent event has another key: %s vs %s", resent.DedupKey(), ev.DedupKey())
	}
	if k := ev.DedupKey(); !strings.HasPrefix(k, "object_create:nssGJLofjZ55N5KgdKfEYS:1673262057:") {
		t.Errorf("DedupKey = %q", k)
	}
	variants := map[string]func(e *jing.WebhookEvent){
		"event_type":   func(e *jing.WebhookEvent) { e.EventType = jing.EventObjectUpdate },
		"create_time":  func(e *jing.WebhookEvent) { e.CreateTime++ },
		"entity_id":    func(e *jing.WebhookEvent) { e.ExtraData.EntityID = "other" },
		"mapping_data": func(e *jing.WebhookEvent) { e.ExtraData.MappingData = map[string]any{"name": []any{"x"}} },
		"notes":        func(e *jing.WebhookEvent) { e.ExtraData.Notes = "改了" },
	}
	for name, change := range variants {
		other, _ := jing.DecodeWebhook(raw)
		change(&other)
		if other.DedupKey() == ev.DedupKey() {
			t.Errorf("changing %s keeps the DedupKey", name)
		}
	}
}

func TestDecodeWebhookTolerance(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"empty mapping string": `{"event_type":"object_voids","extra_data":{"mapping_data":"","mapping_data_text":null}}`,
		"PHP empty array":      `{"event_type":"object_voids","extra_data":{"mapping_data":"[]","mapping_data_text":[]}}`,
		"empty objects":        `{"event_type":"object_voids","extra_data":{"mapping_data":{},"mapping_data_text":"{}"}}`,
		"extra_data string":    `{"event_type":"object_voids","extra_data":"{\"mapping_data\":\"[]\"}"}`,
	}
	for name, body := range cases {
		ev, err := jing.DecodeWebhook([]byte(body))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if ev.ExtraData.MappingData != nil || ev.ExtraData.MappingDataText != nil || len(ev.ExtraData.Changes()) != 0 {
			t.Errorf("%s: empty mapping data decoded as %+v", name, ev.ExtraData)
		}
	}
}

func TestDecodeWebhookKeepsUnknownFields(t *testing.T) {
	t.Parallel()
	body := `{"event_type":"object_add_notes","mid":7,"trace":"t-1","extra_data":{"entity_id":"E","c_region":{"a":1}}}`
	ev, err := jing.DecodeWebhook([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Extra["trace"]) != `"t-1"` || string(ev.ExtraData.Extra["c_region"]) != `{"a":1}` {
		t.Fatalf("unknown fields lost: %v / %v", ev.Extra, ev.ExtraData.Extra)
	}
	out, _ := json.Marshal(ev)
	back, _ := jing.DecodeWebhook(out)
	if !reflect.DeepEqual(back.Extra, ev.Extra) || !reflect.DeepEqual(back.ExtraData.Extra, ev.ExtraData.Extra) {
		t.Errorf("unknown fields not written back: %s", out)
	}
}

func TestDecodeWebhookRejects(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"not JSON":         `{"event_type":`,
		"no event type":    `{"mid":"124","extra_data":{}}`,
		"mid is an object": `{"event_type":"object_create","mid":{"id":1}}`,
		"bad create_time":  `{"event_type":"object_create","create_time":"yesterday"}`,
		"bad mapping_data": `{"event_type":"object_create","extra_data":{"mapping_data":"{name"}}`,
	} {
		if _, err := jing.DecodeWebhook([]byte(body)); !errors.Is(err, jing.ErrBadWebhook) {
			t.Errorf("%s: err = %v, want ErrBadWebhook", name, err)
		}
	}
}
