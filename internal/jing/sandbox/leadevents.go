package sandbox

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// Lead webhooks: who made a change, the events each change emits, in the
// platform's order and with the labels it shows, and the recent events
// kept for the sandbox's own pages.

// leadActor is who made a change: an API caller, or a member working on
// the platform's own console.
type leadActor struct {
	operatorType int
	operatorID   int64
	// auto marks owner changes made by the platform's distribution rules.
	auto bool
}

var apiActor = leadActor{operatorType: jing.OperatorNone}

// timeline is the event's timeline_data (a JSON string, as documented).
func (a leadActor) timeline() string {
	if a.operatorType == jing.OperatorNone {
		return `{"login_platform":"openapi","login_environment":"server","login_source_type":"openapi","login_source_name":""}`
	}
	return `{"login_platform":"jing","login_environment":"pc","login_source_type":"jingmodule","login_source_name":""}`
}

// leadEvent is the webhook of one change to l.
func (s *Server) leadEvent(l *lead, bt *businessType, eventType, action string, a leadActor, now time.Time) jing.WebhookEvent {
	return jing.WebhookEvent{
		MID: s.tenant.MID, EventCategory: jing.EventCategoryObject, EventType: eventType, ActionKeyword: action,
		CreateTime: now.Unix(),
		ExtraData: jing.WebhookExtraData{
			ObjectName: jing.ObjectLead, EntityID: l.JingUUID, ObjectID: strconv.Itoa(l.ObjectID),
			BusinessType: bt.JingUUID, BusinessTypeName: bt.Name,
			OperatorType: a.operatorType, OperatorID: a.operatorID,
			Owner: l.Fields["owner"], LifeStatus: l.LifeStatus,
			// omni_user_uuid is the operator's bound person, not the
			// lead's (the lead event page): none for these operators.
			LeadOmniUserUUID: l.OmniUserUUID,
			CreatedTimestamp: now.In(leadZone).Format(time.DateTime), TimelineData: a.timeline(),
			MappingData: map[string]any{}, MappingDataText: map[string]any{},
		},
	}
}

// createEvent is object_create: every set field as [value], with labels.
func (s *Server) createEvent(l *lead, bt *businessType, a leadActor, now time.Time) jing.WebhookEvent {
	ev := s.leadEvent(l, bt, jing.EventObjectCreate, jing.EventObjectCreate, a, now)
	x := &ev.ExtraData
	set := func(code string, v any) {
		x.MappingData[code], x.MappingDataText[code] = []any{v}, s.leadLabel(code, v)
	}
	for code, v := range l.Fields {
		set(code, v)
	}
	for code, raw := range l.Custom {
		set(code, rawValue(raw))
	}
	set("life_status", l.LifeStatus)
	if l.LeadPool != "" {
		set("lead_pool", l.LeadPool)
	}
	return ev
}

// sourceInfoFields are the lead's source information (最新来源…, 最新投放…,
// 最新推广参数…): a change to them is announced as object_source_info.
var sourceInfoFields = []string{"source_type", "source_name", "website_name", "website_page_name", "source_custom_param",
	"utm_source", "utm_medium", "utm_terms", "utm_campaign", "utm_content",
	"param_1", "param_2", "param_3", "param_4", "param_5"}

// eventFor says which event announces a change of each field, one event
// type per kind of change as webhooks.md lists them; the rest are
// object_update.
var eventFor = func() map[string]string {
	m := map[string]string{
		"lead_status": jing.EventObjectUpdateStatus, "life_status": jing.EventObjectUpdateLifeCycle,
		"owner": jing.EventObjectChangeOwner, "lead_pool": jing.EventObjectChangeLeadPool,
		"account_id": jing.EventObjectRelation,
	}
	for _, code := range sourceInfoFields {
		m[code] = jing.EventObjectSourceInfo
	}
	return m
}()

var eventOrder = []string{jing.EventObjectUpdate, jing.EventObjectUpdateStatus, jing.EventObjectUpdateLifeCycle,
	jing.EventObjectChangeOwner, jing.EventObjectChangeLeadPool, jing.EventObjectRelation, jing.EventObjectSourceInfo}

