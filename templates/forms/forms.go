// Package forms holds the building blocks of forms made from the platform's
// field metadata: Field, which renders the right control for a field's
// type, and OptionPicker, the cascading picker for option-set trees.
//
// The components take small view models of their own (FieldInput, Choice,
// TreeChoice), never reference-data or platform types: an adapter maps
// those, so these templates do not change when the reference data does.
package forms

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/jingdesk/jingdesk/internal/i18n"

	"github.com/jingdesk/jingdesk/templates/ui"
)

// Field types, as objects.fields names them, plus TypeMember.
const (
	TypeText            = "text"
	TypeTextarea        = "textarea"
	TypeNumber          = "number"
	TypeDate            = "date"
	TypeSelect          = "select"
	TypeMultiSelect     = "multi_select"
	TypeOptionSet       = "option_set"
	TypeMobile          = "mobile"
	TypeEmail           = "email"
	TypeURL             = "url"
	TypeDepartment      = "department"
	TypeMultiDepartment = "multi_department"
	TypeImage           = "image"
	TypeLookUp          = "look_up"
	// TypeMember is the console's own type for a field holding a member's
	// id (a lead's owner): a picker of the tenant's active members.
	TypeMember = "member"
)

// editableTypes are the types Field renders a control for.
var editableTypes = []string{
	TypeText, TypeTextarea, TypeNumber, TypeDate, TypeSelect, TypeMultiSelect,
	TypeOptionSet, TypeMobile, TypeEmail, TypeURL, TypeMember,
}

// UnwritableType reports whether the platform refuses writes to fields of
// typ (department, multi_department, image, look_up).
func UnwritableType(typ string) bool {
	switch typ {
	case TypeDepartment, TypeMultiDepartment, TypeImage, TypeLookUp:
		return true
	}
	return false
}

// CanWrite reports whether a form may carry f: the platform marks it
// writable and its type is one the console has a control for. Field renders
// no input for any other field, and a handler saving a form should accept
// only the fields for which CanWrite holds.
func CanWrite(f FieldInput) bool {
	return f.Writable && slices.Contains(editableTypes, f.Type)
}

// FieldInput is one field of a form as Field renders it.
type FieldInput struct {
	Code  string // the platform's field code
	Label string // the field's name from the platform, shown as is
	Type  string // one of the Type constants
	// Required marks the field (asterisk, required attribute); Writable is
	// the platform's flag: false renders the value as read-only text.
	Required, Writable bool
	// Value is the current value: one string, or several for multi_select.
	// Ids for select, multi_select, option_set and member; YYYY-MM-DD for
	// date. For the types that cannot be written (department, image, …),
	// give the text to show.
	Value []string
	Error string // translated validation message
	Hint  string // translated help text
	// Options are the choices of select and multi_select; a Disabled one
	// is no longer offered and shows only while it is the current value.
	Options []Choice
	// Tree is the option set of an option_set field, roots first.
	Tree []*TreeChoice
	// Members are the choices of a member field; Disabled marks a member
	// who is no longer active, shown only while it is the current value.
	Members []Choice
	// Object is the CRM object the field belongs to ("lead", "account"):
	// the option-set picker asks the server for the tree by object and code.
	Object string
	// Name is the form field name when it is not Code (a form holding two
	// objects, say). It also names the DOM ids.
	Name string
}

// Choice is one choice of a select, a multi_select or a member picker.
type Choice struct {
	Value, Label string
	Disabled     bool
}

// TreeChoice is one node of an option set (country → province → city).
type TreeChoice struct {
	Value, Label string
	Children     []*TreeChoice
}

// NewFieldInput starts a FieldInput from a field's metadata; the caller
// fills Value, Options, Tree or Members, Error and Hint as the form needs.
func NewFieldInput(code, label, typ string, required, writable bool) FieldInput {
	return FieldInput{Code: code, Label: label, Type: typ, Required: required, Writable: writable}
}

// InputName is the name the field's control posts under.
func (f FieldInput) InputName() string {
	if f.Name != "" {
		return f.Name
	}
	return f.Code
}

// DOMID is the id of the field's control; hint, error and label ids derive from it.
func (f FieldInput) DOMID() string { return domID(f.InputName()) }

// first is the single current value ("" when none).
func (f FieldInput) first() string {
	if len(f.Value) == 0 {
		return ""
	}
	return f.Value[0]
}

