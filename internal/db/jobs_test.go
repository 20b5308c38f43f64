package db

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/testkit"
)

// openJobStore opens a store on a temporary file whose clock stands still
// at a whole second until the test moves it.
func openJobStore(t *testing.T) (*Store, *testkit.Clock) {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	clock := testkit.NewClock(time.Unix(1_790_000_000, 0))
	s.SetClock(clock.Now)
	return s, clock
}

func mustCreateJob(t *testing.T, s *Store, kind string, owner int64) Job {
	t.Helper()
	j, err := s.CreateJob(context.Background(), NewJob{Kind: kind, Title: "t-" + kind, OwnerID: owner, Params: `{"n":3}`})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func mustClaim(t *testing.T, s *Store, worker string, kinds ...string) Job {
	t.Helper()
	j, err := s.ClaimJob(context.Background(), worker, kinds, 30*time.Second)
	if err != nil {
		t.Fatalf("claim %v: %v", kinds, err)
	}
	return j
}

func mustJob(t *testing.T, s *Store, id int64) Job {
	t.Helper()
	j, err := s.Job(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestJobRunsFromQueuedToDoneWithProgressAndErrors(t *testing.T) {
	t.Parallel()
	s, _ := openJobStore(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, NewUser{Username: "mia", DisplayName: "Mia", PasswordHash: "x", Role: RoleMarketer})
	if err != nil {
		t.Fatal(err)
	}
	j := mustCreateJob(t, s, "k", u.ID)
	if j.State != JobQueued || j.OwnerName != "Mia" || j.Params != `{"n":3}` || j.StartedAt != 0 {
		t.Fatalf("created job: %+v", j)
	}
	j = mustClaim(t, s, "w1", "k")
	if j.State != JobRunning || j.LeaseOwner != "w1" || j.Attempts != 1 || j.StartedAt == 0 || j.LeaseUntil <= j.StartedAt {
		t.Fatalf("claimed job: %+v", j)
	}
	p := JobProgress{Total: 10, Done: 4, Failed: 1, Checkpoint: "5", Errors: []JobError{{Item: "item-3", Message: "bad"}}}
	if req, err := s.SaveProgress(ctx, j.ID, "w1", p); err != nil || req != "" {
		t.Fatalf("save progress: %q %v", req, err)
	}
	if err := s.FinishJob(ctx, j.ID, "w1", JobDone, ""); err != nil {
		t.Fatal(err)
	}
	j = mustJob(t, s, j.ID)
	if j.State != JobDone || j.Total != 10 || j.Done != 4 || j.Failed != 1 || j.Checkpoint != "5" || j.FinishedAt == 0 || j.LeaseOwner != "" {
		t.Fatalf("finished job: %+v", j)
	}
	errs, err := s.ListJobErrors(ctx, j.ID, 0)
	if err != nil || len(errs) != 1 || errs[0].Item != "item-3" || errs[0].Message != "bad" {
		t.Fatalf("job errors: %+v %v", errs, err)
	}
}

func TestClaimTakesEachQueuedJobOnceOldestFirstOfKnownKinds(t *testing.T) {
	t.Parallel()
	s, _ := openJobStore(t)
	ctx := context.Background()
	other := mustCreateJob(t, s, "other", 0)
	var want []int64
	for range 20 {
		want = append(want, mustCreateJob(t, s, "k", 0).ID)
	}
	if first := mustClaim(t, s, "w0", "k"); first.ID != want[0] {
		t.Fatalf("claimed %d first, want the oldest %d", first.ID, want[0])
	}
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			worker := string(rune('a' + w))
			for {
				j, err := s.ClaimJob(ctx, worker, []string{"k"}, time.Minute)
				if errors.Is(err, ErrNotFound) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if prev, dup := seen[j.ID]; dup {
					t.Errorf("job %d claimed by %s and %s", j.ID, prev, worker)
				}
				seen[j.ID] = worker
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != len(want)-1 {
		t.Fatalf("claimed %d jobs, want %d", len(seen), len(want)-1)
	}
	if j := mustJob(t, s, other.ID); j.State != JobQueued {
		t.Fatalf("a job of an unregistered kind was claimed: %+v", j)
	}
}

func TestOnlyTheLeaseHolderMayWrite(t *testing.T) {
	t.Parallel()
	s, _ := openJobStore(t)
	ctx := context.Background()
	j := mustClaim(t, s, "w1", mustCreateJob(t, s, "k", 0).Kind)
	if _, err := s.Heartbeat(ctx, j.ID, "w2", time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("heartbeat by another worker: %v", err)
	}
	if _, err := s.SaveProgress(ctx, j.ID, "w2", JobProgress{Done: 9, Errors: []JobError{{Message: "x"}}}); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("save by another worker: %v", err)
	}
	if err := s.FinishJob(ctx, j.ID, "w2", JobDone, ""); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("finish by another worker: %v", err)
	}
	if err := s.ReleaseJob(ctx, j.ID, "w2"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("release by another worker: %v", err)
	}
	if errs, _ := s.ListJobErrors(ctx, j.ID, 0); len(errs) != 0 {
		t.Errorf("a refused save still recorded errors: %+v", errs)
	}
	if got := mustJob(t, s, j.ID); got.Done != 0 || got.State != JobRunning || got.LeaseOwner != "w1" {
		t.Errorf("job changed by a non-holder: %+v", got)
	}
	before := mustJob(t, s, j.ID).LeaseUntil
	if _, err := s.Heartbeat(ctx, j.ID, "w1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if after := mustJob(t, s, j.ID).LeaseUntil; after <= before {
		t.Errorf("heartbeat did not extend the lease: %d → %d", before, after)
	}
}

func TestExpiredLeasesAreRequeuedWithTheirCheckpoint(t *testing.T) {
	t.Parallel()
	s, clock := openJobStore(t)
	ctx := context.Background()
	abandoned := mustClaim(t, s, "dead", mustCreateJob(t, s, "k", 0).Kind)
	if _, err := s.SaveProgress(ctx, abandoned.ID, "dead", JobProgress{Total: 9, Done: 3, Checkpoint: "3"}); err != nil {
		t.Fatal(err)
	}
	pausing := mustClaim(t, s, "dead", mustCreateJob(t, s, "k", 0).Kind)
	if err := s.RequestPause(ctx, pausing.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RequeueOrphans(ctx, false); err != nil || n != 0 {
		t.Fatalf("requeued %d live leases (%v)", n, err)
	}
	clock.Advance(31 * time.Second)
	alive := mustClaim(t, s, "alive", mustCreateJob(t, s, "k", 0).Kind)
	if n, err := s.RequeueOrphans(ctx, false); err != nil || n != 2 {
		t.Fatalf("requeued %d, want 2 (%v)", n, err)
	}
	if j := mustJob(t, s, abandoned.ID); j.State != JobQueued || j.Checkpoint != "3" || j.Done != 3 || j.LeaseOwner != "" {
		t.Fatalf("abandoned job: %+v", j)
	}
	if j := mustJob(t, s, pausing.ID); j.State != JobPaused || j.RequestedState != "" {
		t.Fatalf("an orphan with a pause request should be paused: %+v", j)
	}
	if j := mustJob(t, s, alive.ID); j.State != JobRunning {
		t.Fatalf("a job with a live lease was requeued: %+v", j)
	}
	if _, err := s.SaveProgress(ctx, abandoned.ID, "dead", JobProgress{Done: 4}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the old worker could still save: %v", err)
	}
	again := mustClaim(t, s, "w2", "k")
	if again.ID != abandoned.ID || again.Attempts != 2 || again.RunBase != 3 {
		t.Fatalf("reclaimed: %+v", again)
	}
}

// Each case starts a job in a state, applies a user's request, and checks
// where it lands (or that it is refused).
func TestPauseResumeCancelTransitions(t *testing.T) {
	t.Parallel()
	type setup func(s *Store, id int64)
	ctx := context.Background()
	claim := func(s *Store, id int64) { s.ClaimJob(ctx, "w", []string{"k"}, time.Minute) }
	pausing := func(s *Store, id int64) { claim(s, id); s.RequestPause(ctx, id) }
	cancelling := func(s *Store, id int64) { claim(s, id); s.RequestCancel(ctx, id) }
	paused := func(s *Store, id int64) { s.RequestPause(ctx, id) }
	finished := func(state string) setup {
		return func(s *Store, id int64) { claim(s, id); s.FinishJob(ctx, id, "w", state, "") }
	}
	cases := []struct {
		name          string
		setup         setup
		act           func(*Store, context.Context, int64) error
		wantState     string
		wantRequested string
		wantErr       error
	}{
		{"pause queued", nil, (*Store).RequestPause, JobPaused, "", nil},
		{"pause running", claim, (*Store).RequestPause, JobRunning, JobPaused, nil},
		{"pause paused", paused, (*Store).RequestPause, JobPaused, "", nil},
		{"pause cancelling", cancelling, (*Store).RequestPause, JobRunning, JobCancelled, ErrJobState},
		{"pause done", finished(JobDone), (*Store).RequestPause, JobDone, "", ErrJobState},
		{"cancel queued", nil, (*Store).RequestCancel, JobCancelled, "", nil},
		{"cancel paused", paused, (*Store).RequestCancel, JobCancelled, "", nil},
		{"cancel running", claim, (*Store).RequestCancel, JobRunning, JobCancelled, nil},
		{"cancel pausing", pausing, (*Store).RequestCancel, JobRunning, JobCancelled, nil},
		{"cancel failed", finished(JobFailed), (*Store).RequestCancel, JobFailed, "", ErrJobState},
		{"resume paused", paused, (*Store).ResumeJob, JobQueued, "", nil},
		{"resume pausing", pausing, (*Store).ResumeJob, JobRunning, "", nil},
		{"resume cancelling", cancelling, (*Store).ResumeJob, JobRunning, JobCancelled, ErrJobState},
		{"resume cancelled", finished(JobCancelled), (*Store).ResumeJob, JobCancelled, "", ErrJobState},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openJobStore(t)
			id := mustCreateJob(t, s, "k", 0).ID
			if tc.setup != nil {
				tc.setup(s, id)
			}
			err := tc.act(s, ctx, id)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			j := mustJob(t, s, id)
			if j.State != tc.wantState || j.RequestedState != tc.wantRequested {
				t.Fatalf("state %q requested %q, want %q %q", j.State, j.RequestedState, tc.wantState, tc.wantRequested)
			}
			if j.Active() == (j.FinishedAt != 0) {
				t.Fatalf("finished_at %d with state %s", j.FinishedAt, j.State)
			}
		})
	}
	s, _ := openJobStore(t)
	if err := s.RequestPause(ctx, 404); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pause of a missing job: %v", err)
	}
}

