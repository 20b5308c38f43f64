package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

var bulkJobRE = regexp.MustCompile(`^/jobs/(\d+)$`)

// waitJob waits for a job to end.
func waitJob(t *testing.T, h *harness, id int64) db.Job { return fixture.WaitJob(t, h.store, id) }

// A bulk change of owner: the preview names exactly the chosen leads and
// the change; confirmed, a job gives each lead to the new owner on the
// platform (read back through the client) and in the copy, recording a
// lead the platform no longer has as the job's item error.
func TestLeadListBulkChangesTheOwner(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	mia, vic := h.login("mia"), h.login("vic")
	r := rig.resolver()
	ctx := context.Background()

	// A lead of the copy the platform does not have.
	ghost := rig.leadIn(r.DefaultBusinessType("lead"), "")
	ghost.UUID, ghost.Name = "00000000-0000-4000-8000-00000000dead", "幽灵线索"
	ghost.UpdatedAt++
	if err := h.store.UpsertLeads(ctx, []db.Lead{ghost}); err != nil {
		t.Fatal(err)
	}

	page := getList(t, mia, url.Values{"sort": {"name"}})
	if !hasTestID(page.body, "bulk-bar") || !hasTestID(page.body, "lead-check") {
		t.Fatal("the marketer's list has no bulk bar or checkboxes")
	}
	if p := getList(t, vic, nil); hasTestID(p.body, "bulk-bar") || hasTestID(p.body, "lead-check") {
		t.Error("the viewer's list has a bulk bar or checkboxes")
	}
	members := r.Members(true)
	if len(members) < 2 {
		t.Fatal("the sandbox needs two active members")
	}
	chosen := []string{page.uuids[0], page.uuids[2], page.uuids[4], ghost.UUID}
	to := members[0].ID
	for _, u := range chosen[:3] {
		if rig.localLead(u).Owner == to {
			to = members[1].ID
		}
	}
	before := map[string]string{}
	for _, u := range chosen[:3] {
		before[u] = string(rig.platformLead(u).Owner)
	}
	form := url.Values{"lead": chosen, "action": {"owner"}, "owner": {to}, "members": {members[1].ID}, "status": {""},
		"back": {"/leads/list?sort=name"}}

	// The preview: exactly the chosen leads, in order, and the change.
	rec := mia.post(leadsview.BulkPreviewPath, form)
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	names, wantNames := testIDTexts(body, "bulk-name"), []string(nil)
	for _, u := range chosen {
		wantNames = append(wantNames, rig.localLead(u).Name)
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("preview names %v, want %v", names, wantNames)
	}
	if cls := parsePage(t, body).attr("bulk-preview-page", "class"); !strings.Contains(cls, "card-body") {
		t.Errorf("the preview card has no padding: class %q", cls)
	}
	leadsSent := testIDAttrs(body, "bulk-lead", "value")
	if !slices.Equal(leadsSent, chosen) {
		t.Errorf("the confirm form sends %v, want %v", leadsSent, chosen)
	}
	if !hasAttrOn(body, "bulk-count", `data-count="4"`) || !hasTestIDText(body, "bulk-change", r.Member("zh-Hans", to)) {
		t.Error("the preview does not say how many leads and who the new owner is")
	}
	for _, u := range chosen[:3] {
		if got := rig.platformLead(u).Owner; string(got) != before[u] {
			t.Errorf("the preview changed lead %s's owner on the platform to %s", u, got)
		}
	}

	// "Select all on this page" without script: every lead of the page.
	all := url.Values{"all_on_page": {"1"}, "page_lead": page.uuids, "action": {"owner"}, "owner": {to}}
	rec = mia.post(leadsview.BulkPreviewPath, all)
	wantStatus(t, rec, http.StatusOK)
	if want := `data-count="` + strconv.Itoa(len(page.uuids)) + `"`; !hasAttrOn(rec.Body.String(), "bulk-count", want) {
		t.Errorf("select all on the page: want %s", want)
	}

	// Nothing chosen, or no change: back to the list with a message.
	for _, bad := range []url.Values{{"action": {"owner"}, "owner": {to}}, {"lead": chosen, "action": {"owner"}}} {
		rec = mia.post(leadsview.BulkPreviewPath, bad)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), leadsview.ListPath) {
			t.Errorf("%v: %d → %q, want 303 to the list", bad, rec.Code, rec.Header().Get("Location"))
		}
	}

	// Viewers may not.
	vic.get(leadsview.ListPath)
	if rec := vic.post(leadsview.BulkPath, form); rec.Code != http.StatusForbidden {
		t.Errorf("viewer's bulk change: %d, want 403", rec.Code)
	}

	// Confirmed: the job.
	rec = mia.post(leadsview.BulkPath, form)
	m := bulkJobRE.FindStringSubmatch(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || m == nil {
		t.Fatalf("bulk: %d → %q, want 303 to the job", rec.Code, rec.Header().Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	j := waitJob(t, h, id)
	if j.Kind != "leads.bulk" || j.State != db.JobDone || j.Done != 3 || j.Failed != 1 {
		t.Fatalf("job %s %s: done %d failed %d (%s), want leads.bulk done 3 failed 1", j.Kind, j.State, j.Done, j.Failed, j.Error)
	}
	for _, u := range chosen[:3] {
		if got := rig.platformLead(u).Owner; string(got) != to {
			t.Errorf("lead %s: owner on the platform %s, want %s", u, got, to)
		}
		if got := rig.localLead(u).Owner; got != to {
			t.Errorf("lead %s: owner in the copy %s, want %s", u, got, to)
		}
	}
	errs, err := h.store.ListJobErrors(ctx, id, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Item != ghost.UUID || errs[0].Message == "" {
		t.Errorf("job errors %+v, want one for %s", errs, ghost.UUID)
	}
	if rec := mia.get(m[0]); rec.Code != http.StatusOK || !hasTestIDText(rec.Body.String(), "job-error-row", ghost.UUID) {
		t.Errorf("the job's page (%d) does not list the failed lead", rec.Code)
	}
	if h.countAudit("leads.bulk", "") != 1 {
		t.Error("the bulk change is not in the audit log")
	}
}

// Reloading the preview's address (a GET of what was a POST) is not a
// 404: the list comes back saying nothing was changed.
func TestReloadingTheBulkPreviewGoesBackToTheList(t *testing.T) {
	t.Parallel()
	h, _ := newBoardHarness(t)
	h.addUser("mia", db.RoleMarketer)
	mia := h.login("mia")
	rec := mia.get(leadsview.BulkPreviewPath)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != leadsview.ListPath {
		t.Fatalf("reload: %d → %q, want 303 to the list", rec.Code, rec.Header().Get("Location"))
	}
	page := parsePage(t, mia.get(leadsview.ListPath).Body.String())
	if !strings.Contains(page.text("flash"), "预览不会保留") {
		t.Errorf("the list does not say why: %q", page.text("flash"))
	}
}
