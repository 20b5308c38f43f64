package sandbox

import (
	"fmt"
	"slices"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// Changes to the tenant's metadata, as an administrator would make them in
// the platform's own console. Tests and demonstrations use them to show the
// console noticing renamed statuses and removed options.

// RenameLeadStatus renames one status of a lead business type's pipeline.
func (s *Server) RenameLeadStatus(businessType, statusID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.tenant.Objects.Lead.BusinessTypes {
		bt := &s.tenant.Objects.Lead.BusinessTypes[i]
		if bt.JingUUID != businessType {
			continue
		}
		for j := range bt.Stages {
			if bt.Stages[j].JingUUID == statusID {
				bt.Stages[j].Name = name
				s.markChanged()
				return nil
			}
		}
		return fmt.Errorf("sandbox: business type %s has no status %s", businessType, statusID)
	}
	return fmt.Errorf("sandbox: no lead business type %s", businessType)
}

// RemoveOption removes one choice of a select or multi_select field.
func (s *Server) RemoveOption(objectName, fieldCode, optionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &s.tenant.Objects.Lead
	if objectName == jing.ObjectAccount {
		m = &s.tenant.Objects.Account
	}
	opts, ok := m.Options[fieldCode]
	if !ok {
		return fmt.Errorf("sandbox: %s has no select field %s", objectName, fieldCode)
	}
	i := slices.IndexFunc(opts, func(o jing.SelectOption) bool { return o.JingUUID == optionID })
	if i < 0 {
		return fmt.Errorf("sandbox: field %s has no option %s", fieldCode, optionID)
	}
	m.Options[fieldCode] = slices.Delete(slices.Clone(opts), i, i+1)
	s.markChanged()
	return nil
}
