package sandbox

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// leadState holds the leads and the accounts (companies) they belong to.
type leadState struct {
	// Leads are in object_id order, oldest first; leads.list pages in this
	// order, so leads created during a walk come after it and no page shifts.
	Leads        []*lead       `json:"leads"`
	Accounts     []*crmAccount `json:"accounts"`
	NextObjectID int64         `json:"next_object_id"`
	// NextAccountID is the next account's object_id (accounts count on
	// their own; a state saved before it was kept derives it on load).
	NextAccountID int64 `json:"next_account_id"`
	// Voided are the voided leads, in object_id order: gone from the API
	// (as the webhook's "soft-deleted" says) until restored.
	Voided []*lead `json:"voided,omitempty"`

	byUUID map[string]*lead // derived from Leads; rebuilt when stale (after loading)
}

// lead is one lead. Preset fields are kept by code as strings, custom
// fields as the JSON values written; an absent code is empty.
type lead struct {
	JingUUID         string                     `json:"jing_uuid"`
	ObjectID         int                        `json:"object_id"`
	OmniUserUUID     string                     `json:"omni_user_uuid"`
	LifeStatus       string                     `json:"life_status"`
	LeadPool         string                     `json:"lead_pool"`
	Collaborators    []string                   `json:"collaborators"`
	CreatedTimestamp int64                      `json:"created_timestamp"`
	UpdatedTimestamp int64                      `json:"updated_timestamp"`
	Fields           map[string]string          `json:"fields"`
	Custom           map[string]json.RawMessage `json:"custom,omitempty"`
}

// crmAccount is an account: a company leads may belong to (account_id).
type crmAccount struct {
	JingUUID         string `json:"jing_uuid"`
	ObjectID         int    `json:"object_id"`
	BusinessType     string `json:"business_type"`
	Name             string `json:"name"`
	Industry         string `json:"industry"`
	OfficialWebsite  string `json:"official_website"`
	CountryRegion    string `json:"country_region"`
	CompanySize      string `json:"company_size"`
	Owner            string `json:"owner"`
	CreatedTimestamp int64  `json:"created_timestamp"`
	UpdatedTimestamp int64  `json:"updated_timestamp"`
	// Voided accounts stay for the leads linked to them; no new link is made.
	Voided bool `json:"voided,omitempty"`
}

// recentEvents is how many emitted events the sandbox keeps for RecentEvents.
const recentEvents = 64

// leadZone is the platform's zone (webhook created_timestamp is China time).
var leadZone = time.FixedZone("CST", 8*3600)

// hasLead reports whether jing_uuid names a lead (scores ask).
func (l *leadState) hasLead(uuid string) bool { return l.find(uuid) != nil }

func (l *leadState) find(uuid string) *lead { return l.index()[uuid] }

func (l *leadState) index() map[string]*lead {
	if len(l.byUUID) != len(l.Leads) {
		l.byUUID = make(map[string]*lead, len(l.Leads))
		for _, x := range l.Leads {
			l.byUUID[x.JingUUID] = x
		}
	}
	return l.byUUID
}

// afterLoad derives the account counter of a state saved before it was kept.
func (l *leadState) afterLoad() {
	if l.NextAccountID == 0 {
		l.NextAccountID = firstAccountObjectID
		for _, a := range l.Accounts {
			l.NextAccountID = max(l.NextAccountID, int64(a.ObjectID)+1)
		}
	}
}

func (l *leadState) add(x *lead) {
	l.Leads = append(l.Leads, x)
	l.index()[x.JingUUID] = x
}

// latestWith is the most recently updated lead whose field code equals v
// (emails compare without case); in business type bt when bt is not "".
func (l *leadState) latestWith(code, v, bt string, except *lead) *lead {
	var best *lead
	for _, x := range l.Leads {
		if x == except || (bt != "" && x.Fields["business_type"] != bt) || !strings.EqualFold(x.Fields[code], v) {
			continue
		}
		if best == nil || x.UpdatedTimestamp >= best.UpdatedTimestamp {
			best = x
		}
	}
	return best
}

func (l *leadState) account(uuid string) *crmAccount {
	for _, a := range l.Accounts {
		if a.JingUUID == uuid {
			return a
		}
	}
	return nil
}

// crmMember finds a member by id ("18404").
func (t *tenant) crmMember(id string) *member {
	for _, m := range t.Members {
		if strconv.Itoa(m.ID) == id {
			return m
		}
	}
	return nil
}

// stageOf is the lead's current status in its pipeline (nil if unknown).
func (s *Server) stageOf(l *lead) *leadStage {
	return s.leadType(l).stage(l.Fields["lead_status"])
}

func (s *Server) leadType(l *lead) *businessType {
	m := &s.tenant.Objects.Lead
	if bt := m.businessType(l.Fields["business_type"]); bt != nil {
		return bt
	}
	return m.defaultBusinessType()
}

