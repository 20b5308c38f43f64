package leads

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestNormaliseMobileTakesItAsPeopleTypeIt(t *testing.T) {
	t.Parallel()
	for typed, want := range map[string]string{
		"13800138009":               "13800138009",
		"138-0013-8009":             "13800138009",
		"138 0013 8009":             "13800138009",
		"+86 138 0013 8009":         "13800138009",
		"+86-138-0013-8009":         "13800138009",
		"(+86) 138.0013.8009":       "13800138009",
		"0086 13800138009":          "13800138009",
		"8613800138009":             "13800138009",
		" 138\u00a00013\u30008009 ": "13800138009",
	} {
		if got, ok := NormaliseMobile(typed); !ok || got != want {
			t.Errorf("%q → %q %v, want %s", typed, got, ok, want)
		}
	}
	for _, bad := range []string{"", "138-0013-80", "12800138009", "138001380091", "+1 415 555 0100", "１３８００１３８００９", "138x0013x8009"} {
		if got, ok := NormaliseMobile(bad); ok {
			t.Errorf("%q accepted as %q", bad, got)
		}
	}
}

// A mobile typed with separators is saved as its 11 digits; one that is
// not a mobile is refused on its field and nothing is sent.
func TestSaveFormNormalisesTheMobile(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	ctx := context.Background()
	r.sync(true)
	l, _ := r.openLead()
	fields := []FormField{{Code: "mobile", Type: "mobile"}}
	before := map[string][]string{"mobile": {l.Mobile}}
	changed, err := r.svc.SaveForm(ctx, "alice", l.UUID, Form{Fields: fields, Values: map[string][]string{"mobile": {"+86 138-0013-8009"}}, Before: before}, l.UpdatedAt)
	if err != nil || !slices.Equal(changed, []string{"mobile"}) {
		t.Fatalf("changed %v, %v", changed, err)
	}
	if p := r.remote(l.UUID); p.Mobile != "13800138009" {
		t.Fatalf("platform mobile %q", p.Mobile)
	}
	w := r.writes()
	_, err = r.svc.SaveForm(ctx, "alice", l.UUID, Form{Fields: fields, Values: map[string][]string{"mobile": {"138-0013-80"}}, Before: before}, l.UpdatedAt)
	var fe FormErrors
	if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Field != "mobile" || fe[0].Msg.ID != ErrMobile.Msg.ID || r.writes() != w {
		t.Fatalf("a short mobile: %v, %d writes", err, r.writes()-w)
	}
}
