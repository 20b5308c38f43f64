package sandbox

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// Accounts (客户) change only on the platform's own console: the open API
// the console uses has no account calls. The platform announces every
// change by webhook (seed 004 and webhooks.md: object_create,
// object_update, object_change_owner, object_voids, object_relation), so
// the sandbox does too: from the background platform-side changes, and
// from the methods below, which tests and demonstrations call.

// accountFieldCodes are the account fields the sandbox keeps, in the
// order events list them.
var accountFieldCodes = []string{"business_type", "name", "industry", "official_website", "country_region", "company_size", "owner"}

// field is where the account keeps the value of code (nil for no such field).
func (a *crmAccount) field(code string) *string {
	switch code {
	case "business_type":
		return &a.BusinessType
	case "name":
		return &a.Name
	case "industry":
		return &a.Industry
	case "official_website":
		return &a.OfficialWebsite
	case "country_region":
		return &a.CountryRegion
	case "company_size":
		return &a.CompanySize
	case "owner":
		return &a.Owner
	}
	return nil
}

// SampleAccount is an account as tests name it.
type SampleAccount struct {
	UUID, Name string
}

// SampleAccounts returns the first n accounts that are not voided.
func (s *Server) SampleAccounts(n int) []SampleAccount {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SampleAccount
	for _, a := range s.tenant.Leads.Accounts {
		if len(out) < n && !a.Voided {
			out = append(out, SampleAccount{UUID: a.JingUUID, Name: a.Name})
		}
	}
	return out
}

// CreateAccount creates an account named name (the other fields drawn as
// the platform's users fill them in) and emits object_create.
func (s *Server) CreateAccount(name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.TrimSpace(name) == "" {
		return "", fmt.Errorf("sandbox: an account needs a name")
	}
	a := s.newAccount(name, s.cfg.Now())
	s.emitAccountCreate(a, backOffice)
	return a.JingUUID, nil
}

// UpdateAccount changes an account's fields (by code: name, industry,
// official_website, country_region, company_size, owner) and emits
// object_update, and object_change_owner for the owner.
func (s *Server) UpdateAccount(uuid string, fields map[string]string) error {
	return s.onAccount(uuid, func(a *crmAccount) error {
		for code, v := range fields {
			if code == "business_type" || a.field(code) == nil {
				return fmt.Errorf("sandbox: accounts have no writable field %s", code)
			}
			if code == "owner" && s.tenant.crmMember(v) == nil {
				return fmt.Errorf("sandbox: no member %s", v)
			}
		}
		s.changeAccount(a, fields, backOffice, s.cfg.Now())
		return nil
	})
}

// onAccount runs change on the account uuid names, with s.mu held.
func (s *Server) onAccount(uuid string, change func(a *crmAccount) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.tenant.Leads.account(uuid)
	if a == nil {
		return fmt.Errorf("sandbox: no account %s", uuid)
	}
	return change(a)
}

// VoidAccount voids an account and emits object_voids. Leads keep their
// link to it; new links to it are refused.
func (s *Server) VoidAccount(uuid string) error {
	return s.onAccount(uuid, func(a *crmAccount) error {
		s.voidAccount(a, backOffice, s.cfg.Now())
		return nil
	})
}

func (s *Server) voidAccount(a *crmAccount, actor leadActor, now time.Time) {
	a.Voided, a.UpdatedTimestamp = true, now.Unix()
	s.emit(s.accountEvent(a, jing.EventObjectVoids, actor, now))
}

// LinkLeadToAccount sets a lead's account (account_id), as a member does
// on the platform's console: object_relation for the lead, and for the
// accounts it joined and left.
func (s *Server) LinkLeadToAccount(leadUUID, accountUUID string) error {
	return s.onLead(leadUUID, func(l *lead) error {
		if err := s.checkLookUp("account_id", accountUUID); err != nil {
			return fmt.Errorf("sandbox: account %s: %w", accountUUID, err)
		}
		return s.writeLead(l, s.leadType(l), leadWrite{fields: map[string]string{"account_id": accountUUID}}, backOffice, s.cfg.Now())
	})
}

