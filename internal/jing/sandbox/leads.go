package sandbox

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

// leadWrite is a validated set of field values to write.
type leadWrite struct {
	fields map[string]string          // preset code → value ("" clears)
	custom map[string]json.RawMessage // custom code → JSON value (nil clears)
}

// parseLeadWrite validates every field of body (except skip) for business
// type bt: known, writable, and a valid value of its type.
func (s *Server) parseLeadWrite(bt *businessType, body map[string]json.RawMessage, skip ...string) (leadWrite, error) {
	w := leadWrite{fields: map[string]string{}, custom: map[string]json.RawMessage{}}
	meta := &s.tenant.Objects.Lead
	for _, code := range slices.Sorted(maps.Keys(body)) {
		if slices.Contains(skip, code) {
			continue
		}
		f := meta.field(bt.JingUUID, code)
		if err := checkWritable(f, code); err != nil {
			return w, err
		}
		// Values are strings, but member ids and numbers may come as numbers.
		v, ok := rawText(body[code])
		if !ok || (!isJSONString(body[code]) && f.Code != "owner" && f.Type != "number") {
			return w, invalid(code, "必须是字符串")
		}
		if err := s.checkLeadValue(bt, *f, v); err != nil {
			return w, err
		}
		if f.IsPreset == 1 {
			w.fields[code] = v
		} else {
			w.custom[code] = customRaw(body[code], v)
		}
	}
	return w, nil
}

func isJSONString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && (raw[0] == '"' || string(raw) == "null")
}

// customRaw is the stored form of a custom value: nil clears it.
func customRaw(raw json.RawMessage, text string) json.RawMessage {
	if text == "" {
		return nil
	}
	var b bytes.Buffer
	json.Compact(&b, raw)
	return b.Bytes()
}

// checkWritable refuses unknown fields, custom fields of the types the
// platform cannot write (40004, as documented) and read-only fields.
func checkWritable(f *crmField, code string) error {
	switch {
	case f == nil:
		return invalid(code, "不是该业务类型的线索字段")
	case f.IsPreset == 0 && readOnlyCustomTypes[f.Type]:
		return business(fmt.Sprintf("自定义字段 %s（%s）的类型为 %s，不能创建或更新", f.Code, f.Name, f.Type))
	case f.Writable == 0:
		return invalid(code, "是只读字段")
	}
	return nil
}

var (
	leadMobileRE = regexp.MustCompile(`^(1[3-9]\d{9}|\+\d{6,15})$`)
	leadEmailRE  = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s.]+$`)
	leadURLRE    = regexp.MustCompile(`^(https?://)?[^\s/.]+(\.[^\s/.]+)+(/\S*)?$`)
)

// checkLeadValue validates a non-empty value v of field f.
func (s *Server) checkLeadValue(bt *businessType, f crmField, v string) error {
	if v == "" {
		return nil
	}
	ok, why := true, ""
	switch f.Type {
	case "text":
		ok, why = utf8.RuneCountInString(v) <= 255, "不能超过 255 个字符"
	case "textarea":
		ok, why = utf8.RuneCountInString(v) <= 5000, "不能超过 5000 个字符"
	case "mobile":
		ok, why = leadMobileRE.MatchString(v), "不是有效的手机号"
	case "email":
		ok, why = leadEmailRE.MatchString(v), "不是有效的邮箱"
	case "url":
		ok, why = leadURLRE.MatchString(v), "不是有效的网址"
	case "number":
		_, err := strconv.ParseFloat(v, 64)
		ok, why = err == nil, "必须是数字"
	case "date":
		ok, why = isDate(v), "必须是 YYYY-MM-DD 格式的日期"
	case "select", "multi_select":
		return s.checkChoice(bt, f, v)
	case "option_set":
		ok, why = s.tenant.Objects.Lead.OptionSets[f.Code].IsLeaf(v), "必须是选项集最内层选项的 jing_uuid"
	case "look_up":
		return s.checkLookUp(f.Code, v)
	}
	if !ok {
		return invalid(f.Code, why)
	}
	return nil
}

func isDate(v string) bool {
	_, err1 := time.Parse(time.DateOnly, v)
	_, err2 := time.Parse(time.DateTime, v)
	return err1 == nil || err2 == nil
}

// checkChoice validates a select value, or each of a multi_select's
// comma-joined values.
func (s *Server) checkChoice(bt *businessType, f crmField, v string) error {
	values := []string{v}
	if f.Type == "multi_select" {
		values = strings.Split(v, ",")
	}
	for _, x := range values {
		if f.Code == "lead_status" {
			if bt.stage(x) == nil {
				return invalid(f.Code, "不是该业务类型的线索状态")
			}
			continue
		}
		if _, ok := s.tenant.Objects.Lead.option(f.Code, x); !ok {
			return invalid(f.Code, "不是有效的选项: "+x)
		}
	}
	return nil
}

