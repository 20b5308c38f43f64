package jing

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Event types the platform pushes (../shared/jing-api/webhooks.md).
const (
	EventObjectCreate           = "object_create"
	EventObjectUpdate           = "object_update"
	EventObjectUpdateStatus     = "object_update_status"
	EventObjectUpdateLifeCycle  = "object_update_life_cycle"
	EventObjectVoids            = "object_voids"
	EventObjectRestore          = "object_restore"
	EventObjectChangeOwner      = "object_change_owner"
	EventObjectAddNotes         = "object_add_notes"
	EventObjectAddTeamMember    = "object_add_team_member"
	EventObjectRemoveTeamMember = "object_remove_team_member"
	EventObjectChangeLeadPool   = "object_change_lead_pool"
	EventObjectRelation         = "object_relation"
	EventObjectSourceInfo       = "object_source_info"
	EventAddOmniUserSuccess     = "add_omni_user_success"
)

// Other documented values of a webhook's fields.
const (
	EventCategoryObject = "object_v2"
	// Owner changes carry one of these as action_keyword instead of the event type.
	ActionManualDistribution = "manual_distribution"
	ActionAutoDistribution   = "auto_distribution"

	ObjectLead    = "lead"
	ObjectAccount = "account"

	OperatorNone       = 0
	OperatorBackOffice = 1
	OperatorMember     = 2
)

// ErrBadWebhook is wrapped by DecodeWebhook for a body that is not a
// webhook event; the receiver stores such bodies for inspection.
var ErrBadWebhook = errors.New("jing: not a webhook event")

// WebhookEvent is what the platform POSTs when a lead or an account changes
// (../shared/jing-api/webhooks.md). The sandbox builds these; the console's
// receiver decodes them with DecodeWebhook.
//
// Decoding is tolerant: mid may be a number and create_time a string.
type WebhookEvent struct {
	MID           string           `json:"mid"`
	EventCategory string           `json:"event_category"`
	EventType     string           `json:"event_type"`
	ActionKeyword string           `json:"action_keyword"`
	CreateTime    int64            `json:"create_time"`
	ExtraData     WebhookExtraData `json:"extra_data"`
	// Extra keeps top-level fields this type does not name; they are
	// written back on Marshal, so nothing the platform sent is lost.
	Extra map[string]json.RawMessage `json:"-"`
}

// WebhookExtraData is the changed object. MappingData holds the changed
// fields as arrays of raw values ([value] on create, [before, after] on
// update); MappingDataText the same fields' labels (see Changes).
//
// On the wire mapping_data, mapping_data_text and timeline_data are JSON
// strings holding JSON (objects are accepted too); object_id, operator_type,
// operator_id and is_follow_up may be numbers or numeric strings. Numbers
// inside the mapping data decode as json.Number, so ids keep every digit.
type WebhookExtraData struct {
	ObjectName       string         `json:"object_name"`
	EntityID         string         `json:"entity_id"`
	ObjectID         string         `json:"object_id"`
	BusinessType     string         `json:"business_type"`
	BusinessTypeName string         `json:"business_type_name"`
	BusinessUnit     string         `json:"business_unit,omitempty"`
	OperatorType     int            `json:"operator_type"`
	OperatorID       int64          `json:"operator_id"`
	Owner            string         `json:"owner,omitempty"`
	LifeStatus       string         `json:"life_status,omitempty"`
	LeadOmniUserUUID string         `json:"lead_omni_user_uuid,omitempty"`
	OmniUserUUID     string         `json:"omni_user_uuid,omitempty"`
	Notes            string         `json:"notes"`
	IsFollowUp       int            `json:"is_follow_up"`
	CreatedTimestamp string         `json:"created_timestamp"`
	LoginPlatform    string         `json:"login_platform,omitempty"`
	LoginEnvironment string         `json:"login_environment,omitempty"`
	LoginSourceType  string         `json:"login_source_type,omitempty"`
	LoginSourceValue string         `json:"login_source_value,omitempty"`
	TimelineData     string         `json:"timeline_data,omitempty"`
	MappingData      map[string]any `json:"mapping_data"`
	MappingDataText  map[string]any `json:"mapping_data_text"`
	// Extra keeps fields this type does not name (custom per tenant).
	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeWebhook reads one event as the platform sends it, in either
// encoding of the nested JSON.
func DecodeWebhook(raw []byte) (WebhookEvent, error) {
	var ev WebhookEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return WebhookEvent{}, fmt.Errorf("%w: %v", ErrBadWebhook, err)
	}
	if ev.EventType == "" {
		return WebhookEvent{}, fmt.Errorf("%w: no event_type", ErrBadWebhook)
	}
	return ev, nil
}

