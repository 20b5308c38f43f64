package jing

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Identity types: how a person is looked up (endpoints.md "Users").
const (
	IdentityMobile            = "mobile"
	IdentityEmail             = "email"
	IdentityWechatOpenID      = "wechat_openid"
	IdentityWechatUnionID     = "wechat_unionid"
	IdentityExternalUserID    = "external_userid" // a WeCom contact
	IdentityThirdpartyChannel = "thirdparty_channel"
)

// IdentityTypes lists every identity type, in the documentation's order.
var IdentityTypes = []string{IdentityMobile, IdentityEmail, IdentityWechatOpenID, IdentityWechatUnionID,
	IdentityExternalUserID, IdentityThirdpartyChannel}

// Identity is one way to reach a person. Name is the identity's label
// (e.g. "手机号"), which users.create carries beside the value.
type Identity struct {
	Type  string `json:"type"`
	Value string `json:"value"`
	Name  string `json:"name,omitempty"`
}

// FieldsSource says where written field values come from.
type FieldsSource struct {
	SourceType  string `json:"source_type"`
	SourceValue string `json:"source_value"`
}

// PersonInput is one person of a users.create batch. An identity the
// platform already knows merges into that person instead of creating one.
type PersonInput struct {
	Identities   []Identity     `json:"identities"`
	Fields       map[string]any `json:"fields,omitempty"`
	FieldsSource *FieldsSource  `json:"fields_source,omitempty"`
}

// PersonUpdate is one person of a users.update_batch batch, named by
// omni_user_uuid or by identities.
type PersonUpdate struct {
	OmniUserUUID string         `json:"omni_user_uuid,omitempty"`
	Identities   []Identity     `json:"identities,omitempty"`
	Fields       map[string]any `json:"fields"`
}

// PersonOutcome is a batch element the platform accepted.
type PersonOutcome struct {
	Identities   []Identity      `json:"identities"`
	OmniUserUUID string          `json:"omni_user_uuid"`
	LeadsInfo    json.RawMessage `json:"leads_info,omitempty"`
	// Resolved is set when the uuid was not in the answer but learned by
	// resolving the identities afterwards (CreatePersons).
	Resolved bool `json:"-"`
}

// PersonFailure is a batch element the platform refused, and why.
type PersonFailure struct {
	Identities []Identity `json:"identities"`
	Reason     string     `json:"reason"`
	// Unanswered is set for a person the answer did not mention and whom
	// the platform does not know afterwards either (Reason is then empty).
	Unanswered bool `json:"-"`
}

// PersonsResult is the answer of a person batch (or of several, summed).
type PersonsResult struct {
	Success []PersonOutcome `json:"success"`
	Failure []PersonFailure `json:"failure"`
	// Unresolved are persons the platform answered as created whose uuid
	// it did not give and whose identities it does not resolve (yet): not
	// failures, but not usable either. Only CreatePersons fills it.
	Unresolved []PersonOutcome `json:"-"`
}

// Person is a person as users.query answers. Fields holds the tenant's
// field codes; Extra any other top-level member the platform sends.
type Person struct {
	OmniUserUUID     string                     `json:"omni_user_uuid"`
	Identities       []Identity                 `json:"identities"`
	Fields           map[string]any             `json:"fields"`
	CreatedTimestamp int64                      `json:"created_timestamp"`
	Extra            map[string]json.RawMessage `json:"-"`
}

var personFields = jsonFieldNames(reflect.TypeFor[Person]())

func (p *Person) UnmarshalJSON(b []byte) error {
	type plain Person
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Person(v)
	var err error
	p.Extra, err = unknownFields(b, personFields)
	return err
}

// Identity returns the person's value of an identity type, or "".
func (p Person) Identity(identityType string) string {
	for _, id := range p.Identities {
		if id.Type == identityType {
			return id.Value
		}
	}
	return ""
}

