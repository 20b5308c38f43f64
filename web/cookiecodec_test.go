package web

import (
	"reflect"
	"testing"

	"github.com/jingdesk/jingdesk/templates/ui"
)

func TestSessionSerializerRoundTrip(t *testing.T) {
	t.Parallel()
	in := map[any]any{
		keySession: "session-token",
		keyCSRF:    "tok", keyLang: "en", flashesKey: []any{ui.Flash{Kind: ui.FlashInfo, Text: "你好"}},
		"reveal": "one-time",
	}
	raw, err := sessionSerializer{}.Serialize(in)
	if err != nil {
		t.Fatal(err)
	}
	out := map[any]any{}
	if err := (sessionSerializer{}).Deserialize(raw, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n in  %#v\n out %#v", in, out)
	}
	// Another value kind cannot sneak in: it is simply not stored.
	raw, _ = sessionSerializer{}.Serialize(map[any]any{"n": 5})
	out = map[any]any{}
	sessionSerializer{}.Deserialize(raw, &out)
	if len(out) != 0 {
		t.Fatalf("unexpected values kept: %v", out)
	}
}
