package sandbox

import (
	"fmt"
	mrand "math/rand/v2"
	"strconv"
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

// --- seeding ---

// peopleSeedEnd is when the seeded history ends (2026-11-01 00:00 China
// time): fixed, so that the tenant is a pure function of the seed.
const (
	peopleSeedEnd  int64 = 1793462400
	peopleSeedSpan int64 = 2 * 365 * 24 * 3600
)

func (t *tenant) seedPeople(rng *mrand.Rand, n int) {
	p := &t.People
	*p = peopleState{ConsentSalt: rng.Uint64(), Persons: make([]person, 0, n), index: newPersonIndex(n)}
	first, step := peopleSeedEnd-peopleSeedSpan, peopleSeedSpan/int64(max(n, 1))
	for i := range n {
		p.addPerson(p.seedPerson(rng, first+int64(i)*step+rng.Int64N(step+1)))
	}
	p.Seeded = n
	p.seedCrowds(rng)
	mid, _ := strconv.ParseInt(t.MID, 10, 64)
	owner := int64(0)
	if len(t.Members) > 0 {
		owner = int64(t.Members[0].ID)
	}
	p.Policies = seedPolicies(rng, mid, owner)
}

// seedPerson draws one realistic contact created at created.
func (p *peopleState) seedPerson(rng *mrand.Rand, created int64) person {
	pr := person{UUID: uuid22(rng), Name: chineseName(rng), Created: created, Updated: created}
	pr.Gender = [2]string{"男", "女"}[rng.IntN(2)]
	pr.City = personCities[rng.IntN(len(personCities))]
	co := -1
	if rng.IntN(10) < 7 { // the rest are consumers without a company
		co = rng.IntN(len(personCompanies))
		pr.Company, pr.Title = personCompanies[co].name, personTitles[rng.IntN(len(personTitles))]
	}
	pr.Mobile = p.unused(idMobile, rng, randomMobile)
	if rng.IntN(100) < 65 {
		pr.Email = p.unused(idEmail, rng, func(r *mrand.Rand) string { return seedEmail(r, pr.Name, co) })
	}
	if rng.IntN(100) < 45 {
		pr.OpenID = p.unused(idOpenID, rng, func(r *mrand.Rand) string { return seedToken(r, "o", 28) })
		if rng.IntN(10) < 7 {
			pr.UnionID = p.unused(idUnionID, rng, func(r *mrand.Rand) string { return seedToken(r, "o", 28) })
		}
	}
	if co >= 0 && rng.IntN(10) == 0 {
		pr.External = p.unused(idExternal, rng, func(r *mrand.Rand) string { return seedToken(r, "wm", 32) })
	}
	return pr
}

// unused draws values until one is not bound to anyone yet.
func (p *peopleState) unused(t idType, rng *mrand.Rand, draw func(*mrand.Rand) string) string {
	for {
		if v := draw(rng); !p.isBound(t, v) {
			return v
		}
	}
}

func (p *peopleState) isBound(t idType, v string) bool {
	_, ok := p.find(t, v)
	return ok
}

var seedMobilePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
	"152", "153", "155", "156", "157", "158", "159", "166", "173", "176", "177", "180", "181", "182", "183",
	"185", "186", "187", "188", "189", "191", "198", "199"}

// randomMobile draws a realistic mainland mobile number (SMS audiences use it too).
func randomMobile(rng *mrand.Rand) string {
	var b [11]byte
	copy(b[:], seedMobilePrefixes[rng.IntN(len(seedMobilePrefixes))])
	for i := 3; i < 11; i++ {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b[:])
}

const seedTokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// seedToken looks like a WeChat openid/unionid or a WeCom external_userid.
func seedToken(rng *mrand.Rand, prefix string, n int) string {
	b := make([]byte, n)
	copy(b, prefix)
	for i := len(prefix); i < n; i++ {
		b[i] = seedTokenAlphabet[rng.IntN(len(seedTokenAlphabet))]
	}
	return string(b)
}

var seedMailDomains = []string{"qq.com", "qq.com", "163.com", "163.com", "126.com", "foxmail.com", "sina.com", "outlook.com", "gmail.com", "139.com"}

// seedEmail spells the name in pinyin at a free mail domain, or at the
// company's domain for half of those who have one; some use a QQ number.
func seedEmail(rng *mrand.Rand, name string, company int) string {
	family, given := namePinyin(name)
	if company >= 0 && rng.IntN(2) == 0 {
		return given + "." + family + "@" + personCompanies[company].domain
	}
	var local string
	switch rng.IntN(5) {
	case 0:
		local = given + "." + family
	case 1:
		local = family + given + strconv.Itoa(rng.IntN(100))
	case 2:
		return strconv.Itoa(100000000+rng.IntN(900000000)) + "@qq.com"
	default:
		local = family + given + strconv.Itoa(1970+rng.IntN(36))
	}
	return local + "@" + seedMailDomains[rng.IntN(len(seedMailDomains))]
}

