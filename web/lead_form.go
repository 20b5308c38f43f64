package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/templates/forms"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The create and edit forms of a lead (issue 5), built from the fields of
// its business type in the reference data (fieldInputs). Only the fields
// for which forms.CanWrite holds are read from a post. The console checks
// what it can before calling the platform (required fields, a mobile or an
// email, numbers); the platform's refusals are shown on the field they
// name; the form always comes back (422) with everything typed.

// leadFormValueMax bounds one posted value (the platform's textarea limit
// is 5000 characters, up to 3 bytes each).
const leadFormValueMax = 15000

// Fields a form never writes: the business type is chosen before the
// form; an edit changes the status by a move (closing ones need a note);
// collaborators have their own form on the lead page.
var (
	neverWritten   = []string{"business_type", "collaborators"}
	notWhenEditing = []string{"lead_status"}
)

// leadFormFields are the form's fields for a business type with values.
func leadFormFields(r *refdata.Resolver, lang, businessType string, values map[string][]string, editing bool) []forms.FieldInput {
	fs := fieldInputs(r, lang, leadObject, businessType, values)
	for i := range fs {
		if slices.Contains(neverWritten, fs[i].Code) || (editing && slices.Contains(notWhenEditing, fs[i].Code)) {
			fs[i].Writable = false
		}
	}
	return fs
}

// leadValues are a lead's field values as the form shows them.
func leadValues(l db.Lead, r *refdata.Resolver) map[string][]string {
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(l.Fields, &raw)
	out := map[string][]string{}
	for _, it := range r.Fields(leadObject, l.BusinessType) {
		if v := rawValues(raw[it.ID], it.Type == forms.TypeMultiSelect || it.ID == "collaborators"); len(v) > 0 {
			out[it.ID] = v
		}
	}
	return out
}

