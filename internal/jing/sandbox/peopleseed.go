package sandbox

import (
	mrand "math/rand/v2"
	"strconv"
)

// Seeding the tenant's persons: names, mobiles, emails and companies drawn
// from the seed, so that the same seed always gives the same tenant.

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