// pinyin of the characters chineseName draws (tenant.go).
var pinyinOf = func() map[rune]string {
	const table = "王wang李li张zhang刘liu陈chen杨yang黄huang赵zhao吴wu周zhou徐xu孙sun马ma朱zhu胡hu郭guo何he高gao林lin罗luo郑zheng梁liang谢xie宋song唐tang许xu韩han冯feng邓deng曹cao彭peng曾zeng肖xiao田tian董dong袁yuan潘pan于yu蒋jiang蔡cai余yu杜du叶ye程cheng苏su魏wei吕lv丁ding任ren沈shen姚yao卢lu姜jiang崔cui钟zhong谭tan陆lu汪wang范fan金jin石shi廖liao贾jia夏xia韦wei付fu方fang白bai邹zou孟meng熊xiong秦qin邱qiu江jiang尹yin薛xue闫yan段duan雷lei侯hou龙long史shi陶tao黎li贺he顾gu毛mao郝hao龚gong邵shao万wan钱qian严yan覃qin武wu戴dai莫mo孔kong向xiang汤tang" +
		"伟wei芳fang娜na敏min静jing丽li强qiang磊lei军jun洋yang勇yong艳yan杰jie娟juan涛tao明ming超chao秀xiu霞xia平ping刚gang桂gui英ying华hua玉yu萍ping红hong娥e玲ling芬fen燕yan彬bin鹏peng辉hui斌bin宇yu浩hao凯kai健jian俊jun帆fan帅shuai旭xu宁ning婷ting雪xue琳lin晨chen阳yang欣xin怡yi思si佳jia子zi涵han梓zi轩xuan泽ze若ruo曦xi嘉jia文wen博bo昊hao天tian一yi诺nuo雨yu萱xuan"
	m := map[rune]string{}
	var cur rune
	for _, r := range table {
		if r >= 'a' && r <= 'z' {
			m[cur] += string(r)
		} else {
			cur = r
		}
	}
	return m
}()

// namePinyin spells a name's family and given parts ("zhang", "wei").
func namePinyin(name string) (family, given string) {
	for i, r := range name {
		py, ok := pinyinOf[r]
		if !ok {
			py = "x"
		}
		if i == 0 {
			family = py
		} else {
			given += py
		}
	}
	return family, given
}

var personCities = []string{"上海", "上海", "北京", "北京", "深圳", "广州", "杭州", "杭州", "苏州", "南京", "成都",
	"武汉", "西安", "天津", "重庆", "宁波", "无锡", "合肥", "长沙", "青岛", "厦门", "郑州", "济南", "佛山"}

var personTitles = []string{"市场经理", "市场总监", "采购经理", "采购总监", "IT 主管", "总经理", "销售代表",
	"高级工程师", "运营专员", "财务经理", "项目经理", "首席技术官", "产品经理", "品牌主管", "行政主管"}

var personCompanies = []struct{ name, domain string }{
	{"上海华信智能科技有限公司", "huaxin-tech.cn"},
	{"杭州云帆数据服务有限公司", "yunfan-data.com"},
	{"深圳前海启明电子有限公司", "qiming-e.com"},
	{"苏州恒瑞精密制造有限公司", "hengrui-pm.cn"},
	{"北京博远咨询有限公司", "boyuan-consult.com"},
	{"广州南方汽车销售服务有限公司", "nanfang-auto.cn"},
	{"南京金陵医药股份有限公司", "jinling-pharma.com"},
	{"成都天府软件园发展有限公司", "tfsp.cn"},
	{"宁波东海新材料有限公司", "donghai-nm.com"},
	{"武汉光谷生物科技有限公司", "ovbio.cn"},
	{"无锡长江物流有限公司", "cj-logistics.cn"},
	{"上海申通商务酒店管理有限公司", "shentong-hotel.com"},
	{"合肥科大智联信息技术有限公司", "kdzl.com.cn"},
	{"青岛海湾家电销售有限公司", "haiwan-home.com"},
	{"厦门鹭岛文化传媒有限公司", "ludao-media.cn"},
	{"天津滨海重工机械有限公司", "binhai-hi.com"},
}

// --- users.* handlers ---

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
