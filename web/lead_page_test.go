package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/templates/forms"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// fieldValue is the text of a field's value on the lead page.
func fieldValue(t *testing.T, body, code string) (string, bool) {
	t.Helper()
	for _, f := range parseHTML(body).all("lead-field") {
		if attrOf(f, "data-field") == code {
			return nodeText(f), true
		}
	}
	return "", false
}

// The page lists every field of the lead's business type with names, not
// ids: select options, members, the status with its pipeline position;
// the card on the board links to it.
func TestLeadPageShowsResolvedNames(t *testing.T) {
	t.Parallel()
	_, rig, c, bt, pipe := boardAsMarketer(t)
	r := rig.resolver()
	checked, paths := 0, 0
	for _, st := range pipe {
		ls, _, err := rig.h.store.ListLeads(context.Background(), db.LeadFilter{BusinessType: bt, Status: st.ID, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			rec := c.get(leadsview.LeadPath(l.UUID))
			wantStatus(t, rec, http.StatusOK)
			body := rec.Body.String()
			if testIDText(body, "lead-name") != strings.Join(strings.Fields(l.Name), " ") {
				t.Fatalf("no name %q", l.Name)
			}
			if !hasTestIDText(body, "lead-field", st.Name) {
				t.Fatalf("no status name %q", st.Name)
			}
			for _, f := range r.Fields("lead", bt) {
				got, ok := fieldValue(t, body, f.ID)
				if !ok {
					t.Fatalf("field %s not listed", f.ID)
				}
				if f.ID == "country_region" && strings.Count(got, " / ") == 2 {
					paths++ // "中国 / 山西省 / 晋中市"
				}
				if f.Type != forms.TypeSelect && f.ID != "owner" {
					continue
				}
				id := ""
				switch f.ID {
				case "owner":
					id = l.Owner
				case "source_type":
					id = l.Source
				case "lead_status":
					id = l.Status
				default:
					continue
				}
				if id == "" {
					continue
				}
				if strings.Contains(got, id) {
					t.Fatalf("field %s shows the raw id %s: %q", f.ID, id, got)
				}
				checked++
			}
		}
	}
	if checked == 0 || paths == 0 {
		t.Fatalf("%d fields with options and %d option-set paths checked", checked, paths)
	}
	board := c.get("/leads/board?business_type=" + url.QueryEscape(bt)).Body.String()
	if cards := parseHTML(board).all("card-name"); len(cards) == 0 || len(tagsIn(cards[0], "a")) != 1 || !strings.HasPrefix(attrOf(tagsIn(cards[0], "a")[0], "href"), "/leads/") {
		t.Fatal("board cards do not link to the lead page")
	}
}

// A move through the board shows in the page's history; an unknown lead is 404.
func TestLeadPageHistoryAndNotFound(t *testing.T) {
	t.Parallel()
	_, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	wantStatus(t, c.post(leadsview.MovePath(l.UUID), moveForm(bt, pipe[1].ID, l.UpdatedAt, ""), htmx()), http.StatusOK)
	body := c.get(leadsview.LeadPath(l.UUID)).Body.String()
	if !hasTestIDText(body, "timeline-title", pipe[0].Name+" → "+pipe[1].Name) || !hasTestIDText(body, "timeline-by", "mia") {
		t.Fatalf("history lacks the move:\n%s", body)
	}
	wantStatus(t, c.get("/leads/no-such-lead"), http.StatusNotFound)
	wantStatus(t, c.get("/leads/no-such-lead/privacy"), http.StatusNotFound)
}

// Viewers see mobile and email masked, and no forms; their posts are 403.
func TestLeadPageMasksContactsForViewers(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	ls, _, err := h.store.ListLeads(context.Background(), db.LeadFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var l db.Lead
	for _, x := range ls {
		if x.Mobile != "" {
			l = x
			break
		}
	}
	if l.UUID == "" {
		t.Fatal("no lead with a mobile")
	}
	body := c.get(leadsview.LeadPath(l.UUID)).Body.String()
	if appearsInBytes(body, l.Mobile) {
		t.Fatal("a viewer sees the mobile")
	}
	if got, _ := fieldValue(t, body, "mobile"); got != leads.Mask(l.Mobile) {
		t.Fatalf("mobile shown as %q, want %q", got, leads.Mask(l.Mobile))
	}
	if hasTestID(body, "owner-form") {
		t.Fatal("a viewer has the owner form")
	}
	rec := c.post(leadsview.LeadPath(l.UUID)+"/owner", url.Values{"owner": {"x"}, "seen": {strconv.FormatInt(l.UpdatedAt, 10)}})
	wantStatus(t, rec, http.StatusForbidden)
	_ = rig
}

// The privacy and scores fragments come from the sandbox; a person the
// platform does not know has no consent on record; a failing platform is
// a translated message.
func TestLeadPagePrivacyAndScores(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	ls, _, err := h.store.ListLeads(context.Background(), db.LeadFilter{Limit: 60})
	if err != nil {
		t.Fatal(err)
	}
	policies := false
	for _, l := range ls {
		rec := c.get(leadsview.LeadPath(l.UUID)+"/privacy", htmx())
		wantStatus(t, rec, http.StatusOK)
		body := rec.Body.String()
		if hasTestID(body, "privacy-error") || isFullPage(body) {
			t.Fatalf("privacy fragment:\n%s", body)
		}
		if hasAttrOn(body, "privacy-version", `data-authorized="true"`) {
			policies = true
			break
		}
	}
	if !policies {
		t.Fatal("no lead's person has an authorised policy")
	}
	l := ls[0]
	body := c.get(leadsview.LeadPath(l.UUID)+"/scores", htmx()).Body.String()
	p := parsePage(t, body)
	identity := p.one("score-identity")
	if first := firstElement(identity); first == nil || first.Data != "span" || attrOf(first, "class") != "badge badge-info" {
		t.Fatalf("the identity score is not shown as a grade badge:\n%s", body)
	}
	if !strings.Contains(p.text("scores-card"), "分") {
		t.Fatalf("scores show no points:\n%s", body)
	}
	if intent := under(p.one("score-intention")).where("ul", "class", "lead-intent"); len(intent) != 1 || len(tagsIn(intent[0], "li")) == 0 {
		t.Fatalf("no intention scores listed:\n%s", body)
	}

	// A new lead with a mobile no person has.
	uuid, err := rig.platform().CreateLead(context.Background(), jing.LeadInput{LeadFields: jing.LeadFields{
		BusinessType: bt, LeadStatus: pipe[0].ID, Name: "无授权", Mobile: "13911112222"}})
	if err != nil {
		t.Fatal(err)
	}
	rig.fullSync()
	if body := c.get(leadsview.LeadPath(uuid)+"/privacy", htmx()).Body.String(); !hasTestID(body, "privacy-none") {
		t.Fatalf("no 'no consent' state:\n%s", body)
	}

	rig.ref.sandbox().SetFaults(sandbox.Faults{ErrorRate: 1})
	defer rig.ref.sandbox().SetFaults(sandbox.Faults{})
	for _, frag := range []string{"/privacy", "/scores", "/link"} {
		body := c.get(leadsview.LeadPath(l.UUID)+frag, htmx()).Body.String()
		if len(parseHTML(body).where("", "role", "alert")) == 0 || appearsInBytes(body, "jing") {
			t.Fatalf("%s on a failing platform:\n%s", frag, body)
		}
	}
}

// "View on the platform" answers the sandbox's link.
func TestLeadPageLink(t *testing.T) {
	t.Parallel()
	_, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	body := c.get(leadsview.LeadPath(l.UUID)+"/link", htmx()).Body.String()
	if !hasAttrOn(body, "lead-link-anchor", `href="/sandbox/leads/`+l.UUID+`"`) {
		t.Fatalf("link:\n%s", body)
	}
	// The console serves the sandbox's path: back to the lead, saying why.
	rec := c.get("/sandbox/leads/" + l.UUID)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != leadsview.LeadPath(l.UUID) {
		t.Fatalf("sandbox link: %d → %s", rec.Code, rec.Header().Get("Location"))
	}
}

// The owner changes on the platform and in the copy, audited; a lead that
// changed upstream is shown as it is now and nothing is written.
func TestLeadPageOwnerAndCollaborators(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	var other, collab string
	for _, m := range rig.resolver().Members(true) {
		if m.ID != l.Owner && other == "" {
			other = m.ID
		} else if m.ID != l.Owner && !slices.Contains(l.Collaborators, m.ID) && collab == "" {
			collab = m.ID
		}
	}
	seen := strconv.FormatInt(l.UpdatedAt, 10)
	rec := c.post(leadsview.LeadPath(l.UUID)+"/owner", url.Values{"owner": {other}, "seen": {seen}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != leadsview.LeadPath(l.UUID) {
		t.Fatalf("owner: %d → %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	if got := string(rig.platformLead(l.UUID).Owner); got != other {
		t.Fatalf("platform owner %s, want %s", got, other)
	}
	if got := rig.localLead(l.UUID).Owner; got != other {
		t.Fatalf("local owner %s, want %s", got, other)
	}
	if n := h.countAudit("lead.owner", ""); n != 1 {
		t.Fatalf("%d audit entries for the owner", n)
	}

	cur := rig.localLead(l.UUID)
	form := url.Values{"collaborator": append(append([]string{}, cur.Collaborators...), collab), "seen": {strconv.FormatInt(cur.UpdatedAt, 10)}}
	wantStatus(t, c.post(leadsview.LeadPath(l.UUID)+"/collaborators", form), http.StatusSeeOther)
	got := rig.platformLead(l.UUID).Collaborators
	found := false
	for _, m := range got {
		found = found || string(m) == collab
	}
	if !found {
		t.Fatalf("collaborator %s not added: %v", collab, got)
	}

	// Changed upstream: refused, nothing written.
	cur = rig.localLead(l.UUID)
	if err := rig.platform().UpdateLeadStatus(context.Background(), l.UUID, pipe[2].ID); err != nil {
		t.Fatal(err)
	}
	rec = c.post(leadsview.LeadPath(l.UUID)+"/owner", url.Values{"owner": {l.Owner}, "seen": {strconv.FormatInt(cur.UpdatedAt-1, 10)}})
	// (The sandbox stamps whole seconds: the form is one drawn before the change.)
	wantStatus(t, rec, http.StatusConflict)
	if !hasTestID(rec.Body.String(), "lead-notice") {
		t.Fatalf("no notice:\n%s", rec.Body.String())
	}
	if got := string(rig.platformLead(l.UUID).Owner); got != other {
		t.Fatalf("platform owner %s after a stale write", got)
	}
	if got := rig.localLead(l.UUID).Status; got != pipe[2].ID {
		t.Fatalf("the copy was not brought up to date: %s", got)
	}
}

// editForm is the edit form's post: the lead's current values as the form
// shows them, with changes.
func editForm(l db.Lead, r *refdata.Resolver, change map[string]string) url.Values {
	v := url.Values{"_seen": {strconv.FormatInt(l.UpdatedAt, 10)}}
	for code, vals := range leadValues(l, r) {
		v[code] = vals
	}
	for code, val := range change {
		v.Set(code, val)
	}
	return v
}

// The edit form: a value the platform refuses is shown on its field with
// everything typed kept (422); the mobile-or-email rule is checked before
// the platform; a field the platform cannot write is never sent; a good
// edit reaches the platform and the copy.
func TestLeadEditForm(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	r := rig.resolver()
	l := rig.leadIn(bt, pipe[0].ID)
	wantStatus(t, c.get(leadsview.EditPath(l.UUID)), http.StatusOK)

	rec := c.post(leadsview.EditPath(l.UUID), editForm(l, r, map[string]string{"email": "not-an-address", "title": "新的职务"}))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	body := rec.Body.String()
	if !hasFieldError(body, "f-email-error") || !hasTestIDText(body, "lead-form", "平台拒绝了此值：不是有效的邮箱") {
		t.Fatalf("the refusal is not on the email field:\n%s", body)
	}
	for name, kept := range map[string]string{"email": "not-an-address", "title": "新的职务"} {
		if got := parseHTML(body).inputValue(name); got != kept {
			t.Fatalf("typed %s lost: %q, want %q", name, got, kept)
		}
	}
	if !hasTestID(body, "lead-form-error") {
		t.Fatal("no message above the form")
	}
	if got := rig.platformLead(l.UUID).Title; got == "新的职务" {
		t.Fatal("a refused form was written")
	}
	if n := h.countAudit("lead.update", db.OutcomeFailed); n != 1 {
		t.Fatalf("%d failed update audits", n)
	}

	// A mobile that is not one: refused on its field before the platform.
	rec = c.post(leadsview.EditPath(l.UUID), editForm(l, r, map[string]string{"mobile": "12345", "title": "短号码"}))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if p := parsePage(t, rec.Body.String()); !strings.Contains(p.text("lead-form"), "请填写 11 位中国大陆手机号") {
		t.Fatal("no refusal of the mobile in the page's language")
	}
	if rig.platformLead(l.UUID).Title == "短号码" {
		t.Fatal("the platform was called with a mobile the console refuses")
	}

	// Neither mobile nor email: refused before the platform.
	rec = c.post(leadsview.EditPath(l.UUID), editForm(l, r, map[string]string{"mobile": "", "email": "", "title": "无联系方式"}))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if body := rec.Body.String(); !hasFieldError(body, "f-mobile-error") || !hasFieldError(body, "f-email-error") {
		t.Fatalf("the rule is not on the contact fields:\n%s", body)
	}
	if rig.platformLead(l.UUID).Title == "无联系方式" {
		t.Fatal("the platform was called")
	}

	// A good edit, with a value posted for a field the platform cannot write.
	change := map[string]string{"title": "采购经理"}
	sent := 0
	for _, f := range leadFormFields(r, "zh-CN", bt, nil, true) {
		if !forms.CanWrite(f) && forms.UnwritableType(f.Type) {
			change[f.Code] = "不应发送"
			sent++
		}
	}
	if sent == 0 {
		t.Fatal("no field of a type the platform cannot write")
	}
	number, multi := "", ""
	for _, f := range r.Fields("lead", bt) {
		switch {
		case f.Type == forms.TypeNumber && !f.Preset:
			number = f.ID
		case f.Type == forms.TypeMultiSelect && !f.Preset:
			multi = f.ID
		}
	}
	opts := r.Options("lead", multi)
	if number == "" || len(opts) < 2 {
		t.Fatalf("no custom number (%q) or multi_select (%q) field", number, multi)
	}
	change[number] = "12.5"
	form := editForm(l, r, change)
	form[multi] = []string{opts[0].ID, opts[1].ID}
	rec = c.post(leadsview.EditPath(l.UUID), form)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != leadsview.LeadPath(l.UUID) {
		t.Fatalf("edit: %d → %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	if got := rig.platformLead(l.UUID).Title; got != "采购经理" {
		t.Fatalf("platform title %q", got)
	}
	if got := rig.localLead(l.UUID).Title; got != "采购经理" {
		t.Fatalf("local title %q", got)
	}
	p := rig.platformLead(l.UUID)
	if got := string(p.Custom[number]); got != "12.5" {
		t.Fatalf("custom number %s", got)
	}
	if got := string(p.Custom[multi]); got != `"`+opts[0].ID+","+opts[1].ID+`"` {
		t.Fatalf("custom multi_select %s", got)
	}
	// The page shows the options by name.
	page := c.get(leadsview.LeadPath(l.UUID)).Body.String()
	if got, _ := fieldValue(t, page, multi); got != opts[0].Name+", "+opts[1].Name {
		t.Fatalf("multi_select shown as %q", got)
	}
}

// The create form makes the lead on the platform and in the copy; a name
// is required before the platform is asked.
func TestLeadCreateForm(t *testing.T) {
	t.Parallel()
	_, rig, c, bt, pipe := boardAsMarketer(t)
	wantStatus(t, c.get(leadsview.NewLeadURL(bt)), http.StatusOK)
	form := url.Values{"name": {""}, "mobile": {"13966667777"}, "lead_status": {pipe[0].ID}, "company_id": {"新建测试有限公司"}}
	rec := c.post(leadsview.NewLeadURL(bt), form)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if body := rec.Body.String(); !hasFieldError(body, "f-name-error") || parseHTML(body).inputValue("company_id") != "新建测试有限公司" {
		t.Fatalf("no required error or the input was lost:\n%s", body)
	}
	form.Set("name", "新建线索")
	rec = c.post(leadsview.NewLeadURL(bt), form)
	wantStatus(t, rec, http.StatusSeeOther)
	loc := rec.Header().Get("Location")
	uuid := strings.TrimPrefix(loc, "/leads/")
	if uuid == loc || uuid == "" {
		t.Fatalf("created → %s", loc)
	}
	l := rig.localLead(uuid)
	if l.Name != "新建线索" || l.BusinessType != bt || l.Mobile != "13966667777" {
		t.Fatalf("local copy %+v", l)
	}
	if p := rig.platformLead(uuid); p.CompanyID != "新建测试有限公司" {
		t.Fatalf("platform lead %+v", p)
	}
	wantStatus(t, c.get(loc), http.StatusOK)
}
