package sandbox

import (
	"cmp"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// crowd is a static crowd (用户群组): a named list of persons the marketing
// team sends to. Members are kept in the order they joined.
type crowd struct {
	GroupID     int64         `json:"group_id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Created     int64         `json:"created_timestamp"`
	Updated     int64         `json:"updated_timestamp"`
	Members     []crowdMember `json:"members"`

	memberSet map[string]struct{} // built on the first import; rebuilt after loading
}

// crowdMember is also crowds.users' item.
type crowdMember struct {
	OmniUserUUID string `json:"omni_user_uuid"`
	Joined       int64  `json:"joined_timestamp"`
}

// crowdItem is a crowd as crowds.list and crowds.detail answer it.
type crowdItem struct {
	GroupID     int64  `json:"group_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	UserCount   int    `json:"user_count"`
	Created     int64  `json:"created_timestamp"`
	Updated     int64  `json:"updated_timestamp"`
}

func (cr *crowd) item() crowdItem {
	return crowdItem{GroupID: cr.GroupID, Name: cr.Name, Description: cr.Description,
		UserCount: len(cr.Members), Created: cr.Created, Updated: cr.Updated}
}

// add makes uuid a member unless it already is; it reports whether it was added.
func (cr *crowd) add(uuid string, now int64) bool {
	if cr.memberSet == nil {
		cr.memberSet = make(map[string]struct{}, len(cr.Members))
		for _, m := range cr.Members {
			cr.memberSet[m.OmniUserUUID] = struct{}{}
		}
	}
	if _, ok := cr.memberSet[uuid]; ok {
		return false
	}
	cr.memberSet[uuid] = struct{}{}
	cr.Members = append(cr.Members, crowdMember{OmniUserUUID: uuid, Joined: now})
	return true
}

// crowdMembers lists a static crowd's members; ok is false for no such crowd.
func (p *peopleState) crowdMembers(groupID int64) (members []personContact, ok bool) {
	at := p.crowdIndex(groupID)
	if at < 0 {
		return nil, false
	}
	cr := p.Crowds[at]
	members = make([]personContact, 0, len(cr.Members))
	for _, m := range cr.Members {
		if i, ok := p.findUUID(m.OmniUserUUID); ok {
			members = append(members, p.Persons[i].contact())
		}
	}
	return members, true
}

func (p *peopleState) crowdIndex(groupID int64) int {
	return slices.IndexFunc(p.Crowds, func(cr *crowd) bool { return cr.GroupID == groupID })
}

// --- seeding ---

// crowdSeeds are the demo tenant's crowds. share is the part of all persons
// in the crowd (at least 30); createdDaysAgo and windowDays place the
// members' joining times; wechat crowds draw from persons with an openid.
var crowdSeeds = []struct {
	name, description          string
	share                      float64
	createdDaysAgo, windowDays int64
	wechat                     bool
}{
	{"2025 上海车展到访客户", "2025 年 4 月上海国际车展展台扫码登记的访客", 0.06, 560, 10, false},
	{"白皮书下载用户", "官网下载《2025 制造业数字化转型白皮书》的用户", 0.12, 420, 400, false},
	{"高意向未转化", "意向评分 80 分以上、尚未成交的联系人，销售重点跟进", 0.03, 200, 190, false},
	{"华东区经销商联系人", "上海、江苏、浙江、安徽四地经销商的对接人", 0.009, 640, 600, false},
	{"老客户复购召回", "两年内有购买记录、近 6 个月未复购的客户", 0.045, 120, 30, false},
	{"新品发布会报名", "2026 秋季新品发布会线上报名用户", 0.0225, 75, 45, false},
	{"公众号活跃粉丝", "近 30 天与服务号有互动的粉丝", 0.175, 700, 690, true},
	{"测试人群", "内部测试用，请勿用于正式发送", 0, 300, 1, false},
}

const secondsPerDay int64 = 24 * 3600

func (p *peopleState) seedCrowds(rng *mrand.Rand) {
	all := make([]int32, len(p.Persons))
	var fans []int32
	for i := range all {
		all[i] = int32(i)
		if p.Persons[i].OpenID != "" {
			fans = append(fans, int32(i))
		}
	}
	id := int64(20480 + rng.IntN(100))
	p.Crowds = make([]*crowd, 0, len(crowdSeeds))
	for _, cs := range crowdSeeds {
		pool := all
		if cs.wechat {
			pool = fans
		}
		size := min(max(int(cs.share*float64(len(p.Persons))), 30), len(pool))
		created := peopleSeedEnd - cs.createdDaysAgo*secondsPerDay + rng.Int64N(secondsPerDay)
		cr := &crowd{GroupID: id, Name: cs.name, Description: cs.description, Created: created}
		cr.Members = p.seedMembers(rng, pickDistinct(rng, pool, size), created, cs.windowDays*secondsPerDay)
		cr.Updated = created
		if n := len(cr.Members); n > 0 {
			cr.Updated = cr.Members[n-1].Joined
		}
		p.Crowds = append(p.Crowds, cr)
		id += 1 + int64(rng.IntN(40))
	}
	p.NextGroupID = id
}

// pickDistinct chooses k distinct entries of pool by a partial shuffle
// (pool's order changes; O(k)).
func pickDistinct(rng *mrand.Rand, pool []int32, k int) []int32 {
	for i := range k {
		j := i + rng.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	return pool[:k]
}

// seedMembers gives each chosen person a joining time in the crowd's
// window (never before the person existed), in joining order.
func (p *peopleState) seedMembers(rng *mrand.Rand, chosen []int32, from, window int64) []crowdMember {
	members := make([]crowdMember, len(chosen))
	for k, i := range chosen {
		pr := &p.Persons[i]
		joined := max(from+rng.Int64N(window), pr.Created+3600)
		members[k] = crowdMember{OmniUserUUID: pr.UUID, Joined: min(joined, peopleSeedEnd)}
	}
	slices.SortFunc(members, func(a, b crowdMember) int { return cmp.Compare(a.Joined, b.Joined) })
	return members
}

// --- crowds.* handlers ---

func (s *Server) crowdHandlers() map[string]handler {
	return map[string]handler{
		"crowds.list":   s.listCrowds,
		"crowds.detail": s.crowdDetail,
		"crowds.users":  s.crowdUsers,
		"crowds.create": s.createCrowd,
		"crowds.update": s.updateCrowd,
		"crowds.delete": s.deleteCrowd,
		"crowds.import": s.importToCrowd,
	}
}

// crowdRef is the group_id every call on one crowd carries.
type crowdRef struct {
	GroupID int64 `json:"group_id"`
}

// lookup finds the crowd: a missing id is 40001, an unknown one 40004.
func (p *peopleState) lookup(ref crowdRef) (*crowd, error) {
	if ref.GroupID == 0 {
		return nil, missing("group_id")
	}
	at := p.crowdIndex(ref.GroupID)
	if at < 0 {
		return nil, business("静态人群不存在: " + strconv.FormatInt(ref.GroupID, 10))
	}
	return p.Crowds[at], nil
}

func (r crowdRef) ref() crowdRef { return r }

// decodeCrowd reads a body naming a crowd (req embeds crowdRef) and finds it.
func (s *Server) decodeCrowd(c *call, req interface{ ref() crowdRef }) (*crowd, error) {
	if err := c.decode(req); err != nil {
		return nil, err
	}
	return s.tenant.People.lookup(req.ref())
}

// listCrowds answers newest first, filtered by a keyword in the name or description.
func (s *Server) listCrowds(c *call) (any, error) {
	var req struct {
		jing.PageRequest
		Keyword string `json:"keyword"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	kw := strings.ToLower(strings.TrimSpace(req.Keyword))
	items := make([]crowdItem, 0, len(s.tenant.People.Crowds))
	for _, cr := range slices.Backward(s.tenant.People.Crowds) {
		if kw == "" || strings.Contains(strings.ToLower(cr.Name+"\n"+cr.Description), kw) {
			items = append(items, cr.item())
		}
	}
	return paginate(items, req.PageRequest)
}

func (s *Server) crowdDetail(c *call) (any, error) {
	var req crowdRef
	cr, err := s.decodeCrowd(c, &req)
	if err != nil {
		return nil, err
	}
	return cr.item(), nil
}

func (s *Server) crowdUsers(c *call) (any, error) {
	var req struct {
		crowdRef
		jing.PageRequest
	}
	cr, err := s.decodeCrowd(c, &req)
	if err != nil {
		return nil, err
	}
	return paginate(cr.Members, req.PageRequest)
}

// crowdWrite is the body of crowds.create and crowds.update.
type crowdWrite struct {
	crowdRef
	Name        string `json:"name"`
	Description string `json:"description"`
}

// check validates a name and description; names are unique in the tenant
// (the crowd being renamed may keep its own).
func (p *peopleState) check(w *crowdWrite) error {
	w.Name, w.Description = strings.TrimSpace(w.Name), strings.TrimSpace(w.Description)
	switch {
	case w.Name == "":
		return missing("name")
	case utf8.RuneCountInString(w.Name) > 50:
		return invalid("name", "长度不能超过 50 个字符")
	case utf8.RuneCountInString(w.Description) > 200:
		return invalid("description", "长度不能超过 200 个字符")
	}
	for _, cr := range p.Crowds {
		if cr.Name == w.Name && cr.GroupID != w.GroupID {
			return business("人群名称已存在: " + w.Name)
		}
	}
	return nil
}

func (s *Server) createCrowd(c *call) (any, error) {
	var req crowdWrite
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	req.GroupID = 0 // a new crowd's name must differ from every other
	p := &s.tenant.People
	if err := p.check(&req); err != nil {
		return nil, err
	}
	now := c.now.Unix()
	cr := &crowd{GroupID: s.nextID("crowd_group_id"), Name: req.Name, Description: req.Description, Created: now, Updated: now,
		Members: []crowdMember{}}
	p.Crowds = append(p.Crowds, cr)
	return crowdRef{GroupID: cr.GroupID}, nil
}

func (s *Server) updateCrowd(c *call) (any, error) {
	var req crowdWrite
	cr, err := s.decodeCrowd(c, &req)
	if err != nil {
		return nil, err
	}
	if err := s.tenant.People.check(&req); err != nil {
		return nil, err
	}
	cr.Name, cr.Description, cr.Updated = req.Name, req.Description, c.now.Unix()
	return req.crowdRef, nil
}

func (s *Server) deleteCrowd(c *call) (any, error) {
	var req crowdRef
	if _, err := s.decodeCrowd(c, &req); err != nil {
		return nil, err
	}
	p := &s.tenant.People
	at := p.crowdIndex(req.GroupID)
	p.Crowds = slices.Delete(p.Crowds, at, at+1)
	return req, nil
}

// importToCrowd adds persons by omni_user_uuid. It is idempotent: a person
// already in the crowd counts as a success and is not added twice; an
// unknown uuid counts as an error.
func (s *Server) importToCrowd(c *call) (any, error) {
	var req struct {
		crowdRef
		OmniUserUUIDs []string `json:"omni_user_uuids"`
	}
	cr, err := s.decodeCrowd(c, &req)
	if err != nil {
		return nil, err
	}
	if err := checkBatchSize(c, "omni_user_uuids", len(req.OmniUserUUIDs)); err != nil {
		return nil, err
	}
	p := &s.tenant.People
	var result struct {
		SuccessNumber int `json:"success_number"`
		ErrorNumber   int `json:"error_number"`
	}
	now := c.now.Unix()
	for _, uuid := range req.OmniUserUUIDs {
		if !p.hasPerson(uuid) {
			result.ErrorNumber++
			continue
		}
		result.SuccessNumber++
		if cr.add(uuid, now) {
			cr.Updated = now
		}
	}
	return result, nil
}
