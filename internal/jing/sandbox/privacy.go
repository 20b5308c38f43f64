package sandbox

import (
	mrand "math/rand/v2"
	"strconv"
)

// privacyPolicy is a privacy policy (隐私条款 v2) with its versions, in
// exactly the shape privacy.status answers (../shared/seeds/000_…txt).
type privacyPolicy struct {
	JingUUID                string       `json:"jing_uuid"`
	MID                     int64        `json:"mid"`
	OwnerID                 int64        `json:"owner_id"`
	InfoUUID                string       `json:"jing_privacy_policy_info_uuid"`
	InternalName            string       `json:"internal_name"`
	Title                   string       `json:"title"`
	Status                  int          `json:"status"`
	Type                    int          `json:"type"`
	DataOwnerDepartmentID   string       `json:"data_owner_department_id"`
	DataOwnerID             string       `json:"data_owner_id"`
	DataOwnerOrganizationID string       `json:"data_owner_organization_id"`
	OpenSettingUUID         string       `json:"open_setting_uuid"`
	Created                 int64        `json:"created_timestamp"`
	Updated                 int64        `json:"updated_timestamp"`
	DeletedAt               *int64       `json:"deleted_at"`
	PolicyInfos             []policyInfo `json:"policy_infos"`
}

// policyInfo is one version of a policy. AuthHistory is never stored: the
// answer sets it on a copy when the person authorised this version.
type policyInfo struct {
	JingUUID         string      `json:"jing_uuid"`
	MID              int64       `json:"mid"`
	OwnerID          int64       `json:"owner_id"`
	PolicyUUID       string      `json:"jing_privacy_policy_uuid"`
	Status           int         `json:"status"`
	RepeatCheck      int         `json:"repeat_check"`
	ReadTime         int         `json:"read_time"`
	Required         int         `json:"required"`
	Checked          int         `json:"checked"`
	Type             int         `json:"type"`
	Info             string      `json:"info"`
	Version          int         `json:"version"`
	Created          int64       `json:"created_timestamp"`
	Updated          int64       `json:"updated_timestamp"`
	DeletedAt        *int64      `json:"deleted_at"`
	NotShowAfterAuth int         `json:"not_show_after_auth"`
	AuthHistory      *policyAuth `json:"policy_auth_history,omitempty"`
}

type policyAuth struct {
	OmniUserUUID string `json:"omni_user_uuid"`
	JingUUID     string `json:"jing_uuid"`
	PolicyUUID   string `json:"jing_privacy_policy_uuid"`
	InfoUUID     string `json:"jing_privacy_policy_info_uuid"`
}

// policySeeds are the demo tenant's policies. share is the part of seeded
// persons who authorised the policy; versions are published daysAgo.
var policySeeds = []struct {
	internalName, title string
	typ, required       int
	share               float64
	versions            []policyVersionSeed
}{
	{"官网隐私政策", "隐私政策", 1, 1, 0.72, []policyVersionSeed{
		{700, "<p>我们重视您的个人信息保护。本政策说明我们如何收集、使用、存储和共享您的个人信息。</p>"},
		{400, "<p>我们重视您的个人信息保护。本版新增：第三方 SDK 清单与个人信息的保存期限。</p>"},
		{150, "<p>我们重视您的个人信息保护。本版依据《个人信息保护法》更新了您的权利与行使方式。</p>"},
	}},
	{"营销通知授权", "营销通知授权", 2, 0, 0.41, []policyVersionSeed{
		{600, "<p>同意我们通过短信、邮件和微信向您发送产品资讯与活动邀请，您可随时退订。</p>"},
		{200, "<p>同意我们通过短信、邮件、微信及企业微信向您发送产品资讯与活动邀请，您可随时退订。</p>"},
	}},
	{"个人信息跨境传输同意", "个人信息跨境传输同意", 1, 0, 0.16, []policyVersionSeed{
		{300, "<p>为提供全球服务，您的姓名与联系方式将传输至境外关联公司，我们将采取安全措施保护您的信息。</p>"},
	}},
}

type policyVersionSeed struct {
	daysAgo int64
	info    string
}

