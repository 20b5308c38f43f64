package jobs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

// countKind exists only in tests: it "processes" items 1..Items in batches,
// records in a ledger which items it processed, and saves a checkpoint (the
// next item) after each batch.
const countKind = "test.count"

type countParams struct {
	Items    int
	Batch    int
	BadItems []int // these fail one by one and become item errors
	FailAt   int   // on reaching this item the handler gives up with an error
	// WaitAt: on first reaching this item the handler asks to wait a minute
	// (as for a used-up daily quota), once per job.
	WaitAt int
	// QuotaAt: on first reaching this item the handler fails with an error
	// that says nothing can succeed for a minute (a Pauser), once per job.
	QuotaAt int
}

// quotaError is a used-up quota as the platform client reports it.
type quotaError struct{ until time.Time }

func (e quotaError) Error() string                 { return "quota used up" }
func (e quotaError) PauseUntil() (time.Time, bool) { return e.until, true }
func (e quotaError) Message() msg.Message          { return msg.New("jing.error.quota") }

// ledger remembers every item each job processed, across runners, so a test
// can prove that none was processed twice and none was missed.
type ledger struct {
	mu   sync.Mutex
	seen map[int64][]int
	// gate, when not nil, must yield a token before each batch: a test holds
	// a job mid-run by not sending one, and lets it run freely by closing it.
	gate chan struct{}
	// now is the handler's clock (WaitAt); time.Now unless set.
	now func() time.Time
}

func newLedger(gated bool) *ledger {
	l := &ledger{seen: map[int64][]int{}}
	if gated {
		l.gate = make(chan struct{})
	}
	return l
}

func (l *ledger) handle(ctx context.Context, t *Task) error {
	var p countParams
	if err := t.Params(&p); err != nil {
		return err
	}
	next := 1
	if cp := t.Checkpoint(); cp != "" {
		var err error
		if next, err = strconv.Atoi(cp); err != nil {
			return fmt.Errorf("bad checkpoint %q", cp)
		}
	}
	t.SetTotal(int64(p.Items))
	for next <= p.Items {
		if err := l.wait(ctx); err != nil {
			return err
		}
		end := min(next+p.Batch-1, p.Items)
		for i := next; i <= end; i++ {
			if i == p.FailAt {
				return fmt.Errorf("item %d: the platform refused the whole job", i)
			}
			if i == p.QuotaAt && t.Attempt() == 1 {
				if err := t.Save(strconv.Itoa(i)); err != nil {
					return err
				}
				return fmt.Errorf("item %d: %w", i, quotaError{l.clock()().Add(time.Minute)})
			}
			if i == p.WaitAt && t.Attempt() == 1 {
				if err := t.Save(strconv.Itoa(i)); err != nil {
					return err
				}
				return WaitUntil(l.clock()().Add(time.Minute), "daily quota used up")
			}
			l.record(t.ID(), i)
			if slices.Contains(p.BadItems, i) {
				t.Fail(fmt.Sprintf("item-%d", i), "no such lead")
			} else {
				t.Did(1)
			}
		}
		next = end + 1
		if err := t.Save(strconv.Itoa(next)); err != nil {
			return err
		}
	}
	return nil
}

// wait lets a batch start. The context is checked only here, between
// batches, so a batch is either processed and saved or not processed at all.
func (l *ledger) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.gate == nil {
		return nil
	}
	select {
	case <-l.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *ledger) clock() func() time.Time {
	if l.now != nil {
		return l.now
	}
	return time.Now
}

func (l *ledger) record(job int64, item int) {
	l.mu.Lock()
	l.seen[job] = append(l.seen[job], item)
	l.mu.Unlock()
}

func (l *ledger) items(job int64) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.seen[job])
}

// span is the items from..to in order.
func span(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func openStore(t *testing.T, path string) *db.Store {
	t.Helper()
	s, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testConfig polls only once an hour: a job that starts at all started
// because Enqueue (or Resume) woke a worker.
func testConfig() Config {
	return Config{Workers: 2, Heartbeat: 20 * time.Millisecond, Poll: time.Hour, Logger: testkit.Quiet()}
}

func startRunner(t *testing.T, store *db.Store, cfg Config, l *ledger) *Runner {
	t.Helper()
	r := New(store, cfg)
	r.Register(countKind, l.handle)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopRunner(t, r) })
	return r
}