// DedupKey identifies an event across re-sends: the event type, the object,
// the time, and a hash of extra_data in canonical form (keys sorted, nested
// JSON strings expanded), so the same event re-sent with another key order
// or the other encoding of mapping_data gives the same key.
func (e WebhookEvent) DedupKey() string {
	sum := sha256.Sum256(e.ExtraData.canonical())
	return fmt.Sprintf("%s:%s:%d:%x", e.EventType, e.ExtraData.EntityID, e.CreateTime, sum[:12])
}

// Change is one field of an event's mapping data.
type Change struct {
	Before any // the old raw value; nil on create
	After  any // the new raw value
	// HasBefore is true when the event carried [before, after] (an
	// update), even when the old value was null.
	HasBefore bool
	// Labels from mapping_data_text; the platform labels an empty value "-".
	BeforeLabel string
	AfterLabel  string
}

// Changes lists the changed fields with their old and new values and labels.
func (x WebhookExtraData) Changes() map[string]Change {
	out := make(map[string]Change, len(x.MappingData))
	for field, v := range x.MappingData {
		c := out[field]
		c.Before, c.After, c.HasBefore = beforeAfter(v)
		out[field] = c
	}
	for field, v := range x.MappingDataText {
		c := out[field]
		before, after, hasBefore := beforeAfter(v)
		c.AfterLabel = changeLabel(after)
		if hasBefore {
			c.BeforeLabel = changeLabel(before)
		}
		out[field] = c
	}
	return out
}

// beforeAfter reads [value] or [before, after]; a bare value is the new value.
func beforeAfter(v any) (before, after any, hasBefore bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil, v, false
	}
	switch n := rv.Len(); n {
	case 0:
		return nil, nil, false
	case 1:
		return nil, rv.Index(0).Interface(), false
	default:
		return rv.Index(0).Interface(), rv.Index(n - 1).Interface(), true
	}
}

func changeLabel(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	default:
		return fmt.Sprint(t)
	}
}

// canonical is extra_data as JSON with sorted keys and nested JSON strings
// expanded: equal for equal content whatever the sender's encoding.
func (x WebhookExtraData) canonical() []byte {
	b, err := json.Marshal(x)
	if err != nil { // only a caller-built value the JSON encoder refuses
		return []byte(fmt.Sprintf("%#v", x))
	}
	v, err := decodeAny(b)
	if err != nil {
		return b
	}
	out, _ := json.Marshal(expandEmbedded(v))
	return out
}

func decodeAny(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// expandEmbedded replaces strings that hold a JSON object or array by their content.
func expandEmbedded(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = expandEmbedded(x)
		}
	case []any:
		for i, x := range t {
			t[i] = expandEmbedded(x)
		}
	case string:
		s := strings.TrimSpace(t)
		if len(s) > 1 && (s[0] == '{' || s[0] == '[') {
			if inner, err := decodeAny([]byte(s)); err == nil {
				return expandEmbedded(inner)
			}
		}
	}
	return v
}

// Wire forms: the plain types share the fields but not the methods, and
// the outer fields of the wire structs shadow the tolerant ones.
type (
	eventPlain WebhookEvent
	eventWire  struct {
		eventPlain
		MID        flexString `json:"mid"`
		CreateTime flexInt    `json:"create_time"`
	}
	extraPlain WebhookExtraData
	extraWire  struct {
		extraPlain
		ObjectID        flexString `json:"object_id"`
		OperatorType    flexInt    `json:"operator_type"`
		OperatorID      flexInt    `json:"operator_id"`
		IsFollowUp      flexInt    `json:"is_follow_up"`
		TimelineData    jsonText   `json:"timeline_data,omitempty"`
		MappingData     jsonMap    `json:"mapping_data"`
		MappingDataText jsonMap    `json:"mapping_data_text"`
	}
)

