package sandbox

import (
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
)

func TestMetadataChangesAsAnAdministratorWouldMakeThem(t *testing.T) {
	t.Parallel()
	s := New(Config{Seed: 1, Persons: 50, Leads: 10})
	bt := s.tenant.Objects.Lead.BusinessTypes[0]
	status := bt.Stages[1]
	if err := s.RenameLeadStatus(bt.JingUUID, status.JingUUID, "二次跟进"); err != nil {
		t.Fatal(err)
	}
	if got := s.tenant.Objects.Lead.BusinessTypes[0].Stages[1].Name; got != "二次跟进" {
		t.Fatalf("status name %q", got)
	}
	if err := s.RenameLeadStatus(bt.JingUUID, "nope", "x"); err == nil {
		t.Fatal("renamed a status that does not exist")
	}
	var field string
	var before []jing.SelectOption
	for code, opts := range s.tenant.Objects.Lead.Options {
		if len(opts) > 1 {
			field, before = code, opts
			break
		}
	}
	if err := s.RemoveOption(jing.ObjectLead, field, before[0].JingUUID); err != nil {
		t.Fatal(err)
	}
	after := s.tenant.Objects.Lead.Options[field]
	if len(after) != len(before)-1 || after[0].JingUUID == before[0].JingUUID {
		t.Fatalf("option not removed: %d → %d", len(before), len(after))
	}
}
