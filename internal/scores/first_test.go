package scores

import (
	"context"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// fetchJobs are the score fetch jobs the store holds.
func (r *rig) fetchJobs() []db.Job {
	r.t.Helper()
	all, err := r.store.ListJobs(context.Background(), db.JobFilter{Limit: 500})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []db.Job
	for _, j := range all {
		if j.Kind == FetchJobKind {
			out = append(out, j)
		}
	}
	return out
}

// The first day: nothing is fetched before the lead copy is filled; once
// its first full sync ends, the schedule starts one fetch of every lead's
// scores by itself (with no refresh due for a day), records it, and never
// starts it again for this connection, a restart included.
func TestTheFirstFetchStartsOnceTheLeadCopyIsFilled(t *testing.T) {
	t.Parallel()
	r := newRig(t, 500)
	ctx := context.Background()
	if id, err := r.svc.StartFirstFetch(ctx); err != nil || id != 0 {
		t.Fatalf("a first fetch before the lead copy is filled: job %d, %v", id, err)
	}
	sched, ls := r.restartWithSchedule()
	if ff, _ := sched.FirstFetchState(ctx); ff.Job != 0 || !ff.Pending {
		t.Fatalf("before the lead copy: %+v, want pending", ff)
	}
	sync, err := ls.RequestSync(ctx, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if j := r.waitJob(sync); j.State != db.JobDone {
		t.Fatalf("lead sync: %s %s", j.State, j.Error)
	}
	leadCount, err := r.store.CountLeads(ctx)
	if err != nil || leadCount == 0 {
		t.Fatalf("lead copy: %d, %v", leadCount, err)
	}

	sched.Start(ctx)
	t.Cleanup(sched.Stop)
	var ff FirstFetch
	testkit.WaitFor(t, "the first fetch to start", func() bool {
		ff, _ = sched.FirstFetchState(ctx)
		return ff.Job != 0
	})
	j := r.waitJob(ff.Job)
	if j.State != db.JobDone || j.Done != int64(leadCount*len(Kinds)) {
		t.Fatalf("first fetch: %s, %d of %d leads × %d kinds: %s", j.State, j.Done, leadCount, len(Kinds), j.Error)
	}
	for _, kind := range Kinds {
		total, never, err := r.store.CountScorePopulation(ctx, db.ScorePopulation{}, kind, 1)
		if err != nil || total != int64(leadCount) || never != 0 {
			t.Fatalf("%s after the first fetch: %d leads, %d never fetched, %v", kind, total, never, err)
		}
	}

	// Once per connection: neither this schedule nor a restarted one asks again.
	sched.Stop()
	again, _ := r.restartWithSchedule()
	if id, err := again.StartFirstFetch(ctx); err != nil || id != 0 {
		t.Fatalf("the first fetch started again: job %d, %v", id, err)
	}
	if jobs := r.fetchJobs(); len(jobs) != 1 {
		t.Fatalf("%d fetch jobs, want the one first fetch", len(jobs))
	}
	if ff2, _ := again.FirstFetchState(ctx); ff2.Job != ff.Job || ff2.Pending {
		t.Fatalf("the record after a restart: %+v, want job %d", ff2, ff.Job)
	}
}

// restartWithSchedule stops the rig's runner and starts a new one, as a
// restarted process does, with the lead sync and a scores service whose
// schedule (not started) looks for the first fetch every 10 ms.
func (r *rig) restartWithSchedule() (*Service, *leads.Service) {
	r.t.Helper()
	fixture.Stop(r.runner)
	r.runner = jobs.New(r.store, jobs.Config{Logger: testkit.Quiet(), Poll: 20 * time.Millisecond, Heartbeat: 50 * time.Millisecond})
	live := fixture.Fixed{Client: r.client}
	ls, err := leads.New(leads.Config{Store: r.store, Platform: live, Runner: r.runner, Now: r.clock.Now})
	if err != nil {
		r.t.Fatal(err)
	}
	svc, err := New(Config{Store: r.store, Platform: live, Runner: r.runner, Now: r.clock.Now,
		RefreshEvery: 24 * time.Hour, FirstFetchLook: 10 * time.Millisecond})
	if err != nil {
		r.t.Fatal(err)
	}
	fixture.Start(r.t, r.runner)
	return svc, ls
}

// Without the schedule (--score-refresh-every 0: only on demand) the
// first fetch is not pending: the page says to press Refresh.
func TestNoFirstFetchWithoutTheSchedule(t *testing.T) {
	t.Parallel()
	r := newRig(t, 200)
	if ff, err := r.svc.FirstFetchState(context.Background()); err != nil || ff.Pending || ff.Job != 0 {
		t.Fatalf("on demand only: %+v, %v", ff, err)
	}
}