func TestReleaseHonoursTheRequestedState(t *testing.T) {
	t.Parallel()
	s, _ := openJobStore(t)
	ctx := context.Background()
	for request, want := range map[string]string{"": JobQueued, JobPaused: JobPaused, JobCancelled: JobCancelled} {
		j := mustClaim(t, s, "w", mustCreateJob(t, s, "k", 0).Kind)
		switch request {
		case JobPaused:
			s.RequestPause(ctx, j.ID)
		case JobCancelled:
			s.RequestCancel(ctx, j.ID)
		}
		if err := s.ReleaseJob(ctx, j.ID, "w"); err != nil {
			t.Fatal(err)
		}
		if got := mustJob(t, s, j.ID); got.State != want || got.LeaseOwner != "" || got.RequestedState != "" {
			t.Errorf("request %q: released to %+v, want %s", request, got, want)
		}
	}
}

func TestListJobsByScopeAndOwner(t *testing.T) {
	t.Parallel()
	s, clock := openJobStore(t)
	ctx := context.Background()
	u, _ := s.CreateUser(ctx, NewUser{Username: "mia", PasswordHash: "x", Role: RoleMarketer})
	doneEarly := mustCreateJob(t, s, "k", 0)
	doneLate := mustCreateJob(t, s, "k", u.ID)
	for _, j := range []Job{doneEarly, doneLate} {
		mustClaim(t, s, "w", "k")
		s.FinishJob(ctx, j.ID, "w", JobDone, "")
		clock.Advance(time.Minute)
	}
	running := mustCreateJob(t, s, "k", 0)
	mustClaim(t, s, "w", "k")
	queued := mustCreateJob(t, s, "k", u.ID)
	paused := mustCreateJob(t, s, "k", 0)
	s.RequestPause(ctx, paused.ID)

	ids := func(f JobFilter) []int64 {
		js, err := s.ListJobs(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, j := range js {
			out = append(out, j.ID)
		}
		return out
	}
	check := func(name string, got []int64, want ...int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %v, want %v", name, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: %v, want %v", name, got, want)
			}
		}
	}
	check("active", ids(JobFilter{Scope: JobsActive}), running.ID, queued.ID, paused.ID)
	check("finished", ids(JobFilter{Scope: JobsFinished}), doneLate.ID, doneEarly.ID)
	check("mine", ids(JobFilter{OwnerID: u.ID}), queued.ID, doneLate.ID)
	check("limit", ids(JobFilter{Limit: 2}), paused.ID, queued.ID)
	if j := mustJob(t, s, queued.ID); j.OwnerName != "mia" {
		t.Fatalf("owner name falls back to the username: %q", j.OwnerName)
	}
}
