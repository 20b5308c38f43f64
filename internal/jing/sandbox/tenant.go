package sandbox

import (
	"fmt"
	"hash/fnv"
	mrand "math/rand/v2"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// tenant is the demo merchant's whole state. Every part is seeded from its
// own random stream (rngFor), so growing one domain's data never changes
// another's: the same seed always gives the same tenant.
type tenant struct {
	MID     string      `json:"mid"`
	Members []*member   `json:"members"`
	Objects objectState `json:"objects"` // business types, pipelines, options, fields (leads.go / objects.go)
	Leads   leadState   `json:"leads"`
	People  peopleState `json:"people"` // persons, crowds, privacy (people.go)
	Sends   sendState   `json:"sends"`  // SMS, EDM, scores (sends.go)
}

func seedTenant(cfg Config) *tenant {
	t := &tenant{MID: "124"}
	t.seedMembers(rngFor(cfg.Seed, "members"), 30)
	t.seedObjects(rngFor(cfg.Seed, "objects"))
	t.seedPeople(rngFor(cfg.Seed, "people"), cfg.Persons)
	t.seedLeads(rngFor(cfg.Seed, "leads"), cfg.Leads)
	t.seedSends(rngFor(cfg.Seed, "sends"))
	return t
}

// rngFor is the seeded random stream of one part of the tenant.
func rngFor(seed int64, part string) *mrand.Rand {
	h := fnv.New64a()
	h.Write([]byte(part))
	return mrand.New(mrand.NewPCG(uint64(seed), h.Sum64()))
}

// member is an employee of the tenant: a lead owner or collaborator.
type member struct {
	ID         int    `json:"id"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	Department string `json:"department"`
	Status     string `json:"status"`
}

var departments = []string{"市场部", "销售一部", "销售二部", "客户成功部", "渠道部", "华东大区", "华南大区"}

func (t *tenant) seedMembers(rng *mrand.Rand, n int) {
	for i := 0; i < n; i++ {
		status := "active"
		if rng.IntN(15) == 0 {
			status = "inactive"
		}
		t.Members = append(t.Members, &member{
			ID:         18400 + i,
			Name:       chineseName(rng),
			Email:      fmt.Sprintf("staff%02d@demo-tenant.cn", i+1),
			Department: departments[rng.IntN(len(departments))],
			Status:     status,
		})
	}
}

func (s *Server) memberHandlers() map[string]handler {
	return map[string]handler{"members.list": s.listMembers}
}

func (s *Server) listMembers(c *call) (any, error) {
	var req jing.PageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return paginate(s.tenant.Members, req)
}

// paginate answers one page the way the platform does: page is 1-based
// (default 1), perPage defaults to 10 and is at most 100.
func paginate[T any](items []T, req jing.PageRequest) (jing.Page[T], error) {
	page, per := req.Page, req.PerPage
	if page == 0 {
		page = 1
	}
	if per == 0 {
		per = 10
	}
	if page < 1 {
		return jing.Page[T]{}, invalid("page", "must be at least 1")
	}
	if per < 1 || per > 100 {
		return jing.Page[T]{}, invalid("perPage", "must be between 1 and 100")
	}
	total := len(items)
	from := min((page-1)*per, total)
	to := min(from+per, total)
	out := make([]T, to-from)
	copy(out, items[from:to])
	return jing.Page[T]{Items: out, Meta: jing.Meta{
		TotalCount: total, PageCount: (total + per - 1) / per, CurrentPage: page, PerPage: per,
	}}, nil
}

var (
	surnames    = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	givenChars  = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁婷雪琳晨阳欣怡思佳子涵梓轩宇泽若曦嘉文博昊天一诺雨萱")
	pinyinParts = []string{"wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu", "guo", "lin", "luo", "he", "gao", "xiao", "mei", "ting", "hao", "yu", "jie", "min", "lei", "yan", "fang"}
)

// chineseName draws a realistic two- or three-character name.
func chineseName(rng *mrand.Rand) string {
	name := []rune{surnames[rng.IntN(len(surnames))], givenChars[rng.IntN(len(givenChars))]}
	if rng.IntN(3) > 0 {
		name = append(name, givenChars[rng.IntN(len(givenChars))])
	}
	return string(name)
}
