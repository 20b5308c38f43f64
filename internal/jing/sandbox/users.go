package sandbox

import (
	"fmt"
	"strings"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// The users.* endpoints: persons created and updated by batch, matched by
// their identities, queried and resolved (the persons themselves are in
// people.go).

// userHandlers are the users.* endpoints by key.
func (s *Server) userHandlers() map[string]handler {
	return map[string]handler{
		"users.create":         s.createUsers,
		"users.query":          s.queryUser,
		"users.identity_batch": s.resolveIdentityBatch,
		"users.update_batch":   s.updateUsers,
	}
}

// identityIn is one identity as users.create and users.update carry it.
type identityIn struct {
	Type  string `json:"type"`
	Value string `json:"value"`
	Name  string `json:"name,omitempty"`
}

type personSource struct {
	SourceType  string `json:"source_type"`
	SourceValue string `json:"source_value"`
}

// personIn is one element of a users.create or users.update batch.
type personIn struct {
	OmniUserUUID string         `json:"omni_user_uuid"` // users.update only
	Identities   []identityIn   `json:"identities"`
	Fields       map[string]any `json:"fields"`
	FieldsSource *personSource  `json:"fields_source"`
}

type personDone struct {
	Identities   []identityIn   `json:"identities"`
	OmniUserUUID string         `json:"omni_user_uuid"`
	LeadsInfo    map[string]any `json:"leads_info"`
}

type personFailed struct {
	Identities []identityIn `json:"identities"`
	Reason     string       `json:"reason"`
}

type personsAnswer struct {
	Success []personDone   `json:"success"`
	Failure []personFailed `json:"failure"`
}

func (s *Server) createUsers(c *call) (any, error) { return s.writeUsers(c, true) }
func (s *Server) updateUsers(c *call) (any, error) { return s.writeUsers(c, false) }

// writeUsers runs a batch: each element succeeds or fails on its own.
func (s *Server) writeUsers(c *call, create bool) (any, error) {
	batch, err := decodePersonBatch(c)
	if err != nil {
		return nil, err
	}
	p := &s.tenant.People
	out := personsAnswer{Success: []personDone{}, Failure: []personFailed{}}
	for _, in := range batch {
		i, reason := p.upsert(in, c.now.Unix(), create, s.newUUID)
		if reason != "" {
			out.Failure = append(out.Failure, personFailed{Identities: in.Identities, Reason: reason})
			continue
		}
		out.Success = append(out.Success, personDone{Identities: p.Persons[i].identities(true),
			OmniUserUUID: p.Persons[i].UUID, LeadsInfo: map[string]any{}})
	}
	return out, nil
}

// decodePersonBatch reads the body, which is a JSON array of at most
// MaxBatch persons.
func decodePersonBatch(c *call) ([]personIn, error) {
	if body := strings.TrimSpace(string(c.body)); !strings.HasPrefix(body, "[") {
		return nil, invalid("body", "必须是用户数组")
	}
	var batch []personIn
	if err := c.decode(&batch); err != nil {
		return nil, err
	}
	return batch, checkBatchSize(c, "body", len(batch))
}

// checkBatchSize refuses an empty batch (40001) and one over the
// endpoint's MaxBatch (40002).
func checkBatchSize(c *call, field string, n int) error {
	if n == 0 {
		return missing(field)
	}
	if max := c.endpoint.MaxBatch; max > 0 && n > max {
		return invalid(field, fmt.Sprintf("每次最多 %d 个，收到 %d 个", max, n))
	}
	return nil
}

// boundIdentity is a validated identity of a request.
type boundIdentity struct {
	t idType
	v string
}

// personWrite is a validated batch element, ready to apply.
type personWrite struct {
	at     int // the person named, when found
	found  bool
	ids    []boundIdentity
	known  map[string]string
	custom map[string]any
}

// upsert applies one batch element: it merges into the person its
// identities (or, on update, its omni_user_uuid) name, or creates one when
// create is set. It returns the person's position or why it failed; a
// failed element changes nothing.
func (p *peopleState) upsert(in personIn, now int64, create bool, newUUID func() string) (int, string) {
	w, reason := p.prepare(in, create)
	if reason != "" {
		return 0, reason
	}
	if !w.found {
		w.at = p.addPerson(person{UUID: newUUID(), Created: now})
		if in.FieldsSource != nil {
			p.Persons[w.at].SourceType, p.Persons[w.at].SourceValue = in.FieldsSource.SourceType, in.FieldsSource.SourceValue
		}
	}
	for _, id := range w.ids {
		if *p.Persons[w.at].identity(id.t) == "" {
			p.setIdentity(w.at, id.t, id.v)
		}
	}
	p.Persons[w.at].applyFields(w.known, w.custom)
	p.Persons[w.at].Updated = now
	return w.at, ""
}

// prepare checks everything upsert needs before it changes anything.
func (p *peopleState) prepare(in personIn, create bool) (w personWrite, reason string) {
	if w.ids, reason = parseIdentities(in.Identities, create); reason != "" {
		return w, reason
	}
	if !create && in.OmniUserUUID == "" && len(w.ids) == 0 {
		return w, "缺少 omni_user_uuid 或 identities"
	}
	if w.at, w.found, reason = p.match(in.OmniUserUUID, w.ids); reason != "" {
		return w, reason
	}
	switch {
	case !w.found && !create:
		return w, "用户不存在"
	case w.found:
		if reason = p.conflict(w.at, w.ids); reason != "" {
			return w, reason
		}
	}
	w.known, w.custom, reason = splitFields(in.Fields)
	return w, reason
}

// parseIdentities validates a request's identities; creating needs one.
func parseIdentities(in []identityIn, create bool) ([]boundIdentity, string) {
	if create && len(in) == 0 {
		return nil, "缺少身份信息 identities"
	}
	out := make([]boundIdentity, 0, len(in))
	for _, id := range in {
		t, ok := parseIdentityType(id.Type)
		if !ok {
			return nil, "不支持的身份类型: " + id.Type
		}
		v := normalizeIdentity(t, id.Value)
		if problem := identityProblem(t, v); problem != "" {
			return nil, problem
		}
		for _, prev := range out {
			if prev.t == t && prev.v != v {
				return nil, "同一身份类型只能有一个值: " + id.Type
			}
		}
		out = append(out, boundIdentity{t, v})
	}
	return out, ""
}

// match finds the one person the request names; identities of two
// different persons cannot be merged.
func (p *peopleState) match(uuid string, ids []boundIdentity) (int, bool, string) {
	at, found := -1, false
	if uuid != "" {
		i, ok := p.findUUID(uuid)
		if !ok {
			return 0, false, "用户不存在: " + uuid
		}
		at, found = i, true
	}
	for _, id := range ids {
		i, ok := p.find(id.t, id.v)
		if !ok {
			continue
		}
		if found && i != at {
			return 0, false, "身份分属不同的用户，无法合并: " + identityTypes[id.t].code + " " + id.v
		}
		at, found = i, true
	}
	return at, found, ""
}

// conflict reports an identity whose type the person already has with
// another value (a person has one value per type).
func (p *peopleState) conflict(i int, ids []boundIdentity) string {
	for _, id := range ids {
		if have := *p.Persons[i].identity(id.t); have != "" && have != id.v {
			return "该用户已绑定其他" + identityTypes[id.t].label + ": " + id.v
		}
	}
	return ""
}

// personFieldCodes are the field codes a person keeps in typed fields.
var personFieldCodes = []string{"name", "gender", "city", "company", "title"}

func (pr *person) typedField(code string) *string {
	switch code {
	case "name":
		return &pr.Name
	case "gender":
		return &pr.Gender
	case "city":
		return &pr.City
	case "company":
		return &pr.Company
	default:
		return &pr.Title
	}
}

// splitFields separates the typed fields (which must be text) from custom ones.
func splitFields(fields map[string]any) (known map[string]string, custom map[string]any, reason string) {
	for code, v := range fields {
		if !isPersonField(code) {
			if custom == nil {
				custom = map[string]any{}
			}
			custom[code] = v
			continue
		}
		text, ok := v.(string)
		if !ok {
			return nil, nil, "字段 " + code + " 必须是文本"
		}
		if known == nil {
			known = map[string]string{}
		}
		known[code] = text
	}
	return known, custom, ""
}

func isPersonField(code string) bool {
	for _, k := range personFieldCodes {
		if k == code {
			return true
		}
	}
	return false
}

func (pr *person) applyFields(known map[string]string, custom map[string]any) {
	for code, v := range known {
		*pr.typedField(code) = v
	}
	for code, v := range custom {
		if pr.Custom == nil {
			pr.Custom = map[string]any{}
		}
		pr.Custom[code] = v
	}
}

// fields is the person's "fields" object as users.query answers it.
func (pr *person) fields() map[string]any {
	out := make(map[string]any, len(personFieldCodes)+len(pr.Custom))
	for code, v := range pr.Custom {
		out[code] = v
	}
	for _, code := range personFieldCodes {
		if v := *pr.typedField(code); v != "" {
			out[code] = v
		}
	}
	return out
}

// identities lists the person's identities, with their labels when
// labelled (users.create echoes them so).
func (pr *person) identities(labelled bool) []identityIn {
	out := make([]identityIn, 0, 3)
	for t := range idTypeCount {
		if v := *pr.identity(t); v != "" {
			id := identityIn{Type: identityTypes[t].code, Value: v}
			if labelled {
				id.Name = identityTypes[t].label
			}
			out = append(out, id)
		}
	}
	return out
}

// identityRef is how users.query and privacy.status name a person.
type identityRef struct {
	IdentityType  string `json:"identity_type"`
	IdentityValue string `json:"identity_value"`
}

// resolve validates the reference and finds the person (40004 when none).
func (p *peopleState) resolve(ref *identityRef) (int, error) {
	if ref == nil {
		return 0, missing("identity")
	}
	t, err := identityTypeParam("identity.identity_type", ref.IdentityType)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(ref.IdentityValue) == "" {
		return 0, missing("identity.identity_value")
	}
	i, ok := p.find(t, normalizeIdentity(t, ref.IdentityValue))
	if !ok {
		return 0, business("用户不存在")
	}
	return i, nil
}

func identityTypeParam(field, code string) (idType, error) {
	if code == "" {
		return 0, missing(field)
	}
	t, ok := parseIdentityType(code)
	if !ok {
		return 0, invalid(field, "必须是 "+identityTypeCodes()+" 之一")
	}
	return t, nil
}

// personView is users.query's answer.
type personView struct {
	OmniUserUUID string         `json:"omni_user_uuid"`
	Identities   []identityIn   `json:"identities"`
	Fields       map[string]any `json:"fields"`
	Created      int64          `json:"created_timestamp"`
}

// personRequest is a body naming a person by identity.
type personRequest struct {
	Identity         *identityRef `json:"identity"`
	jing.PageRequest              // privacy.status pages; users.query has none
}

// decodePerson reads a personRequest and finds the person it names.
func (s *Server) decodePerson(c *call) (personRequest, int, error) {
	var req personRequest
	if err := c.decode(&req); err != nil {
		return req, 0, err
	}
	i, err := s.tenant.People.resolve(req.Identity)
	return req, i, err
}

func (s *Server) queryUser(c *call) (any, error) {
	_, i, err := s.decodePerson(c)
	if err != nil {
		return nil, err
	}
	pr := &s.tenant.People.Persons[i]
	return personView{OmniUserUUID: pr.UUID, Identities: pr.identities(false), Fields: pr.fields(), Created: pr.Created}, nil
}

type identityMatch struct {
	IdentityValue string  `json:"identity_value"`
	OmniUserUUID  *string `json:"omni_user_uuid"`
}

func (s *Server) resolveIdentityBatch(c *call) (any, error) {
	var req struct {
		IdentityType   string   `json:"identity_type"`
		IdentityValues []string `json:"identity_values"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	t, err := identityTypeParam("identity_type", req.IdentityType)
	if err != nil {
		return nil, err
	}
	if err := checkBatchSize(c, "identity_values", len(req.IdentityValues)); err != nil {
		return nil, err
	}
	p := &s.tenant.People
	items := make([]identityMatch, len(req.IdentityValues))
	for k, v := range req.IdentityValues {
		items[k].IdentityValue = v
		if i, ok := p.find(t, normalizeIdentity(t, v)); ok {
			uuid := p.Persons[i].UUID
			items[k].OmniUserUUID = &uuid
		}
	}
	return map[string]any{"items": items}, nil
}