func (f FieldInput) has(v string) bool { return slices.Contains(f.Value, v) }

// domID makes an HTML id (usable in a CSS selector) from a form field name.
func domID(name string) string {
	var b strings.Builder
	b.WriteString("f-")
	for _, r := range name {
		if r < 128 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// hint is the help under a field: the caller's, or the format of a mobile number.
func hint(ctx context.Context, f FieldInput) string {
	if f.Hint == "" && f.Type == TypeMobile {
		return ui.T(ctx, "forms.hint.mobile")
	}
	return f.Hint
}

// labelID is the id of a group's legend (checkboxes, the option-set picker).
func (f FieldInput) labelID() string { return domID(f.InputName()) + "-label" }

// describedBy links a control to the field's hint and error, and marks it
// invalid when there is an error.
func describedBy(ctx context.Context, f FieldInput) templ.Attributes {
	a := groupDescribedBy(ctx, f)
	if f.Error != "" {
		a["aria-invalid"] = "true"
	}
	return a
}

// groupDescribedBy links a fieldset to the field's hint and error (its
// controls carry aria-invalid themselves).
func groupDescribedBy(ctx context.Context, f FieldInput) templ.Attributes {
	var ids []string
	if hint(ctx, f) != "" {
		ids = append(ids, f.DOMID()+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.DOMID()+"-error")
	}
	if len(ids) == 0 {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-describedby": strings.Join(ids, " ")}
}

// inputAttrs are the type-specific attributes of an <input>.
func inputAttrs(f FieldInput) templ.Attributes {
	if a, ok := inputTypeAttrs[f.Type]; ok {
		return maps.Clone(a)
	}
	return templ.Attributes{"type": "text"}
}

// inputTypeAttrs: contact fields describe a lead, not the person typing, so
// the browser must not fill in the user's own address or number
// (autocomplete off). A mobile takes it as people type it ("+86 138-0013-8009":
// no pattern, no 11-character cut); internal/leads normalises it. A number is text with a decimal keyboard, not
// type=number: no spinner, no value changed by a scroll wheel, no locale
// surprises.
var inputTypeAttrs = map[string]templ.Attributes{
	TypeMobile: {"type": "tel", "inputmode": "tel", "autocomplete": "off", "maxlength": "24"},
	TypeEmail:  {"type": "email", "autocomplete": "off", "spellcheck": "false"},
	TypeURL:    {"type": "url", "autocomplete": "off", "spellcheck": "false", "placeholder": "https://"},
	TypeNumber: {"type": "text", "inputmode": "decimal", "autocomplete": "off", "pattern": `-?[0-9]+(\.[0-9]+)?`},
	TypeDate:   {"type": "date"},
}

// shownChoice is a choice as a control lists it.
type shownChoice struct {
	Value, Label string
	Selected     bool
}

// shownChoices lists the offered choices, and keeps every current value
// even when it is no longer offered (a retired option, a member who left:
// labelled as such) or not known at all: saving a form must never drop a
// value the user did not touch.
func shownChoices(ctx context.Context, f FieldInput, choices []Choice) []shownChoice {
	var out []shownChoice
	known := map[string]bool{}
	for _, c := range choices {
		known[c.Value] = true
		sel := f.has(c.Value)
		if c.Disabled && !sel {
			continue
		}
		label := c.Label
		if c.Disabled {
			label = retiredLabel(ctx, f.Type, c.Label)
		}
		out = append(out, shownChoice{Value: c.Value, Label: label, Selected: sel})
	}
	for _, v := range f.Value {
		if v != "" && !known[v] {
			out = append(out, shownChoice{Value: v, Label: ui.T(ctx, "forms.unknown_value", "ID", v), Selected: true})
			known[v] = true
		}
	}
	return out
}

func retiredLabel(ctx context.Context, typ, label string) string {
	if typ == TypeMember {
		return ui.T(ctx, "forms.member_inactive", "Name", label)
	}
	return ui.T(ctx, "forms.option_retired", "Label", label)
}

// choices are the options of a select or member field.
func (f FieldInput) choices() []Choice {
	if f.Type == TypeMember {
		return f.Members
	}
	return f.Options
}

// emptyOption: a select offers "Choose…" when it may stay empty, and when
// it is empty now (otherwise the browser would silently pick the first
// choice for a required field).
func (f FieldInput) emptyOption() bool { return !f.Required || f.first() == "" }

// displayValues is the current value as read-only text shows it: labels
// for choices and tree nodes, the values themselves otherwise.
func displayValues(ctx context.Context, f FieldInput) []string {
	var out []string
	for _, v := range f.Value {
		if v == "" {
			continue
		}
		label := v
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && f.Type == TypeDate {
			label = ui.DateTime(ctx, n) // created_timestamp and the like: Unix seconds
		} else if f.Code == LifeStageField {
			label = LifeStage(i18n.FromContext(ctx), v)
		} else if path := PathTo(f.Tree, v); path != nil {
			label = PathLabel(path)
		} else if i := slices.IndexFunc(f.choices(), func(c Choice) bool { return c.Value == v }); i >= 0 {
			label = f.choices()[i].Label
		}
		out = append(out, label)
	}
	return out
}

// LifeStageField is the lead's lifecycle stage: a field the platform
// derives and lists no options for; its documented codes (baby_lead, mql,
// sql, customer, invalid) are named in the catalogs (forms.life_status.*).
const LifeStageField = "life_status"

// LifeStage is a lifecycle stage's name, or "unknown (code)" for a code
// the catalogs do not name.
func LifeStage(l *i18n.Localizer, code string) string {
	return l.TOr("forms.life_status."+code, l.T("forms.unknown_value", "ID", code))
}

// readOnlyNote says why a field shows no control.
func readOnlyNote(ctx context.Context, f FieldInput) string {
	if f.Writable && !UnwritableType(f.Type) {
		return ui.T(ctx, "forms.unsupported_type") // a type this console does not know yet
	}
	return ui.T(ctx, "forms.readonly_note")
}

// PathTo is the path from a root to the node with value id (root first),
// or nil when the tree has no such node.
func PathTo(roots []*TreeChoice, id string) []*TreeChoice {
	for _, n := range roots {
		if n.Value == id {
			return []*TreeChoice{n}
		}
		if p := PathTo(n.Children, id); p != nil {
			return append([]*TreeChoice{n}, p...)
		}
	}
	return nil
}

// PathLabel is a path as one label: "中国 / 山西省 / 晋中市".
func PathLabel(path []*TreeChoice) string {
	names := make([]string, len(path))
	for i, n := range path {
		names[i] = n.Label
	}
	return strings.Join(names, " / ")
}

// ResolvePath turns the values of a picker's selects into the chosen path.
// Order does not matter (htmx sends the select that changed first): from
// the roots down, each level takes the child of the node above whose value
// was sent. A value sent for a deeper level that is no longer under the
// chosen node (the user changed a level above it) ends the path there, so
// choosing another province clears the city. Values the tree does not hold
// anywhere are returned as unknown.
func ResolvePath(roots []*TreeChoice, values []string) (path []*TreeChoice, unknown []string) {
	sent := map[string]bool{}
	for _, v := range values {
		if v == "" {
			continue
		}
		if PathTo(roots, v) == nil {
			unknown = append(unknown, v)
			continue
		}
		sent[v] = true
	}
	level := roots
	for {
		i := slices.IndexFunc(level, func(n *TreeChoice) bool { return sent[n.Value] })
		if i < 0 {
			return path, unknown
		}
		path = append(path, level[i])
		level = level[i].Children
	}
}

// leafChoices lists every leaf with its full path, for the picker without script.
func leafChoices(roots []*TreeChoice, above []*TreeChoice, out []shownPath) []shownPath {
	for _, n := range roots {
		path := append(slices.Clip(above), n)
		if len(n.Children) == 0 {
			out = append(out, shownPath{Value: n.Value, Label: PathLabel(path)})
		} else {
			out = leafChoices(n.Children, path, out)
		}
	}
	return out
}

type shownPath struct{ Value, Label string }

// PickerPath is where the cascading picker asks for itself re-rendered.
const PickerPath = "/forms/option-picker"

// PathParam is the name of the picker's level selects, and the parameter
// that carries the chosen values to PickerPath. It starts with "_" like
// "_csrf": no platform field is called that, so a handler saving a form
// never mistakes it for a field.
const PathParam = "_path"

// Picker is the cascading option-set picker.
//
// Design. Without script, the picker is one <select> named after the field
// listing every leaf with its full path ("中国 / 山西省 / 晋中市"). With
// script, it is one <select> per level of the chosen path; changing one
// asks the server (htmx GET PickerPath, hx-include the level selects) for
// the picker re-rendered for the chosen node, which shows its children as
// the next level and drops deeper ones. The value then travels in a hidden
// input named after the field: the innermost chosen node, which the
// platform stores.
//
// The page renders both halves (Enhanced false) and CSS shows one: the
// `js` class app.js sets on <html> hides the leaf list and shows the level
// selects (there is no inline script to do it, and <noscript> cannot take
// the leaf list out when script runs). Exactly one control carries the
// field's name in either case: the leaf list, until the first change
// replaces the picker by the server's Enhanced render, where the hidden
// input carries it. The level selects are named PathParam, never the field.
type Picker struct {
	Object string // "lead", "account"
	Field  string // the option_set field's code
	Name   string // the form field name the value posts under
	// Required puts the required attribute on the first level (or the leaf
	// list); forms validate on the server too (they are novalidate).
	Required bool
	Tree     []*TreeChoice
	Path     []*TreeChoice // the chosen nodes, root first
	// Unknown is a current value the tree does not hold (reference data
	// older than the record): kept, and shown as unknown.
	Unknown  string
	Enhanced bool   // rendered by PickerPath for htmx: level selects and a hidden input only
	Invalid  bool   // the field has an error: aria-invalid on the selects
	Message  string // translated: why the server reset a choice
}

// PickerFor is the picker a form shows for an option_set field.
func PickerFor(f FieldInput) Picker {
	p := Picker{Object: f.Object, Field: f.Code, Name: f.InputName(), Required: f.Required, Tree: f.Tree, Invalid: f.Error != ""}
	if v := f.first(); v != "" {
		if p.Path = PathTo(f.Tree, v); p.Path == nil {
			p.Unknown = v
		}
	}
	return p
}

// ID is the picker's container; the legend's id and the level selects' ids derive from it.
func (p Picker) ID() string { return domID(p.Name) + "-picker" }

// LabelID is the id of the field's legend, which names every level select.
func (p Picker) LabelID() string { return domID(p.Name) + "-label" }

// LevelID is the id of one level's select: stable across swaps, so htmx
// gives focus back to the select the user just changed.
func (p Picker) LevelID(level int) string { return p.ID() + "-" + strconv.Itoa(level) }

// Value is what the field posts: the innermost chosen node.
func (p Picker) Value() string {
	if len(p.Path) > 0 {
		return p.Path[len(p.Path)-1].Value
	}
	return p.Unknown
}

// URL is the hx-get of the level selects.
func (p Picker) URL() string {
	q := url.Values{"object": {p.Object}, "field": {p.Field}, "name": {p.Name}}
	if p.Required {
		q.Set("required", "1")
	}
	return PickerPath + "?" + q.Encode()
}

// pickerLevel is one <select> of the cascade.
type pickerLevel struct {
	Index    int
	Choices  []*TreeChoice
	Selected string
	Unknown  string // an unknown current value kept as the selected option
}

// levels are the selects to show: the roots, then the children of each
// chosen node, ending with an unchosen level when the innermost chosen node
// has children.
func (p Picker) levels() []pickerLevel {
	out := []pickerLevel{{Index: 0, Choices: p.Tree, Unknown: p.Unknown}}
	for i, n := range p.Path {
		out[i].Selected = n.Value
		if len(n.Children) > 0 {
			out = append(out, pickerLevel{Index: i + 1, Choices: n.Children})
		}
	}
	return out
}

// levelEmptyOption: the first level offers "Choose…" like any select;
// deeper ones always do (choosing it stops at the level above).
func (p Picker) levelEmptyOption(l pickerLevel) bool {
	return l.Index > 0 || !p.Required || (l.Selected == "" && l.Unknown == "")
}

// flatChoices are the leaf list's options, with the current value first
// when it is not a leaf (or not known).
func (p Picker) flatChoices(ctx context.Context) []shownChoice {
	var out []shownChoice
	v := p.Value()
	switch {
	case p.Unknown != "":
		out = append(out, shownChoice{Value: v, Label: ui.T(ctx, "forms.unknown_value", "ID", v), Selected: true})
	case len(p.Path) > 0 && len(p.Path[len(p.Path)-1].Children) > 0:
		out = append(out, shownChoice{Value: v, Label: PathLabel(p.Path), Selected: true})
	}
	for _, l := range leafChoices(p.Tree, nil, nil) {
		out = append(out, shownChoice{Value: l.Value, Label: l.Label, Selected: l.Value == v})
	}
	return out
}