// newAccount adds an account with the next object_id.
func (s *Server) newAccount(name string, now time.Time) *crmAccount {
	m := &s.tenant.Objects.Account
	rn := s.faultRN
	ind := companyIndustries[rn.IntN(len(companyIndustries))]
	a := &crmAccount{JingUUID: s.newUUID(), ObjectID: int(s.nextID("account_object_id")),
		BusinessType: m.BusinessTypes[0].JingUUID, Name: strings.TrimSpace(name), Industry: ind.name,
		CountryRegion: randomCity(rn, m.OptionSets["country_region"]), Owner: s.consoleActorID(),
		CreatedTimestamp: now.Unix(), UpdatedTimestamp: now.Unix()}
	if sizes := m.Options["company_size"]; len(sizes) > 0 {
		a.CompanySize = sizes[rn.IntN(len(sizes))].JingUUID
	}
	s.tenant.Leads.Accounts = append(s.tenant.Leads.Accounts, a)
	return a
}

// randomCity is an innermost node of the first country of a region tree.
func randomCity(rn *lockedRand, tree jing.OptionTree) string {
	if len(tree) == 0 || len(tree[0].Child) == 0 {
		return ""
	}
	region := tree[0].Child[rn.IntN(len(tree[0].Child))]
	if len(region.Child) == 0 {
		return region.JingUUID
	}
	return region.Child[rn.IntN(len(region.Child))].JingUUID
}

// consoleActorID is an active member's id ("" when there is none).
func (s *Server) consoleActorID() string {
	if m := s.randomActiveMember(); m != nil {
		return strconv.Itoa(m.ID)
	}
	return ""
}

// changeAccount writes fields to a and announces the changes, the owner's
// apart (object_change_owner), as for leads.
func (s *Server) changeAccount(a *crmAccount, fields map[string]string, actor leadActor, now time.Time) {
	update := s.accountEvent(a, jing.EventObjectUpdate, actor, now)
	var owner *jing.WebhookEvent
	for _, code := range accountFieldCodes {
		v, ok := fields[code]
		if !ok || *a.field(code) == v {
			continue
		}
		before := *a.field(code)
		*a.field(code) = v
		ev := &update
		if code == "owner" {
			e := s.accountEvent(a, jing.EventObjectChangeOwner, actor, now)
			e.ActionKeyword = jing.ActionManualDistribution
			owner, ev = &e, &e
		}
		ev.ExtraData.MappingData[code] = []any{textOrNil(before), textOrNil(v)}
		ev.ExtraData.MappingDataText[code] = []any{s.accountLabel(code, before), s.accountLabel(code, v)}
	}
	if len(update.ExtraData.MappingData) == 0 && owner == nil {
		return
	}
	a.UpdatedTimestamp = now.Unix()
	for _, ev := range []*jing.WebhookEvent{&update, owner} {
		if ev != nil && len(ev.ExtraData.MappingData) > 0 {
			ev.ExtraData.Owner = a.Owner
			s.emit(*ev)
		}
	}
}

// accountEvent is the webhook of one change to a, as seed 004 shows it.
func (s *Server) accountEvent(a *crmAccount, eventType string, actor leadActor, now time.Time) jing.WebhookEvent {
	btName := ""
	if bt := s.tenant.Objects.Account.businessType(a.BusinessType); bt != nil {
		btName = bt.Name
	}
	return jing.WebhookEvent{
		MID: s.tenant.MID, EventCategory: jing.EventCategoryObject, EventType: eventType, ActionKeyword: eventType,
		CreateTime: now.Unix(),
		ExtraData: jing.WebhookExtraData{
			ObjectName: jing.ObjectAccount, EntityID: a.JingUUID, ObjectID: strconv.Itoa(a.ObjectID),
			BusinessType: a.BusinessType, BusinessTypeName: btName,
			OperatorType: actor.operatorType, OperatorID: actor.operatorID, Owner: a.Owner,
			CreatedTimestamp: now.In(leadZone).Format(time.DateTime), TimelineData: actor.timeline(),
			MappingData: map[string]any{}, MappingDataText: map[string]any{},
		},
	}
}

