// Package jobs runs jingdesk's background jobs (lead sync, imports, bulk
// changes, score fetching, sends) from the jobs table in SQLite.
//
// A worker takes a queued job with a lease and renews it by heartbeat; the
// kind's Handler works through the job in steps, saving counters, item
// errors and a checkpoint together after each step. A job whose worker dies
// is requeued once its lease expires and resumes from its last checkpoint.
//
// When the runner stops, running handlers see their context cancelled and
// their jobs go back to the queue at once (not left to their lease), so the
// next start resumes them immediately from their checkpoint.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/secret"
)

// Handler does the work of one kind of job. ctx is cancelled when a user
// pauses or cancels the job, when the runner stops, or when the worker lost
// its lease; the handler should then return promptly (any error will do:
// the runner knows why it was interrupted). Work done after the last Save
// is done again on resume, so a step should be safe to repeat.
type Handler func(ctx context.Context, t *Task) error

// Config tunes a Runner. Zero values take the defaults.
type Config struct {
	Workers int // jobs run at once; default 2
	// Lease is how long a job stays a worker's without a heartbeat, so also
	// how long a job of a crashed process waits before another takes it.
	Lease time.Duration // default 30 s
	// Heartbeat renews the lease and picks up pauses and cancels asked for
	// from elsewhere; it must be well under Lease.
	Heartbeat time.Duration // default 10 s
	// Poll is the fallback wake-up: for jobs another process queued and
	// for requeuing jobs whose lease expired. Enqueue wakes a worker at once.
	Poll   time.Duration // default 5 s
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 10 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Why a job's context was cancelled.
var (
	errPauseRequested  = errors.New("jobs: pause requested")
	errCancelRequested = errors.New("jobs: cancel requested")
	errStopping        = errors.New("jobs: runner stopping")
	errLeaseLost       = errors.New("jobs: lease lost")
)

// settleTimeout bounds the writes that record how a run ended; they run on
// a context of their own because the job's may already be cancelled.
const settleTimeout = 30 * time.Second

// Runner owns the workers of one process.
type Runner struct {
	store *db.Store
	cfg   Config
	log   *slog.Logger
	id    string // prefix of this process's lease owner names
	wake  chan struct{}
	wg    sync.WaitGroup

	// enqueueMu makes EnqueueOrJoin's look-then-enqueue one step.
	enqueueMu sync.Mutex

	mu       sync.Mutex
	handlers map[string]Handler
	runs     map[int64]context.CancelCauseFunc // jobs running in this process
	stop     context.CancelCauseFunc           // nil until Start
}

// New builds a runner on store; register kinds, then Start it.
func New(store *db.Store, cfg Config) *Runner {
	cfg = cfg.withDefaults()
	return &Runner{
		store:    store,
		cfg:      cfg,
		log:      cfg.Logger.With("component", "jobs"),
		id:       secret.Token(6),
		wake:     make(chan struct{}, cfg.Workers),
		handlers: map[string]Handler{},
		runs:     map[int64]context.CancelCauseFunc{},
	}
}

// Register makes kind runnable. Registering a kind twice is a programming
// error and panics, as http.ServeMux does.
func (r *Runner) Register(kind string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.handlers[kind]; dup {
		panic("jobs: kind registered twice: " + kind)
	}
	r.handlers[kind] = h
}

func (r *Runner) handler(kind string) Handler {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handlers[kind]
}

func (r *Runner) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ks := make([]string, 0, len(r.handlers))
	for k := range r.handlers {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Start requeues jobs whose lease expired (a previous process died with
// them) and starts the workers. ctx bounds only that first step: the
// workers live until Stop, so a shutdown signal does not stop them before
// the HTTP server has finished its requests.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil {
		return errors.New("jobs: runner already started")
	}
	if _, err := r.requeueOrphans(ctx); err != nil {
		return err
	}
	base, stop := context.WithCancelCause(context.Background())
	r.stop = stop
	for i := range r.cfg.Workers {
		r.wg.Go(func() { r.work(base, fmt.Sprintf("%s/%d", r.id, i+1)) })
	}
	r.wg.Go(func() { r.sweep(base) })
	return nil
}

// Stop interrupts running handlers, waits for them to return, and puts
// their jobs back in the queue to resume from their checkpoint. If ctx ends
// first, Stop gives up waiting; the jobs of handlers still running are then
// requeued when their lease expires.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	stop := r.stop
	r.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop(errStopping)
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobs: stop: handlers still running: %w", ctx.Err())
	}
}

// notify wakes up to n idle workers without blocking.
func (r *Runner) notify(n int) {
	for range min(n, cap(r.wake)) {
		select {
		case r.wake <- struct{}{}:
		default:
			return
		}
	}
}

