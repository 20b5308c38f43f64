package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
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

// The lead page (issue 5): one lead from the local copy, with names
// resolved through the reference data. The platform's own data (privacy
// consent, scores, the link to the lead on the platform) comes in
// fragments the page asks for after it loaded, so the page never waits on
// the platform. Marketers change the owner and the collaborators through
// the leads service, which re-reads the lead first (like a move).

// leadFromParam is the lead of the route's :uuid (db.ErrNotFound → 404).
func (s *Server) leadFromParam(c echo.Context) (db.Lead, error) {
	uuid := c.Param("uuid")
	if s.Leads == nil || uuid == "" || len(uuid) > boardIDMax {
		return db.Lead{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return s.Store.Lead(c.Request().Context(), uuid)
}

// leadResolver is the reference data's resolver (an empty one shows ids).
func (s *Server) leadResolver() *refdata.Resolver {
	return s.Reference.Resolver()
}

func (s *Server) showLead(c echo.Context) error {
	l, err := s.leadFromParam(c)
	if err != nil {
		return err
	}
	v, err := s.leadPage(c, l)
	if err != nil {
		return err
	}
	return s.renderLead(c, http.StatusOK, v)
}

func (s *Server) renderLead(c echo.Context, status int, v leadsview.LeadPage) error {
	return s.render(c, status, View{Title: v.Name, Section: "leads", Body: leadsview.LeadView(v)})
}

// leadPage shapes a lead of the local copy for its page.
func (s *Server) leadPage(c echo.Context, l db.Lead) (leadsview.LeadPage, error) {
	lang := state(c).loc.Lang
	u := currentUser(c)
	v := leadsview.LeadPage{UUID: l.UUID, Name: l.Name, Company: l.Company, Voided: l.Voided,
		UpdatedAt: l.UpdatedAt, SyncedAt: l.SyncedAt, Now: s.Now().Unix(), CanEdit: mayMove(u) && !l.Voided,
		OwnerID: l.Owner, CollaboratorIDs: l.Collaborators, Notes: leadNotes(c, l),
		LiveSeq: s.liveSeq(c.Request().Context()), LiveRev: leadRev(l)} // issue 9: the page follows changes (web/live.go)
	if v.Name == "" {
		v.Name = l.UUID
	}
	r := s.leadResolver()
	if r == nil {
		v.BusinessType, v.Status, v.Owner = l.BusinessType, l.Status, l.Owner
		return v, nil
	}
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
		if m.Status == "active" || m.ID == l.Owner || slicesContains(l.Collaborators, m.ID) {
			v.Members = append(v.Members, leadsview.Choice{Value: m.ID, Label: m.DisplayName(lang)})
		}
	}
	v.Fields = leadFieldRows(r, lang, l, !mayMove(u), state(c).loc.DateTime)
	hist, err := s.Store.LeadStatusHistory(c.Request().Context(), l.UUID)
	if err != nil {
		return v, err
	}
	for _, h := range hist {
		row := leadsview.HistoryRow{At: h.At, Actor: h.Actor, Origin: h.Origin}
		if h.From != "" {
			row.From, _ = r.Status(lang, l.BusinessType, h.From)
		}
		row.To, _ = r.Status(lang, l.BusinessType, h.To)
		v.History = append(v.History, row)
	}
	return v, nil
}

func slicesContains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// leadFieldRows lists every field of the lead's business type with its
// value as names: options by name, option-set nodes by path, members by
// name; mobile and email masked when mask is set (viewers).
// Timestamps (created_timestamp, updated_timestamp: date fields holding
// Unix seconds) are shown as times.
func leadFieldRows(r *refdata.Resolver, lang string, l db.Lead, mask bool, dateTime func(int64) string) []leadsview.FieldRow {
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(l.Fields, &raw) // a copy without fields shows every field empty
	var out []leadsview.FieldRow
	for _, it := range r.Fields(leadObject, l.BusinessType) {
		row := leadsview.FieldRow{Code: it.ID, Label: it.DisplayName(lang), Custom: !it.Preset}
		for _, v := range rawValues(raw[it.ID], it.Type == forms.TypeMultiSelect || it.ID == "collaborators") {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && it.Type == forms.TypeDate {
				v = dateTime(n)
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

// showLeadLink asks the platform where the lead opens on its own site
// (leads.detail_link), on demand.
func (s *Server) showLeadLink(c echo.Context) error {
	l, err := s.leadFromParam(c)
	if err != nil {
		return err
	}
	ans := leadsview.Link{UUID: l.UUID}
	client, err := s.platformClient()
	link := ""
	if err == nil {
		link, err = client.LeadDetailLink(c.Request().Context(), l.UUID)
	}
	switch {
	case err != nil:
		ans.Error = platformMessage(c, err)
	case !safeLink(link):
		ans.Error = t(c, "leads.page.link_unsafe")
	default:
		ans.URL = link
	}
	return s.renderFragment(c, http.StatusOK, leadsview.LinkAnswer(ans))
}

// showSandboxLead is where the sandbox's leads.detail_link points (the
// sandbox has no site of its own, so the console serves its path): the
// lead's page, saying so.
func (s *Server) showSandboxLead(c echo.Context) error {
	l, err := s.leadFromParam(c)
	if err != nil {
		return err
	}
	return redirectWithFlash(c, ui.FlashInfo, t(c, "leads.page.sandbox_link"), leadsview.LeadPath(l.UUID))
}

// safeLink: an http(s) address, or a path of this host (the sandbox's).
func safeLink(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") ||
		(strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"))
}

// errNoPlatform: the platform manager has no client to call with.
var errNoPlatform = errors.New("no platform connection")

func (s *Server) platformClient() (*jing.Client, error) {
	client, _ := s.Platform.Current()
	if client == nil {
		return nil, errNoPlatform
	}
	return client, nil
}

// platformMessage is a platform error in the user's language.
func platformMessage(c echo.Context, err error) string {
	if je, ok := jing.AsError(err); ok {
		return state(c).loc.Message(je.Message())
	}
	return t(c, "leads.page.platform_failed")
}

// showLeadPrivacy is the privacy consent of the lead's person, by mobile,
// else by email (privacy.status). An unknown person has no consent on record.
func (s *Server) showLeadPrivacy(c echo.Context) error {
	l, err := s.leadFromParam(c)
	if err != nil {
		return err
	}
	p := leadsview.Privacy{}
	value := ""
	switch {
	case l.Mobile != "":
		p.Identity, value = jing.IdentityMobile, l.Mobile
	case l.Email != "":
		p.Identity, value = jing.IdentityEmail, l.Email
	}
	if p.Identity != "" {
		var page jing.Page[jing.PrivacyPolicy]
		client, err := s.platformClient()
		if err == nil {
			page, err = client.PrivacyStatus(c.Request().Context(), p.Identity, value, jing.PageRequest{Page: 1, PerPage: 100})
		}
		if je, ok := jing.AsError(err); ok && je.Kind == jing.KindBusiness && je.Code == jing.CodeBusinessFailed {
			p.NoRecord = true
		} else if err != nil {
			p.Error = platformMessage(c, err)
		}
		anyAuth := false
		for _, pol := range page.Items {
			row := leadsview.PrivacyRow{Title: pol.Title}
			for _, ver := range pol.PolicyInfos {
				row.Versions = append(row.Versions, leadsview.PrivacyVersion{Version: ver.Version, Authorized: ver.Authorized(), At: ver.UpdatedTimestamp})
				row.Authorized = row.Authorized || ver.Authorized()
			}
			anyAuth = anyAuth || row.Authorized
			p.Policies = append(p.Policies, row)
		}
		if !anyAuth {
			p.NoRecord = true
		}
	}
	return s.renderFragment(c, http.StatusOK, leadsview.PrivacyCard(p))
}

// showLeadScores are the lead's identity, activity and intention scores.
func (s *Server) showLeadScores(c echo.Context) error {
	l, err := s.leadFromParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var out leadsview.Scores
	if s.Scores != nil {
		// The service asks the platform and keeps the history in the
		// cache, so the card draws each score's trend.
		card, err := s.Scores.FetchOne(ctx, db.SubjectLead, l.UUID)
		if err != nil {
			return err
		}
		return s.renderFragment(c, http.StatusOK, leadsview.ScoresCard(leadScoresCard(c, card)))
	}
	client, err := s.platformClient()
	if err != nil {
		out.Error = platformMessage(c, err)
		return s.renderFragment(c, http.StatusOK, leadsview.ScoresCard(out))
	}
	for _, k := range []struct {
		kind jing.ScoreKind
		to   *[]leadsview.ScoreRow
	}{{jing.ScoreIdentity, &out.Identity}, {jing.ScoreActivity, &out.Activity}, {jing.ScoreIntention, &out.Intention}} {
		items, err := client.LeadScores(ctx, k.kind, []string{l.UUID})
		if err != nil {
			out.Error = platformMessage(c, err)
			break
		}
		for _, it := range items {
			*k.to = append(*k.to, leadsview.ScoreRow{Model: it.Model, Score: it.Score, Grade: it.Grade, Level: it.Level})
		}
	}
	sort.SliceStable(out.Intention, func(i, j int) bool { return out.Intention[i].Score > out.Intention[j].Score })
	return s.renderFragment(c, http.StatusOK, leadsview.ScoresCard(out))
}

// setLeadOwner gives the lead to a member (leads.update owner).
func (s *Server) setLeadOwner(c echo.Context) error {
	l, err := s.leadFromParam(c)
	if err != nil {
		return err
	}
	owner := strings.TrimSpace(c.FormValue("owner"))
	if len(owner) > boardIDMax {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	if owner == "" {
		// leads.update leaves empty fields out: unassigning is not a write it knows.
		return s.leadAnswer(c, l, http.StatusUnprocessableEntity, t(c, "leads.page.owner_required"), "")
	}
	seen := seenParam(c, l)
	entry := db.AuditEntry{Action: "lead.owner", Object: "lead:" + l.UUID}
	what := fmt.Sprintf("owner of %q from %q to %q", l.Name, l.Owner, owner)
	updated, err := s.Leads.SetOwner(c.Request().Context(), currentUser(c).Username, l.UUID, owner, seen)
	return s.answerLeadWrite(c, l, updated, err, entry, what, "leads.page.owner_saved")
}

// setLeadCollaborators makes the lead's collaborators the checked members
// (leads.collaborators: those added and those removed).
func (s *Server) setLeadCollaborators(c echo.Context) error {
	l, err := s.leadFromParam(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	want := map[string]bool{}
	for _, id := range form["collaborator"] {
		if id == "" || len(id) > boardIDMax || len(want) > 200 {
			return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
		}
		want[id] = true
	}
	var add, remove []string
	for id := range want {
		if !slicesContains(l.Collaborators, id) {
			add = append(add, id)
		}
	}
	for _, id := range l.Collaborators {
		if !want[id] {
			remove = append(remove, id)
		}
	}
	sort.Strings(add)
	entry := db.AuditEntry{Action: "lead.collaborators", Object: "lead:" + l.UUID}
	what := fmt.Sprintf("collaborators of %q: add %v remove %v", l.Name, add, remove)
	updated, err := s.Leads.SetCollaborators(c.Request().Context(), currentUser(c).Username, l.UUID, add, remove, seenParam(c, l))
	return s.answerLeadWrite(c, l, updated, err, entry, what, "leads.page.collaborators_saved")
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
// message on success; on a change upstream (409) or a refusal (422) the
// page as the lead now is, with the reason.
func (s *Server) answerLeadWrite(c echo.Context, l, updated db.Lead, err error, entry db.AuditEntry, what, savedID string) error {
	var changed *leads.ChangedUpstream
	switch {
	case err == nil:
		entry.Summary = what
		s.audit(c, entry)
		return redirectWithFlash(c, ui.FlashSuccess, t(c, savedID), leadsview.LeadPath(l.UUID))
	case errors.As(err, &changed):
		entry.Outcome, entry.Summary = db.OutcomeFailed, what+" not sent: changed on the platform"
		s.audit(c, entry)
		return s.leadAnswer(c, changed.Current, http.StatusConflict, "", t(c, "leads.page.changed"))
	}
	je, ok := s.auditRefusal(c, entry, what, err)
	if !ok {
		return err
	}
	if cur, err := s.Store.Lead(c.Request().Context(), l.UUID); err == nil {
		l = cur
	}
	return s.leadAnswer(c, l, http.StatusUnprocessableEntity, state(c).loc.Message(je.Message()), "")
}

// leadAnswer renders the lead page with a message.
func (s *Server) leadAnswer(c echo.Context, l db.Lead, status int, msg, notice string) error {
	v, err := s.leadPage(c, l)
	if err != nil {
		return err
	}
	v.Error, v.Notice = msg, notice
	return s.renderLead(c, status, v)
}