// emitAccountCreate is object_create: every set field as [value], with labels.
func (s *Server) emitAccountCreate(a *crmAccount, actor leadActor) {
	ev := s.accountEvent(a, jing.EventObjectCreate, actor, time.Unix(a.CreatedTimestamp, 0))
	for _, code := range accountFieldCodes {
		if v := *a.field(code); v != "" {
			ev.ExtraData.MappingData[code] = []any{v}
			ev.ExtraData.MappingDataText[code] = s.accountLabel(code, v)
		}
	}
	s.emit(ev)
}

// emitAccountRelations announces, on the accounts' side, that a lead
// joined one account and left another (change is the lead's account_id
// [before, after]). The documentation names the event (客户关联线索) but
// shows no body: the sandbox's carries the lead's jing_uuid as lead_id
// [before, after] in mapping_data, a provisional shape.
func (s *Server) emitAccountRelations(l *lead, change any, actor leadActor, now time.Time) {
	pair, _ := change.([]any)
	if len(pair) != 2 {
		return
	}
	for i, v := range pair {
		id, _ := v.(string)
		a := s.tenant.Leads.account(id)
		if a == nil {
			continue
		}
		ev := s.accountEvent(a, jing.EventObjectRelation, actor, now)
		linked := []any{nil, l.JingUUID} // joined: the second of the pair
		if i == 0 {
			linked = []any{l.JingUUID, nil} // left
		}
		ev.ExtraData.MappingData["lead_id"] = linked
		ev.ExtraData.MappingDataText["lead_id"] = []any{labelOrDash(linked[0], l), labelOrDash(linked[1], l)}
		s.emit(ev)
	}
}

func labelOrDash(v any, l *lead) string {
	if v == nil {
		return "-"
	}
	return cmp.Or(l.Fields["name"], l.JingUUID)
}

// accountLabel is the human label of an account's raw value ("-" for empty).
func (s *Server) accountLabel(code, v string) string {
	if v == "" {
		return "-"
	}
	m := &s.tenant.Objects.Account
	switch code {
	case "business_type":
		if bt := m.businessType(v); bt != nil {
			return bt.Name
		}
	case "owner":
		if mb := s.tenant.crmMember(v); mb != nil {
			return mb.Name
		}
	case "company_size":
		if o, ok := m.option(code, v); ok {
			return o.Name
		}
	case "country_region":
		return m.OptionSets[code].Label(v)
	}
	return v
}

// platformSideAccountChange makes one random change to an account, as
// someone working on the platform's console: a new account now and then,
// mostly updates and owner changes, a lead linked to an account, rarely a
// void. The background loop calls it with s.mu held.
func (s *Server) platformSideAccountChange() {
	ls := &s.tenant.Leads
	rn := s.faultRN
	live := slices.DeleteFunc(slices.Clone(ls.Accounts), func(a *crmAccount) bool { return a.Voided })
	actor := leadActor{operatorType: jing.OperatorMember}
	if m := s.randomActiveMember(); m != nil {
		actor.operatorID = int64(m.ID)
	}
	now := s.cfg.Now()
	r := rn.IntN(100)
	if len(live) == 0 || r < 15 {
		b := companyBrands[rn.IntN(len(companyBrands))]
		ind := companyIndustries[rn.IntN(len(companyIndustries))]
		s.emitAccountCreate(s.newAccount("上海"+b.zh+ind.word+"有限公司", now), actor)
		return
	}
	a := live[rn.IntN(len(live))]
	switch {
	case r < 55:
		fields := map[string]string{"industry": companyIndustries[rn.IntN(len(companyIndustries))].name}
		if sizes := s.tenant.Objects.Account.Options["company_size"]; len(sizes) > 0 && rn.IntN(2) == 0 {
			fields["company_size"] = sizes[rn.IntN(len(sizes))].JingUUID
		}
		s.changeAccount(a, fields, actor, now)
	case r < 80:
		if owner := s.consoleActorID(); owner != "" {
			s.changeAccount(a, map[string]string{"owner": owner}, actor, now)
		}
	case r < 97:
		if len(ls.Leads) > 0 {
			l := s.openLead()
			if err := s.writeLead(l, s.leadType(l), leadWrite{fields: map[string]string{"account_id": a.JingUUID}}, actor, now); err != nil {
				s.log.Debug("platform-side relation refused", "lead", l.JingUUID, "error", err)
			}
		}
	default:
		s.voidAccount(a, actor, now)
	}
}
