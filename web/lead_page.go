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
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	accountsview "github.com/jingdesk/jingdesk/templates/accounts"
	"github.com/jingdesk/jingdesk/templates/forms"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The lead page (issue 5): one lead from the local copy, with names
// resolved through the reference data. The platform's own data (privacy
// consent, scores, the link to the lead on the platform) comes in
// fragments the page asks for after it loaded, so the page never waits on
// the platform. Marketers change the owner and the collaborators through
// the leads service, which re-reads the lead first (like a move).

func (a *leadsArea) showLead(c echo.Context) error {
	l, err := a.targetLead(c)
	if err != nil {
		return err
	}
	v, err := a.leadPage(c, l)
	if err != nil {
		return err
	}
	return a.renderLead(c, http.StatusOK, v)
}

func (a *leadsArea) renderLead(c echo.Context, status int, v leadsview.LeadPage) error {
	return a.render(c, status, View{Title: v.Name, Section: "leads", Body: leadsview.LeadView(v)})
}

// leadPage shapes a lead of the local copy for its page.
func (a *leadsArea) leadPage(c echo.Context, l db.Lead) (leadsview.LeadPage, error) {
	lang := state(c).loc.Lang
	u := currentUser(c)
	v := leadsview.LeadPage{UUID: l.UUID, Name: l.Name, Company: l.Company, Voided: l.Voided,
		UpdatedAt: l.UpdatedAt, SyncedAt: l.SyncedAt, Now: a.now().Unix(), CanEdit: mayMove(u) && !l.Voided,
		OwnerID: l.Owner, CollaboratorIDs: l.Collaborators, Notes: leadNotes(c, l),
		LiveSeq: a.liveSeq(c.Request().Context()), LiveRev: leadRev(l)} // issue 9: the page follows changes (web/live.go)
	if v.Name == "" {
		v.Name = l.UUID
	}
	r := a.ref.Resolver()
	v.BusinessType = r.BusinessType(lang, leadObject, l.BusinessType)
	v.Status, _ = r.Status(lang, l.BusinessType, l.Status)
	steps := r.Statuses(l.BusinessType)
	for i, st := range steps {
		if st.ID == l.Status {
			v.Position, v.Steps = i+1, len(steps)
		}
	}
	if l.Owner != "" {
		v.Owner = r.Member(lang, l.Owner)
	}
	for _, id := range l.Collaborators {
		v.Collaborators = append(v.Collaborators, leadsview.Choice{Value: id, Label: r.Member(lang, id)})
	}
	for _, m := range r.Members(false) {
		if m.Status == "active" || m.ID == l.Owner || slices.Contains(l.Collaborators, m.ID) {
			v.Members = append(v.Members, leadsview.Choice{Value: m.ID, Label: m.DisplayName(lang)})
		}
	}
	v.Fields = leadFieldRows(r, state(c).loc, l, !mayMove(u))
	if err := a.linkAccount(c, v.Fields); err != nil {
		return v, err
	}
	tl, err := a.timeline(c, l, "")
	if err != nil {
		return v, err
	}
	v.Timeline = tl
	return v, nil
}

// linkAccount shows the lead's account (所属客户) by the name the console
// knows, or "未知（id）", linked to the account's page (issue 20).
func (a *leadsArea) linkAccount(c echo.Context, rows []leadsview.FieldRow) error {
	for i, row := range rows {
		if row.Code != accountField || len(row.Values) != 1 {
			continue
		}
		id := row.Values[0]
		names, err := a.copy.AccountNames(c.Request().Context(), []string{id})
		if err != nil {
			return err
		}
		rows[i].Values[0] = accountName(c, id, names[id])
		rows[i].Link = accountsview.Path(id)
	}
	return nil
}

// leadFieldRows lists every field of the lead's business type with its
// value as names: options by name, option-set nodes by path, members by
// name; mobile and email masked when mask is set (viewers).
// Timestamps (created_timestamp, updated_timestamp: date fields holding
// Unix seconds) are shown as times; the lifecycle stage by its name; the
// account (所属客户) as its id, which linkAccount turns into its name (or
// "unknown (id)") and a link to the account's page.
func leadFieldRows(r *refdata.Resolver, loc *i18n.Localizer, l db.Lead, mask bool) []leadsview.FieldRow {
	lang := loc.Lang
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(l.Fields, &raw) // a copy without fields shows every field empty
	var out []leadsview.FieldRow
	for _, it := range r.Fields(leadObject, l.BusinessType) {
		row := leadsview.FieldRow{Code: it.ID, Label: it.DisplayName(lang), Custom: !it.Preset}
		for _, v := range rawValues(raw[it.ID], it.Type == forms.TypeMultiSelect || it.ID == "collaborators") {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && it.Type == forms.TypeDate {
				v = loc.DateTime(n)
			} else if it.ID == forms.LifeStageField {
				v = forms.LifeStage(loc, v)
			} else if it.ID == accountField {
				// its id: linkAccount names and links it
			} else {
				v = fieldValueName(r, lang, l.BusinessType, it, v)
			}
			row.Values = append(row.Values, v)
		}
		if mask && (it.Type == forms.TypeMobile || it.Type == forms.TypeEmail || it.ID == "mobile" || it.ID == "email") {
			for i, v := range row.Values {
				row.Values[i] = leads.Mask(v)
			}
			row.Masked = len(row.Values) > 0
		}
		out = append(out, row)
	}
	return out
}

