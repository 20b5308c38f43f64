package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// localRemark is latest_remark in the local copy's fields.
func localRemark(t *testing.T, l db.Lead) string {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal(l.Fields, &f); err != nil {
		t.Fatal(err)
	}
	s, _ := f["latest_remark"].(string)
	return s
}

func noteForm(note string, seen int64) url.Values {
	return url.Values{"note": {note}, "seen": {strconv.FormatInt(seen, 10)}}
}

// A note reaches the platform and the copy, with the card answered for
// htmx and a flash for a plain post; the page shows it.
func TestLeadNoteAdded(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	page := c.get(leadsview.LeadPath(l.UUID)).Body.String()
	if !hasTestID(page, "notes-form") {
		t.Fatal("a marketer has no note form")
	}

	rec := c.post(leadsview.NotesPath(l.UUID), noteForm("  客户要求下周回电  ", l.UpdatedAt), htmx())
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	if isFullPage(body) || !hasTestID(body, "notes-success") || testIDText(body, "notes-latest") != "客户要求下周回电" {
		t.Fatalf("htmx answer:\n%s", body)
	}
	if got := rig.platformLead(l.UUID).LatestRemark; got != "客户要求下周回电" {
		t.Fatalf("platform remark %q", got)
	}
	cur := rig.localLead(l.UUID)
	if got := localRemark(t, cur); got != "客户要求下周回电" {
		t.Fatalf("local remark %q", got)
	}
	if n := h.countAudit("lead.note", ""); n != 1 {
		t.Fatalf("%d audit entries for the note", n)
	}
	// The card's form carries the new seen: a second note goes through.
	rec = c.post(leadsview.NotesPath(l.UUID), noteForm("第二条备注", cur.UpdatedAt))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != leadsview.LeadPath(l.UUID) {
		t.Fatalf("plain post: %d → %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	if got := rig.platformLead(l.UUID).LatestRemark; got != "第二条备注" {
		t.Fatalf("platform remark %q", got)
	}
	page = c.get(leadsview.LeadPath(l.UUID)).Body.String()
	if testIDText(page, "notes-latest") != "第二条备注" {
		t.Fatalf("the page lacks the note:\n%s", page)
	}
}

// An empty or too long note is 422 with the text kept; nothing is written.
func TestLeadNoteValidation(t *testing.T) {
	t.Parallel()
	_, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	before := rig.platformLead(l.UUID).LatestRemark
	long := strings.Repeat("长", leadsview.NoteMax+1)
	for _, tc := range []struct {
		note string
		hx   bool
	}{{"   ", true}, {"   ", false}, {long, true}, {long, false}} {
		var rec = c.post(leadsview.NotesPath(l.UUID), noteForm(tc.note, l.UpdatedAt))
		if tc.hx {
			rec = c.post(leadsview.NotesPath(l.UUID), noteForm(tc.note, l.UpdatedAt), htmx())
		}
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		body := rec.Body.String()
		if !hasTestID(body, "notes-error") || !keepsText(body, "note", tc.note) {
			t.Fatalf("%d characters, htmx %v: no error or the text was lost:\n%s", len([]rune(tc.note)), tc.hx, body)
		}
		if tc.hx == isFullPage(body) {
			t.Fatalf("htmx %v: wrong kind of answer", tc.hx)
		}
	}
	// Exactly the maximum is taken.
	ok := strings.Repeat("好", leadsview.NoteMax)
	wantStatus(t, c.post(leadsview.NotesPath(l.UUID), noteForm(ok, l.UpdatedAt), htmx()), http.StatusOK)
	if got := rig.platformLead(l.UUID).LatestRemark; got != ok || got == before {
		t.Fatalf("platform remark %q", got)
	}
}

// A lead that changed on the platform: 409 with its current note, the
// text kept, and nothing written.
func TestLeadNoteChangedUpstream(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	before := rig.platformLead(l.UUID).LatestRemark
	if err := rig.platform().UpdateLeadStatus(context.Background(), l.UUID, pipe[1].ID); err != nil {
		t.Fatal(err)
	}
	// (The sandbox stamps whole seconds: the form is one drawn before the change.)
	rec := c.post(leadsview.NotesPath(l.UUID), noteForm("过期的备注", l.UpdatedAt-1), htmx())
	wantStatus(t, rec, http.StatusConflict)
	body := rec.Body.String()
	if !hasTestID(body, "notes-notice") || !keepsText(body, "note", "过期的备注") {
		t.Fatalf("409 answer:\n%s", body)
	}
	if before != "" && testIDText(body, "notes-latest") != strings.Join(strings.Fields(before), " ") {
		t.Fatalf("the current note %q is not shown:\n%s", before, body)
	}
	if got := rig.platformLead(l.UUID).LatestRemark; got != before {
		t.Fatalf("a stale note was written: %q", got)
	}
	if got := rig.localLead(l.UUID).Status; got != pipe[1].ID {
		t.Fatalf("the copy was not brought up to date: %s", got)
	}
	if n := h.countAudit("lead.note", db.OutcomeFailed); n != 1 {
		t.Fatalf("%d failed note audits", n)
	}
	// Without htmx: the page, 409, text kept.
	rec = c.post(leadsview.NotesPath(l.UUID), noteForm("又一条", l.UpdatedAt-1))
	wantStatus(t, rec, http.StatusConflict)
	if body := rec.Body.String(); !isFullPage(body) || !keepsText(body, "note", "又一条") {
		t.Fatalf("plain 409:\n%s", body)
	}
}

// Viewers see the note but no form; their post is 403.
func TestLeadNoteViewer(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	ls, _, err := h.store.ListLeads(context.Background(), db.LeadFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var l db.Lead
	for _, x := range ls {
		if localRemark(t, x) != "" {
			l = x
			break
		}
	}
	if l.UUID == "" {
		t.Fatal("no lead with a note")
	}
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	body := c.get(leadsview.LeadPath(l.UUID)).Body.String()
	if testIDText(body, "notes-latest") != strings.Join(strings.Fields(localRemark(t, l)), " ") {
		t.Fatalf("a viewer does not see the note:\n%s", body)
	}
	if hasTestID(body, "notes-form") {
		t.Fatal("a viewer has the note form")
	}
	wantStatus(t, c.post(leadsview.NotesPath(l.UUID), noteForm("x", l.UpdatedAt)), http.StatusForbidden)
	if got := rig.platformLead(l.UUID).LatestRemark; got == "x" {
		t.Fatal("a viewer's note was written")
	}
}

// A failing platform: 422 with the translated error and the text kept.
func TestLeadNotePlatformRefusal(t *testing.T) {
	t.Parallel()
	_, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	rig.ref.sandbox().SetFaults(sandbox.Faults{ErrorRate: 1})
	rec := c.post(leadsview.NotesPath(l.UUID), noteForm("平台故障时的备注", l.UpdatedAt), htmx())
	rig.ref.sandbox().SetFaults(sandbox.Faults{})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	body := rec.Body.String()
	if !hasTestID(body, "notes-error") || !keepsText(body, "note", "平台故障时的备注") || appearsInBytes(body, "jing") {
		t.Fatalf("refusal:\n%s", body)
	}
	if got := rig.platformLead(l.UUID).LatestRemark; got == "平台故障时的备注" {
		t.Fatal("the note was written")
	}
}
