package jing

import (
	"context"
	"strings"
)

// Field types objects.fields reports (endpoints.md, CRM object metadata).
const (
	FieldText            = "text"
	FieldTextarea        = "textarea"
	FieldNumber          = "number"
	FieldDate            = "date"
	FieldSelect          = "select"
	FieldMultiSelect     = "multi_select"
	FieldOptionSet       = "option_set"
	FieldMobile          = "mobile"
	FieldEmail           = "email"
	FieldURL             = "url"
	FieldDepartment      = "department"
	FieldMultiDepartment = "multi_department"
	FieldImage           = "image"
	FieldLookUp          = "look_up"
)

// readOnlyCustomTypes are the custom field types the platform documents as
// impossible to create or update through the API (seeds/001).
var readOnlyCustomTypes = map[string]bool{
	FieldDepartment: true, FieldMultiDepartment: true, FieldImage: true, FieldLookUp: true,
}

// BusinessType is one business type of a CRM object (objects.business_types).
type BusinessType struct {
	JingUUID  string `json:"jing_uuid"`
	Name      string `json:"name"`
	IsDefault int    `json:"is_default"`
}

// Default reports the tenant's default business type.
func (b BusinessType) Default() bool { return b.IsDefault == 1 }

// SelectOption is one choice of a select field (objects.source_options,
// objects.custom_options).
type SelectOption struct {
	JingUUID string `json:"jing_uuid"`
	Name     string `json:"name"`
}

// OptionNode is one node of an option-set tree.
type OptionNode struct {
	JingUUID string       `json:"jing_uuid"`
	Name     string       `json:"name"`
	Child    []OptionNode `json:"child"`
}

// OptionTree is an option-set field's choices (objects.option_set), e.g.
// country → province → city. A record stores the innermost node's id.
type OptionTree []OptionNode

// Path is the nodes from a root down to the node uuid.
func (t OptionTree) Path(uuid string) ([]OptionNode, bool) {
	for _, n := range t {
		if n.JingUUID == uuid {
			return []OptionNode{n}, true
		}
		if rest, ok := OptionTree(n.Child).Path(uuid); ok {
			return append([]OptionNode{n}, rest...), true
		}
	}
	return nil, false
}

// Label is the platform's label of a value: "中国/山西省/晋中市" ("" if unknown).
func (t OptionTree) Label(uuid string) string {
	path, _ := t.Path(uuid)
	names := make([]string, len(path))
	for i, n := range path {
		names[i] = n.Name
	}
	return strings.Join(names, "/")
}

// IsLeaf reports whether uuid is an innermost node: the only storable value.
func (t OptionTree) IsLeaf(uuid string) bool {
	path, ok := t.Path(uuid)
	return ok && len(path[len(path)-1].Child) == 0
}

// Leaves are the innermost nodes, in tree order.
func (t OptionTree) Leaves() []OptionNode {
	var out []OptionNode
	for _, n := range t {
		if len(n.Child) == 0 {
			out = append(out, n)
			continue
		}
		out = append(out, OptionTree(n.Child).Leaves()...)
	}
	return out
}

// Depth is the number of levels of the deepest branch.
func (t OptionTree) Depth() int {
	d := 0
	for _, n := range t {
		d = max(d, 1+OptionTree(n.Child).Depth())
	}
	return d
}

// ObjectField is one field of a CRM object (objects.fields).
type ObjectField struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	IsPreset int    `json:"is_preset"`
	Required int    `json:"required"`
	Writable int    `json:"writable"`
}

// Custom reports a tenant-defined field; its code sits beside the preset
// fields in a lead's body.
func (f ObjectField) Custom() bool { return f.IsPreset == 0 }

// CanWrite reports whether the API may create or update the field: it is
// writable, and not a custom field of a type the platform refuses.
func (f ObjectField) CanWrite() bool {
	return f.Writable == 1 && !(f.Custom() && readOnlyCustomTypes[f.Type])
}

// objectQuery is the body of the objects.* calls.
type objectQuery struct {
	ObjectName   string `json:"object_name"`
	FieldCode    string `json:"field_code,omitempty"`
	BusinessType string `json:"business_type,omitempty"`
}

// itemList is the {"items": […]} answer of the metadata calls.
type itemList[T any] struct {
	Items []T `json:"items"`
}

// callItems calls a metadata endpoint that answers {"items": […]}.
func callItems[T any](ctx context.Context, c *Client, key string, body any) ([]T, error) {
	var out itemList[T]
	err := c.Call(ctx, key, body, &out)
	return out.Items, err
}

// BusinessTypes lists the business types of objectName (ObjectLead or ObjectAccount).
func (c *Client) BusinessTypes(ctx context.Context, objectName string) ([]BusinessType, error) {
	return callItems[BusinessType](ctx, c, "objects.business_types", objectQuery{ObjectName: objectName})
}

// OptionSet is the tree of an option-set field, e.g. (ObjectLead, "country_region").
func (c *Client) OptionSet(ctx context.Context, objectName, fieldCode string) (OptionTree, error) {
	return callItems[OptionNode](ctx, c, "objects.option_set", objectQuery{ObjectName: objectName, FieldCode: fieldCode})
}

// SourceOptions are the choices of a preset select field such as
// source_type (for lead_status, the default business type's pipeline; see
// LeadStatuses for another business type's).
func (c *Client) SourceOptions(ctx context.Context, objectName, fieldCode string) ([]SelectOption, error) {
	return callItems[SelectOption](ctx, c, "objects.source_options", objectQuery{ObjectName: objectName, FieldCode: fieldCode})
}

// CustomOptions are the choices of a custom select or multi_select field.
func (c *Client) CustomOptions(ctx context.Context, objectName, fieldCode string) ([]SelectOption, error) {
	return callItems[SelectOption](ctx, c, "objects.custom_options", objectQuery{ObjectName: objectName, FieldCode: fieldCode})
}

// Fields lists the fields of objectName in businessType ("": the default one).
func (c *Client) Fields(ctx context.Context, objectName, businessType string) ([]ObjectField, error) {
	return callItems[ObjectField](ctx, c, "objects.fields", objectQuery{ObjectName: objectName, BusinessType: businessType})
}