// CreatePersons creates (or merges) persons, in batches of the endpoint's
// MaxBatch, and learns each one's omni_user_uuid: from the answer where it
// has one, otherwise (the public example of the answer has none) by
// resolving the identities afterwards (ResolveIdentities: the identity
// batch, or users.query one by one when that entry is disabled). Every
// input ends in Success with its uuid, in Failure (refused, with the
// platform's reason; or neither mentioned nor known afterwards:
// Unanswered), or in Unresolved. Repeating it is harmless: known
// identities merge. On an error the result holds the batches done before it.
func (c *Client) CreatePersons(ctx context.Context, in []PersonInput) (PersonsResult, error) {
	var out PersonsResult
	for batch := range slices.Chunk(in, c.batchLimit("users.create", len(in))) {
		var r PersonsResult
		if err := c.Call(ctx, "users.create", batch, &r); err != nil {
			return out, err
		}
		if err := c.completeCreated(ctx, batch, &r); err != nil {
			return out, err
		}
		out.Success = append(out.Success, r.Success...)
		out.Failure = append(out.Failure, r.Failure...)
		out.Unresolved = append(out.Unresolved, r.Unresolved...)
	}
	return out, nil
}

// identityKey compares identities as the platform does: type, and the
// value without case or surrounding spaces.
func identityKey(id Identity) string {
	return id.Type + "\x00" + strings.ToLower(strings.TrimSpace(id.Value))
}

// completeCreated gives every success of r a uuid and accounts for the
// inputs r did not mention, resolving identities where the answer is silent.
func (c *Client) completeCreated(ctx context.Context, batch []PersonInput, r *PersonsResult) error {
	mentioned := map[string]bool{}
	for _, list := range [][]Identity{flattenOutcomes(r.Success), flattenFailures(r.Failure)} {
		for _, id := range list {
			mentioned[identityKey(id)] = true
		}
	}
	var unmentioned []PersonOutcome
	for _, p := range batch {
		if !slices.ContainsFunc(p.Identities, func(id Identity) bool { return mentioned[identityKey(id)] }) {
			unmentioned = append(unmentioned, PersonOutcome{Identities: p.Identities})
		}
	}
	var ask []*PersonOutcome
	for i := range r.Success {
		if r.Success[i].OmniUserUUID == "" {
			ask = append(ask, &r.Success[i])
		}
	}
	for i := range unmentioned {
		ask = append(ask, &unmentioned[i])
	}
	if len(ask) == 0 {
		return nil
	}
	if err := c.resolveOutcomes(ctx, ask); err != nil {
		return err
	}
	success := r.Success[:0]
	for _, s := range r.Success {
		if s.OmniUserUUID == "" {
			r.Unresolved = append(r.Unresolved, s)
			continue
		}
		success = append(success, s)
	}
	r.Success = success
	for _, u := range unmentioned {
		if u.OmniUserUUID != "" {
			r.Success = append(r.Success, u)
			continue
		}
		r.Failure = append(r.Failure, PersonFailure{Identities: u.Identities, Unanswered: true})
	}
	return nil
}

// resolveOutcomes fills the uuid of each outcome whose identities the
// platform resolves, one identity type at a time.
func (c *Client) resolveOutcomes(ctx context.Context, ask []*PersonOutcome) error {
	byType := map[string][]string{}
	var types []string
	for _, o := range ask {
		for _, id := range o.Identities {
			if _, seen := byType[id.Type]; !seen {
				types = append(types, id.Type)
			}
			byType[id.Type] = append(byType[id.Type], id.Value)
		}
	}
	for _, t := range types {
		uuids, err := c.ResolveIdentities(ctx, t, byType[t])
		if err != nil {
			return err
		}
		resolved := make(map[string]string, len(uuids))
		for v, u := range uuids {
			resolved[identityKey(Identity{Type: t, Value: v})] = u
		}
		for _, o := range ask {
			if o.OmniUserUUID != "" {
				continue
			}
			for _, id := range o.Identities {
				if u := resolved[identityKey(id)]; u != "" {
					o.OmniUserUUID, o.Resolved = u, true
					break
				}
			}
		}
	}
	return nil
}

func flattenOutcomes(list []PersonOutcome) []Identity {
	var out []Identity
	for _, o := range list {
		out = append(out, o.Identities...)
	}
	return out
}

func flattenFailures(list []PersonFailure) []Identity {
	var out []Identity
	for _, f := range list {
		out = append(out, f.Identities...)
	}
	return out
}