// work is one worker: it runs jobs while there are any, then waits for a
// wake-up or the poll interval.
func (r *Runner) work(ctx context.Context, worker string) {
	poll := time.NewTicker(r.cfg.Poll)
	defer poll.Stop()
	for {
		for r.runNext(ctx, worker) {
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-poll.C:
		}
	}
}

// sweep requeues jobs whose worker vanished, so they do not wait for a restart.
func (r *Runner) sweep(ctx context.Context) {
	tick := time.NewTicker(r.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := r.requeueOrphans(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("requeue abandoned jobs", "error", err)
			}
			r.resumeDue(ctx)
		}
	}
}

// resumeDue queues the jobs that waited for a time now passed.
func (r *Runner) resumeDue(ctx context.Context) {
	n, err := r.store.ResumeDueJobs(ctx)
	if err != nil && ctx.Err() == nil {
		r.log.Error("resume waiting jobs", "error", err)
	}
	if n > 0 {
		r.log.Info("resumed jobs whose wait is over", "jobs", n)
		r.notify(int(n))
	}
}

func (r *Runner) requeueOrphans(ctx context.Context) (int64, error) {
	n, err := r.store.RequeueOrphans(ctx)
	if n > 0 {
		r.log.Info("requeued jobs whose worker stopped answering", "jobs", n)
		r.notify(int(n))
	}
	return n, err
}

// runNext claims and runs one job, reporting whether there was one.
func (r *Runner) runNext(ctx context.Context, worker string) bool {
	if ctx.Err() != nil {
		return false
	}
	job, err := r.store.ClaimJob(ctx, worker, r.kinds(), r.cfg.Lease)
	if errors.Is(err, db.ErrNotFound) {
		return false
	}
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("claim a job", "worker", worker, "error", err)
		}
		return false
	}
	r.run(ctx, worker, job)
	return true
}

// run works one claimed job to the end of this run and records the outcome.
func (r *Runner) run(base context.Context, worker string, job db.Job) {
	ctx, cancel := context.WithCancelCause(base)
	defer cancel(nil)
	t := newTask(ctx, cancel, r.store, worker, job)
	r.track(job.ID, cancel)
	defer r.untrack(job.ID)

	stopBeat := make(chan struct{})
	beating := make(chan struct{})
	go func() { defer close(beating); r.heartbeat(t, stopBeat) }()
	log := r.log.With("job", job.ID, "kind", job.Kind, "worker", worker)
	log.Info("job started", "attempt", job.Attempts, "checkpoint", job.Checkpoint)
	err := callHandler(ctx, r.handler(job.Kind), t)
	close(stopBeat)
	<-beating
	r.settle(t, err, context.Cause(ctx), log)
}

// callHandler turns a handler panic into a failed job instead of a crash.
func callHandler(ctx context.Context, h Handler, t *Task) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, t)
}

// settle records how a run ended. An interrupted handler's error says
// nothing new (it is usually just "context canceled"), so the cause decides.
func (r *Runner) settle(t *Task, err, cause error, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	var serr error
	wait := waitRequested(err)
	switch {
	case errors.Is(cause, errLeaseLost):
		log.Warn("job lease lost: another worker resumes it from its checkpoint", "error", err)
		return
	case err == nil:
		serr = t.finish(ctx, db.JobDone, "")
		log.Info("job done")
	case cause == nil && wait != nil:
		serr = t.wait(ctx, wait)
		log.Info("job waits", "until", wait.Until, "reason", wait.Reason)
	case cause != nil:
		serr = r.store.ReleaseJob(ctx, t.job.ID, t.worker)
		log.Info("job interrupted", "reason", cause)
	default:
		serr = t.finish(ctx, db.JobFailed, msg.ErrorText(err)) // a platform error in the reader's language
		log.Warn("job failed", "error", err)
	}
	if serr != nil {
		log.Error("record the end of a job run", "error", serr)
	}
}

// heartbeat renews t's lease until stop closes, passing on pause and
// cancel requests (and a lost lease) by cancelling t's context.
func (r *Runner) heartbeat(t *Task, stop <-chan struct{}) {
	tick := time.NewTicker(r.cfg.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Heartbeat)
			requested, err := r.store.Heartbeat(ctx, t.job.ID, t.worker, r.cfg.Lease)
			cancel()
			if err != nil && !errors.Is(err, db.ErrLeaseLost) {
				// Transient (a busy database): the lease outlasts a few missed beats.
				r.log.Warn("job heartbeat", "job", t.job.ID, "error", err)
			}
			t.interruptFor(requested, err)
		}
	}
}