func stopRunner(t *testing.T, r *Runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func enqueue(t *testing.T, r *Runner, p countParams) int64 {
	t.Helper()
	j, err := r.Enqueue(context.Background(), Spec{Kind: countKind, Title: "count", OwnerID: 0, Params: p})
	if err != nil {
		t.Fatal(err)
	}
	return j.ID
}

func jobOf(t *testing.T, s *db.Store, id int64) db.Job {
	t.Helper()
	j, err := s.Job(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func waitJob(t *testing.T, s *db.Store, id int64, what string, cond func(db.Job) bool) db.Job {
	t.Helper()
	return testkit.Await(t, fmt.Sprintf("job %d %s", id, what),
		func() (db.Job, error) { return s.Job(context.Background(), id) }, cond)
}

func waitState(t *testing.T, s *db.Store, id int64, state string) db.Job {
	t.Helper()
	return waitJob(t, s, id, "to be "+state, func(j db.Job) bool { return j.State == state })
}

func waitDone(t *testing.T, s *db.Store, id int64, done int64) db.Job {
	t.Helper()
	return waitJob(t, s, id, fmt.Sprintf("to reach %d done", done), func(j db.Job) bool { return j.Done >= done })
}

func wantItems(t *testing.T, got, want []int) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("processed items %v, want %v", got, want)
	}
}

func TestJobRunsToDoneWithCountsAndItemErrors(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	l := newLedger(false)
	r := startRunner(t, s, testConfig(), l)
	id := enqueue(t, r, countParams{Items: 25, Batch: 4, BadItems: []int{3, 17}})
	j := waitState(t, s, id, db.JobDone)
	if j.Total != 25 || j.Done != 23 || j.Failed != 2 || j.Checkpoint != "26" || j.Error != "" || j.Attempts != 1 {
		t.Fatalf("finished job: %+v", j)
	}
	wantItems(t, l.items(id), span(1, 25))
	errs, err := s.ListJobErrors(context.Background(), id, 0)
	if err != nil || len(errs) != 2 || errs[0].Item != "item-3" || errs[1].Item != "item-17" || errs[0].Message != "no such lead" {
		t.Fatalf("item errors: %+v %v", errs, err)
	}
}

func TestAStoppedJobResumesInANewRunnerFromItsCheckpoint(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.db")
	s1 := openStore(t, path)
	first := newLedger(true)
	r1 := startRunner(t, s1, testConfig(), first)
	id := enqueue(t, r1, countParams{Items: 20, Batch: 3, BadItems: []int{5, 14}})
	first.gate <- struct{}{}
	first.gate <- struct{}{}
	waitJob(t, s1, id, "to save two batches", func(j db.Job) bool { return j.Checkpoint == "7" })
	stopRunner(t, r1)
	if j := jobOf(t, s1, id); j.State != db.JobQueued || j.Checkpoint != "7" || j.Done != 5 || j.Failed != 1 || j.LeaseOwner != "" {
		t.Fatalf("after stop: %+v", j)
	}
	s1.Close()

	s2 := openStore(t, path)
	second := newLedger(false)
	startRunner(t, s2, testConfig(), second)
	j := waitState(t, s2, id, db.JobDone)
	wantItems(t, first.items(id), span(1, 6))
	wantItems(t, second.items(id), span(7, 20))
	if j.Done != 18 || j.Failed != 2 || j.Attempts != 2 {
		t.Fatalf("resumed job: %+v", j)
	}
	if errs, _ := s2.ListJobErrors(context.Background(), id, 0); len(errs) != 2 {
		t.Fatalf("item errors after resume: %+v", errs)
	}
}

// heldJob starts a runner and a job of 10 items in batches of 2, and holds
// the job running after its first batch (checkpoint 3).
func heldJob(t *testing.T, cfg Config) (*db.Store, *Runner, *ledger, int64) {
	t.Helper()
	s := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	l := newLedger(true)
	r := startRunner(t, s, cfg, l)
	id := enqueue(t, r, countParams{Items: 10, Batch: 2})
	l.gate <- struct{}{}
	waitDone(t, s, id, 2)
	return s, r, l, id
}

func TestPauseThenResumeContinuesFromTheCheckpoint(t *testing.T) {
	t.Parallel()
	s, r, l, id := heldJob(t, testConfig())
	if err := r.Pause(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	j := waitState(t, s, id, db.JobPaused)
	if j.Checkpoint != "3" || j.Done != 2 || j.LeaseOwner != "" || j.RequestedState != "" {
		t.Fatalf("paused job: %+v", j)
	}
	close(l.gate)
	if err := r.Resume(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	j = waitState(t, s, id, db.JobDone)
	if j.Done != 10 || j.Attempts != 2 {
		t.Fatalf("resumed job: %+v", j)
	}
	wantItems(t, l.items(id), span(1, 10))
}

// A pause asked for by another process (straight in the database) reaches
// the worker through its heartbeat.
func TestHeartbeatBringsAPauseFromElsewhere(t *testing.T) {
	t.Parallel()
	s, _, l, id := heldJob(t, testConfig())
	if err := s.RequestPause(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if j := waitState(t, s, id, db.JobPaused); j.Checkpoint != "3" {
		t.Fatalf("paused job: %+v", j)
	}
	wantItems(t, l.items(id), span(1, 2))
}

func TestCancelStopsARunningJobAndAQueuedOneNeverStarts(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Workers = 1
	s, r, l, running := heldJob(t, cfg)
	queued := enqueue(t, r, countParams{Items: 4, Batch: 2}) // the only worker is busy
	if err := r.Cancel(context.Background(), queued); err != nil {
		t.Fatal(err)
	}
	if j := jobOf(t, s, queued); j.State != db.JobCancelled || j.FinishedAt == 0 {
		t.Fatalf("a queued job is cancelled at once: %+v", j)
	}
	if err := r.Cancel(context.Background(), running); err != nil {
		t.Fatal(err)
	}
	j := waitState(t, s, running, db.JobCancelled)
	if j.Done != 2 || j.FinishedAt == 0 {
		t.Fatalf("cancelled running job: %+v", j)
	}
	close(l.gate)
	if err := r.Resume(context.Background(), running); !errors.Is(err, db.ErrJobState) {
		t.Fatalf("resuming a cancelled job: %v", err)
	}
	probe := enqueue(t, r, countParams{Items: 1, Batch: 1}) // the worker is free and would have run them
	waitState(t, s, probe, db.JobDone)
	wantItems(t, l.items(running), span(1, 2))
	wantItems(t, l.items(queued), nil)
}

func TestHandlerErrorFailsTheJobKeepingWhatItCounted(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	r := startRunner(t, s, testConfig(), newLedger(false))
	id := enqueue(t, r, countParams{Items: 10, Batch: 3, BadItems: []int{2}, FailAt: 5})
	j := waitState(t, s, id, db.JobFailed)
	if !strings.Contains(j.Error, "item 5: the platform refused the whole job") {
		t.Fatalf("error text %q", j.Error)
	}
	// Items 1 and 3 in the first batch, 4 in the unfinished second one.
	if j.Done != 3 || j.Failed != 1 || j.FinishedAt == 0 {
		t.Fatalf("failed job: %+v", j)
	}
	if errs, _ := s.ListJobErrors(context.Background(), id, 0); len(errs) != 1 || errs[0].Item != "item-2" {
		t.Fatalf("item errors: %+v", errs)
	}
}

func TestAPanickingHandlerFailsItsJobOnly(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	r := New(s, testConfig())
	r.Register("test.panic", func(ctx context.Context, t *Task) error { panic("boom") })
	l := newLedger(false)
	r.Register(countKind, l.handle)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopRunner(t, r) })
	bad, err := r.Enqueue(context.Background(), Spec{Kind: "test.panic"})
	if err != nil {
		t.Fatal(err)
	}
	if j := waitState(t, s, bad.ID, db.JobFailed); !strings.Contains(j.Error, "boom") {
		t.Fatalf("panic not recorded: %q", j.Error)
	}
	waitState(t, s, enqueue(t, r, countParams{Items: 3, Batch: 1}), db.JobDone)
	if _, err := r.Enqueue(context.Background(), Spec{Kind: "test.nobody"}); err == nil {
		t.Fatal("a job of an unregistered kind was queued")
	}
}

// abandon makes a job look taken by a worker that then died after its
// first batch (items 1..4, checkpoint 5).
func abandon(t *testing.T, s *db.Store) int64 {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateJob(ctx, db.NewJob{Kind: countKind, Params: `{"Items":10,"Batch":2}`}); err != nil {
		t.Fatal(err)
	}
	j, err := s.ClaimJob(ctx, "ghost", []string{countKind}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveProgress(ctx, j.ID, "ghost", db.JobProgress{Total: 10, Done: 4, Checkpoint: "5"}); err != nil {
		t.Fatal(err)
	}
	return j.ID
}

// skewClock makes s's clock run ahead of real time by what the test
// jumps it (leases are judged by the store's clock).
func skewClock(s *db.Store) *testkit.OffsetClock {
	var clock testkit.OffsetClock
	s.SetClock(clock.Now)
	return &clock
}

func TestAnExpiredLeaseLetsAnotherWorkerTakeTheJob(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	skew := skewClock(s)
	id := abandon(t, s)
	cfg := testConfig()
	cfg.Poll = 10 * time.Millisecond
	l := newLedger(false)
	r := startRunner(t, s, cfg, l)
	// The runner is busy and sweeping, yet leaves a job with a live lease alone.
	waitState(t, s, enqueue(t, r, countParams{Items: 2, Batch: 1}), db.JobDone)
	if j := jobOf(t, s, id); j.State != db.JobRunning || j.LeaseOwner != "ghost" {
		t.Fatalf("a job with a live lease was taken: %+v", j)
	}
	skew.Jump(time.Minute)
	j := waitState(t, s, id, db.JobDone)
	wantItems(t, l.items(id), span(5, 10))
	if j.Done != 10 || j.Attempts != 2 {
		t.Fatalf("taken-over job: %+v", j)
	}
}

func TestStartResumesTheJobsOfACrashedProcess(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	skew := skewClock(s)
	id := abandon(t, s)
	skew.Jump(time.Minute) // the process is restarted after the lease ran out
	l := newLedger(false)
	startRunner(t, s, testConfig(), l) // polls hourly: only Start can have requeued it
	waitState(t, s, id, db.JobDone)
	wantItems(t, l.items(id), span(5, 10))
}

// A runner that holds the data directory's lock (Sole) knows the process
// before it is gone: the job that process left running resumes at once,
// its 30-second lease still running; a runner without that knowledge
// leaves it alone (the test before shows it takes it once the lease ends).
func TestASoleRunnerResumesACrashedProcesssJobsAtOnce(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	id := abandon(t, s)
	l := newLedger(false)
	r := startRunner(t, s, testConfig(), l)
	waitState(t, s, enqueue(t, r, countParams{Items: 2, Batch: 1}), db.JobDone)
	if j := jobOf(t, s, id); j.State != db.JobRunning || j.LeaseOwner != "ghost" {
		t.Fatalf("a runner that is not alone took a job with a live lease: %+v", j)
	}
	stopRunner(t, r)

	// The ghost's lease has 30 s to run; waitState gives up after 10.
	cfg := testConfig() // polls hourly: only Start can have requeued it
	cfg.Sole = true
	startRunner(t, s, cfg, l)
	j := waitState(t, s, id, db.JobDone)
	wantItems(t, l.items(id), span(5, 10))
	if j.Attempts != 2 {
		t.Fatalf("resumed job: %+v", j)
	}
}

func TestTwoWorkersRunTwoJobsAtATime(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	l := newLedger(true)
	r := startRunner(t, s, testConfig(), l)
	var ids []int64
	for range 6 {
		ids = append(ids, enqueue(t, r, countParams{Items: 30, Batch: 4, BadItems: []int{7}}))
	}
	states := func() map[string]int {
		js, err := s.ListJobs(context.Background(), db.JobFilter{})
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, j := range js {
			n[j.State]++
		}
		return n
	}
	testkit.WaitFor(t, "two jobs running", func() bool { return states()[db.JobRunning] == 2 })
	if n := states(); n[db.JobQueued] != 4 {
		t.Fatalf("states with both workers busy: %v", n)
	}
	close(l.gate)
	for _, id := range ids {
		j := waitState(t, s, id, db.JobDone)
		if j.Done != 29 || j.Failed != 1 {
			t.Fatalf("job %d: %+v", id, j)
		}
		wantItems(t, l.items(id), span(1, 30))
	}
}

// Concurrent requests for the same work become one job; a request the
// pending job does not cover gets a job of its own.
func TestEnqueueOrJoinCoalescesConcurrentRequests(t *testing.T) {
	t.Parallel()
	store := openStore(t, filepath.Join(t.TempDir(), "jobs.db"))
	r := New(store, testConfig()) // not started: the jobs stay queued
	r.Register(countKind, newLedger(false).handle)
	sameWork := func(want int) func(countParams) bool {
		return func(p countParams) bool { return p.Items == want }
	}
	ids := make(chan int64, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := EnqueueOrJoin(context.Background(), r, Spec{Kind: countKind, Params: countParams{Items: 5}}, sameWork(5))
			if err != nil {
				t.Error(err)
			}
			ids <- id
		}()
	}
	wg.Wait()
	close(ids)
	first := <-ids
	for id := range ids {
		if id != first {
			t.Fatalf("concurrent requests made jobs %d and %d", first, id)
		}
	}
	other, err := EnqueueOrJoin(context.Background(), r, Spec{Kind: countKind, Params: countParams{Items: 9}}, sameWork(9))
	if err != nil || other == first {
		t.Fatalf("different work joined job %d (%v)", other, err)
	}
	if pending, _ := store.PendingJobs(context.Background(), countKind); len(pending) != 2 {
		t.Fatalf("%d pending jobs, want 2", len(pending))
	}
}

// A handler that must wait (a used-up quota) leaves its job paused with the
// reason and the time, and the runner queues it again by itself after that
// time, resuming from the checkpoint: no item twice, none missed.
func TestAJobThatWaitsResumesByItselfAfterItsTime(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	skew := skewClock(s)
	cfg := testConfig()
	cfg.Poll = 10 * time.Millisecond
	l := newLedger(false)
	l.now = skew.Now
	r := startRunner(t, s, cfg, l)
	id := enqueue(t, r, countParams{Items: 10, Batch: 3, WaitAt: 5})

	j := waitState(t, s, id, db.JobPaused)
	if j.Error != "daily quota used up" || j.ResumeAt < time.Now().Add(50*time.Second).Unix() || j.Done != 4 {
		t.Fatalf("waiting job: %+v", j)
	}
	// Not before its time, although the runner sweeps every 10 ms.
	skew.Jump(30 * time.Second)
	r.resumeDue(context.Background())
	if j := jobOf(t, s, id); j.State != db.JobPaused {
		t.Fatalf("resumed before its time: %+v", j)
	}
	skew.Jump(31 * time.Second)
	j = waitState(t, s, id, db.JobDone)
	wantItems(t, l.items(id), span(1, 10))
	if j.Done != 10 || j.Error != "" || j.ResumeAt != 0 {
		t.Fatalf("resumed job: %+v", j)
	}
}

// A job that fails with an error saying nothing can succeed before a time
// (the platform's quota) is paused until then with that error's message,
// not failed, and resumes where it stopped.
func TestAQuotaErrorPausesTheJobUntilItsTime(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	skew := skewClock(s)
	cfg := testConfig()
	cfg.Poll = 10 * time.Millisecond
	l := newLedger(false)
	l.now = skew.Now
	r := startRunner(t, s, cfg, l)
	id := enqueue(t, r, countParams{Items: 10, Batch: 3, QuotaAt: 5})
	j := waitState(t, s, id, db.JobPaused)
	if m, ok := msg.Decode(j.Error); !ok || m.ID != "jing.error.quota" || j.ResumeAt < time.Now().Add(50*time.Second).Unix() {
		t.Fatalf("job after the quota error: %+v", j)
	}
	skew.Jump(61 * time.Second)
	j = waitState(t, s, id, db.JobDone)
	wantItems(t, l.items(id), span(1, 10))
	if j.Done != 10 || j.Error != "" {
		t.Fatalf("resumed job: %+v", j)
	}
}

// A user's pause of a waiting job keeps it paused past its time.
func TestPausingAWaitingJobCancelsItsResumption(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	skew := skewClock(s)
	l := newLedger(false)
	l.now = skew.Now
	r := startRunner(t, s, testConfig(), l)
	id := enqueue(t, r, countParams{Items: 10, Batch: 3, WaitAt: 5})
	waitState(t, s, id, db.JobPaused)
	if err := r.Pause(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	skew.Jump(2 * time.Minute)
	r.resumeDue(context.Background())
	if j := jobOf(t, s, id); j.State != db.JobPaused || j.ResumeAt != 0 {
		t.Fatalf("a paused job resumed by itself: %+v", j)
	}
}
