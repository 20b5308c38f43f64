package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

// stepKind exists only in tests: two items per step, each step waiting for
// a token on gate, so the test decides when progress happens.
const stepKind = "test.steps"

func stepHandler(gate <-chan struct{}) jobs.Handler {
	return func(ctx context.Context, t *jobs.Task) error {
		var p struct{ Items int64 }
		if err := t.Params(&p); err != nil {
			return err
		}
		t.SetTotal(p.Items)
		for t.Counts().Done < p.Items {
			select {
			case <-gate:
			case <-ctx.Done():
				return ctx.Err()
			}
			t.Did(min(2, p.Items-t.Counts().Done))
			if err := t.Save(fmt.Sprint(t.Counts().Done)); err != nil {
				return err
			}
		}
		return nil
	}
}

// withStartedRunner wires a running runner that knows stepKind.
func withStartedRunner(t *testing.T, gate <-chan struct{}) harnessOption {
	return func(d *Deps) {
		r := jobs.New(d.Store, jobs.Config{Logger: d.Logger, Heartbeat: 50 * time.Millisecond})
		r.Register(stepKind, stepHandler(gate))
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Stop(context.Background()) })
		d.Jobs = r
	}
}

// evalUntil polls a JavaScript expression in the page until it returns want.
func evalUntil(b *browser, what, js, want string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		got, err := evalDuringNavigation(b, js)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s: %q (%v), want %q", what, got, err, want)
		}
		<-time.After(50 * time.Millisecond)
	}
}

// evalDuringNavigation evaluates js in a page that may be navigating (a
// form submitted without htmx, a redirect): the browser then answers that
// the page it was asked about went away, which only means "ask again".
// Any other error fails the test.
func evalDuringNavigation(b *browser, js string) (string, error) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err == nil {
		return got, nil
	}
	for _, passing := range []string{"navigated or closed", "context was destroyed", "Cannot find context"} {
		if strings.Contains(err.Error(), passing) {
			return "", err
		}
	}
	b.t.Fatalf("evaluate %s: %v", js, err)
	return "", err
}

// The Jobs page follows a running job without a reload, pauses and resumes
// it from its row, and stops polling once nothing can move.
func TestBrowserJobsPageFollowsAJobLive(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	h := newHarness(t, withStartedRunner(t, gate))
	mia := h.addUser("mia", db.RoleMarketer)
	failedJob := seedFinishedJobs(t, h, mia)
	job, err := h.srv.Jobs.(*jobs.Runner).Enqueue(context.Background(),
		jobs.Spec{Kind: stepKind, Title: "Sync leads from the spring fair", OwnerID: mia.ID, Params: map[string]int{"Items": 10}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, h)
	b.enterAs("mia")
	b.open("/jobs")
	eval[bool](b, `window.jingdeskMarker = true`)
	row := fmt.Sprintf("#job-%d", job.ID)
	value := `(document.querySelector("` + row + ` progress") || {}).value + ""`

	gate <- struct{}{}
	gate <- struct{}{}
	evalUntil(b, "the bar to show 4 of 10", value, "4")
	b.wantText(row+` [data-testid="job-counts"]`, "4 of 10 done")
	if live := eval[string](b, `document.querySelector("#jobs-table").dataset.live`); live != "true" {
		t.Fatalf("table not live while a job runs: %q", live)
	}
	b.shootJobs("jobs-1366x768.png")

	b.run("pause", chromedp.Click(chromedp.CSS(row+` [data-testid="job-pause"]`)))
	evalUntil(b, "the row to show paused", `document.querySelector("`+row+`").dataset.state`, "paused")
	evalUntil(b, "the table to stop polling", `document.querySelector("#jobs-table").getAttribute("hx-trigger")`, "jobs-changed from:body")

	close(gate)
	b.run("resume", chromedp.Click(chromedp.CSS(row+` [data-testid="job-resume"]`)))
	evalUntil(b, "the job to finish", `document.querySelector("`+row+`").dataset.state`, "done")
	b.wantText(row+` [data-testid="job-counts"]`, "10 of 10 done")
	if live := eval[string](b, `document.querySelector("#jobs-table").dataset.live`); live != "false" {
		t.Fatalf("table still live with every job finished: %q", live)
	}
	if !eval[bool](b, `window.jingdeskMarker === true`) {
		t.Error("the page reloaded: progress must arrive through htmx swaps")
	}
	b.open(fmt.Sprintf("/jobs/%d", failedJob))
	b.shootJobs("job-failed-1366x768.png")
	b.assertNoProblems()
}

// seedFinishedJobs adds a done and a failed job, so the page shows both
// sections, and returns the failed one's id.
func seedFinishedJobs(t *testing.T, h *harness, owner db.User) (failed int64) {
	ctx := context.Background()
	for i, state := range []string{db.JobDone, db.JobFailed} {
		kind := "test.seed." + state
		j, err := h.store.CreateJob(ctx, db.NewJob{Kind: kind, Title: []string{"Import exhibitors.xlsx", "Fetch lead scores"}[i], OwnerID: owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.store.ClaimJob(ctx, "seed", []string{kind}, time.Hour); err != nil {
			t.Fatal(err)
		}
		h.store.SaveProgress(ctx, j.ID, "seed", db.JobProgress{Total: 1250, Done: 1180 - int64(i)*700, Failed: 70,
			Errors: []db.JobError{{Item: "lead 10045", Message: "mobile number is not valid"}, {Item: "lead 10046", Message: "lead was merged into lead 9981"}}})
		h.store.FinishJob(ctx, j.ID, "seed", state, map[string]string{db.JobFailed: "platform: rate limit exceeded (request_id 7f3a9c)"}[state])
		failed = j.ID
	}
	return failed
}

// shootJobs checks the layout of the page shown and saves a picture of it.
func (b *browser) shootJobs(name string) {
	b.t.Helper()
	for _, p := range eval[[]string](b, layoutCheck) {
		b.t.Errorf("layout: %s", p)
	}
	saveScreenshot(b.t, screenshotDir(b.t), name, get(b, "screenshot", chromedp.CaptureScreenshot()))
}
