package leads

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// A full sync that uses up the platform's daily leads.list quota waits for
// the reset (China's midnight) instead of failing, day after day,, joins the syncs asked for
// meanwhile instead of piling up new ones, and then resumes at the page
// after the last one it saved: nothing is listed twice, nothing is missed.
func TestASyncThatMeetsTheDailyQuotaWaitsForTheResetAndResumes(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	clock := testkit.NewClock(time.Date(2026, 11, 21, 15, 0, 0, 0, shanghai))
	quota := 3
	sbCat, err := fastCatalog(t).ApplyOverrides(map[string]jing.Override{"leads.list": {DailyQuota: &quota}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var pages []int
	r := newRigOn(t, Config{pageSize: 5, afterPage: func(_ context.Context, page int) {
		mu.Lock()
		pages = append(pages, page)
		mu.Unlock()
	}}, rigSetup{now: clock.Now, sandboxCatalog: sbCat})
	ctx := context.Background()

	id, err := r.svc.RequestSync(ctx, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	j := fixture.AwaitJob(t, r.store, id, "to wait for the quota", func(j db.Job) bool { return j.State == db.JobPaused || !j.Active() })
	reset := time.Date(2026, 11, 22, 0, 0, 0, 0, shanghai)
	if j.ResumeAt != reset.Unix() || !strings.Contains(j.Error, `"jing.error.quota"`) || !strings.Contains(j.Error, "leads.list") {
		t.Fatalf("job when the quota ran out: %s, resume_at %d (want %d), %q", j.State, j.ResumeAt, reset.Unix(), j.Error)
	}
	if j.Done != 15 || !strings.Contains(j.Checkpoint, `"page":3`) {
		t.Fatalf("job when the quota ran out: done %d, checkpoint %s; want the 3 pages the quota allowed", j.Done, j.Checkpoint)
	}
	if n := r.sb.CallsToday("leads.list"); n != quota {
		t.Fatalf("the platform admitted %d leads.list calls, want the quota of %d", n, quota)
	}

	// The schedule asks for syncs while it waits: they are the waiting one.
	for _, full := range []bool{false, true} {
		if again, err := r.svc.RequestSync(ctx, 0, full); err != nil || again != id {
			t.Fatalf("a sync asked for (full %v) during the wait: job %d, %v; want the waiting job %d", full, again, err, id)
		}
	}

	// Each day's quota takes three more pages: the walk waits a second
	// night and ends on the third day.
	clock.Advance(reset.Add(time.Second).Sub(clock.Now()))
	next := reset.AddDate(0, 0, 1)
	testkit.WaitFor(t, "the sync to wait a second night", func() bool {
		j, err = r.store.Job(ctx, id)
		return err == nil && (j.ResumeAt == next.Unix() || !j.Active())
	})
	if j.State != db.JobPaused || !strings.Contains(j.Checkpoint, `"page":6`) {
		t.Fatalf("job on the second day: %s, resume_at %d (want %d), checkpoint %s", j.State, j.ResumeAt, next.Unix(), j.Checkpoint)
	}
	clock.Advance(next.Add(time.Second).Sub(clock.Now()))
	j = fixture.WaitJobState(t, r.store, id, db.JobDone)
	mu.Lock()
	walked := slices.Clone(pages)
	mu.Unlock()
	if !slices.Equal(walked, []int{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Fatalf("pages walked over both days: %v, want each of 1..8 once", walked)
	}
	if n, _ := r.store.CountLeads(ctx); n != 40 || j.Done != 40 || j.Error != "" {
		t.Fatalf("after the reset: %d leads, job done %d, error %q; want 40 and none", n, j.Done, j.Error)
	}
	if st, _ := r.store.LeadSync(ctx); st.FullSyncedAt == 0 {
		t.Fatal("the resumed full sync did not complete the copy")
	}
}
