package sandbox

import (
	"strconv"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// Changes made on the platform's own side, by its members and its
// distribution rules, which the console learns of only through webhooks
// and syncs (Config.PlatformChangesPerMinute).

// poolFor is the public lead pool unassigned leads of bt sit in.
func (o *objectState) poolFor(bt *businessType) string {
	if bt.Name == "展会线索" && len(o.LeadPools) > 1 {
		return o.LeadPools[1].JingUUID
	}
	return o.LeadPools[0].JingUUID
}

// platformSideChange makes one random change as someone working on the
// platform's own console would: mostly to a lead, sometimes to an account.
// The background loop calls it with s.mu held.
func (s *Server) platformSideChange() {
	if s.faultRN.IntN(100) < 15 {
		s.platformSideAccountChange()
		return
	}
	s.platformSideLeadChange()
}

// platformSideLeadChange makes one random, realistic change to a lead,
// emitting its webhooks: mostly a status moving forward, else an owner
// change, a note, a new collaborator, a move to a lead pool, a link to an
// account, new source information, and rarely a void or a restore.
func (s *Server) platformSideLeadChange() {
	ls := &s.tenant.Leads
	if len(ls.Leads) == 0 {
		return
	}
	rn := s.faultRN
	now := s.cfg.Now()
	r := rn.IntN(100)
	if r >= 98 && len(ls.Voided) > 0 {
		s.restoreLead(rn.IntN(len(ls.Voided)), backOffice, now)
		return
	}
	l := s.openLead()
	bt, st := s.leadType(l), s.stageOf(l)
	a := s.consoleActor(l)
	var err error
	switch {
	case st == nil || st.Outcome != "": // closed: people only write notes on it
		s.addLeadNote(l, bt, leadNotes[rn.IntN(len(leadNotes))], a, now)
	case r < 40:
		err = s.writeLead(l, bt, leadWrite{fields: map[string]string{"lead_status": s.nextStage(bt, st)}}, a, now)
	case r < 52:
		err = s.reassignLead(l, bt, a, now)
	case r < 64:
		s.addLeadNote(l, bt, leadNotes[rn.IntN(len(leadNotes))], a, now)
	case r < 72:
		if m := s.randomActiveMember(); m != nil && strconv.Itoa(m.ID) != l.Fields["owner"] {
			s.changeCollaborators(l, []string{strconv.Itoa(m.ID)}, nil, a, now)
		}
	case r < 76:
		if n := len(l.Collaborators); n > 0 {
			s.changeCollaborators(l, nil, []string{l.Collaborators[rn.IntN(n)]}, a, now)
		}
	case r < 82:
		err = s.writeLead(l, bt, leadWrite{fields: map[string]string{"title": leadTitles[rn.IntN(len(leadTitles))]}}, a, now)
	case r < 87:
		pools := s.tenant.Objects.LeadPools
		s.moveToPool(l, pools[rn.IntN(len(pools))].JingUUID, a, now)
	case r < 92:
		if accts := ls.Accounts; len(accts) > 0 {
			if acct := accts[rn.IntN(len(accts))]; !acct.Voided {
				err = s.writeLead(l, bt, leadWrite{fields: map[string]string{"account_id": acct.JingUUID}}, a, now)
			}
		}
	case r < 95:
		err = s.writeLead(l, bt, leadWrite{fields: s.newVisit()}, a, now)
	default: // 95–97, and 98–99 when no lead is voided
		s.voidLead(l, a, now)
	}
	if err != nil {
		s.log.Debug("platform-side lead change refused", "lead", l.JingUUID, "error", err)
	}
}

// newVisit is the source information a lead's latest visit leaves: a
// source type and name, and for forms the micro-site page.
func (s *Server) newVisit() map[string]string {
	rn := s.faultRN
	opts := s.tenant.Objects.Lead.Options["source_type"]
	var known []jing.SelectOption
	for _, o := range opts {
		if len(sourceNames[o.Name]) > 0 {
			known = append(known, o)
		}
	}
	if len(known) == 0 {
		return map[string]string{"source_custom_param": "visit-" + strconv.Itoa(rn.IntN(1000))}
	}
	o := known[rn.IntN(len(known))]
	names := sourceNames[o.Name]
	f := map[string]string{"source_type": o.JingUUID, "source_name": names[rn.IntN(len(names))]}
	if o.Name == "官网表单" {
		f["website_name"], f["website_page_name"] = "企业官网", strings.TrimPrefix(f["source_name"], "官网-")
	}
	return f
}

// openLead draws a lead, preferring one still open on its pipeline (work
// happens there); with few open leads any lead will do.
func (s *Server) openLead() *lead {
	ls := s.tenant.Leads.Leads
	var l *lead
	for range 8 {
		l = ls[s.faultRN.IntN(len(ls))]
		if st := s.stageOf(l); st != nil && st.Outcome == "" {
			break
		}
	}
	return l
}

// consoleActor is the member who works on l: its owner when active.
func (s *Server) consoleActor(l *lead) leadActor {
	m := s.tenant.crmMember(l.Fields["owner"])
	if m == nil || m.Status != "active" {
		m = s.randomActiveMember()
	}
	if m == nil {
		return leadActor{operatorType: jing.OperatorBackOffice}
	}
	return leadActor{operatorType: jing.OperatorMember, operatorID: int64(m.ID)}
}

func (s *Server) randomActiveMember() *member {
	var active []*member
	for _, m := range s.tenant.Members {
		if m.Status == "active" {
			active = append(active, m)
		}
	}
	if len(active) == 0 {
		return nil
	}
	return active[s.faultRN.IntN(len(active))]
}

// nextStage is where a lead goes from st: the next open status, or a
// closed one (converted more often than invalid); now and then a lead
// turns out invalid early.
func (s *Server) nextStage(bt *businessType, st *leadStage) string {
	rn := s.faultRN
	var next, won, lost *leadStage
	for i := range bt.Stages {
		x := &bt.Stages[i]
		switch {
		case x.Outcome == outcomeWon:
			won = x
		case x.Outcome == outcomeLost:
			lost = x
		case x.Sort > st.Sort && (next == nil || x.Sort < next.Sort):
			next = x
		}
	}
	switch {
	case rn.IntN(10) == 0:
		return lost.JingUUID
	case next != nil:
		return next.JingUUID
	case rn.IntN(10) < 7:
		return won.JingUUID
	}
	return lost.JingUUID
}

// reassignLead gives l another active owner; a lead taken from the
// public pool is assigned by the platform's distribution rules.
func (s *Server) reassignLead(l *lead, bt *businessType, a leadActor, now time.Time) error {
	m := s.randomActiveMember()
	if m == nil || strconv.Itoa(m.ID) == l.Fields["owner"] {
		return nil
	}
	if l.Fields["owner"] == "" {
		a = leadActor{operatorType: jing.OperatorNone, auto: true}
	}
	return s.writeLead(l, bt, leadWrite{fields: map[string]string{"owner": strconv.Itoa(m.ID)}}, a, now)
}

// addLeadNote records a follow-up note: the lead's latest remark, and an
// object_add_notes event carrying the note.
func (s *Server) addLeadNote(l *lead, bt *businessType, note string, a leadActor, now time.Time) {
	ch := leadChange{"latest_remark", textOrNil(l.Fields["latest_remark"]), note}
	l.Fields["latest_remark"], l.UpdatedTimestamp = note, now.Unix()
	ev := s.leadEvent(l, bt, jing.EventObjectAddNotes, jing.EventObjectAddNotes, a, now)
	ev.ExtraData.Notes, ev.ExtraData.IsFollowUp = note, 1
	s.setChange(&ev, ch)
	s.emitLead(ev)
}
