package jing

import (
	"context"
	"encoding/json"
)

// PrivacyPolicy is a privacy policy (隐私条款 v2) with its versions, as
// privacy.status answers for one person (../shared/seeds/000_…txt).
type PrivacyPolicy struct {
	JingUUID                string          `json:"jing_uuid"`
	MID                     int64           `json:"mid"`
	OwnerID                 int64           `json:"owner_id"`
	PolicyInfoUUID          string          `json:"jing_privacy_policy_info_uuid"`
	InternalName            string          `json:"internal_name"`
	Title                   string          `json:"title"`
	Status                  int             `json:"status"`
	Type                    int             `json:"type"`
	DataOwnerDepartmentID   string          `json:"data_owner_department_id"`
	DataOwnerID             string          `json:"data_owner_id"`
	DataOwnerOrganizationID string          `json:"data_owner_organization_id"`
	OpenSettingUUID         string          `json:"open_setting_uuid"`
	CreatedTimestamp        int64           `json:"created_timestamp"`
	UpdatedTimestamp        int64           `json:"updated_timestamp"`
	DeletedAt               json.RawMessage `json:"deleted_at,omitempty"` // null in every example seen
	PolicyInfos             []PolicyVersion `json:"policy_infos"`
}

// PolicyVersion is one version of a policy. AuthHistory is present when
// the person authorised this version.
type PolicyVersion struct {
	JingUUID         string               `json:"jing_uuid"`
	MID              int64                `json:"mid"`
	OwnerID          int64                `json:"owner_id"`
	PolicyUUID       string               `json:"jing_privacy_policy_uuid"`
	Status           int                  `json:"status"`
	RepeatCheck      int                  `json:"repeat_check"`
	ReadTime         int                  `json:"read_time"`
	Required         int                  `json:"required"`
	Checked          int                  `json:"checked"`
	Type             int                  `json:"type"`
	Info             string               `json:"info"` // HTML
	Version          int                  `json:"version"`
	CreatedTimestamp int64                `json:"created_timestamp"`
	UpdatedTimestamp int64                `json:"updated_timestamp"`
	DeletedAt        json.RawMessage      `json:"deleted_at,omitempty"`
	NotShowAfterAuth int                  `json:"not_show_after_auth"`
	AuthHistory      *PolicyAuthorization `json:"policy_auth_history,omitempty"`
}

// PolicyAuthorization records that a person authorised a policy version.
type PolicyAuthorization struct {
	OmniUserUUID   string `json:"omni_user_uuid"`
	JingUUID       string `json:"jing_uuid"`
	PolicyUUID     string `json:"jing_privacy_policy_uuid"`
	PolicyInfoUUID string `json:"jing_privacy_policy_info_uuid"`
}

// Authorized reports whether the person authorised this version.
func (v PolicyVersion) Authorized() bool { return v.AuthHistory != nil }

// AuthorizedVersions lists the version numbers the person authorised.
func (p PrivacyPolicy) AuthorizedVersions() []int {
	var out []int
	for _, v := range p.PolicyInfos {
		if v.Authorized() {
			out = append(out, v.Version)
		}
	}
	return out
}

// PrivacyStatus returns one page of the tenant's privacy policies, marked
// with what the person with this identity authorised. An unknown person is
// a 40004 KindBusiness error.
func (c *Client) PrivacyStatus(ctx context.Context, identityType, value string, page PageRequest) (Page[PrivacyPolicy], error) {
	body := struct {
		Identity identityQuery `json:"identity"`
		PageRequest
	}{identityQuery{identityType, value}, page}
	var p Page[PrivacyPolicy]
	err := c.Call(ctx, "privacy.status", body, &p)
	return p, err
}