var (
	eventFields = jsonFieldNames(reflect.TypeFor[WebhookEvent]())
	extraFields = jsonFieldNames(reflect.TypeFor[WebhookExtraData]())
)

func (e *WebhookEvent) UnmarshalJSON(b []byte) error {
	var w eventWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = WebhookEvent(w.eventPlain)
	e.MID, e.CreateTime = string(w.MID), int64(w.CreateTime)
	var err error
	e.Extra, err = unknownFields(b, eventFields)
	return err
}

func (e WebhookEvent) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(eventPlain(e))
	if err != nil {
		return nil, err
	}
	return withFields(b, e.Extra)
}

func (x *WebhookExtraData) UnmarshalJSON(b []byte) error {
	b, err := unquoteJSON(b) // some senders string-encode the whole extra_data
	if err != nil {
		return err
	}
	var w extraWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*x = WebhookExtraData(w.extraPlain)
	x.ObjectID, x.OperatorType, x.OperatorID = string(w.ObjectID), int(w.OperatorType), int64(w.OperatorID)
	x.IsFollowUp, x.TimelineData = int(w.IsFollowUp), string(w.TimelineData)
	x.MappingData, x.MappingDataText = w.MappingData, w.MappingDataText
	x.Extra, err = unknownFields(b, extraFields)
	return err
}

// MarshalJSON writes the platform's shape: mapping_data and
// mapping_data_text as JSON strings, as the lead events show.
func (x WebhookExtraData) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(extraWire{
		extraPlain: extraPlain(x), ObjectID: flexString(x.ObjectID),
		OperatorType: flexInt(x.OperatorType), OperatorID: flexInt(x.OperatorID), IsFollowUp: flexInt(x.IsFollowUp),
		TimelineData: jsonText(x.TimelineData), MappingData: x.MappingData, MappingDataText: x.MappingDataText,
	})
	if err != nil {
		return nil, err
	}
	return withFields(b, x.Extra)
}

// jsonFieldNames lists the JSON names of a struct's fields.
func jsonFieldNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

// unknownFields returns the members of the object b that are not in known.
func unknownFields(b []byte, known map[string]bool) (map[string]json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for name := range all {
		if known[name] {
			delete(all, name)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	return all, nil
}

// withFields adds extra members to the JSON object b (known ones win).
func withFields(b []byte, extra map[string]json.RawMessage) ([]byte, error) {
	if len(extra) == 0 {
		return b, nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for name, v := range extra {
		if _, ok := all[name]; !ok {
			all[name] = v
		}
	}
	return json.Marshal(all)
}

// unquoteJSON returns the JSON inside a JSON string, or b itself.
func unquoteJSON(b []byte) ([]byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '"' {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// flexString accepts "627" and 627 alike.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		*s = flexString(str)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or a number, got %s", b)
		}
		*s = flexString(n)
	}
	return nil
}

// flexInt accepts 1673262057, "1673262057", "" and null (0).
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*n = 0
		return nil
	}
	if i, err := strconv.ParseInt(string(s), 10, 64); err == nil {
		*n = flexInt(i)
		return nil
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || f != float64(int64(f)) {
		return fmt.Errorf("want an integer, got %s", b)
	}
	*n = flexInt(f)
	return nil
}

// jsonText is JSON carried as a string; an object is accepted and kept as its text.
type jsonText string

func (t *jsonText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*t = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = jsonText(s)
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	*t = jsonText(buf.String())
	return nil
}

// jsonMap is a JSON object that may arrive as a string holding it; empty
// ("", null, {}, and PHP's empty array []) decodes as nil.
type jsonMap map[string]any

func (m *jsonMap) UnmarshalJSON(b []byte) error {
	var text jsonText
	if err := text.UnmarshalJSON(b); err != nil {
		return err
	}
	s := strings.TrimSpace(string(text))
	if s == "" || s == "null" || s == "[]" {
		*m = nil
		return nil
	}
	v, err := decodeAny([]byte(s))
	if err != nil {
		return fmt.Errorf("mapping data: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("mapping data: want an object, got %s", s)
	}
	if len(obj) == 0 {
		obj = nil
	}
	*m = obj
	return nil
}

func (m jsonMap) MarshalJSON() ([]byte, error) {
	if len(m) == 0 {
		return []byte(`"{}"`), nil
	}
	inner, err := json.Marshal(map[string]any(m))
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(inner))
}
