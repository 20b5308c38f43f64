package sends

import (
	"context"
	"errors"
	"testing"

	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// Settings as typed: every field's problem is refused at once, each on
// its field, and nothing is saved while one remains.
func TestSettingsAsTypedAreRefusedFieldByField(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	_, err := r.svc.SaveSettingsText(ctx, SettingsText{TestMobiles: "13900000001\n12345", TestEmails: "qa@example.com；not-an-email",
		ConfirmTypeAbove: "-1", ApprovalAbove: "many"})
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("not one refusal per field: %v", err)
	}
	fields := map[string]string{}
	for _, e := range joined.Unwrap() {
		r, ok := msg.AsError(e)
		if !ok || r.Kind != msg.Invalid {
			t.Fatalf("not a refusal: %v", e)
		}
		fields[r.Field] = r.Msg.ID
	}
	want := map[string]string{"test_mobiles": "sends.error.bad_recipient", "test_emails": "sends.error.bad_recipient",
		"confirm_type_above": "sends.error.bad_number", "approval_above": "sends.error.bad_number"}
	for f, id := range want {
		if fields[f] != id {
			t.Errorf("field %s: %q, want %q", f, fields[f], id)
		}
	}
	if st, _ := r.svc.Settings(ctx); st.ConfirmTypeAbove != DefaultSettings.ConfirmTypeAbove || len(st.TestMobiles) != 0 {
		t.Fatalf("refused settings were saved: %+v", st)
	}
	st, err := r.svc.SaveSettingsText(ctx, SettingsText{TestMobiles: "+86 139-0000-0001，13900000002", TestEmails: "QA@Example.com",
		ConfirmTypeAbove: "1,500", ApprovalAbove: " 0 "})
	if err != nil || len(st.TestMobiles) != 2 || st.TestMobiles[0] != "13900000001" || st.ConfirmTypeAbove != 1500 || st.ApprovalAbove != 0 {
		t.Fatalf("good settings: %v %+v", err, st)
	}
	if saved, _ := r.svc.Settings(ctx); saved.ConfirmTypeAbove != 1500 || len(saved.TestEmails) != 1 {
		t.Fatalf("stored: %+v", saved)
	}
	// The same check guards the settings given whole.
	if _, err := r.svc.SaveSettings(ctx, Settings{TestEmails: []string{"nobody"}}); err == nil {
		t.Fatal("a bad test email was saved")
	} else if r, ok := msg.AsError(err); !ok || r.Field != "test_emails" {
		t.Fatalf("bad test email: %v", err)
	}
	if errors.Is(err, ErrNoName) {
		t.Fatal("unrelated sentinel matched")
	}
}
