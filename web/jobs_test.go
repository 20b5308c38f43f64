package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

// withJobs wires a real runner that is never started: actions go through it
// to the store, and each test puts its jobs in the states it needs directly,
// so nothing moves behind the test's back.
func withJobs() harnessOption {
	return func(d *Deps) { d.Jobs = jobs.New(d.Store, jobs.Config{Logger: d.Logger}) }
}

// jobHarness has an admin (root), two marketers (mia, bob) and a viewer
// (vic), all reading English.
func jobHarness(t *testing.T) (*harness, map[string]db.User) {
	h := newHarness(t, withJobs())
	users := map[string]db.User{}
	for name, role := range map[string]string{"root": db.RoleAdmin, "mia": db.RoleMarketer, "bob": db.RoleMarketer, "vic": db.RoleViewer} {
		u := h.addUser(name, role)
		if err := h.store.SetUserLang(context.Background(), u.ID, i18n.English); err != nil {
			t.Fatal(err)
		}
		users[name] = u
	}
	return h, users
}

// addJob puts a job of owner in state. Each job has a kind of its own, so
// claiming it (to make it running) cannot take another test job.
func (h *harness) addJob(owner db.User, title, state string) db.Job {
	h.t.Helper()
	ctx := context.Background()
	kind := "test." + strings.ReplaceAll(strings.ToLower(title), " ", "_")
	j, err := h.store.CreateJob(ctx, db.NewJob{Kind: kind, Title: title, OwnerID: owner.ID})
	if err != nil {
		h.t.Fatal(err)
	}
	switch state {
	case db.JobRunning, db.JobDone, db.JobFailed:
		if _, err = h.store.ClaimJob(ctx, "test-worker", []string{kind}, time.Hour); err != nil {
			h.t.Fatal(err)
		}
	case db.JobPaused:
		err = h.store.RequestPause(ctx, j.ID)
	case db.JobCancelled:
		err = h.store.RequestCancel(ctx, j.ID)
	}
	if state == db.JobDone || state == db.JobFailed {
		err = h.store.FinishJob(ctx, j.ID, "test-worker", state, map[string]string{db.JobFailed: "platform said: quota exceeded"}[state])
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return h.job(j.ID)
}

// progress saves a step of a running job added by addJob.
func (h *harness) progress(j db.Job, p db.JobProgress) {
	h.t.Helper()
	if _, err := h.store.SaveProgress(context.Background(), j.ID, "test-worker", p); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) job(id int64) db.Job {
	h.t.Helper()
	j, err := h.store.Job(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return j
}

func jobPath(j db.Job, action string) string { return fmt.Sprintf("/jobs/%d/%s", j.ID, action) }

// mustShow fails t unless text (what a reader sees of a page, or of one of
// its parts) shows every want.
func mustShow(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in:\n%s", w, text)
		}
	}
}

// polls reports whether an element of body asks htmx to reload it every 2 s.
func polls(body string) bool {
	for _, n := range parseHTML(body).where("", "hx-trigger", "*") {
		if strings.Contains(attrOf(n, "hx-trigger"), "every 2s") {
			return true
		}
	}
	return false
}

