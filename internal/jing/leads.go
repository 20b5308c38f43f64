package jing

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"maps"
	"reflect"
	"strings"
	"time"
)

// LeadFields are a lead's writable preset fields, as documented for
// leads.create (seeds/001_1c11edf65e87a273.txt). Empty fields are left out
// of a request.
type LeadFields struct {
	// BusinessType is a business type's jing_uuid (BusinessTypes).
	BusinessType string `json:"business_type,omitempty"`
	Mobile       string `json:"mobile,omitempty"`
	Email        string `json:"email,omitempty"`
	Name         string `json:"name,omitempty"`
	FirstName    string `json:"first_name,omitempty"`
	LastName     string `json:"last_name,omitempty"`
	// LeadStatus is a status of the business type's pipeline (LeadStatuses).
	LeadStatus string `json:"lead_status,omitempty"`
	AccountID  string `json:"account_id,omitempty"`
	// CompanyID is the company's name, not an id (as documented).
	CompanyID       string `json:"company_id,omitempty"`
	OfficialWebsite string `json:"official_website,omitempty"`
	Industry        string `json:"industry,omitempty"`
	Title           string `json:"title,omitempty"`
	// CountryRegion is the innermost node of the country_region option set.
	CountryRegion     string   `json:"country_region,omitempty"`
	Address           string   `json:"address,omitempty"`
	Description       string   `json:"description,omitempty"`
	LatestRemark      string   `json:"latest_remark,omitempty"`
	Department        string   `json:"department,omitempty"`
	Param1            string   `json:"param_1,omitempty"`
	Param2            string   `json:"param_2,omitempty"`
	Param3            string   `json:"param_3,omitempty"`
	Param4            string   `json:"param_4,omitempty"`
	Param5            string   `json:"param_5,omitempty"`
	UTMSource         string   `json:"utm_source,omitempty"`
	UTMMedium         string   `json:"utm_medium,omitempty"`
	UTMTerms          string   `json:"utm_terms,omitempty"`
	UTMCampaign       string   `json:"utm_campaign,omitempty"`
	UTMContent        string   `json:"utm_content,omitempty"`
	SourceType        string   `json:"source_type,omitempty"`
	SourceName        string   `json:"source_name,omitempty"`
	WebsiteName       string   `json:"website_name,omitempty"`
	WebsitePageName   string   `json:"website_page_name,omitempty"`
	SourceCustomParam string   `json:"source_custom_param,omitempty"`
	Owner             MemberID `json:"owner,omitempty"`
}

// Lead is a lead (线索) as leads.query and leads.list answer it.
type Lead struct {
	JingUUID string `json:"jing_uuid"`
	LeadFields
	LifeStatus string `json:"life_status"`
	// LeadPool is the public pool an unassigned lead sits in ("" when owned).
	LeadPool         string     `json:"lead_pool"`
	Collaborators    []MemberID `json:"collaborators"`
	OmniUserUUID     string     `json:"omni_user_uuid,omitempty"`
	CreatedTimestamp int64      `json:"created_timestamp"`
	UpdatedTimestamp int64      `json:"updated_timestamp"`
	// Custom holds the tenant's custom fields by code (c_input_…), raw, and
	// any other field this type does not name, so nothing answered is lost.
	Custom map[string]json.RawMessage `json:"-"`
}

// CreatedAt and UpdatedAt are the lead's timestamps as times.
func (l Lead) CreatedAt() time.Time { return time.Unix(l.CreatedTimestamp, 0) }
func (l Lead) UpdatedAt() time.Time { return time.Unix(l.UpdatedTimestamp, 0) }

// Wire forms without the methods, so the custom ones can use encoding/json.
type (
	leadPlain      Lead
	leadInputPlain LeadInput
)

var (
	leadKeys      = structJSONNames(reflect.TypeFor[Lead]())
	leadInputKeys = structJSONNames(reflect.TypeFor[LeadInput]())
)

func (l *Lead) UnmarshalJSON(b []byte) error {
	p, custom, err := decodeWithCustom[leadPlain](b, leadKeys)
	*l = Lead(p)
	l.Custom = custom
	return err
}

// MarshalJSON writes the custom fields beside the preset ones, as the platform does.
func (l Lead) MarshalJSON() ([]byte, error) { return encodeWithCustom(leadPlain(l), l.Custom) }

// LeadInput is the body of leads.create and leads.update.
type LeadInput struct {
	LeadFields
	// Custom holds custom field values by code (from Fields, is_preset 0),
	// written at the same level as the preset fields. SetCustom fills it.
	Custom map[string]json.RawMessage `json:"-"`
	// Clear lists fields an update empties (they are sent as ""); a field
	// both set and listed here keeps the value set.
	Clear []string `json:"-"`
}

// SetCustom sets custom field code to v (a string for most types, a
// number for number fields, comma-joined option ids for multi_select).
func (in *LeadInput) SetCustom(code string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if in.Custom == nil {
		in.Custom = map[string]json.RawMessage{}
	}
	in.Custom[code] = raw
	return nil
}

func (in *LeadInput) UnmarshalJSON(b []byte) error {
	p, custom, err := decodeWithCustom[leadInputPlain](b, leadInputKeys)
	*in = LeadInput(p)
	in.Custom = custom
	return err
}

