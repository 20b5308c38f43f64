package sandbox

import (
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Seeding of the demo tenant's accounts and leads (see seedLeads).

// leadsEpoch anchors the seeded history: seeding does not read the clock,
// so one seed always gives the same tenant, timestamps included.
var leadsEpoch = time.Date(2026, 11, 20, 18, 0, 0, 0, leadZone)

const (
	leadHistoryDays      = 180
	accountHistoryDays   = 720
	firstLeadObjectID    = 3001
	firstAccountObjectID = 601
)

type companyBrand struct{ zh, slug string }

var companyBrands = []companyBrand{
	{"云帆", "yunfan"}, {"智联", "zhilian"}, {"星辰", "xingchen"}, {"华信", "huaxin"}, {"博远", "boyuan"},
	{"天衡", "tianheng"}, {"中科", "zhongke"}, {"锐思", "ruisi"}, {"恒通", "hengtong"}, {"卓越", "zhuoyue"},
	{"蓝海", "lanhai"}, {"创新", "chuangxin"}, {"鼎盛", "dingsheng"}, {"汇智", "huizhi"}, {"瑞丰", "ruifeng"},
	{"远景", "yuanjing"}, {"凌云", "lingyun"}, {"金桥", "jinqiao"}, {"新锐", "xinrui"}, {"海川", "haichuan"},
	{"明德", "mingde"}, {"启航", "qihang"}, {"盛华", "shenghua"}, {"宏图", "hongtu"}, {"奥维", "aowei"},
	{"易达", "yida"}, {"思源", "siyuan"}, {"同创", "tongchuang"}, {"嘉禾", "jiahe"}, {"正泰", "zhengtai"},
	{"九州", "jiuzhou"}, {"华彩", "huacai"}, {"优品", "youpin"}, {"融信", "rongxin"}, {"安捷", "anjie"},
	{"拓普", "tuopu"}, {"赛博", "saibo"}, {"格林", "gelin"}, {"迈瑞", "mairui"}, {"德远", "deyuan"},
}

// companyIndustry is an industry (the lead's industry text) and the word a
// company of it carries in its name.
type companyIndustry struct{ name, word, slug string }

var companyIndustries = []companyIndustry{
	{"互联网", "网络科技", "tech"}, {"软件与信息服务", "信息技术", "it"}, {"智能制造", "智能装备", "zn"},
	{"医疗健康", "医疗器械", "med"}, {"生物医药", "生物医药", "bio"}, {"金融", "金融服务", "fin"},
	{"教育", "教育科技", "edu"}, {"零售与消费品", "商贸", "trade"}, {"汽车", "汽车零部件", "auto"},
	{"新能源", "新能源", "energy"}, {"物流运输", "供应链管理", "logistics"}, {"专业服务", "企业管理咨询", "consulting"},
}

var (
	leadTitles = []string{"市场总监", "市场经理", "品牌经理", "数字营销经理", "销售总监", "销售经理", "IT经理", "CIO",
		"首席执行官", "总经理", "采购经理", "运营经理", "产品经理", "数字化负责人", "市场专员", "客户成功经理"}
	leadStreets = []string{"科技园路", "人民路", "建设大道", "创新路", "世纪大道", "中山路", "解放路", "高新大道"}
	// sourceTypeWeights follow sourceTypes: forms and the official account bring most leads.
	sourceTypeWeights = []int{22, 18, 14, 12, 9, 10, 6, 5, 4}
	sourceNames       = map[string][]string{
		"官网表单":  {"官网-预约演示", "官网-下载白皮书", "官网-免费试用"},
		"微信公众号": {"公众号菜单-联系我们", "公众号文章-行业报告", "公众号-活动报名"},
		"线下展会":  {"2026 中国数字营销峰会", "2026 上海国际广告节", "华南零售数字化大会"},
		"企业微信":  {"企微名片", "企微社群-产品交流群"},
		"渠道推荐":  {"合作伙伴报备", "代理商推荐"},
		"广告投放":  {"百度搜索推广", "微信朋友圈广告", "巨量引擎信息流"},
		"小程序":   {"小程序-产品目录", "小程序-直播预约"},
		"400热线": {"400 客服热线"},
		"直播活动":  {"私域增长直播课", "营销自动化实战直播"},
	}
	adSources = []struct{ source, campaign, term string }{
		{"baidu", "2026Q3_品牌词", "营销自动化"}, {"wechat", "2026Q4_朋友圈", "私域运营"}, {"oceanengine", "2026Q4_信息流", "SCRM"},
	}
	leadNotes = []string{"已电话沟通，客户对营销自动化感兴趣", "已发送产品资料和报价单", "约了下周二线上演示",
		"客户预算待确认，月底再跟进", "已添加企业微信", "客户在比较竞品，需要案例支持", "决策人出差，下周再联系",
		"已安排售前顾问对接", "客户要求试用账号", "展会现场交流过，意向较强"}
	mobilePrefixes = []string{"135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159",
		"177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "199"}
)

// leadSeeder draws the seeded accounts and leads from the leads stream.
type leadSeeder struct {
	t       *tenant
	rng     *mrand.Rand
	meta    *objectMeta
	active  []*member           // members who may own leads and collaborate
	used    map[string]bool     // mobiles and emails already taken
	custom  map[string]crmField // custom lead fields by name
	persons int
}

func (t *tenant) seedLeads(rng *mrand.Rand, n int) {
	g := &leadSeeder{t: t, rng: rng, meta: &t.Objects.Lead, used: make(map[string]bool, n),
		custom: map[string]crmField{}, persons: t.People.personCount()}
	for _, m := range t.Members {
		if m.Status == "active" {
			g.active = append(g.active, m)
		}
	}
	for _, f := range g.meta.Fields {
		if f.IsPreset == 0 {
			g.custom[f.Name] = f
		}
	}
	ls := &t.Leads
	ls.Accounts = g.accounts(min(400, max(20, n/8)))
	ls.Leads = make([]*lead, n)
	for i := range ls.Leads {
		ls.Leads[i] = g.lead(i, n)
	}
	ls.NextObjectID = int64(firstLeadObjectID + n)
	ls.NextAccountID = int64(firstAccountObjectID + len(ls.Accounts))
	ls.index()
}

// spread is the i-th of k moments over the last days before the epoch, in order.
func (g *leadSeeder) spread(i, k, days int) int64 {
	span := int64(days) * 86400
	step := max(span/int64(k), 1)
	return leadsEpoch.Unix() - span + int64(i)*span/int64(k) + g.rng.Int64N(step)
}

func (g *leadSeeder) accounts(k int) []*crmAccount {
	combos := g.rng.Perm(len(companyBrands) * len(companyIndustries))
	types, sizes := g.t.Objects.Account.BusinessTypes, g.t.Objects.Account.Options["company_size"]
	out := make([]*crmAccount, k)
	for i := range out {
		c := combos[i%len(combos)]
		b, ind := companyBrands[c%len(companyBrands)], companyIndustries[c/len(companyBrands)]
		region, name := g.companyPlace(b.zh + ind.word)
		created := g.spread(i, k, accountHistoryDays)
		out[i] = &crmAccount{JingUUID: uuid22(g.rng), ObjectID: firstAccountObjectID + i,
			BusinessType: types[min(g.rng.IntN(10)/9, len(types)-1)].JingUUID, Name: name, Industry: ind.name,
			OfficialWebsite: "https://www." + b.slug + "-" + ind.slug + ".com", CountryRegion: region,
			CompanySize: sizes[g.rng.IntN(len(sizes))].JingUUID, Owner: g.owner(),
			CreatedTimestamp: created, UpdatedTimestamp: created + g.rng.Int64N(leadsEpoch.Unix()-created+1)}
	}
	return out
}

// companyPlace draws where a company sits (a city's option-set id) and
// names it as Chinese companies are named: 上海云帆网络科技有限公司.
func (g *leadSeeder) companyPlace(core string) (region, name string) {
	ci := 0
	if g.rng.IntN(100) >= 94 {
		ci = 1 + g.rng.IntN(len(regionCountries)-1)
	}
	country := regionCountries[ci]
	weights := make([]int, len(country.regions))
	for i, r := range country.regions {
		weights[i] = r.weight
	}
	ri := leadWeighted(g.rng, weights)
	ci2 := g.rng.IntN(len(country.regions[ri].cities))
	region = g.meta.OptionSets["country_region"][ci].Child[ri].Child[ci2].JingUUID
	suffix := "有限公司"
	if g.rng.IntN(5) == 0 {
		suffix = "股份有限公司"
	}
	if ci != 0 {
		return region, core + "（" + country.name + "）" + suffix
	}
	place := country.regions[ri].name
	if !strings.HasSuffix(place, "市") { // a province: name the city
		place = country.regions[ri].cities[ci2]
	}
	return region, strings.TrimSuffix(place, "市") + core + suffix
}

// leadWeighted draws an index with the given weights.
func leadWeighted(rng *mrand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	r := rng.IntN(total)
	for i, w := range weights {
		if r < w {
			return i
		}
		r -= w
	}
	return len(weights) - 1
}

// owner draws an owning member, rarely one who has since left.
func (g *leadSeeder) owner() string {
	m := g.t.Members[g.rng.IntN(len(g.t.Members))]
	if m.Status != "active" && g.rng.IntN(4) > 0 {
		m = g.active[g.rng.IntN(len(g.active))]
	}
	return strconv.Itoa(m.ID)
}

func (g *leadSeeder) lead(i, n int) *lead {
	created := g.spread(i, n, leadHistoryDays)
	bt := &g.meta.BusinessTypes[leadWeighted(g.rng, []int{60, 25, 15}[:len(g.meta.BusinessTypes)])]
	st := g.stage(bt, leadsEpoch.Unix()-created < 14*86400)
	accts := g.t.Leads.Accounts
	acct := accts[int(float64(len(accts))*g.rng.Float64()*g.rng.Float64())] // a few companies bring many leads
	l := &lead{JingUUID: uuid22(g.rng), ObjectID: firstLeadObjectID + i, LifeStatus: st.LifeStatus,
		Fields: map[string]string{"business_type": bt.JingUUID, "lead_status": st.JingUUID}, Collaborators: []string{}}
	g.contact(l, i, n, acct)
	g.company(l, acct)
	g.source(l)
	g.ownership(l, bt, st)
	g.customs(l, bt, created)
	l.CreatedTimestamp, l.UpdatedTimestamp = created, created
	if st.Sort > 1 || g.rng.IntN(100) < 30 {
		l.UpdatedTimestamp = created + g.rng.Int64N(leadsEpoch.Unix()-created+1)
	}
	return l
}

// stage draws a status: most leads are early in the pipeline, and recent
// ones more so.
func (g *leadSeeder) stage(bt *businessType, recent bool) *leadStage {
	weights := []int{35, 22, 15, 10, 6, 12}
	if recent {
		weights = []int{70, 20, 5, 3, 0, 2}
	}
	return &bt.Stages[leadWeighted(g.rng, weights[:len(bt.Stages)])]
}

// contact takes the i-th person's name, mobile and email, or makes them
// up when the tenant has fewer persons than leads.
func (g *leadSeeder) contact(l *lead, i, n int, a *crmAccount) {
	var p personContact
	switch {
	case g.persons >= n:
		p = g.t.People.personAt(i * g.persons / n)
	case i < g.persons:
		p = g.t.People.personAt(i)
	}
	if p.Name == "" {
		p.Name = chineseName(g.rng)
	}
	if p.Mobile == "" && p.Email == "" {
		p.Mobile = g.mobile()
		if g.rng.IntN(100) < 65 {
			p.Email = g.email(a)
		}
	}
	l.OmniUserUUID = p.OmniUserUUID
	f := l.Fields
	setOrDelete(f, "name", p.Name)
	setOrDelete(f, "mobile", p.Mobile)
	setOrDelete(f, "email", p.Email)
	if r := []rune(p.Name); len(r) > 1 && g.rng.IntN(2) == 0 {
		f["last_name"], f["first_name"] = string(r[:1]), string(r[1:])
	}
}

func (g *leadSeeder) mobile() string {
	for {
		m := mobilePrefixes[g.rng.IntN(len(mobilePrefixes))] + fmt.Sprintf("%08d", g.rng.IntN(100000000))
		if !g.used[m] {
			g.used[m] = true
			return m
		}
	}
}

// email is an address at the lead's company.
func (g *leadSeeder) email(a *crmAccount) string {
	domain := strings.TrimPrefix(a.OfficialWebsite, "https://www.")
	for {
		local := pinyinParts[g.rng.IntN(len(pinyinParts))] + "." + pinyinParts[g.rng.IntN(len(pinyinParts))]
		if g.rng.IntN(2) == 0 {
			local += strconv.Itoa(g.rng.IntN(100))
		}
		if e := local + "@" + domain; !g.used[e] {
			g.used[e] = true
			return e
		}
	}
}

func (g *leadSeeder) company(l *lead, a *crmAccount) {
	f := l.Fields
	f["company_id"], f["industry"], f["title"] = a.Name, a.Industry, leadTitles[g.rng.IntN(len(leadTitles))]
	if g.rng.IntN(10) < 9 {
		f["country_region"] = a.CountryRegion
	}
	if g.rng.IntN(10) < 7 {
		f["official_website"] = a.OfficialWebsite
	}
	if g.rng.IntN(100) < 45 {
		f["account_id"] = a.JingUUID
	}
	if g.rng.IntN(100) < 25 {
		path, _ := g.meta.OptionSets["country_region"].Path(a.CountryRegion)
		f["address"] = path[len(path)-1].Name + leadStreets[g.rng.IntN(len(leadStreets))] + strconv.Itoa(1+g.rng.IntN(999)) + "号"
	}
}

// source records where the lead came from.
func (g *leadSeeder) source(l *lead) {
	f := l.Fields
	i := leadWeighted(g.rng, sourceTypeWeights)
	opt := g.meta.Options["source_type"][i]
	names := sourceNames[opt.Name]
	f["source_type"], f["source_name"] = opt.JingUUID, names[g.rng.IntN(len(names))]
	switch opt.Name {
	case "广告投放":
		ad := adSources[g.rng.IntN(len(adSources))]
		f["utm_source"], f["utm_medium"], f["utm_campaign"], f["utm_terms"] = ad.source, "cpc", ad.campaign, ad.term
	case "官网表单":
		f["website_name"], f["website_page_name"] = "企业官网", strings.TrimPrefix(f["source_name"], "官网-")
	}
}

// ownership assigns an owner (and sometimes collaborators), or leaves a
// new lead in the public pool.
func (g *leadSeeder) ownership(l *lead, bt *businessType, st *leadStage) {
	if st.Sort == 1 && g.rng.IntN(100) < 35 {
		l.LeadPool = g.t.Objects.poolFor(bt)
		return
	}
	l.Fields["owner"] = g.owner()
	if st.Sort > 1 && g.rng.IntN(100) < 40 {
		l.Fields["latest_remark"] = leadNotes[g.rng.IntN(len(leadNotes))]
	}
	for k := g.rng.IntN(100); k < 20; k += 10 { // 20% get one collaborator, 10% two
		id := strconv.Itoa(g.active[g.rng.IntN(len(g.active))].ID)
		if id != l.Fields["owner"] && !slices.Contains(l.Collaborators, id) {
			l.Collaborators = append(l.Collaborators, id)
		}
	}
}

// customs fills some custom fields, as a team that uses them would.
func (g *leadSeeder) customs(l *lead, bt *businessType, created int64) {
	if g.rng.IntN(100) >= 40 {
		return
	}
	l.Custom = map[string]json.RawMessage{}
	g.setCustom(l, "公司规模", g.choices("公司规模", 1))
	g.setCustom(l, "关注产品", g.choices("关注产品", 1+g.rng.IntN(3)))
	g.setCustom(l, "预算（万元）", 5*(1+g.rng.IntN(60)))
	g.setCustom(l, "预计采购时间", time.Unix(created, 0).In(leadZone).AddDate(0, 0, 30+g.rng.IntN(150)).Format(time.DateOnly))
	if g.rng.IntN(5) == 0 {
		g.setCustom(l, "微信号", "wxid_"+customSuffix(g.rng))
	}
	switch bt.Name {
	case "展会线索":
		g.setCustom(l, "展会名称", sourceNames["线下展会"][g.rng.IntN(3)])
		g.setCustom(l, "展位号", fmt.Sprintf("%c%02d", 'A'+g.rng.IntN(6), 1+g.rng.IntN(40)))
	case "渠道合作":
		accts := g.t.Leads.Accounts
		g.setCustom(l, "渠道伙伴", accts[g.rng.IntN(len(accts))].Name)
		g.setCustom(l, "合作级别", g.choices("合作级别", 1))
	}
}

// choices draws k distinct options of a custom select field, comma-joined.
func (g *leadSeeder) choices(name string, k int) string {
	opts := g.meta.Options[g.custom[name].Code]
	var ids []string
	for _, i := range g.rng.Perm(len(opts))[:min(k, len(opts))] {
		ids = append(ids, opts[i].JingUUID)
	}
	return strings.Join(ids, ",")
}

func (g *leadSeeder) setCustom(l *lead, name string, v any) {
	if f, ok := g.custom[name]; ok {
		raw, _ := json.Marshal(v)
		l.Custom[f.Code] = raw
	}
}