func TestJobsPageListsActiveJobsFirstWithLiveProgress(t *testing.T) {
	t.Parallel()
	h, users := jobHarness(t)
	finished := h.addJob(users["bob"], "Import spring fair", db.JobDone)
	running := h.addJob(users["mia"], "Sync leads", db.JobRunning)
	h.clock.Advance(time.Minute)
	h.progress(running, db.JobProgress{Total: 2000, Done: 50, Failed: 2, Checkpoint: "52"})
	paused := h.addJob(users["mia"], "Score fetch", db.JobPaused)

	body := h.login("vic").get("/jobs").Body.String()
	p := parsePage(t, body)
	table := spacedText(p.one("jobs-table"))
	mustShow(t, table,
		"50 of 2,000 done", "2 failed",
		"52 items/min",
		"about 38 min left", // 1,948 items at 52 a minute: 37.5 min, rounded up
		"Running", "Paused", "Done", "Sync leads", "Score fetch", "Import spring fair", "mia", "bob",
	)
	if row := p.allWith("job-row", "id", fmt.Sprintf("job-%d", running.ID)); len(row) != 1 || len(under(row[0]).where("progress", "value", "52", "max", "2000")) != 1 {
		t.Error("the running job shows no progress bar of 52 out of 2,000")
	}
	if !hasAttrOn(body, "jobs-table", `hx-get="/jobs/table"`) || !strings.HasPrefix(p.attr("jobs-table", "hx-trigger"), "every 2s") {
		t.Errorf("the table does not poll itself: %q", p.attr("jobs-table", "hx-trigger"))
	}
	var listed []string
	for _, row := range p.all("job-row") {
		listed = append(listed, attrOf(row, "id"))
	}
	order := []string{fmt.Sprintf("job-%d", running.ID), fmt.Sprintf("job-%d", paused.ID), fmt.Sprintf("job-%d", finished.ID)}
	if !slices.Equal(listed, order) {
		t.Errorf("rows listed %v, want %v", listed, order)
	}
	// A viewer watches but is offered no action.
	if len(p.where("", "hx-post", "*")) > 0 || p.has("job-pause") || p.has("job-cancel") {
		t.Error("a viewer is offered an action")
	}
}

func TestJobsPageWithoutJobsSaysWhatWillAppear(t *testing.T) {
	t.Parallel()
	h, _ := jobHarness(t)
	body := h.login("mia").get("/jobs").Body.String()
	mustShow(t, testIDText(body, "empty-state"), "No background jobs yet", "Syncing leads from the platform")
}

func TestJobsTablePollsOnlyWhileAJobIsQueuedOrRunning(t *testing.T) {
	t.Parallel()
	h, users := jobHarness(t)
	c := h.login("mia")
	polls := func() bool {
		t.Helper()
		rec := c.get("/jobs/table", htmx())
		body := rec.Body.String()
		if rec.Code != http.StatusOK || isFullPage(body) || !hasAttrOn(body, "jobs-table", `id="jobs-table"`) {
			t.Fatalf("table fragment: %d\n%s", rec.Code, body)
		}
		// Even when idle it listens for actions taken on the page.
		if trigger := parseHTML(body).attr("jobs-table", "hx-trigger"); !strings.Contains(trigger, "jobs-changed from:body") {
			t.Errorf("the table does not listen for actions: %q", trigger)
		}
		return polls(body)
	}
	if polls() {
		t.Error("polls with no job at all")
	}
	j := h.addJob(users["mia"], "Bulk tag", db.JobQueued)
	if !polls() {
		t.Error("does not poll with a queued job")
	}
	h.store.RequestPause(context.Background(), j.ID)
	if polls() {
		t.Error("polls with only a paused job: it cannot move")
	}
	h.store.ResumeJob(context.Background(), j.ID)
	h.store.ClaimJob(context.Background(), "test-worker", []string{j.Kind}, time.Hour)
	if !polls() {
		t.Error("does not poll with a running job")
	}
	h.store.FinishJob(context.Background(), j.ID, "test-worker", db.JobDone, "")
	if polls() {
		t.Error("still polls once every job finished")
	}
}

