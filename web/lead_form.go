package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/templates/forms"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The create and edit forms of a lead (issue 5), built from the fields of
// its business type in the reference data (fieldInputs). Only the fields
// the form writes are read from a post (forms.CanWrite, leads.FormWrites);
// the leads service checks what it can before calling the platform
// (required fields, a mobile or an email, numbers: leads.Form) and sends
// the changed values; the platform's refusals are shown on the field they
// name; the form always comes back (422) with everything typed.

// leadFormValueMax bounds one posted value (the platform's textarea limit
// is 5000 characters, up to 3 bytes each).
const leadFormValueMax = 15000

// leadFormFields are the form's fields for a business type with values.
func leadFormFields(r *refdata.Resolver, lang, businessType string, values map[string][]string, editing bool) []forms.FieldInput {
	fs := fieldInputs(r, lang, leadObject, businessType, values)
	for i := range fs {
		fs[i].Writable = fs[i].Writable && leads.FormWrites(fs[i].Code, editing)
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

// postedForm reads the writable fields from the post into their inputs
// (so a form that comes back keeps them) and into the form the leads
// service checks and writes. A single-valued field keeps its first value.
func postedForm(c echo.Context, fs []forms.FieldInput) (leads.Form, error) {
	post, err := c.FormParams()
	if err != nil {
		return leads.Form{}, err
	}
	out := leads.Form{Values: map[string][]string{}}
	for i, f := range fs {
		if !forms.CanWrite(f) {
			continue
		}
		var vs []string
		for _, v := range post[f.InputName()] {
			if len(v) > leadFormValueMax {
				return leads.Form{}, errors.New("value too long")
			}
			if v = strings.TrimSpace(v); v != "" {
				vs = append(vs, v)
			}
		}
		if f.Type != forms.TypeMultiSelect && len(vs) > 1 {
			vs = vs[:1]
		}
		fs[i].Value = vs
		out.Fields = append(out.Fields, leads.FormField{Code: f.Code, Type: f.Type, Required: f.Required})
		if len(vs) > 0 {
			out.Values[f.Code] = vs
		}
	}
	return out, nil
}

func (a *leadsArea) saveLeadEdit(c echo.Context) error {
	r, l, f, err := a.editTarget(c)
	if err != nil {
		return err
	}
	if seen, err := strconv.ParseInt(c.FormValue("_seen"), 10, 64); err == nil {
		f.Seen = seen
	}
	form, err := postedForm(c, f.Fields)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	form.Before = leadValues(l, r)
	changed, err := a.leads.SaveForm(c.Request().Context(), currentUser(c).Username, l.UUID, form, f.Seen)
	entry := db.AuditEntry{Action: "lead.update", Object: "lead:" + l.UUID}
	what := summary("lead_update", msg.Str("Name", l.Name), joinedNames(fieldNames(r, state(c).loc.Lang, l.BusinessType, changed)))
	var stale *leads.ChangedUpstream
	switch {
	case err == nil && len(changed) == 0:
		return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.page.form.unchanged"), leadsview.LeadPath(l.UUID))
	case err == nil:
		entry.Summary = what.Encode()
		a.audit(c, entry)
		return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.page.form.saved"), leadsview.LeadPath(l.UUID))
	case errors.As(err, &stale):
		entry.Outcome, entry.Summary = db.OutcomeFailed, notSentChanged(what)
		a.audit(c, entry)
		// What was typed stays; the form now answers the platform's state.
		f.Seen = stale.Current.UpdatedAt
		f.Error = t(c, "leads.page.form.changed")
		return a.renderLeadForm(c, http.StatusConflict, f)
	}
	return a.leadFormRefused(c, f, err, entry, what)
}

// leadFormRefused shows why a form was not saved, 422 with everything
// typed: the leads service's refusals on their fields (one without a
// field in the form above it), a platform refusal on the field it names
// with the whole message above the form.
func (a *leadsArea) leadFormRefused(c echo.Context, f leadsview.LeadForm, err error, entry db.AuditEntry, what msg.Message) error {
	var refusals leads.FormErrors
	if errors.As(err, &refusals) {
		for _, r := range refusals {
			i := slices.IndexFunc(f.Fields, func(fi forms.FieldInput) bool { return fi.Code == r.Field })
			text, _ := userMessage(c, r)
			if i < 0 {
				f.Error = text
			} else if f.Fields[i].Error == "" {
				f.Fields[i].Error = text
			}
		}
		return a.renderLeadForm(c, http.StatusUnprocessableEntity, f)
	}
	je, ok := a.auditRefusal(c, entry, what, err)
	if !ok {
		return err
	}
	f.Error = state(c).loc.Message(je.Message())
	if codes, why := leads.RefusedFields(je); len(codes) > 0 {
		for i := range f.Fields {
			if slices.Contains(codes, f.Fields[i].Code) {
				f.Fields[i].Error = t(c, "leads.page.form.refused", "Why", why)
			}
		}
	}
	return a.renderLeadForm(c, http.StatusUnprocessableEntity, f)
}

// newLeadType is the business type of the create form: the query's or
// the form's when known, else the default one.
func newLeadType(c echo.Context, r *refdata.Resolver) string {
	if bt := c.QueryParam("business_type"); knownBusinessType(r, bt) {
		return bt
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
	form, err := postedForm(c, f.Fields)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	name := strings.Join(form.Values["name"], "")
	entry := db.AuditEntry{Action: "lead.create", Object: "lead"}
	what := summary("lead_create", msg.Str("Name", name))
	l, err := a.leads.CreateFromForm(c.Request().Context(), currentUser(c).Username, f.BusinessType, form)
	switch {
	case err == nil:
		entry.Object, entry.Summary = "lead:"+l.UUID, what.Encode()
		a.audit(c, entry)
		return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.page.form.created", "Name", name), leadsview.LeadPath(l.UUID))
	case errors.Is(err, db.ErrNotFound) && l.UUID != "":
		entry.Object, entry.Summary = "lead:"+l.UUID, summary("lead_create_later", msg.Nested("What", what)).Encode()
		a.audit(c, entry)
		return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.page.form.created_later", "Name", name), leadsview.BoardPath)
	}
	return a.leadFormRefused(c, f, err, entry, what)
}