// UpdatePersons writes fields of known persons, in batches of MaxBatch.
func (c *Client) UpdatePersons(ctx context.Context, in []PersonUpdate) (PersonsResult, error) {
	var out PersonsResult
	for batch := range slices.Chunk(in, c.batchLimit("users.update_batch", len(in))) {
		var r PersonsResult
		if err := c.Call(ctx, "users.update_batch", batch, &r); err != nil {
			return out, err
		}
		out.Success = append(out.Success, r.Success...)
		out.Failure = append(out.Failure, r.Failure...)
	}
	return out, nil
}

// batchLimit is how many items one call of key may carry: the entry's
// MaxBatch, or all n when it sets none.
func (c *Client) batchLimit(key string, n int) int {
	if ep, ok := c.cfg.Catalog.Get(key); ok && ep.MaxBatch > 0 {
		return ep.MaxBatch
	}
	return max(n, 1)
}

// identityQuery names one person (users.query, privacy.status).
type identityQuery struct {
	IdentityType  string `json:"identity_type"`
	IdentityValue string `json:"identity_value"`
}

// QueryPerson finds the person with this identity. A person the platform
// does not know is a KindBusiness error with code 40004.
func (c *Client) QueryPerson(ctx context.Context, identityType, value string) (Person, error) {
	var p Person
	err := c.Call(ctx, "users.query", map[string]identityQuery{"identity": {identityType, value}}, &p)
	return p, err
}

// isNotFound is users.query's answer for an unknown identity.
func isNotFound(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == CodeBusinessFailed
}

// ResolveIdentities maps identity values of one type to omni_user_uuids;
// values the platform does not know are absent from the map. It asks
// users.identity_batch in batches of MaxBatch or, when that entry is
// disabled, users.query one value per call (slower: see ResolvePlanFor).
// On an error the map holds what was resolved before it.
func (c *Client) ResolveIdentities(ctx context.Context, identityType string, values []string) (map[string]string, error) {
	values = distinctValues(values)
	found := make(map[string]string, len(values))
	if !c.identityBatchAvailable() {
		return found, c.resolveOneByOne(ctx, identityType, values, found)
	}
	for batch := range slices.Chunk(values, c.batchLimit("users.identity_batch", len(values))) {
		var out struct {
			Items []struct {
				IdentityValue string `json:"identity_value"`
				OmniUserUUID  string `json:"omni_user_uuid"` // null: unknown
			} `json:"items"`
		}
		body := map[string]any{"identity_type": identityType, "identity_values": batch}
		if err := c.Call(ctx, "users.identity_batch", body, &out); err != nil {
			return found, err
		}
		for _, it := range out.Items {
			if it.OmniUserUUID != "" {
				found[it.IdentityValue] = it.OmniUserUUID
			}
		}
	}
	return found, nil
}

// resolveOneByOne is the documented fallback: users.query per value, a
// 40004 meaning "unknown".
func (c *Client) resolveOneByOne(ctx context.Context, identityType string, values []string, found map[string]string) error {
	for _, v := range values {
		p, err := c.QueryPerson(ctx, identityType, v)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		found[v] = p.OmniUserUUID
	}
	return nil
}

func (c *Client) identityBatchAvailable() bool {
	ep, ok := c.cfg.Catalog.Get("users.identity_batch")
	return ok && !ep.Disabled
}

// distinctValues drops empty and repeated values, keeping the first order.
func distinctValues(values []string) []string {
	seen := make(map[string]bool, len(values))
	out := make([]string, 0, len(values))
	for _, v := range values {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// ResolvePlan says how resolving identities will go, so an import can
// estimate its time before it starts.
type ResolvePlan struct {
	Batched bool          // users.identity_batch; false: the one-by-one fallback
	Calls   int           // platform calls needed
	Takes   time.Duration // at least, given the client's pacing
}

// ResolvePlanFor plans the resolution of n distinct values.
func (c *Client) ResolvePlanFor(n int) ResolvePlan {
	key, per := "users.query", 1
	plan := ResolvePlan{Batched: c.identityBatchAvailable()}
	if plan.Batched {
		key, per = "users.identity_batch", c.batchLimit("users.identity_batch", n)
	}
	plan.Calls = (n + per - 1) / per
	if ep, ok := c.cfg.Catalog.Get(key); ok && ep.RatePerSecond > 0 {
		seconds := float64(plan.Calls) / (ep.RatePerSecond * c.cfg.PaceFactor)
		plan.Takes = time.Duration(math.Ceil(seconds * float64(time.Second)))
	}
	return plan
}