func TestMarketerPausesResumesAndCancelsOwnJobs(t *testing.T) {
	t.Parallel()
	h, users := jobHarness(t)
	c := h.login("mia")
	queued := h.addJob(users["mia"], "Send SMS", db.JobQueued)

	rec := c.post(jobPath(queued, "pause"), nil, htmx())
	if rec.Code != http.StatusOK || rec.Header().Get("HX-Trigger") != "jobs-changed" {
		t.Fatalf("pause: %d, HX-Trigger %q", rec.Code, rec.Header().Get("HX-Trigger"))
	}
	body := rec.Body.String()
	if first := firstElement(parseHTML(body).doc); first == nil || first.Data != "tr" || attrOf(first, "id") != fmt.Sprintf("job-%d", queued.ID) {
		t.Fatalf("pause answers the row alone:\n%s", body)
	}
	if testIDText(body, "job-state") != "Paused" || !hasTestID(body, "job-resume") {
		t.Fatalf("the paused row: %q, resume offered %v", testIDText(body, "job-state"), hasTestID(body, "job-resume"))
	}
	if j := h.job(queued.ID); j.State != db.JobPaused {
		t.Fatalf("after pause: %s", j.State)
	}
	c.post(jobPath(queued, "resume"), nil, htmx())
	if j := h.job(queued.ID); j.State != db.JobQueued {
		t.Fatalf("after resume: %s", j.State)
	}

	// A running job is asked, and stops at its next step.
	running := h.addJob(users["mia"], "Sync leads", db.JobRunning)
	mustShow(t, testIDText(c.post(jobPath(running, "pause"), nil, htmx()).Body.String(), "job-state"), "Pausing…")
	if j := h.job(running.ID); j.State != db.JobRunning || j.RequestedState != db.JobPaused {
		t.Fatalf("running job after pause: %+v", j)
	}
	mustShow(t, testIDText(c.post(jobPath(running, "cancel"), nil, htmx()).Body.String(), "job-state"), "Cancelling…")
	if j := h.job(running.ID); j.RequestedState != db.JobCancelled {
		t.Fatalf("running job after cancel: %+v", j)
	}
	c.post(jobPath(queued, "cancel"), nil, htmx())
	if j := h.job(queued.ID); j.State != db.JobCancelled {
		t.Fatalf("queued job after cancel: %s", j.State)
	}
	for action, n := range map[string]int{"job.pause": 2, "job.resume": 1, "job.cancel": 2} {
		if got := h.countAudit(action, db.OutcomeOK); got != n {
			t.Errorf("%s audited %d times, want %d", action, got, n)
		}
	}
	entries, _ := h.store.ListAudit(context.Background(), db.AuditFilter{Action: "job.cancel", Limit: 1})
	if len(entries) != 1 || entries[0].Object != fmt.Sprintf("job:%d", queued.ID) || entries[0].Username != "mia" {
		t.Errorf("audit entry: %+v", entries)
	}
}

func TestMarketerCannotActOnSomeoneElsesJob(t *testing.T) {
	t.Parallel()
	h, users := jobHarness(t)
	theirs := h.addJob(users["bob"], "Bob's import", db.JobQueued)
	mine := h.addJob(users["mia"], "Mia's import", db.JobQueued)
	c := h.login("mia")
	before := snapshotJobs(t, h)
	for _, action := range []string{"pause", "resume", "cancel"} {
		if rec := c.post(jobPath(theirs, action), nil, htmx()); rec.Code != http.StatusForbidden {
			t.Errorf("%s of another's job: %d, want 403", action, rec.Code)
		}
	}
	if snapshotJobs(t, h) != before {
		t.Fatal("a refused action changed a job")
	}
	if got := h.countAudit("job.", db.OutcomeDenied); got != 3 {
		t.Errorf("%d refusals audited, want 3", got)
	}
	// The list offers actions on her own job only.
	body := c.get("/jobs").Body.String()
	p := parseHTML(body)
	if len(p.where("", "hx-post", jobPath(mine, "pause"))) == 0 {
		t.Error("no pause offered on her own job")
	}
	if len(p.where("", "hx-post", jobPath(theirs, "pause"))) > 0 || len(p.where("form", "action", jobPath(theirs, "pause"))) > 0 {
		t.Error("a pause offered on someone else's job")
	}
}