func (in LeadInput) MarshalJSON() ([]byte, error) {
	extra := maps.Clone(in.Custom)
	for _, code := range in.Clear {
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		if _, set := extra[code]; !set {
			extra[code] = json.RawMessage(`""`)
		}
	}
	return encodeWithCustom(leadInputPlain(in), extra)
}

// decodeWithCustom decodes b as P (a method-less struct) and returns the
// members P does not name.
func decodeWithCustom[P any](b []byte, known map[string]bool) (P, map[string]json.RawMessage, error) {
	var p P
	if err := json.Unmarshal(b, &p); err != nil {
		return p, nil, err
	}
	extra, err := unknownFields(b, known)
	return p, extra, err
}

// encodeWithCustom writes plain with the extra members at the same level.
func encodeWithCustom(plain any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(plain)
	if err != nil {
		return nil, err
	}
	return withFields(b, extra)
}

// structJSONNames lists the JSON names of a struct's fields, those of
// embedded structs included.
func structJSONNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous {
			continue
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

// jingUUID is the answer of the lead writes.
type jingUUID struct {
	JingUUID string `json:"jing_uuid"`
}

// CreateLead creates a lead and returns its jing_uuid. The platform
// requires BusinessType, Name and a Mobile or an Email. Creation is not
// idempotent: after an outcome-unknown failure, look the lead up by its
// mobile or email (QueryLead) before creating it again.
func (c *Client) CreateLead(ctx context.Context, in LeadInput) (string, error) {
	var out jingUUID
	err := c.Call(ctx, "leads.create", in, &out)
	return out.JingUUID, err
}

// UpdateLead writes the fields set in in (and empties those in in.Clear).
func (c *Client) UpdateLead(ctx context.Context, uuid string, in LeadInput) error {
	if uuid == "" {
		return errors.New("jing leads.update: no jing_uuid")
	}
	body, err := in.MarshalJSON()
	if err != nil {
		return err
	}
	id, _ := json.Marshal(uuid)
	if body, err = withFields(body, map[string]json.RawMessage{"jing_uuid": id}); err != nil {
		return err
	}
	return c.Call(ctx, "leads.update", json.RawMessage(body), nil)
}

// LeadKey names one lead: by JingUUID, else by Mobile, else by Email.
type LeadKey struct {
	JingUUID string `json:"jing_uuid,omitempty"`
	Mobile   string `json:"mobile,omitempty"`
	Email    string `json:"email,omitempty"`
}

// QueryLead finds one lead; none is a KindBusiness error (code 40004).
func (c *Client) QueryLead(ctx context.Context, key LeadKey) (Lead, error) {
	var out Lead
	err := c.Call(ctx, "leads.query", key, &out)
	return out, err
}

// LeadStatus is one stage of a business type's lead pipeline.
type LeadStatus struct {
	JingUUID string `json:"jing_uuid"`
	Name     string `json:"name"`
	Sort     int    `json:"sort"`
}

// LeadStatuses is the pipeline of a business type, in order.
func (c *Client) LeadStatuses(ctx context.Context, businessType string) ([]LeadStatus, error) {
	return callItems[LeadStatus](ctx, c, "leads.status_list", map[string]string{"business_type": businessType})
}

// UpdateLeadStatus moves a lead to another status of its pipeline.
func (c *Client) UpdateLeadStatus(ctx context.Context, uuid, status string) error {
	return c.Call(ctx, "leads.status_update", map[string]string{"jing_uuid": uuid, "lead_status": status}, nil)
}

// LeadFilter narrows leads.list; zero fields do not filter.
type LeadFilter struct {
	BusinessType string   `json:"business_type,omitempty"`
	LeadStatus   string   `json:"lead_status,omitempty"`
	Owner        MemberID `json:"owner,omitempty"`
	// UpdatedSince keeps leads updated at or after this Unix second.
	UpdatedSince int64 `json:"updated_since,omitempty"`
}

type leadListBody struct {
	PageRequest
	LeadFilter
}

// ListLeads is one page of leads.
func (c *Client) ListLeads(ctx context.Context, f LeadFilter, p PageRequest) (Page[Lead], error) {
	var out Page[Lead]
	err := c.Call(ctx, "leads.list", leadListBody{p, f}, &out)
	return out, err
}

// AllLeads walks every lead that f matches, page by page.
func (c *Client) AllLeads(ctx context.Context, f LeadFilter) iter.Seq2[Lead, error] {
	return Pages[Lead](ctx, c, "leads.list", func(p PageRequest) any { return leadListBody{p, f} })
}

type collaboratorsBody struct {
	JingUUID string     `json:"jing_uuid"`
	Add      []MemberID `json:"add,omitempty"`
	Remove   []MemberID `json:"remove,omitempty"`
}

// UpdateCollaborators adds and removes a lead's collaborators (member ids).
// Nothing to change is not a call.
func (c *Client) UpdateCollaborators(ctx context.Context, uuid string, add, remove []MemberID) error {
	if len(add) == 0 && len(remove) == 0 {
		return nil
	}
	return c.Call(ctx, "leads.collaborators", collaboratorsBody{uuid, add, remove}, nil)
}

// LeadDetailLink is where the lead opens on the platform's own site. The
// sandbox answers a local path, /sandbox/leads/<jing_uuid>.
func (c *Client) LeadDetailLink(ctx context.Context, uuid string) (string, error) {
	var out struct {
		URL string `json:"url"`
	}
	err := c.Call(ctx, "leads.detail_link", map[string]string{"jing_uuid": uuid}, &out)
	return out.URL, err
}