// editTarget is the lead of an edit and its form, with the lead's values.
func (a *leadsArea) editTarget(c echo.Context) (*refdata.Resolver, db.Lead, leadsview.LeadForm, error) {
	r, ok := a.pipelines()
	if !ok {
		return nil, db.Lead{}, leadsview.LeadForm{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	l, err := a.targetLead(c)
	if err != nil {
		return nil, l, leadsview.LeadForm{}, err
	}
	lang := state(c).loc.Lang
	f := leadsview.LeadForm{UUID: l.UUID, Name: l.Name, BusinessType: l.BusinessType, Seen: l.UpdatedAt,
		TypeName: r.BusinessType(lang, leadObject, l.BusinessType),
		Fields:   leadFormFields(r, lang, l.BusinessType, leadValues(l, r), true)}
	return r, l, f, nil
}

func (a *leadsArea) showLeadEdit(c echo.Context) error {
	_, _, f, err := a.editTarget(c)
	if err != nil {
		return err
	}
	return a.renderLeadForm(c, http.StatusOK, f)
}

func (a *leadsArea) renderLeadForm(c echo.Context, status int, f leadsview.LeadForm) error {
	title := t(c, "leads.page.form.new_title")
	if !f.New {
		title = t(c, "leads.page.form.edit_title", "Name", f.Name)
	}
	return a.render(c, status, View{Title: title, Section: "leads", Body: leadsview.LeadFormView(f)})
}

// postedValues reads the writable fields from the post into their inputs
// (so a form that comes back keeps them) and returns them by code.
func postedValues(c echo.Context, fs []forms.FieldInput) (map[string][]string, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for i, f := range fs {
		if !forms.CanWrite(f) {
			continue
		}
		var vs []string
		for _, v := range form[f.InputName()] {
			if len(v) > leadFormValueMax {
				return nil, errors.New("value too long")
			}
			if v = strings.TrimSpace(v); v != "" {
				vs = append(vs, v)
			}
		}
		if f.Type != forms.TypeMultiSelect && len(vs) > 1 {
			vs = vs[:1]
		}
		fs[i].Value = vs
		out[f.Code] = vs
	}
	return out, nil
}

// checkLeadForm is what the console checks before the platform: required
// fields, a mobile or an email (merged with what the lead has), numbers.
// It sets the fields' errors and reports whether there were any.
func checkLeadForm(c echo.Context, fs []forms.FieldInput, merged map[string][]string) bool {
	bad := false
	for i, f := range fs {
		if !forms.CanWrite(f) {
			continue
		}
		v := strings.Join(f.Value, ",")
		switch {
		case f.Required && v == "":
			fs[i].Error = t(c, "leads.page.form.required")
		case f.Type == forms.TypeNumber && v != "":
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				fs[i].Error = t(c, "leads.page.form.number")
			}
		}
		bad = bad || fs[i].Error != ""
	}
	if len(merged["mobile"]) == 0 && len(merged["email"]) == 0 {
		for i, f := range fs {
			if (f.Code == "mobile" || f.Code == "email") && fs[i].Error == "" {
				fs[i].Error = t(c, "leads.page.form.mobile_or_email")
				bad = true
			}
		}
	}
	return bad
}

// leadInput turns the changed values into the platform's body: preset
// fields by their JSON names, custom ones beside them (numbers as numbers,
// multi_select comma-joined), and emptied fields in Clear.
func leadInput(fs []forms.FieldInput, values, before map[string][]string) (jing.LeadInput, []string, error) {
	body := map[string]any{}
	var in jing.LeadInput
	var changed []string
	for _, f := range fs {
		if !forms.CanWrite(f) {
			continue
		}
		v, was := values[f.Code], before[f.Code]
		if slices.Equal(v, was) {
			continue
		}
		changed = append(changed, f.Code)
		if len(v) == 0 {
			in.Clear = append(in.Clear, f.Code)
			continue
		}
		joined := strings.Join(v, ",")
		if f.Type == forms.TypeNumber {
			body[f.Code] = json.Number(joined)
		} else {
			body[f.Code] = joined
		}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return in, nil, err
	}
	clear := in.Clear
	if err := json.Unmarshal(raw, &in); err != nil {
		return in, nil, err
	}
	in.Clear = clear
	return in, changed, nil
}

func (a *leadsArea) saveLeadEdit(c echo.Context) error {
	r, l, f, err := a.editTarget(c)
	if err != nil {
		return err
	}
	before := leadValues(l, r)
	if seen, err := strconv.ParseInt(c.FormValue("_seen"), 10, 64); err == nil {
		f.Seen = seen
	}
	values, err := postedValues(c, f.Fields)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	merged := map[string][]string{"mobile": before["mobile"], "email": before["email"]}
	for k, v := range values {
		merged[k] = v
	}
	if checkLeadForm(c, f.Fields, merged) {
		return a.renderLeadForm(c, http.StatusUnprocessableEntity, f)
	}
	in, changed, err := leadInput(f.Fields, values, before)
	if err != nil {
		return err
	}
	if len(changed) == 0 {
		return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.page.form.unchanged"), leadsview.LeadPath(l.UUID))
	}
	entry := db.AuditEntry{Action: "lead.update", Object: "lead:" + l.UUID}
	what := fmt.Sprintf("update %q: %s", l.Name, strings.Join(changed, ", "))
	_, err = a.leads.Update(c.Request().Context(), currentUser(c).Username, l.UUID, in, f.Seen)
	var stale *leads.ChangedUpstream
	switch {
	case err == nil:
		entry.Summary = what
		a.audit(c, entry)
		return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.page.form.saved"), leadsview.LeadPath(l.UUID))
	case errors.As(err, &stale):
		entry.Outcome, entry.Summary = db.OutcomeFailed, what+" not sent: changed on the platform"
		a.audit(c, entry)
		// What was typed stays; the form now answers the platform's state.
		f.Seen = stale.Current.UpdatedAt
		f.Error = t(c, "leads.page.form.changed")
		return a.renderLeadForm(c, http.StatusConflict, f)
	}
	return a.leadFormRefused(c, f, err, entry, what)
}

// leadFormRefused shows a platform refusal: on the field it names, and
// the whole message above the form; 422 with everything typed.
func (a *leadsArea) leadFormRefused(c echo.Context, f leadsview.LeadForm, err error, entry db.AuditEntry, what string) error {
	je, ok := a.auditRefusal(c, entry, what, err)
	if !ok {
		return err
	}
	f.Error = state(c).loc.Message(je.Message())
	if codes, why := refusedFields(je); len(codes) > 0 {
		for i := range f.Fields {
			if slices.Contains(codes, f.Fields[i].Code) {
				f.Fields[i].Error = t(c, "leads.page.form.refused", "Why", why)
			}
		}
	}
	return a.renderLeadForm(c, http.StatusUnprocessableEntity, f)
}

// refusedFields reads the field codes a parameter refusal names. The
// platform's messages for codes 40001 and 40002 are "<reason>: <field>
// <why>", e.g. "参数无效: mobile 不是有效的手机号" or "缺少必选参数: name";
// the field is the first word after the first ": " (a full-width "："
// too), and "mobile或email" names two fields. Other errors name none.
func refusedFields(je *jing.Error) ([]string, string) {
	if je.Code != jing.CodeMissingParameter && je.Code != jing.CodeInvalidParameter {
		return nil, ""
	}
	msg := je.Msg
	i := strings.Index(msg, ": ")
	n := 2
	if j := strings.Index(msg, "："); j >= 0 && (i < 0 || j < i) {
		i, n = j, len("：")
	}
	if i < 0 {
		return nil, ""
	}
	rest := strings.TrimSpace(msg[i+n:])
	field, why, _ := strings.Cut(rest, " ")
	if field == "" {
		return nil, ""
	}
	if why == "" {
		why = strings.TrimSpace(msg[:i]) // "缺少必选参数"
	}
	return strings.Split(field, "或"), strings.TrimSpace(why)
}

// newLeadType is the business type of the create form: the query's or
// the form's when known, else the default one.
func newLeadType(c echo.Context, r *refdata.Resolver) string {
	bt := c.QueryParam("business_type")
	for _, it := range r.BusinessTypes(leadObject) {
		if it.ID == bt {
			return bt
		}
	}
	return r.DefaultBusinessType(leadObject)
}

func (a *leadsArea) newLeadForm(c echo.Context, r *refdata.Resolver, values map[string][]string) leadsview.LeadForm {
	lang := state(c).loc.Lang
	bt := newLeadType(c, r)
	return leadsview.LeadForm{New: true, BusinessType: bt, TypeName: r.BusinessType(lang, leadObject, bt),
		Fields: leadFormFields(r, lang, bt, values, false)}
}

func (a *leadsArea) showNewLead(c echo.Context) error {
	r, ok := a.pipelines()
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	bt := newLeadType(c, r)
	values := map[string][]string{"business_type": {bt}}
	if sts := r.Statuses(bt); len(sts) > 0 {
		values["lead_status"] = []string{sts[0].ID}
	}
	return a.renderLeadForm(c, http.StatusOK, a.newLeadForm(c, r, values))
}

func (a *leadsArea) createLead(c echo.Context) error {
	r, ok := a.pipelines()
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	f := a.newLeadForm(c, r, map[string][]string{"business_type": {newLeadType(c, r)}})
	values, err := postedValues(c, f.Fields)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	if checkLeadForm(c, f.Fields, values) {
		return a.renderLeadForm(c, http.StatusUnprocessableEntity, f)
	}
	in, _, err := leadInput(f.Fields, values, nil)
	if err != nil {
		return err
	}
	in.BusinessType = f.BusinessType
	in.Clear = nil
	name := strings.Join(values["name"], "")
	entry := db.AuditEntry{Action: "lead.create", Object: "lead"}
	what := fmt.Sprintf("create %q", name)
	l, err := a.leads.Create(c.Request().Context(), currentUser(c).Username, in)
	switch {
	case err == nil:
		entry.Object, entry.Summary = "lead:"+l.UUID, what
		a.audit(c, entry)
		return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.page.form.created", "Name", name), leadsview.LeadPath(l.UUID))
	case errors.Is(err, db.ErrNotFound) && l.UUID != "":
		entry.Object, entry.Summary = "lead:"+l.UUID, what+" (not yet in the local copy)"
		a.audit(c, entry)
		return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.page.form.created_later", "Name", name), leadsview.BoardPath)
	}
	return a.leadFormRefused(c, f, err, entry, what)
}