// stageAnywhere finds a status in any lead pipeline.
func (m *objectMeta) stageAnywhere(uuid string) *leadStage {
	for i := range m.BusinessTypes {
		if st := m.BusinessTypes[i].stage(uuid); st != nil {
			return st
		}
	}
	return nil
}

func (s *Server) leadHandlers() map[string]handler {
	return map[string]handler{
		"leads.create":        s.createLead,
		"leads.update":        s.updateLead,
		"leads.query":         s.queryLead,
		"leads.status_list":   s.listLeadStatuses,
		"leads.status_update": s.updateLeadStatus,
		"leads.list":          s.listLeads,
		"leads.collaborators": s.updateCollaborators,
		"leads.detail_link":   s.leadDetailLink,
	}
}

// rawText is a field value as text: a JSON string, a number's digits, or
// "" for null; ok is false for anything else.
func rawText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// requireLead finds the lead named by uuid: 40001 without one, 40004 for none.
func (s *Server) requireLead(uuid string) (*lead, error) {
	if uuid == "" {
		return nil, missing("jing_uuid")
	}
	l := s.tenant.Leads.find(uuid)
	if l == nil {
		return nil, business("线索不存在: " + uuid)
	}
	return l, nil
}

// uuidAnswer is the answer of the lead writes.
func uuidAnswer(l *lead) map[string]string { return map[string]string{"jing_uuid": l.JingUUID} }

func (s *Server) createLead(c *call) (any, error) {
	var body map[string]json.RawMessage
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	btID, _ := rawText(body["business_type"])
	if btID == "" {
		return nil, missing("business_type")
	}
	bt := s.tenant.Objects.Lead.businessType(btID)
	if bt == nil {
		return nil, invalid("business_type", "不存在的业务类型")
	}
	w, err := s.parseLeadWrite(bt, body, "business_type")
	if err != nil {
		return nil, err
	}
	if w.fields["lead_status"] == "" {
		w.fields["lead_status"] = bt.Stages[0].JingUUID
	}
	l := &lead{Fields: map[string]string{"business_type": bt.JingUUID}, Custom: map[string]json.RawMessage{}, Collaborators: []string{}}
	if err := s.checkLeadRules(bt, l, w, true); err != nil {
		return nil, err
	}
	s.insertLead(l, bt, w, c.now)
	return uuidAnswer(l), nil
}

// insertLead stores a new lead, links its person and announces it.
func (s *Server) insertLead(l *lead, bt *businessType, w leadWrite, now time.Time) {
	ls := &s.tenant.Leads
	l.JingUUID, l.ObjectID = s.newUUID(), int(s.nextID("lead_object_id"))
	for code, v := range w.fields {
		setOrDelete(l.Fields, code, v)
	}
	for code, v := range w.custom {
		if v != nil {
			l.Custom[code] = v
		}
	}
	l.LifeStatus = bt.stage(l.Fields["lead_status"]).LifeStatus
	if l.Fields["owner"] == "" {
		l.LeadPool = s.tenant.Objects.poolFor(bt)
	}
	p, created := s.tenant.People.ensurePerson(s.newUUID, l.Fields["name"], l.Fields["mobile"], l.Fields["email"])
	l.OmniUserUUID = p.OmniUserUUID
	l.CreatedTimestamp, l.UpdatedTimestamp = now.Unix(), now.Unix()
	ls.add(l)
	s.emitCreation(l, bt, p, created, apiActor, now)
}

// emitCreation announces a new lead as the platform's lead-creation page
// lists it: add_omni_user_success when the lead made a new person, then
// object_create, object_update_life_cycle (the lifecycle stage it starts
// in), and object_source_info when it came with source information.
func (s *Server) emitCreation(l *lead, bt *businessType, p personContact, newPerson bool, a leadActor, now time.Time) {
	if newPerson {
		s.emitPersonCreated(p, now)
	}
	s.emitLead(s.createEvent(l, bt, a, now))
	changes := []leadChange{{"life_status", nil, l.LifeStatus}}
	for _, code := range sourceInfoFields {
		if v := l.Fields[code]; v != "" {
			changes = append(changes, leadChange{code, nil, v})
		}
	}
	s.emitChanges(l, bt, changes, a, now)
}

func (s *Server) updateLead(c *call) (any, error) {
	var body map[string]json.RawMessage
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	uuid, _ := rawText(body["jing_uuid"])
	l, err := s.requireLead(uuid)
	if err != nil {
		return nil, err
	}
	bt := s.leadType(l)
	if v, ok := body["business_type"]; ok {
		if id, _ := rawText(v); id != bt.JingUUID {
			return nil, business("线索创建后不能修改业务类型")
		}
	}
	w, err := s.parseLeadWrite(bt, body, "jing_uuid", "business_type")
	if err != nil {
		return nil, err
	}
	if err := s.writeLead(l, bt, w, apiActor, c.now); err != nil {
		return nil, err
	}
	return uuidAnswer(l), nil
}