// emitChanges announces changes as the platform does, one event per kind
// ([before, after] values and labels); eventType forces a single kind.
func (s *Server) emitChanges(l *lead, bt *businessType, changes []leadChange, a leadActor, now time.Time, eventType ...string) {
	byType := map[string]*jing.WebhookEvent{}
	order := eventOrder
	if len(eventType) > 0 {
		order = eventType
	}
	for _, ch := range changes {
		typ := order[0]
		if len(eventType) == 0 && eventFor[ch.code] != "" {
			typ = eventFor[ch.code]
		}
		ev := byType[typ]
		if ev == nil {
			e := s.leadEvent(l, bt, typ, s.actionFor(typ, a), a, now)
			ev, byType[typ] = &e, &e
		}
		s.setChange(ev, ch)
	}
	for _, typ := range order {
		if ev := byType[typ]; ev != nil {
			s.emitLead(*ev)
		}
	}
	if ev := byType[jing.EventObjectRelation]; ev != nil {
		s.emitAccountRelations(l, ev.ExtraData.MappingData["account_id"], a, now)
	}
}

// setChange records one change in an event as [before, after], with labels.
func (s *Server) setChange(ev *jing.WebhookEvent, ch leadChange) {
	ev.ExtraData.MappingData[ch.code] = []any{ch.before, ch.after}
	ev.ExtraData.MappingDataText[ch.code] = []any{s.leadLabel(ch.code, ch.before), s.leadLabel(ch.code, ch.after)}
}

// actionFor is the action_keyword: owner changes say how the owner was
// chosen (by a person, or by the platform's distribution rules).
func (s *Server) actionFor(eventType string, a leadActor) string {
	if eventType != jing.EventObjectChangeOwner {
		return eventType
	}
	if a.auto {
		return jing.ActionAutoDistribution
	}
	return jing.ActionManualDistribution
}

// emitLead queues a lead's event for delivery (emit keeps it among the recent ones).
func (s *Server) emitLead(ev jing.WebhookEvent) { s.emit(ev) }

// RecentEvents are the latest events the sandbox emitted (at most 64,
// newest last), whether or not a webhook URL is configured: what the
// platform pushed, for tests and the sandbox's own diagnostics.
func (s *Server) RecentEvents() []jing.WebhookEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recent)
}

// RecentLeadEvents are the lead events among RecentEvents.
func (s *Server) RecentLeadEvents() []jing.WebhookEvent {
	return slices.DeleteFunc(s.RecentEvents(), func(ev jing.WebhookEvent) bool {
		return ev.ExtraData.ObjectName != jing.ObjectLead
	})
}

// leadLabel is the human label of a raw lead value, as mapping_data_text
// shows it ("-" for empty).
func (s *Server) leadLabel(code string, v any) string {
	text := ""
	if v != nil {
		text = fmt.Sprint(v)
	}
	if text == "" {
		return "-"
	}
	if label, ok := s.systemLabel(code, text); ok {
		return label
	}
	m := &s.tenant.Objects.Lead
	f := m.anyField(code)
	if f == nil {
		return text
	}
	switch f.Type {
	case "select", "multi_select":
		var names []string
		for _, id := range strings.Split(text, ",") {
			if o, ok := m.option(code, id); ok {
				names = append(names, o.Name)
			}
		}
		return strings.Join(names, ";")
	case "option_set":
		return m.OptionSets[code].Label(text)
	}
	return text
}

// systemLabel labels the fields whose values are ids of things other than options.
func (s *Server) systemLabel(code, text string) (string, bool) {
	m := &s.tenant.Objects.Lead
	switch code {
	case "business_type":
		if bt := m.businessType(text); bt != nil {
			return bt.Name, true
		}
	case "lead_status":
		if st := m.stageAnywhere(text); st != nil {
			return st.Name, true
		}
	case "owner", "collaborators":
		var names []string
		for _, id := range strings.Split(text, ",") {
			if mb := s.tenant.crmMember(id); mb != nil {
				names = append(names, mb.Name)
			}
		}
		return strings.Join(names, ";"), true
	case "account_id":
		if a := s.tenant.Leads.account(text); a != nil {
			return a.Name, true
		}
	case "life_status":
		return lifeStatusLabels[text], true
	case "lead_pool":
		for _, p := range s.tenant.Objects.LeadPools {
			if p.JingUUID == text {
				return p.Name, true
			}
		}
	}
	return "", false
}
