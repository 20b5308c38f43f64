package leads

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// The create and edit forms of a lead: which fields a form writes, what
// the console checks before calling the platform (required fields, a
// mobile or an email, numbers), and how the changed values become the
// platform's body. The web layer builds the form from the reference data
// and reads the post; the rules are here.

// Form is a lead form as posted.
type Form struct {
	// Fields are the fields the form writes (the platform marks them
	// writable, the console has a control for them and FormWrites holds).
	Fields []FormField
	// Values are what was posted for them, by code (trimmed; no value: absent).
	Values map[string][]string
	// Before are the lead's values the form was drawn with, by code (nil
	// for a new lead).
	Before map[string][]string
}

// FormField is one field of a form as the rules read it.
type FormField struct {
	Code     string
	Type     string // the platform's field type: "number", "multi_select", …
	Required bool
}

// fieldNumber is the type whose values must be numbers (and are sent as numbers).
const fieldNumber = "number"

// Fields a form never writes: the business type is chosen before the
// form; an edit changes the status by a move (closing ones need a note);
// collaborators have their own form on the lead page.
var (
	neverWritten   = []string{"business_type", "collaborators"}
	notWhenEditing = []string{"lead_status"}
)

// FormWrites reports whether a form writes the field code: a new lead's
// form (editing false) or an edit's.
func FormWrites(code string, editing bool) bool {
	return !slices.Contains(neverWritten, code) && !(editing && slices.Contains(notWhenEditing, code))
}

// Refusals of a form's values, each on its field (FormErrors carries them).
var (
	ErrFieldRequired = msg.Refuse(msg.Invalid, "leads.page.form.required")
	ErrFieldNumber   = msg.Refuse(msg.Invalid, "leads.page.form.number")
	ErrMobileOrEmail = msg.Refuse(msg.Invalid, "leads.page.form.mobile_or_email")
	ErrMobile        = msg.Refuse(msg.Invalid, "leads.page.form.mobile")
)

// fieldMobile is the type of the fields that hold a mobile number (the
// preset mobile and custom ones).
const fieldMobile = "mobile"

// FormErrors are the refusals of a form's values, each on its field
// (msg.Error.Field): the form comes back with every one shown.
type FormErrors []*msg.Error

func (e FormErrors) Error() string {
	parts := make([]string, len(e))
	for i, r := range e {
		parts[i] = r.Error()
	}
	return "leads: form refused: " + strings.Join(parts, "; ")
}

// normalised is f with its mobile numbers as the 11 digits the platform
// keeps (NormaliseMobile); a value that is not one stays as typed, for
// check to refuse.
func (f Form) normalised() Form {
	f.Values = maps.Clone(f.Values)
	for _, fd := range f.Fields {
		if v := f.Values[fd.Code]; fd.Type == fieldMobile && len(v) == 1 {
			if m, ok := NormaliseMobile(v[0]); ok {
				f.Values[fd.Code] = []string{m}
			}
		}
	}
	return f
}