type leadStatusBody struct {
	JingUUID   string `json:"jing_uuid"`
	LeadStatus string `json:"lead_status"`
}

func (s *Server) updateLeadStatus(c *call) (any, error) {
	var b leadStatusBody
	if err := c.decode(&b); err != nil {
		return nil, err
	}
	l, err := s.requireLead(b.JingUUID)
	if err != nil {
		return nil, err
	}
	if b.LeadStatus == "" {
		return nil, missing("lead_status")
	}
	bt := s.leadType(l)
	if bt.stage(b.LeadStatus) == nil {
		return nil, invalid("lead_status", "不是该线索业务类型的线索状态")
	}
	w := leadWrite{fields: map[string]string{"lead_status": b.LeadStatus}}
	if err := s.writeLead(l, bt, w, apiActor, c.now); err != nil {
		return nil, err
	}
	return uuidAnswer(l), nil
}

// writeLead checks a change to an existing lead against the business
// rules, applies it and announces it.
func (s *Server) writeLead(l *lead, bt *businessType, w leadWrite, a leadActor, now time.Time) error {
	if err := s.checkLeadRules(bt, l, w, false); err != nil {
		return err
	}
	changes := l.apply(w, s.tenant.Objects.poolFor(bt), bt)
	if len(changes) == 0 {
		return nil
	}
	l.UpdatedTimestamp = now.Unix()
	s.emitChanges(l, bt, changes, a, now)
	return nil
}

// queryLead finds one lead by jing_uuid, mobile or email (the latest
// updated one when several share the mobile or email).
func (s *Server) queryLead(c *call) (any, error) {
	var k jing.LeadKey
	if err := c.decode(&k); err != nil {
		return nil, err
	}
	ls := &s.tenant.Leads
	var l *lead
	switch {
	case k.JingUUID != "":
		l = ls.find(k.JingUUID)
	case k.Mobile != "":
		l = ls.latestWith("mobile", k.Mobile, "", nil)
	case k.Email != "":
		l = ls.latestWith("email", k.Email, "", nil)
	default:
		return nil, missing("jing_uuid")
	}
	if l == nil {
		return nil, business("线索不存在")
	}
	return s.leadAnswer(l, s.presetCodes()), nil
}

func (s *Server) listLeadStatuses(c *call) (any, error) {
	var b struct {
		BusinessType string `json:"business_type"`
	}
	if err := c.decode(&b); err != nil {
		return nil, err
	}
	if b.BusinessType == "" {
		return nil, missing("business_type")
	}
	bt, err := s.pipelineOf(&s.tenant.Objects.Lead, b.BusinessType)
	if err != nil {
		return nil, err
	}
	return itemsAnswer(stageAnswers(bt)), nil
}

type leadListBody struct {
	jing.PageRequest
	jing.LeadFilter
}

func (s *Server) listLeads(c *call) (any, error) {
	var b leadListBody
	if err := c.decode(&b); err != nil {
		return nil, err
	}
	if err := s.checkLeadFilter(b); err != nil {
		return nil, err
	}
	var matched []*lead
	for _, l := range s.tenant.Leads.Leads {
		if b.matches(l) {
			matched = append(matched, l)
		}
	}
	page, err := paginate(matched, b.PageRequest)
	if err != nil {
		return nil, err
	}
	codes := s.presetCodes()
	out := jing.Page[map[string]any]{Items: make([]map[string]any, len(page.Items)), Meta: page.Meta}
	for i, l := range page.Items {
		out.Items[i] = s.leadAnswer(l, codes)
	}
	return out, nil
}

func (s *Server) checkLeadFilter(b leadListBody) error {
	m := &s.tenant.Objects.Lead
	switch {
	case b.BusinessType != "" && m.businessType(b.BusinessType) == nil:
		return invalid("business_type", "不存在的业务类型")
	case b.LeadStatus != "" && m.stageAnywhere(b.LeadStatus) == nil:
		return invalid("lead_status", "不存在的线索状态")
	case b.Owner != "" && s.tenant.crmMember(string(b.Owner)) == nil:
		return invalid("owner", "不存在的成员")
	case b.UpdatedSince < 0:
		return invalid("updated_since", "必须是 Unix 秒")
	}
	return nil
}

func (b leadListBody) matches(l *lead) bool {
	f := l.Fields
	return (b.BusinessType == "" || f["business_type"] == b.BusinessType) &&
		(b.LeadStatus == "" || f["lead_status"] == b.LeadStatus) &&
		(b.Owner == "" || f["owner"] == string(b.Owner)) &&
		l.UpdatedTimestamp >= b.UpdatedSince
}

