package sandbox

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// peopleState holds persons (the platform's "users": contacts known by
// their identities), static crowds (crowds.go) and privacy policies
// (privacy.go).
//
// The default tenant has 20,000 persons, so a person is a flat value in one
// slice (no per-person maps or pointers) and the identity indexes are
// rebuilt on demand rather than persisted. Consent history is derived from
// the person's id when asked for, never stored.
type peopleState struct {
	Persons []person `json:"persons"`
	// Seeded counts the persons that came with the tenant: only they have
	// a consent history (persons created through the API have none yet).
	Seeded int `json:"seeded"`
	// ConsentSalt makes the derived consent history a function of the seed.
	ConsentSalt uint64          `json:"consent_salt"`
	Crowds      []*crowd        `json:"crowds"`
	NextGroupID int64           `json:"next_group_id"`
	Policies    []privacyPolicy `json:"policies"`

	index *personIndex // by uuid and identity; rebuilt after loading
}

// person is one contact. Identities are plain fields, one per type: the
// platform merges identities into one person rather than keeping two.
type person struct {
	UUID       string `json:"omni_user_uuid"`
	Name       string `json:"name,omitempty"`
	Mobile     string `json:"mobile,omitempty"`
	Email      string `json:"email,omitempty"`
	OpenID     string `json:"wechat_openid,omitempty"`
	UnionID    string `json:"wechat_unionid,omitempty"`
	External   string `json:"external_userid,omitempty"`
	Thirdparty string `json:"thirdparty_channel,omitempty"`
	Gender     string `json:"gender,omitempty"`
	City       string `json:"city,omitempty"`
	Company    string `json:"company,omitempty"`
	Title      string `json:"title,omitempty"`
	// Custom holds other field codes written through the API.
	Custom      map[string]any `json:"custom,omitempty"`
	SourceType  string         `json:"source_type,omitempty"`
	SourceValue string         `json:"source_value,omitempty"`
	Created     int64          `json:"created_timestamp"`
	Updated     int64          `json:"updated_timestamp"`
}

// idType is an identity type; its value indexes identityTypes.
type idType int

const (
	idMobile idType = iota
	idEmail
	idOpenID
	idUnionID
	idExternal
	idThirdparty
	idTypeCount
)

// identityTypes are the documented identity types and their labels (the
// "name" users.create carries beside each identity).
var identityTypes = [idTypeCount]struct{ code, label string }{
	{"mobile", "手机号"},
	{"email", "邮箱"},
	{"wechat_openid", "微信 OpenID"},
	{"wechat_unionid", "微信 UnionID"},
	{"external_userid", "企业微信外部联系人"},
	{"thirdparty_channel", "第三方渠道"},
}

func parseIdentityType(code string) (idType, bool) {
	for t, it := range identityTypes {
		if it.code == code {
			return idType(t), true
		}
	}
	return 0, false
}

// identityTypeCodes is the list a 40002 answer names.
func identityTypeCodes() string {
	codes := make([]string, len(identityTypes))
	for i, it := range identityTypes {
		codes[i] = it.code
	}
	return strings.Join(codes, ", ")
}

// identity is where the person keeps the value of type t.
func (p *person) identity(t idType) *string {
	switch t {
	case idMobile:
		return &p.Mobile
	case idEmail:
		return &p.Email
	case idOpenID:
		return &p.OpenID
	case idUnionID:
		return &p.UnionID
	case idExternal:
		return &p.External
	default:
		return &p.Thirdparty
	}
}

// normalizeIdentity is the form values are stored and looked up in.
func normalizeIdentity(t idType, v string) string {
	v = strings.TrimSpace(v)
	if t == idEmail {
		v = strings.ToLower(v)
	}
	return v
}

// identityProblem says what is wrong with a (normalized) value, or "".
func identityProblem(t idType, v string) string {
	switch {
	case v == "":
		return "身份值为空: " + identityTypes[t].code
	case utf8.RuneCountInString(v) > 128:
		return "身份值过长: " + identityTypes[t].code
	case t == idMobile && !isMobile(v):
		return "手机号格式无效: " + v
	case t == idEmail && !isEmail(v):
		return "邮箱格式无效: " + v
	}
	return ""
}