func (r *Runner) track(id int64, cancel context.CancelCauseFunc) {
	r.mu.Lock()
	r.runs[id] = cancel
	r.mu.Unlock()
}

func (r *Runner) untrack(id int64) {
	r.mu.Lock()
	delete(r.runs, id)
	r.mu.Unlock()
}

// interrupt cancels job id's handler if it runs in this process; a worker
// elsewhere hears of the request at its next heartbeat or save.
func (r *Runner) interrupt(id int64, cause error) {
	r.mu.Lock()
	cancel := r.runs[id]
	r.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

// WaitError is what a handler returns when its job cannot go on before a
// known time, e.g. the platform's daily quota is used up until midnight:
// the job is paused, shows Reason, and is queued again by itself once
// Until has passed (within the runner's Poll interval).
type WaitError struct {
	Until  time.Time
	Reason string // shown on the job: stored text, an encoded msg.Message or English
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("waiting until %s: %s", e.Until.Format(time.RFC3339), e.Reason)
}

// Pauser is an error after which nothing can succeed before a known time
// (the platform's quota is used up until its day resets): a job that ends
// with one is paused until then, not failed. The platform client's errors
// are Pausers.
type Pauser interface {
	PauseUntil() (time.Time, bool)
}

// waitRequested is the wait err asks for: a *WaitError, or a Pauser's time with
// its message as the reason; nil for any other error.
func waitRequested(err error) *WaitError {
	var w *WaitError
	if errors.As(err, &w) {
		return w
	}
	var p Pauser
	if errors.As(err, &p) {
		if until, ok := p.PauseUntil(); ok {
			return &WaitError{Until: until, Reason: msg.ErrorText(err)}
		}
	}
	return nil
}

// WaitUntil is the error a handler returns to pause its job until t.
func WaitUntil(t time.Time, reason string) error { return &WaitError{Until: t, Reason: reason} }

// Spec describes a job to queue.
type Spec struct {
	Kind    string
	Title   string // what the Jobs page calls it, e.g. the crowd or file name
	OwnerID int64  // who started it; 0 for the system
	Params  any    // stored as JSON; the handler reads it with Task.Params
	Total   int64  // number of items when known up front
}

// Enqueue queues a job and wakes a worker, so it starts at once if one is free.
func (r *Runner) Enqueue(ctx context.Context, s Spec) (db.Job, error) {
	if r.handler(s.Kind) == nil {
		return db.Job{}, fmt.Errorf("jobs: no handler for kind %q", s.Kind)
	}
	params, err := json.Marshal(s.Params)
	if err != nil {
		return db.Job{}, fmt.Errorf("jobs: %s params: %w", s.Kind, err)
	}
	job, err := r.store.CreateJob(ctx, db.NewJob{Kind: s.Kind, Title: s.Title, OwnerID: s.OwnerID, Params: string(params), Total: s.Total})
	if err != nil {
		return db.Job{}, err
	}
	r.notify(1)
	return job, nil
}

// EnqueueOrJoin queues s unless a queued or running job of its kind
// already does the work: joins is asked about each pending job's params
// (decoded as P, the type of s.Params), and the first it accepts is
// returned instead. Looking and queueing are one step, so concurrent
// requests for the same work coalesce into one job.
func EnqueueOrJoin[P any](ctx context.Context, r *Runner, s Spec, joins func(P) bool) (int64, error) {
	r.enqueueMu.Lock()
	defer r.enqueueMu.Unlock()
	pending, err := r.store.PendingJobs(ctx, s.Kind)
	if err != nil {
		return 0, err
	}
	for _, j := range pending {
		var p P
		if json.Unmarshal([]byte(j.Params), &p) == nil && joins(p) {
			return j.ID, nil
		}
	}
	job, err := r.Enqueue(ctx, s)
	return job.ID, err
}

// Pause pauses a queued job at once; a running one stops after its current
// step and keeps its checkpoint. A finished job yields db.ErrJobState.
func (r *Runner) Pause(ctx context.Context, id int64) error {
	if err := r.store.RequestPause(ctx, id); err != nil {
		return err
	}
	r.interrupt(id, errPauseRequested)
	return nil
}

// Cancel cancels a queued or paused job at once; a running one stops after
// its current step. A done or failed job yields db.ErrJobState.
func (r *Runner) Cancel(ctx context.Context, id int64) error {
	if err := r.store.RequestCancel(ctx, id); err != nil {
		return err
	}
	r.interrupt(id, errCancelRequested)
	return nil
}

// Resume queues a paused job again; it continues from its checkpoint.
func (r *Runner) Resume(ctx context.Context, id int64) error {
	if err := r.store.ResumeJob(ctx, id); err != nil {
		return err
	}
	r.notify(1)
	return nil
}
