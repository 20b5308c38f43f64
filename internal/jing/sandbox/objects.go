package sandbox

import (
	mrand "math/rand/v2"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// objectState is the CRM metadata of the tenant: per object (lead,
// account) its business types, fields, select options and option-set
// trees; for leads also each business type's status pipeline, and the
// public lead pools. It is seeded once and only read afterwards.
type objectState struct {
	Lead      objectMeta          `json:"lead"`
	Account   objectMeta          `json:"account"`
	LeadPools []jing.SelectOption `json:"lead_pools"`
}

// objectMeta is the metadata of one CRM object.
type objectMeta struct {
	BusinessTypes []businessType `json:"business_types"`
	Fields        []crmField     `json:"fields"`
	// Options are the choices of select and multi_select fields, by field code.
	Options map[string][]jing.SelectOption `json:"options"`
	// OptionSets are the trees of option_set fields, by field code.
	OptionSets map[string]jing.OptionTree `json:"option_sets"`
}

// businessType is one business type of an object; lead business types
// carry their status pipeline.
type businessType struct {
	jing.BusinessType
	Stages []leadStage `json:"stages,omitempty"`
}

// leadStage is one status of a lead pipeline.
type leadStage struct {
	jing.LeadStatus
	// Outcome marks the closed stages: "won" (converted) or "lost" (invalid).
	Outcome string `json:"outcome,omitempty"`
	// LifeStatus is the lifecycle stage of a lead at this status.
	LifeStatus string `json:"life_status"`
}

// crmField is one field as objects.fields describes it.
type crmField struct {
	jing.ObjectField
	// BusinessTypes limits a custom field to some business types (none: all).
	BusinessTypes []string `json:"business_types,omitempty"`
}

// readOnlyCustomTypes are the custom field types the platform documents
// as impossible to create or update through the API.
var readOnlyCustomTypes = map[string]bool{"department": true, "multi_department": true, "image": true, "look_up": true}

// Lifecycle stages of a lead (life_status) and their labels.
var lifeStatusLabels = map[string]string{
	"baby_lead": "初始线索", "mql": "市场认可线索", "sql": "销售认可线索", "customer": "已转化客户", "invalid": "无效线索",
}

const (
	outcomeWon  = "won"
	outcomeLost = "lost"
)

// presetField builds a preset field; w says whether the API may write it.
func presetField(code, name, typ string, w bool) crmField {
	f := crmField{ObjectField: jing.ObjectField{Code: code, Name: name, Type: typ, IsPreset: 1}}
	if w {
		f.Writable = 1
	}
	return f
}

func requiredField(f crmField) crmField { f.Required = 1; return f }

// leadPresetFields are the documented lead fields (seeds/001, leads.create)
// and the read-only ones leads.query adds.
var leadPresetFields = []crmField{
	requiredField(presetField("business_type", "业务类型", "select", true)),
	requiredField(presetField("name", "姓名", "text", true)),
	presetField("mobile", "手机号", "mobile", true), presetField("email", "邮箱", "email", true),
	presetField("first_name", "名", "text", true), presetField("last_name", "姓", "text", true),
	presetField("lead_status", "线索状态", "select", true), presetField("account_id", "所属客户", "look_up", true),
	presetField("company_id", "公司名称", "text", true), presetField("official_website", "公司官网", "url", true),
	presetField("industry", "行业", "text", true), presetField("title", "职务", "text", true),
	presetField("country_region", "国家/地区", "option_set", true), presetField("address", "详细地址", "textarea", true),
	presetField("description", "描述", "textarea", true), presetField("latest_remark", "最新备注", "textarea", true),
	presetField("department", "部门", "department", true),
	presetField("param_1", "最新推广参数1", "text", true), presetField("param_2", "最新推广参数2", "text", true),
	presetField("param_3", "最新推广参数3", "text", true), presetField("param_4", "最新推广参数4", "text", true),
	presetField("param_5", "最新推广参数5", "text", true),
	presetField("utm_source", "最新投放来源", "text", true), presetField("utm_medium", "最新投放渠道1", "text", true),
	presetField("utm_terms", "最新投放关键词", "text", true), presetField("utm_campaign", "最新投放活动", "text", true),
	presetField("utm_content", "最新投放内容", "text", true),
	presetField("source_type", "最新来源类型", "select", true), presetField("source_name", "最新来源名称", "text", true),
	presetField("website_name", "最新微站名称", "text", true), presetField("website_page_name", "最新微站页面名称", "text", true),
	presetField("source_custom_param", "最新自定义来源字段", "text", true),
	presetField("owner", "负责人", "look_up", true),
	presetField("life_status", "生命周期", "select", false), presetField("lead_pool", "所属公海池", "select", false),
	presetField("collaborators", "协作人", "multi_select", false),
	presetField("created_timestamp", "创建时间", "date", false), presetField("updated_timestamp", "更新时间", "date", false),
}

var accountPresetFields = []crmField{
	requiredField(presetField("business_type", "业务类型", "select", true)),
	requiredField(presetField("name", "客户名称", "text", true)),
	presetField("account_logo", "客户logo", "image", false),
	presetField("account_level", "客户等级", "select", true), presetField("account_type", "客户类型", "select", true),
	presetField("mobile", "电话", "mobile", true), presetField("email", "邮箱", "email", true),
	presetField("company_id", "公司名称", "text", true), presetField("country_region", "国家/地区", "option_set", true),
	presetField("address", "详细地址", "textarea", true), presetField("industry", "行业", "text", true),
	presetField("nature_enterprise", "企业性质", "select", true), presetField("company_size", "公司规模", "select", true),
	presetField("official_website", "公司官网", "url", true), presetField("description", "描述", "textarea", true),
	presetField("owner", "负责人", "look_up", true),
	presetField("created_timestamp", "创建时间", "date", false), presetField("updated_timestamp", "更新时间", "date", false),
}

// customSpec describes a custom field to seed; its code is drawn from the rng.
type customSpec struct {
	prefix, name, typ string
	options           []string // select / multi_select choices
	onlyFor           int      // index of the business type it belongs to; -1: all
}

var leadCustomSpecs = []customSpec{
	{"c_input_", "微信号", "text", nil, -1},
	{"c_textarea_", "需求描述", "textarea", nil, -1},
	{"c_number_", "预算（万元）", "number", nil, -1},
	{"c_date_", "预计采购时间", "date", nil, -1},
	{"c_select_", "公司规模", "select", companySizes, -1},
	{"c_multi_select_", "关注产品", "multi_select", []string{"SCRM", "营销自动化", "客户数据平台CDP", "企业微信运营", "短信与邮件营销", "活动管理"}, -1},
	{"c_option_set_", "意向产品线", "option_set", nil, -1},
	{"c_mobile_", "备用手机", "mobile", nil, -1},
	{"c_email_", "工作邮箱", "email", nil, -1},
	{"c_url_", "领英主页", "url", nil, -1},
	{"c_department_", "跟进部门", "department", nil, -1},
	{"c_multi_department_", "协同部门", "multi_department", nil, -1},
	{"c_image_", "名片照片", "image", nil, -1},
	{"c_look_up_", "关联商机", "look_up", nil, -1},
	{"c_input_", "展会名称", "text", nil, 1},
	{"c_input_", "展位号", "text", nil, 1},
	{"c_input_", "渠道伙伴", "text", nil, 2},
	{"c_select_", "合作级别", "select", []string{"金牌伙伴", "银牌伙伴", "认证伙伴"}, 2},
}

var accountCustomSpecs = []customSpec{
	{"c_input_", "统一社会信用代码", "text", nil, -1},
	{"c_select_", "客户来源", "select", []string{"线索转化", "渠道报备", "老客户推荐", "主动拓展"}, -1},
}

var companySizes = []string{"50人以下", "50-200人", "200-500人", "500-1000人", "1000人以上"}

// stageSpec is one status of a seeded pipeline.
type stageSpec struct{ name, outcome, life string }

// pipelineSpec is a lead business type and its pipeline.
type pipelineSpec struct {
	name   string
	stages []stageSpec
}

var leadPipelines = []pipelineSpec{
	{"预设业务类型", []stageSpec{{"新线索", "", "baby_lead"}, {"跟进中", "", "baby_lead"}, {"已联系", "", "mql"},
		{"有意向", "", "sql"}, {"已转化", outcomeWon, "customer"}, {"无效", outcomeLost, "invalid"}}},
	{"展会线索", []stageSpec{{"新线索", "", "baby_lead"}, {"待清洗", "", "baby_lead"}, {"跟进中", "", "mql"},
		{"有意向", "", "sql"}, {"已转化", outcomeWon, "customer"}, {"无效", outcomeLost, "invalid"}}},
	{"渠道合作", []stageSpec{{"新线索", "", "baby_lead"}, {"渠道跟进中", "", "baby_lead"}, {"已联系", "", "mql"},
		{"商机确认", "", "sql"}, {"已转化", outcomeWon, "customer"}, {"无效", outcomeLost, "invalid"}}},
}

// sourceTypes are the lead source_type options, most frequent first.
var sourceTypes = []string{"官网表单", "微信公众号", "线下展会", "企业微信", "渠道推荐", "广告投放", "小程序", "400热线", "直播活动"}

// regionSpec is a province (or state) and its cities, with how often
// seeded companies sit there.
type regionSpec struct {
	name   string
	weight int
	cities []string
}

type countrySpec struct {
	name    string
	regions []regionSpec
}

var regionCountries = []countrySpec{
	{"中国", []regionSpec{
		{"广东省", 20, []string{"广州市", "深圳市", "东莞市", "佛山市", "珠海市"}},
		{"上海市", 18, []string{"浦东新区", "徐汇区", "静安区", "闵行区"}},
		{"北京市", 16, []string{"海淀区", "朝阳区", "东城区", "西城区"}},
		{"浙江省", 14, []string{"杭州市", "宁波市", "温州市", "嘉兴市"}},
		{"江苏省", 12, []string{"南京市", "苏州市", "无锡市", "常州市"}},
		{"四川省", 6, []string{"成都市", "绵阳市", "德阳市"}},
		{"湖北省", 6, []string{"武汉市", "宜昌市", "襄阳市"}},
		{"山东省", 5, []string{"济南市", "青岛市", "烟台市"}},
		{"山西省", 3, []string{"太原市", "晋中市", "大同市"}},
	}},
	{"美国", []regionSpec{
		{"加利福尼亚州", 3, []string{"旧金山", "洛杉矶", "圣何塞"}},
		{"纽约州", 2, []string{"纽约"}},
		{"华盛顿州", 1, []string{"西雅图"}},
	}},
	{"日本", []regionSpec{{"东京都", 2, []string{"东京"}}, {"大阪府", 1, []string{"大阪"}}}},
	{"德国", []regionSpec{{"柏林州", 1, []string{"柏林"}}, {"巴伐利亚州", 1, []string{"慕尼黑"}}}},
}

// productLines is the tree of the custom option-set field 意向产品线.
var productLines = []regionSpec{
	{"营销云", 0, []string{"营销自动化", "SCRM", "客户数据平台CDP"}},
	{"专业服务", 0, []string{"实施服务", "培训与认证", "代运营"}},
}

func (t *tenant) seedObjects(rng *mrand.Rand) {
	o := &t.Objects
	regions := seedRegionTree(rng)
	o.Lead = seedObjectMeta(rng, leadPresetFields, leadCustomSpecs, leadBusinessTypes(rng), regions)
	o.Lead.Options["source_type"] = seedOptions(rng, sourceTypes)
	o.Account = seedObjectMeta(rng, accountPresetFields, accountCustomSpecs, []businessType{
		{BusinessType: jing.BusinessType{JingUUID: uuid22(rng), Name: "预设业务类型", IsDefault: 1}},
		{BusinessType: jing.BusinessType{JingUUID: uuid22(rng), Name: "重点客户"}},
	}, regions)
	o.Account.Options["account_level"] = seedOptions(rng, []string{"A", "B", "C", "D"})
	o.Account.Options["account_type"] = seedOptions(rng, []string{"潜在客户", "签约客户", "合作伙伴", "竞争对手"})
	o.Account.Options["nature_enterprise"] = seedOptions(rng, []string{"国有企业", "民营企业", "外资企业", "合资企业", "个人独资企业"})
	o.Account.Options["company_size"] = seedOptions(rng, companySizes)
	o.LeadPools = seedOptions(rng, []string{"公共线索池", "展会线索池"})
}

// leadBusinessTypes seeds two or three business types with their pipelines.
func leadBusinessTypes(rng *mrand.Rand) []businessType {
	n := len(leadPipelines)
	if rng.IntN(4) == 0 {
		n-- // some tenants have no channel business
	}
	out := make([]businessType, n)
	for i, p := range leadPipelines[:n] {
		bt := businessType{BusinessType: jing.BusinessType{JingUUID: uuid22(rng), Name: p.name}}
		if i == 0 {
			bt.IsDefault = 1
		}
		for j, st := range p.stages {
			bt.Stages = append(bt.Stages, leadStage{LeadStatus: jing.LeadStatus{JingUUID: uuid22(rng), Name: st.name, Sort: j + 1},
				Outcome: st.outcome, LifeStatus: st.life})
		}
		out[i] = bt
	}
	return out
}

func seedObjectMeta(rng *mrand.Rand, presets []crmField, customs []customSpec, types []businessType, regions jing.OptionTree) objectMeta {
	m := objectMeta{BusinessTypes: types, Fields: append([]crmField(nil), presets...),
		Options: map[string][]jing.SelectOption{}, OptionSets: map[string]jing.OptionTree{"country_region": regions}}
	for _, spec := range customs {
		if spec.onlyFor >= len(types) {
			continue // that business type was not seeded
		}
		f := crmField{ObjectField: jing.ObjectField{Code: spec.prefix + customSuffix(rng), Name: spec.name, Type: spec.typ}}
		if !readOnlyCustomTypes[spec.typ] {
			f.Writable = 1
		}
		if spec.onlyFor >= 0 {
			f.BusinessTypes = []string{types[spec.onlyFor].JingUUID}
		}
		switch spec.typ {
		case "select", "multi_select":
			m.Options[f.Code] = seedOptions(rng, spec.options)
		case "option_set":
			m.OptionSets[f.Code] = seedTree(rng, productLines)
		}
		m.Fields = append(m.Fields, f)
	}
	return m
}

// customSuffix is the random part of a custom field code (c_input_6wat4u6y).
func customSuffix(rng *mrand.Rand) string {
	const alphabet = "abcdefghijkmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func seedOptions(rng *mrand.Rand, names []string) []jing.SelectOption {
	out := make([]jing.SelectOption, len(names))
	for i, n := range names {
		out[i] = jing.SelectOption{JingUUID: uuid22(rng), Name: n}
	}
	return out
}

// seedRegionTree is country → province → city.
func seedRegionTree(rng *mrand.Rand) jing.OptionTree {
	out := make(jing.OptionTree, len(regionCountries))
	for i, c := range regionCountries {
		out[i] = jing.OptionNode{JingUUID: uuid22(rng), Name: c.name, Child: seedTree(rng, c.regions)}
	}
	return out
}

// seedTree is a two-level tree: each spec's name over its leaves.
func seedTree(rng *mrand.Rand, specs []regionSpec) jing.OptionTree {
	out := make(jing.OptionTree, len(specs))
	for i, r := range specs {
		node := jing.OptionNode{JingUUID: uuid22(rng), Name: r.name, Child: make([]jing.OptionNode, len(r.cities))}
		for j, city := range r.cities {
			node.Child[j] = jing.OptionNode{JingUUID: uuid22(rng), Name: city, Child: []jing.OptionNode{}}
		}
		out[i] = node
	}
	return out
}

// meta is the metadata of object name (lead or account).
func (o *objectState) meta(objectName string) (*objectMeta, error) {
	switch objectName {
	case "":
		return nil, missing("object_name")
	case jing.ObjectLead:
		return &o.Lead, nil
	case jing.ObjectAccount:
		return &o.Account, nil
	}
	return nil, invalid("object_name", "只能是 lead 或 account")
}

// businessType finds a business type by jing_uuid.
func (m *objectMeta) businessType(uuid string) *businessType {
	for i := range m.BusinessTypes {
		if m.BusinessTypes[i].JingUUID == uuid {
			return &m.BusinessTypes[i]
		}
	}
	return nil
}

func (m *objectMeta) defaultBusinessType() *businessType {
	for i := range m.BusinessTypes {
		if m.BusinessTypes[i].IsDefault == 1 {
			return &m.BusinessTypes[i]
		}
	}
	return &m.BusinessTypes[0]
}

// stage finds a status of the pipeline by jing_uuid.
func (b *businessType) stage(uuid string) *leadStage {
	for i := range b.Stages {
		if b.Stages[i].JingUUID == uuid {
			return &b.Stages[i]
		}
	}
	return nil
}

// field finds a field of business type bt by code.
func (m *objectMeta) field(bt, code string) *crmField {
	for i, f := range m.Fields {
		if f.Code == code && f.appliesTo(bt) {
			return &m.Fields[i]
		}
	}
	return nil
}

func (f crmField) appliesTo(bt string) bool {
	if len(f.BusinessTypes) == 0 {
		return true
	}
	for _, b := range f.BusinessTypes {
		if b == bt {
			return true
		}
	}
	return false
}

// option finds a choice of a select field by jing_uuid.
func (m *objectMeta) option(code, uuid string) (jing.SelectOption, bool) {
	for _, o := range m.Options[code] {
		if o.JingUUID == uuid {
			return o, true
		}
	}
	return jing.SelectOption{}, false
}

func (s *Server) objectHandlers() map[string]handler {
	return map[string]handler{
		"objects.business_types": s.listBusinessTypes,
		"objects.option_set":     s.listOptionSet,
		"objects.source_options": s.listSourceOptions,
		"objects.custom_options": s.listCustomOptions,
		"objects.fields":         s.listFields,
	}
}

// objectQuery is the body of every objects.* call.
type objectQuery struct {
	ObjectName   string `json:"object_name"`
	FieldCode    string `json:"field_code"`
	BusinessType string `json:"business_type"`
}

// decodeObjectQuery reads the body and finds the object; needField also
// requires field_code.
func (s *Server) decodeObjectQuery(c *call, needField bool) (objectQuery, *objectMeta, error) {
	var q objectQuery
	if err := c.decode(&q); err != nil {
		return q, nil, err
	}
	m, err := s.tenant.Objects.meta(q.ObjectName)
	if err != nil {
		return q, nil, err
	}
	if needField && q.FieldCode == "" {
		return q, nil, missing("field_code")
	}
	return q, m, nil
}

func itemsAnswer(v any) map[string]any { return map[string]any{"items": v} }

func (s *Server) listBusinessTypes(c *call) (any, error) {
	_, m, err := s.decodeObjectQuery(c, false)
	if err != nil {
		return nil, err
	}
	out := make([]jing.BusinessType, len(m.BusinessTypes))
	for i, b := range m.BusinessTypes {
		out[i] = b.BusinessType
	}
	return itemsAnswer(out), nil
}

func (s *Server) listOptionSet(c *call) (any, error) {
	q, m, err := s.decodeObjectQuery(c, true)
	if err != nil {
		return nil, err
	}
	tree, ok := m.OptionSets[q.FieldCode]
	if !ok {
		return nil, invalid("field_code", q.FieldCode+" 不是选项集字段")
	}
	return itemsAnswer(tree), nil
}

// listSourceOptions answers the choices of a preset select field; for
// lead_status they are the pipeline of business_type (default: the
// default business type).
func (s *Server) listSourceOptions(c *call) (any, error) {
	q, m, err := s.decodeObjectQuery(c, true)
	if err != nil {
		return nil, err
	}
	if q.ObjectName == jing.ObjectLead && q.FieldCode == "lead_status" {
		bt, err := s.pipelineOf(m, q.BusinessType)
		if err != nil {
			return nil, err
		}
		return itemsAnswer(stageAnswers(bt)), nil
	}
	return optionsOf(m, q, 1)
}

func (s *Server) listCustomOptions(c *call) (any, error) {
	q, m, err := s.decodeObjectQuery(c, true)
	if err != nil {
		return nil, err
	}
	return optionsOf(m, q, 0)
}

// optionsOf answers the options of a select field that is preset (1) or custom (0).
func optionsOf(m *objectMeta, q objectQuery, isPreset int) (any, error) {
	opts, ok := m.Options[q.FieldCode]
	f := m.anyField(q.FieldCode)
	if !ok || f == nil || f.IsPreset != isPreset {
		kind := map[int]string{0: "自定义选项字段", 1: "来源选项字段"}[isPreset]
		return nil, invalid("field_code", q.FieldCode+" 不是"+kind)
	}
	return itemsAnswer(opts), nil
}

// anyField finds a field by code whatever its business types.
func (m *objectMeta) anyField(code string) *crmField {
	for i, f := range m.Fields {
		if f.Code == code {
			return &m.Fields[i]
		}
	}
	return nil
}

// pipelineOf is the business type named by uuid, or the default one.
func (s *Server) pipelineOf(m *objectMeta, uuid string) (*businessType, error) {
	if uuid == "" {
		return m.defaultBusinessType(), nil
	}
	bt := m.businessType(uuid)
	if bt == nil {
		return nil, invalid("business_type", "不存在的业务类型")
	}
	return bt, nil
}

func stageAnswers(bt *businessType) []jing.LeadStatus {
	out := make([]jing.LeadStatus, len(bt.Stages))
	for i, st := range bt.Stages {
		out[i] = st.LeadStatus
	}
	return out
}

// listFields answers the fields of one business type (default: the default one).
func (s *Server) listFields(c *call) (any, error) {
	q, m, err := s.decodeObjectQuery(c, false)
	if err != nil {
		return nil, err
	}
	bt, err := s.pipelineOf(m, q.BusinessType)
	if err != nil {
		return nil, err
	}
	var out []jing.ObjectField
	for _, f := range m.Fields {
		if f.appliesTo(bt.JingUUID) {
			out = append(out, f.ObjectField)
		}
	}
	return itemsAnswer(out), nil
}