func seedPolicies(rng *mrand.Rand, mid, owner int64) []privacyPolicy {
	out := make([]privacyPolicy, 0, len(policySeeds))
	for _, ps := range policySeeds {
		pol := privacyPolicy{JingUUID: uuid22(rng), MID: mid, OwnerID: owner, InfoUUID: uuid22(rng),
			InternalName: ps.internalName, Title: ps.title, Status: 1, Type: ps.typ,
			DataOwnerDepartmentID: "0", DataOwnerID: strconv.FormatInt(owner, 10), DataOwnerOrganizationID: "0",
			OpenSettingUUID: uuid22(rng)}
		for k, v := range ps.versions {
			at := peopleSeedEnd - v.daysAgo*secondsPerDay + rng.Int64N(secondsPerDay)
			pol.PolicyInfos = append(pol.PolicyInfos, policyInfo{JingUUID: uuid22(rng), MID: mid, OwnerID: owner,
				PolicyUUID: pol.JingUUID, Status: 2, RepeatCheck: 2, Required: ps.required, Checked: 1, Type: 1,
				Info: v.info, Version: k + 1, Created: at, Updated: at + rng.Int64N(secondsPerDay), NotShowAfterAuth: 1})
		}
		pol.Created, pol.Updated = pol.PolicyInfos[0].Created, pol.PolicyInfos[len(pol.PolicyInfos)-1].Updated
		out = append(out, pol)
	}
	return out
}

// consentHash is the seed of person i's history with policy j.
func (p *peopleState) consentHash(i, j int) uint64 {
	h := uint64(14695981039346656037) ^ p.ConsentSalt
	for _, s := range [2]string{p.Persons[i].UUID, p.Policies[j].JingUUID} {
		for k := 0; k < len(s); k++ {
			h = (h ^ uint64(s[k])) * 1099511628211
		}
	}
	// splitmix64's finaliser spreads FNV's weak high bits.
	h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
	h = (h ^ h>>27) * 0x94d049bb133111eb
	return h ^ h>>31
}

// authorized reports whether person i authorised version k of policy j.
// Only seeded persons have a history. A consenting person authorised the
// current version; an earlier one only if it was still current after they
// arrived, and they agreed then (half of them).
func (p *peopleState) authorized(i, j, k int) (bool, uint64) {
	if i >= p.Seeded || j >= len(policySeeds) {
		return false, 0
	}
	h := p.consentHash(i, j)
	if float64(h%1000) >= policySeeds[j].share*1000 {
		return false, h
	}
	infos := p.Policies[j].PolicyInfos
	if k == len(infos)-1 {
		return true, h
	}
	return infos[k+1].Created > p.Persons[i].Created && h>>(20+k)&1 == 1, h
}

// authorizedCount is how many policy versions person i authorised.
func (p *peopleState) authorizedCount(i int) int {
	n := 0
	for j := range p.Policies {
		for k := range p.Policies[j].PolicyInfos {
			if ok, _ := p.authorized(i, j, k); ok {
				n++
			}
		}
	}
	return n
}

// policiesFor is every policy with person i's authorisations filled in.
func (p *peopleState) policiesFor(i int) []privacyPolicy {
	out := make([]privacyPolicy, len(p.Policies))
	for j, pol := range p.Policies {
		pol.PolicyInfos = append([]policyInfo(nil), pol.PolicyInfos...)
		for k := range pol.PolicyInfos {
			info := &pol.PolicyInfos[k]
			if ok, h := p.authorized(i, j, k); ok {
				info.AuthHistory = &policyAuth{OmniUserUUID: p.Persons[i].UUID,
					JingUUID:   uuid22(mrand.New(mrand.NewPCG(h, uint64(k)))),
					PolicyUUID: pol.JingUUID, InfoUUID: info.JingUUID}
			}
		}
		out[j] = pol
	}
	return out
}

func (s *Server) privacyHandlers() map[string]handler {
	return map[string]handler{"privacy.status": s.privacyStatus}
}

// privacyStatus pages through the policies, marking the versions the
// person named by the identity authorised.
func (s *Server) privacyStatus(c *call) (any, error) {
	req, i, err := s.decodePerson(c)
	if err != nil {
		return nil, err
	}
	return paginate(s.tenant.People.policiesFor(i), req.PageRequest)
}