// presetCodes are the writable preset lead fields, which every answer carries.
func (s *Server) presetCodes() []string {
	var codes []string
	for _, f := range s.tenant.Objects.Lead.Fields {
		if f.IsPreset == 1 && f.Writable == 1 {
			codes = append(codes, f.Code)
		}
	}
	return codes
}

// leadAnswer is a lead as leads.query and leads.list answer it: every
// preset field ("" when empty), the set custom fields at the same level,
// and the system fields.
func (s *Server) leadAnswer(l *lead, codes []string) map[string]any {
	out := make(map[string]any, len(codes)+len(l.Custom)+8)
	for _, code := range codes {
		out[code] = l.Fields[code]
	}
	for code, v := range l.Custom {
		out[code] = v
	}
	out["jing_uuid"], out["life_status"], out["lead_pool"] = l.JingUUID, l.LifeStatus, l.LeadPool
	// A copy: the answer is encoded after the tenant lock is released.
	out["collaborators"], out["omni_user_uuid"] = append([]string{}, l.Collaborators...), l.OmniUserUUID
	out["created_timestamp"], out["updated_timestamp"] = l.CreatedTimestamp, l.UpdatedTimestamp
	return out
}

type collaboratorsBody struct {
	JingUUID string          `json:"jing_uuid"`
	Add      []jing.MemberID `json:"add"`
	Remove   []jing.MemberID `json:"remove"`
}

func (s *Server) updateCollaborators(c *call) (any, error) {
	var b collaboratorsBody
	if err := c.decode(&b); err != nil {
		return nil, err
	}
	l, err := s.requireLead(b.JingUUID)
	if err != nil {
		return nil, err
	}
	if len(b.Add) == 0 && len(b.Remove) == 0 {
		return nil, missing("add")
	}
	if err := s.checkCollaborators(l, b); err != nil {
		return nil, err
	}
	s.changeCollaborators(l, memberIDs(b.Add), memberIDs(b.Remove), apiActor, c.now)
	return uuidAnswer(l), nil
}

func (s *Server) checkCollaborators(l *lead, b collaboratorsBody) error {
	exists := func(field string, ids []jing.MemberID) error {
		for _, id := range ids {
			if s.tenant.crmMember(string(id)) == nil {
				return invalid(field, "成员 "+string(id)+" 不存在")
			}
		}
		return nil
	}
	if err := cmp.Or(exists("add", b.Add), exists("remove", b.Remove)); err != nil {
		return err
	}
	for _, id := range b.Add {
		m := s.tenant.crmMember(string(id))
		switch {
		case string(id) == l.Fields["owner"]:
			return business("负责人不能同时是协作人: " + m.Name)
		case m.Status != "active":
			return business("成员 " + m.Name + " 已停用，不能添加为协作人")
		}
	}
	return nil
}

func memberIDs(refs []jing.MemberID) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = string(r)
	}
	return out
}

// changeCollaborators adds and removes members (repeats are harmless) and
// announces each kind of change.
func (s *Server) changeCollaborators(l *lead, add, remove []string, a leadActor, now time.Time) {
	bt := s.leadType(l)
	before := slices.Clone(l.Collaborators)
	for _, id := range add {
		if !slices.Contains(l.Collaborators, id) {
			l.Collaborators = append(l.Collaborators, id)
		}
	}
	added := slices.Clone(l.Collaborators)
	l.Collaborators = slices.DeleteFunc(l.Collaborators, func(id string) bool { return slices.Contains(remove, id) })
	if len(added) > len(before) {
		s.emitChanges(l, bt, []leadChange{{"collaborators", joinOrNil(before), joinOrNil(added)}}, a, now, jing.EventObjectAddTeamMember)
	}
	if len(l.Collaborators) < len(added) {
		s.emitChanges(l, bt, []leadChange{{"collaborators", joinOrNil(added), joinOrNil(l.Collaborators)}}, a, now, jing.EventObjectRemoveTeamMember)
	}
	if !slices.Equal(before, l.Collaborators) {
		l.UpdatedTimestamp = now.Unix()
	}
}

func joinOrNil(ids []string) any {
	if len(ids) == 0 {
		return nil
	}
	return strings.Join(ids, ",")
}

// leadDetailLink answers where the lead opens. The platform answers a page
// of its own site; the sandbox has no such site, so it answers the
// sandbox-local path /sandbox/leads/<jing_uuid>, which the console may
// serve itself.
func (s *Server) leadDetailLink(c *call) (any, error) {
	var k jing.LeadKey
	if err := c.decode(&k); err != nil {
		return nil, err
	}
	l, err := s.requireLead(k.JingUUID)
	if err != nil {
		return nil, err
	}
	return map[string]string{"url": "/sandbox/leads/" + l.JingUUID}, nil
}