// isMobile accepts a mainland mobile number: 11 digits, 1[3-9]… (SMS
// validation shares it).
func isMobile(v string) bool {
	if len(v) != 11 || v[0] != '1' || v[1] < '3' || v[1] > '9' {
		return false
	}
	for i := 2; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// isEmail accepts a plausible address (EDM shares it).
func isEmail(v string) bool {
	local, domain, ok := strings.Cut(v, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(v, " ,;<>") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// personIndex finds persons by uuid and by each identity type.
type personIndex struct {
	byUUID map[string]int32
	by     [idTypeCount]map[string]int32
}

func newPersonIndex(n int) *personIndex {
	x := &personIndex{byUUID: make(map[string]int32, n)}
	for t := range x.by {
		x.by[t] = map[string]int32{}
	}
	x.by[idMobile] = make(map[string]int32, n)
	return x
}

// idx returns the index, rebuilding it when the state was just loaded.
func (p *peopleState) idx() *personIndex {
	if p.index != nil && len(p.index.byUUID) == len(p.Persons) {
		return p.index
	}
	p.index = newPersonIndex(len(p.Persons))
	for i := range p.Persons {
		p.indexPerson(i)
	}
	return p.index
}

func (p *peopleState) indexPerson(i int) {
	pr := &p.Persons[i]
	p.index.byUUID[pr.UUID] = int32(i)
	for t := range idTypeCount {
		if v := *pr.identity(t); v != "" {
			p.index.by[t][v] = int32(i)
		}
	}
}

// addPerson appends pr and indexes it, returning its position.
func (p *peopleState) addPerson(pr person) int {
	p.idx()
	p.Persons = append(p.Persons, pr)
	i := len(p.Persons) - 1
	p.indexPerson(i)
	return i
}

// setIdentity binds value v of type t to person i (v must be unbound).
func (p *peopleState) setIdentity(i int, t idType, v string) {
	*p.Persons[i].identity(t) = v
	p.idx().by[t][v] = int32(i)
}

// find looks a person up by a normalized identity.
func (p *peopleState) find(t idType, v string) (int, bool) {
	i, ok := p.idx().by[t][v]
	return int(i), ok
}

func (p *peopleState) findUUID(uuid string) (int, bool) {
	i, ok := p.idx().byUUID[uuid]
	return int(i), ok
}

// personContact is what other domains need of a person.
type personContact struct {
	OmniUserUUID string
	Name         string
	Mobile       string
	Email        string
}

func (pr *person) contact() personContact {
	return personContact{OmniUserUUID: pr.UUID, Name: pr.Name, Mobile: pr.Mobile, Email: pr.Email}
}

// personCount is how many persons the tenant has.
func (p *peopleState) personCount() int { return len(p.Persons) }

// personAt returns the i-th person (0 ≤ i < personCount), for seeding leads.
func (p *peopleState) personAt(i int) personContact {
	if i < 0 || i >= len(p.Persons) {
		return personContact{}
	}
	return p.Persons[i].contact()
}

// hasPerson reports whether omni_user_uuid names a person.
func (p *peopleState) hasPerson(uuid string) bool {
	_, ok := p.findUUID(uuid)
	return ok
}

// ensurePerson finds the person with this mobile or email, or creates one
// (the platform merges identities rather than duplicating people), and
// says whether it created one. A found person gains the other identity
// when it is free. With neither identity there is no one to find or
// create, and the zero contact is returned.
func (p *peopleState) ensurePerson(newUUID func() string, name, mobile, email string) (personContact, bool) {
	mobile, email = normalizeIdentity(idMobile, mobile), normalizeIdentity(idEmail, email)
	i, ok := p.find(idMobile, mobile) // "" is never bound, so never found
	if !ok {
		i, ok = p.find(idEmail, email)
	}
	created := !ok
	if !ok {
		if mobile == "" && email == "" {
			return personContact{}, false
		}
		// Lead creation has no clock of ours to pass; the wall clock is
		// what the platform would stamp.
		now := time.Now().Unix()
		i = p.addPerson(person{UUID: newUUID(), Name: name, Created: now, Updated: now})
	}
	for _, id := range []boundIdentity{{idMobile, mobile}, {idEmail, email}} {
		if _, taken := p.find(id.t, id.v); id.v != "" && !taken && *p.Persons[i].identity(id.t) == "" {
			p.setIdentity(i, id.t, id.v)
		}
	}
	if p.Persons[i].Name == "" {
		p.Persons[i].Name = name
	}
	return p.Persons[i].contact(), created
}

// emitPersonCreated announces a person the platform created on its own
// (a lead with a new contact), as add_omni_user_success. The console keeps
// no persons from webhooks; the event is there because the lead creation
// page lists it. Persons created through users.create are the caller's
// own and are not announced (user webhooks are a subscription of their own).
func (s *Server) emitPersonCreated(p personContact, now time.Time) {
	ev := jing.WebhookEvent{EventCategory: "user", EventType: jing.EventAddOmniUserSuccess, CreateTime: now.Unix(),
		ExtraData: jing.WebhookExtraData{ObjectName: "user", EntityID: p.OmniUserUUID, OmniUserUUID: p.OmniUserUUID,
			MappingData: map[string]any{}, MappingDataText: map[string]any{}}}
	for code, v := range map[string]string{"name": p.Name, "mobile": p.Mobile, "email": p.Email} {
		if v != "" {
			ev.ExtraData.MappingData[code], ev.ExtraData.MappingDataText[code] = []any{v}, v
		}
	}
	s.emit(ev)
}

// SamplePerson is a seeded person as the sandbox's own pages (and tests)
// show it: who to try a lookup with.
type SamplePerson struct {
	OmniUserUUID string
	Name         string
	Mobile       string
	Email        string
	// Authorized counts the privacy policy versions the person authorised.
	Authorized int
}

// SamplePersons returns the first n seeded persons.
func (s *Server) SamplePersons(n int) []SamplePerson {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &s.tenant.People
	n = min(n, p.Seeded, len(p.Persons))
	out := make([]SamplePerson, n)
	for i := range out {
		pr := &p.Persons[i]
		out[i] = SamplePerson{OmniUserUUID: pr.UUID, Name: pr.Name, Mobile: pr.Mobile, Email: pr.Email,
			Authorized: p.authorizedCount(i)}
	}
	return out
}