// rawValues reads a field's JSON value as strings: a string (split at
// commas for a multi_select, which the platform writes comma-joined), a
// number, or an array of either. null and "" are no value.
func rawValues(raw json.RawMessage, multi bool) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []string
		for _, e := range list {
			out = append(out, rawValues(e, false)...)
		}
		return out
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil
		}
		if multi {
			var out []string
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			return out
		}
		return []string{s}
	}
	if string(raw) == "null" {
		return nil
	}
	return []string{string(raw)} // a number or a boolean, as written
}

// accountField is the lead's account (所属客户), an account's id.
const accountField = "account_id"

// fieldValueName is one value of a field as the page shows it.
func fieldValueName(r *refdata.Resolver, lang, businessType string, it refdata.Item, v string) string {
	switch {
	case it.ID == "owner" || it.ID == "collaborators":
		return r.Member(lang, v)
	case it.ID == "business_type":
		return r.BusinessType(lang, leadObject, v)
	case it.ID == "lead_status":
		name, _ := r.Status(lang, businessType, v)
		return name
	case it.Type == forms.TypeSelect || it.Type == forms.TypeMultiSelect:
		return r.Option(lang, leadObject, it.ID, v)
	case it.Type == forms.TypeOptionSet:
		return r.OptionPath(lang, leadObject, it.ID, v)
	}
	return v
}

// setLeadOwner gives the lead to a member (leads.update owner).
func (a *leadsArea) setLeadOwner(c echo.Context) error {
	l, err := a.targetLead(c)
	if err != nil {
		return err
	}
	owner := strings.TrimSpace(c.FormValue("owner"))
	if len(owner) > boardIDMax {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	seen := seenParam(c, l)
	entry := db.AuditEntry{Action: "lead.owner", Object: "lead:" + l.UUID}
	r, _ := a.pipelines()
	lang := state(c).loc.Lang
	what := summary("lead_owner", msg.Str("Name", l.Name), msg.Str("From", memberName(r, lang, l.Owner)), msg.Str("To", memberName(r, lang, owner)))
	updated, err := a.leads.SetOwner(c.Request().Context(), currentUser(c).Username, l.UUID, owner, seen)
	return a.answerLeadWrite(c, l, updated, err, entry, what, "leads.page.owner_saved")
}

// setLeadCollaborators makes the lead's collaborators the checked members.
func (a *leadsArea) setLeadCollaborators(c echo.Context) error {
	l, err := a.targetLead(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	want := form["collaborator"]
	for _, id := range want {
		if id == "" || len(id) > boardIDMax || len(want) > 200 {
			return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
		}
	}
	entry := db.AuditEntry{Action: "lead.collaborators", Object: "lead:" + l.UUID}
	r, _ := a.pipelines()
	lang := state(c).loc.Lang
	what := summary("lead_collaborators", msg.Str("Name", l.Name), msg.Str("From", memberNames(r, lang, l.Collaborators)),
		msg.Str("To", memberNames(r, lang, want)))
	updated, err := a.leads.SetCollaborators(c.Request().Context(), currentUser(c).Username, l.UUID, want, seenParam(c, l))
	return a.answerLeadWrite(c, l, updated, err, entry, what, "leads.page.collaborators_saved")
}

// seenParam is the lead's updated_timestamp the form was drawn from.
func seenParam(c echo.Context, l db.Lead) int64 {
	seen, err := strconv.ParseInt(c.FormValue("seen"), 10, 64)
	if err != nil {
		return l.UpdatedAt
	}
	return seen
}

// answerLeadWrite ends a write of the lead page: back to the page with a
// message on success; the page with the reason when the leads service
// refused it (nothing sent); on a change upstream (409) or a platform
// refusal (422) the page as the lead now is, with the reason.
func (a *leadsArea) answerLeadWrite(c echo.Context, l, updated db.Lead, err error, entry db.AuditEntry, what msg.Message, savedID string) error {
	var changed *leads.ChangedUpstream
	switch {
	case err == nil:
		entry.Summary = what.Encode()
		a.audit(c, entry)
		return redirectWithFlash(c, ui.FlashSuccess, t(c, savedID), leadsview.LeadPath(l.UUID))
	case errors.As(err, &changed):
		entry.Outcome, entry.Summary = db.OutcomeFailed, notSentChanged(what)
		a.audit(c, entry)
		return a.leadAnswer(c, changed.Current, http.StatusConflict, "", t(c, "leads.page.changed"))
	}
	if text, status, ok := refusedHere(c, err); ok {
		return a.leadAnswer(c, l, status, text, "")
	}
	je, ok := a.auditRefusal(c, entry, what, err)
	if !ok {
		return err
	}
	if cur, err := a.copy.Lead(c.Request().Context(), l.UUID); err == nil {
		l = cur
	}
	return a.leadAnswer(c, l, http.StatusUnprocessableEntity, state(c).loc.Message(je.Message()), "")
}

// leadAnswer renders the lead page with a message.
func (a *leadsArea) leadAnswer(c echo.Context, l db.Lead, status int, msg, notice string) error {
	v, err := a.leadPage(c, l)
	if err != nil {
		return err
	}
	v.Error, v.Notice = msg, notice
	return a.renderLead(c, status, v)
}

// auditRefusal records a write the platform refused and returns the
// platform's error; ok is false when err is not one (the caller returns it).
func (k *kit) auditRefusal(c echo.Context, entry db.AuditEntry, what msg.Message, err error) (*jing.Error, bool) {
	je, ok := jing.AsError(err)
	if !ok {
		return nil, false
	}
	entry.Outcome, entry.Summary = refusalAudit(what, je)
	k.audit(c, entry)
	return je, true
}
