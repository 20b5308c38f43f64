package sandbox

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// Lead changes only the platform's own console makes (the open API has no
// call for them), each announced by its own webhook event. Tests and
// demonstrations call them; the platform-side changes of the background
// loop make them now and then.

// backOffice is an administrator working in the platform's console.
var backOffice = leadActor{operatorType: jing.OperatorBackOffice}

// VoidLead voids (soft-deletes) a lead and emits object_voids. The open
// API documents no voided flag on a lead, and the webhook calls a voided
// lead soft-deleted, so the sandbox treats it as gone from the API until
// it is restored: leads.query answers 40004 (线索不存在), leads.list
// leaves it out and writes to it are refused.
func (s *Server) VoidLead(uuid string) error {
	return s.onLead(uuid, func(l *lead) error {
		s.voidLead(l, backOffice, s.cfg.Now())
		return nil
	})
}

// onLead runs change on the (not voided) lead uuid names, with s.mu held.
func (s *Server) onLead(uuid string, change func(l *lead) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.tenant.Leads.find(uuid)
	if l == nil {
		return fmt.Errorf("sandbox: no lead %s", uuid)
	}
	return change(l)
}

func (s *Server) voidLead(l *lead, a leadActor, now time.Time) {
	ls := &s.tenant.Leads
	ls.Leads = slices.DeleteFunc(ls.Leads, func(x *lead) bool { return x == l })
	ls.Voided = insertByObjectID(ls.Voided, l)
	ls.byUUID = nil // rebuilt without it
	l.UpdatedTimestamp = now.Unix()
	s.emitLead(s.leadEvent(l, s.leadType(l), jing.EventObjectVoids, jing.EventObjectVoids, a, now))
}

// RestoreLead restores a voided lead, as it was, and emits object_restore.
func (s *Server) RestoreLead(uuid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls := &s.tenant.Leads
	i := slices.IndexFunc(ls.Voided, func(x *lead) bool { return x.JingUUID == uuid })
	if i < 0 {
		return fmt.Errorf("sandbox: no voided lead %s", uuid)
	}
	s.restoreLead(i, backOffice, s.cfg.Now())
	return nil
}

// restoreLead restores the i-th voided lead.
func (s *Server) restoreLead(i int, a leadActor, now time.Time) {
	ls := &s.tenant.Leads
	l := ls.Voided[i]
	ls.Voided = slices.Delete(ls.Voided, i, i+1)
	ls.Leads = insertByObjectID(ls.Leads, l) // leads.list pages in object_id order
	ls.byUUID = nil
	l.UpdatedTimestamp = now.Unix()
	s.emitLead(s.leadEvent(l, s.leadType(l), jing.EventObjectRestore, jing.EventObjectRestore, a, now))
}

func insertByObjectID(leads []*lead, l *lead) []*lead {
	at, _ := slices.BinarySearchFunc(leads, l.ObjectID, func(x *lead, id int) int { return cmp.Compare(x.ObjectID, id) })
	return slices.Insert(leads, at, l)
}

// MoveLeadToPool puts a lead into the public lead pool pool (a jing_uuid
// of the tenant's lead pools): an owned lead loses its owner
// (object_change_owner) and enters the pool, an unowned one moves between
// pools (object_change_lead_pool).
func (s *Server) MoveLeadToPool(uuid, pool string) error {
	return s.onLead(uuid, func(l *lead) error {
		if !slices.ContainsFunc(s.tenant.Objects.LeadPools, func(p jing.SelectOption) bool { return p.JingUUID == pool }) {
			return fmt.Errorf("sandbox: no lead pool %s", pool)
		}
		s.moveToPool(l, pool, backOffice, s.cfg.Now())
		return nil
	})
}

func (s *Server) moveToPool(l *lead, pool string, a leadActor, now time.Time) {
	var changes []leadChange
	if owner := l.Fields["owner"]; owner != "" {
		changes = append(changes, leadChange{"owner", owner, nil})
		delete(l.Fields, "owner")
	}
	if l.LeadPool != pool {
		changes = append(changes, leadChange{"lead_pool", textOrNil(l.LeadPool), pool})
		l.LeadPool = pool
	}
	if len(changes) == 0 {
		return
	}
	l.UpdatedTimestamp = now.Unix()
	s.emitChanges(l, s.leadType(l), changes, a, now)
}

// LeadPools are the tenant's public lead pools (jing_uuid and name).
func (s *Server) LeadPools() []jing.SelectOption {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tenant.Objects.LeadPools)
}

// AddLeadNote records a follow-up note on a lead, as a member does on the
// platform's console, and emits object_add_notes.
func (s *Server) AddLeadNote(uuid, note string) error {
	return s.onLead(uuid, func(l *lead) error {
		s.addLeadNote(l, s.leadType(l), note, s.consoleActor(l), s.cfg.Now())
		return nil
	})
}