func snapshotJobs(t *testing.T, h *harness) string {
	js, err := h.store.ListJobs(context.Background(), db.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%+v", js)
}

func TestAdminActsOnAnyJobAndPlainFormsComeBackWithAMessage(t *testing.T) {
	t.Parallel()
	h, users := jobHarness(t)
	paused := h.addJob(users["mia"], "Weekly sync", db.JobPaused)
	running := h.addJob(users["bob"], "Email blast", db.JobRunning)
	c := h.login("root")

	rec := c.post(jobPath(paused, "cancel"), nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/jobs" {
		t.Fatalf("plain cancel: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	mustShow(t, testIDText(c.get("/jobs").Body.String(), "flash"), "“Weekly sync” is cancelled.")
	if j := h.job(paused.ID); j.State != db.JobCancelled || j.FinishedAt == 0 {
		t.Fatalf("after cancel: %+v", j)
	}
	// From the job's own page, back to it.
	next := fmt.Sprintf("/jobs/%d", running.ID)
	rec = c.post(jobPath(running, "pause"), url.Values{"next": {next}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != next {
		t.Fatalf("plain pause: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	mustShow(t, testIDText(c.get(next).Body.String(), "flash"), "“Email blast” pauses after its current step")
	if got := h.countAudit("job.", db.OutcomeOK); got != 2 {
		t.Errorf("%d actions audited, want 2", got)
	}
}

func TestViewerSeesJobsButMayNotAct(t *testing.T) {
	t.Parallel()
	h, users := jobHarness(t)
	j := h.addJob(users["mia"], "Sync leads", db.JobQueued)
	c := h.login("vic")
	if rec := c.get(fmt.Sprintf("/jobs/%d", j.ID)); rec.Code != http.StatusOK || hasTestID(rec.Body.String(), "job-pause") {
		t.Fatalf("viewer on the job page: %d", rec.Code)
	}
	for _, action := range []string{"pause", "resume", "cancel"} {
		if rec := c.post(jobPath(j, action), nil, htmx()); rec.Code != http.StatusForbidden {
			t.Errorf("viewer %s: %d, want 403", action, rec.Code)
		}
	}
	if got := h.job(j.ID); got.State != db.JobQueued {
		t.Fatalf("a viewer changed a job: %s", got.State)
	}
}

func TestActionOnAFinishedJobIsRefusedOnItsRow(t *testing.T) {
	t.Parallel()
	h, users := jobHarness(t)
	j := h.addJob(users["mia"], "Old import", db.JobDone)
	rec := h.login("mia").post(jobPath(j, "pause"), nil, htmx())
	if rec.Code != http.StatusConflict {
		t.Fatalf("pause of a done job: %d, want 409", rec.Code)
	}
	if len(parseHTML(rec.Body.String()).allWith("job-row", "id", fmt.Sprintf("job-%d", j.ID))) != 1 {
		t.Fatal("the refusal is not on the job's row")
	}
	mustShow(t, testIDText(rec.Body.String(), "row-error"), "Nothing was changed", "“Done”")
	if got := h.job(j.ID); got.State != db.JobDone {
		t.Fatalf("state changed to %s", got.State)
	}
	if h.countAudit("job.pause", db.OutcomeFailed) != 1 {
		t.Error("refusal not audited")
	}
	if rec := h.login("root").post("/jobs/999/pause", nil, htmx()); rec.Code != http.StatusNotFound {
		t.Errorf("action on a missing job: %d", rec.Code)
	}
}

func TestJobPageShowsItsItemErrorsAndPollsWhileLive(t *testing.T) {
	t.Parallel()
	h, users := jobHarness(t)
	running := h.addJob(users["mia"], "Send SMS", db.JobRunning)
	h.progress(running, db.JobProgress{Total: 10, Done: 3, Failed: 2, Errors: []db.JobError{
		{Item: "+86 138 0000 0001", Message: "number is on the blocklist"},
		{Item: "+86 138 0000 0002", Message: "carrier rejected the message"},
	}})
	c := h.login("mia")
	body := c.get(fmt.Sprintf("/jobs/%d", running.ID)).Body.String()
	mustShow(t, testIDText(body, "job-errors"), "+86 138 0000 0001", "number is on the blocklist", "carrier rejected the message")
	mustShow(t, testIDText(body, "job-summary"), "2 failed")
	if detail := parsePage(t, body).in(parsePage(t, body).one("job-detail")); len(detail.where("progress", "value", "5", "max", "10")) != 1 ||
		!hasAttrOn(body, "job-detail", `hx-trigger="every 2s"`) || !detail.has("job-pause") {
		t.Error("the live job's page lacks its progress of 5 out of 10, its polling or its pause button")
	}
	if frag := c.get(fmt.Sprintf("/jobs/%d", running.ID), htmx()).Body.String(); isFullPage(frag) || !hasAttrOn(frag, "job-detail", `id="job-detail"`) {
		t.Fatalf("polled detail is not the fragment:\n%s", frag)
	}

	failed := h.addJob(users["mia"], "Score fetch", db.JobFailed)
	body = c.get(fmt.Sprintf("/jobs/%d", failed.ID)).Body.String()
	mustShow(t, testIDText(body, "job-summary"), "platform said: quota exceeded")
	mustShow(t, pageText(body), "Every item so far went through.")
	if polls(body) {
		t.Error("a failed job's page still polls")
	}

	for _, p := range []string{"/jobs/999", "/jobs/abc"} {
		if rec := c.get(p); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
}

// brokenRunner is a job runner whose every action fails for a reason that
// is no refusal (its database is gone, say): the jobs area's narrow
// JobService, faked.
type brokenRunner struct{}

func (brokenRunner) Act(context.Context, jobs.Actor, jobs.Action, int64) (db.Job, error) {
	return db.Job{}, fmt.Errorf("jobs: read job: %w", errors.New("disk I/O error"))
}

// A failure that is not a refusal is an error page, without its Go text,
// and not recorded as a refusal the user met.
func TestARunnerFailureIsAnErrorNotARefusal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(d *Deps) { d.Jobs = brokenRunner{} })
	h.addUser("root", db.RoleAdmin)
	rec := h.login("root").post("/jobs/1/pause", nil)
	p := parsePage(t, rec.Body.String())
	if rec.Code != http.StatusInternalServerError || !p.has("error-page") || appearsInBytes(rec.Body.String(), "disk I/O") {
		t.Fatalf("%d %q", rec.Code, p.text("error-message"))
	}
	if n := h.countAudit("job.pause", ""); n != 0 {
		t.Fatalf("%d audit entries for a failure", n)
	}
}

// A job waiting for the platform's daily quota says so, in the reader's
// language, with the time it resumes by itself and why; it is no failure.
func TestAJobWaitingForTheQuotaSaysUntilWhen(t *testing.T) {
	t.Parallel()
	h, users := jobHarness(t)
	j := h.addJob(users["mia"], "Lead sync", db.JobRunning)
	until := time.Date(2026, 11, 22, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	why := msg.New("jing.error.quota", msg.Str("Endpoint", "leads.list"), msg.Time("Until", until)).Encode()
	if err := h.store.WaitJob(context.Background(), j.ID, "test-worker", until.Unix(), why); err != nil {
		t.Fatal(err)
	}
	c := h.login("mia")
	p := parsePage(t, c.get(fmt.Sprintf("/jobs/%d", j.ID)).Body.String())
	if got := p.text("job-state"); got != "Waiting" {
		t.Errorf("state badge %q, want Waiting", got)
	}
	if p.attr("job-waiting", "data-until") != fmt.Sprint(until.Unix()) || !strings.HasPrefix(p.text("job-waiting"), "Waiting until ") {
		t.Errorf("waiting notice %q (until %q)", p.text("job-waiting"), p.attr("job-waiting", "data-until"))
	}
	if reason := p.text("job-wait-reason"); !strings.Contains(reason, "leads.list") || strings.Contains(reason, "jing.error") {
		t.Errorf("the reason reads %q, want the quota message naming leads.list", reason)
	}
	if p.has("job-error") {
		t.Error("a waiting job is shown as failed")
	}
	list := parsePage(t, c.get("/jobs").Body.String())
	if !strings.HasPrefix(list.text("job-wait-until"), "until ") {
		t.Errorf("the jobs list says %q under the state, want until when", list.text("job-wait-until"))
	}
}
