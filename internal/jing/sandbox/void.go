package sandbox

import (
	"fmt"
	"slices"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// VoidLead voids (soft-deletes) a lead as a member would on the platform's
// own console, and emits object_voids. The open API documents no voided
// flag on a lead, and the webhook calls a voided lead soft-deleted, so the
// sandbox treats it as gone from the API: leads.query answers 40004
// (线索不存在), leads.list leaves it out and writes to it are refused.
// Restoring (object_restore) is not modelled: the lead is dropped from
// the tenant's state. Tests and demonstrations use it.
func (s *Server) VoidLead(uuid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls := &s.tenant.Leads
	l := ls.find(uuid)
	if l == nil {
		return fmt.Errorf("sandbox: no lead %s", uuid)
	}
	bt, now := s.leadType(l), s.cfg.Now()
	ev := s.leadEvent(l, bt, jing.EventObjectVoids, jing.EventObjectVoids, leadActor{operatorType: jing.OperatorBackOffice}, now)
	ls.Leads = slices.DeleteFunc(ls.Leads, func(x *lead) bool { return x == l }) // the index follows (index())
	s.emitLead(ev)                                                               // emitting marks the state changed
	return nil
}