// check is what the console checks before the platform: required fields,
// numbers, a mobile number's form, and a mobile or an email (the lead's
// own, or posted).
func (f Form) check() error {
	var errs FormErrors
	refused := map[string]bool{}
	refuse := func(e *msg.Error, code string) {
		errs, refused[code] = append(errs, e.On(code)), true
	}
	for _, fd := range f.Fields {
		v := strings.Join(f.Values[fd.Code], ",")
		switch {
		case fd.Required && v == "":
			refuse(ErrFieldRequired, fd.Code)
		case fd.Type == fieldNumber && v != "":
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				refuse(ErrFieldNumber, fd.Code)
			}
		case fd.Type == fieldMobile && v != "":
			if _, ok := NormaliseMobile(v); !ok {
				refuse(ErrMobile, fd.Code)
			}
		}
	}
	if len(f.after("mobile")) == 0 && len(f.after("email")) == 0 {
		for _, code := range []string{"mobile", "email"} {
			if !refused[code] {
				refuse(ErrMobileOrEmail, code)
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// after is a field's value once the form is saved: the posted one when
// the form writes the field, else the lead's.
func (f Form) after(code string) []string {
	if slices.ContainsFunc(f.Fields, func(fd FormField) bool { return fd.Code == code }) {
		return f.Values[code]
	}
	return f.Before[code]
}

// input turns the changed values into the platform's body: preset fields
// by their JSON names, custom ones beside them (numbers as numbers,
// multi_select comma-joined), emptied fields in Clear; changed lists the
// codes it writes.
func (f Form) input() (in jing.LeadInput, changed []string, err error) {
	body := map[string]any{}
	var clear []string
	for _, fd := range f.Fields {
		v, was := f.Values[fd.Code], f.Before[fd.Code]
		if slices.Equal(v, was) {
			continue
		}
		changed = append(changed, fd.Code)
		if len(v) == 0 {
			clear = append(clear, fd.Code)
			continue
		}
		joined := strings.Join(v, ",")
		if fd.Type == fieldNumber {
			body[fd.Code] = json.Number(joined)
		} else {
			body[fd.Code] = joined
		}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return in, nil, err
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return in, nil, err
	}
	in.Clear = clear
	return in, changed, nil
}

// writable keeps the fields a form writes (editing: an edit's form).
func (f Form) writable(editing bool) Form {
	f.Fields = slices.DeleteFunc(slices.Clone(f.Fields), func(fd FormField) bool { return !FormWrites(fd.Code, editing) })
	return f
}

// SaveForm writes an edit form of the lead uuid: checked first (a
// FormErrors refuses it, nothing sent), then only the changed fields go
// to the platform, after the same re-read as Update. changed lists them
// (also with a refusal, for the audit); none changed writes nothing.
func (s *Service) SaveForm(ctx context.Context, actor, uuid string, f Form, seenUpdatedAt int64) (changed []string, err error) {
	f = f.writable(true).normalised()
	if err := f.check(); err != nil {
		return nil, err
	}
	in, changed, err := f.input()
	if err != nil || len(changed) == 0 {
		return changed, err
	}
	_, err = s.Update(ctx, actor, uuid, in, seenUpdatedAt)
	return changed, err
}

// CreateFromForm creates a lead of businessType from a new lead's form,
// checked like SaveForm's (see Create for a lead the copy does not hold
// yet).
func (s *Service) CreateFromForm(ctx context.Context, actor, businessType string, f Form) (db.Lead, error) {
	f.Before = nil
	f = f.writable(false).normalised()
	if err := f.check(); err != nil {
		return db.Lead{}, err
	}
	in, _, err := f.input()
	if err != nil {
		return db.Lead{}, err
	}
	in.BusinessType, in.Clear = businessType, nil
	return s.Create(ctx, actor, in)
}

// RefusedFields reads the field codes a parameter refusal of the platform
// names, and the reason it gives. The platform's messages for codes 40001
// and 40002 are "<reason>: <field> <why>", e.g. "参数无效: mobile 不是有效的
// 手机号" or "缺少必选参数: name"; the field is the first word after the
// first ": " (a full-width "：" too), and "mobile或email" names two
// fields. Other errors name none.
func RefusedFields(je *jing.Error) (codes []string, why string) {
	if je.Code != jing.CodeMissingParameter && je.Code != jing.CodeInvalidParameter {
		return nil, ""
	}
	m := je.Msg
	i := strings.Index(m, ": ")
	n := 2
	if j := strings.Index(m, "："); j >= 0 && (i < 0 || j < i) {
		i, n = j, len("：")
	}
	if i < 0 {
		return nil, ""
	}
	rest := strings.TrimSpace(m[i+n:])
	field, why, _ := strings.Cut(rest, " ")
	if field == "" {
		return nil, ""
	}
	if why == "" {
		why = strings.TrimSpace(m[:i]) // "缺少必选参数"
	}
	return strings.Split(field, "或"), strings.TrimSpace(why)
}