func (s *Server) checkLookUp(code, v string) error {
	switch {
	case code == "owner" && s.tenant.crmMember(v) == nil:
		return invalid(code, "不存在的成员")
	case code == "account_id" && s.tenant.Leads.account(v) == nil:
		return invalid(code, "不存在的客户")
	case code == "account_id" && s.tenant.Leads.account(v).Voided:
		return business("客户已作废，不能关联: " + v)
	}
	return nil
}

// checkLeadRules checks the lead that writing w to l would give: required
// fields, and the business rules (no duplicate contact in a business type,
// owners active, converted leads keep their status).
func (s *Server) checkLeadRules(bt *businessType, l *lead, w leadWrite, creating bool) error {
	next := maps.Clone(l.Fields)
	maps.Copy(next, w.fields)
	if next["name"] == "" {
		return requiredErr(creating, "name", "不能为空")
	}
	if next["mobile"] == "" && next["email"] == "" {
		return requiredErr(creating, "mobile或email", "手机号和邮箱不能同时为空")
	}
	for _, code := range []string{"mobile", "email"} {
		v := next[code]
		if v == "" || strings.EqualFold(v, l.Fields[code]) {
			continue
		}
		if other := s.tenant.Leads.latestWith(code, v, bt.JingUUID, l); other != nil {
			return business(fmt.Sprintf("该业务类型下已存在%s为 %s 的线索（%s）", map[string]string{"mobile": "手机号", "email": "邮箱"}[code], v, other.JingUUID))
		}
	}
	if owner := next["owner"]; owner != "" && owner != l.Fields["owner"] {
		if m := s.tenant.crmMember(owner); m != nil && m.Status != "active" {
			return business("负责人 " + m.Name + " 已停用，不能分配线索")
		}
	}
	if st := bt.stage(l.Fields["lead_status"]); !creating && st != nil && st.Outcome == outcomeWon && next["lead_status"] != st.JingUUID {
		return business("线索已转化，不能再变更线索状态")
	}
	return nil
}

// requiredErr is 40001 when creating (the field was not sent) and 40002
// when an update would empty it.
func requiredErr(creating bool, field, why string) error {
	if creating {
		return missing(field)
	}
	return invalid(field, why)
}

// leadChange is one changed field: raw values before and after (nil: empty).
type leadChange struct {
	code          string
	before, after any
}

// apply writes w to l and returns what changed, the derived life_status
// and lead_pool included.
func (l *lead) apply(w leadWrite, pool string, bt *businessType) []leadChange {
	var out []leadChange
	for _, code := range slices.Sorted(maps.Keys(w.fields)) {
		before, after := l.Fields[code], w.fields[code]
		if before == after {
			continue
		}
		out = append(out, leadChange{code, textOrNil(before), textOrNil(after)})
		setOrDelete(l.Fields, code, after)
	}
	if l.Custom == nil {
		l.Custom = map[string]json.RawMessage{}
	}
	for _, code := range slices.Sorted(maps.Keys(w.custom)) {
		before, after := l.Custom[code], w.custom[code]
		if bytes.Equal(before, after) {
			continue
		}
		out = append(out, leadChange{code, rawValue(before), rawValue(after)})
		if after == nil {
			delete(l.Custom, code)
		} else {
			l.Custom[code] = after
		}
	}
	return append(out, l.derive(w, pool, bt)...)
}

// derive updates the fields that follow from others: life_status from
// the status, lead_pool from the owner.
func (l *lead) derive(w leadWrite, pool string, bt *businessType) []leadChange {
	var out []leadChange
	if st := bt.stage(l.Fields["lead_status"]); st != nil && st.LifeStatus != l.LifeStatus {
		out = append(out, leadChange{"life_status", textOrNil(l.LifeStatus), st.LifeStatus})
		l.LifeStatus = st.LifeStatus
	}
	if _, ok := w.fields["owner"]; ok {
		next := ""
		if l.Fields["owner"] == "" {
			next = pool
		}
		if next != l.LeadPool {
			out = append(out, leadChange{"lead_pool", textOrNil(l.LeadPool), textOrNil(next)})
			l.LeadPool = next
		}
	}
	return out
}

func setOrDelete(m map[string]string, k, v string) {
	if v == "" {
		delete(m, k)
	} else {
		m[k] = v
	}
}

func textOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// rawValue decodes a stored custom value for mapping_data (numbers stay exact).
func rawValue(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return string(raw)
	}
	return v
}

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
