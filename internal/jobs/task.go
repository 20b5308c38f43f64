package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/jingdesk/jingdesk/internal/db"
)

// Task is a handler's view of the job it runs: its parameters, where the
// last run got to, and the way to record progress.
//
// Counters and item errors accumulate in memory and reach the database with
// the next Save, together with its checkpoint, in one transaction: after an
// interruption the job resumes from the last checkpoint with the counters
// and errors of exactly the items before it.
type Task struct {
	store  *db.Store
	worker string
	job    db.Job // as claimed
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	progress db.JobProgress // Errors holds those not saved yet
}

func newTask(ctx context.Context, cancel context.CancelCauseFunc, store *db.Store, worker string, job db.Job) *Task {
	return &Task{
		store: store, worker: worker, job: job, ctx: ctx, cancel: cancel,
		progress: db.JobProgress{Total: job.Total, Done: job.Done, Failed: job.Failed, Checkpoint: job.Checkpoint},
	}
}

// ID is the job's id.
func (t *Task) ID() int64 { return t.job.ID }

// OwnerID is the user who started the job (0 for the system).
func (t *Task) OwnerID() int64 { return t.job.OwnerID }

// Attempt counts runs of this job, this one included.
func (t *Task) Attempt() int { return t.job.Attempts }

// Params decodes the job's parameters into v.
func (t *Task) Params(v any) error {
	if err := json.Unmarshal([]byte(t.job.Params), v); err != nil {
		return fmt.Errorf("jobs: job %d params: %w", t.job.ID, err)
	}
	return nil
}

// Checkpoint is where to carry on: the last saved one ("" on a first run).
func (t *Task) Checkpoint() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.progress.Checkpoint
}

// Counts are a job's progress counters.
type Counts struct{ Total, Done, Failed int64 }

// Counts returns the counters including steps not saved yet.
func (t *Task) Counts() Counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Counts{t.progress.Total, t.progress.Done, t.progress.Failed}
}

// SetTotal sets how many items the job has, once known.
func (t *Task) SetTotal(n int64) {
	t.mu.Lock()
	t.progress.Total = n
	t.mu.Unlock()
}

// Did counts n items done.
func (t *Task) Did(n int64) {
	t.mu.Lock()
	t.progress.Done += n
	t.mu.Unlock()
}

// SetCounts sets the counters outright, for a handler whose items keep
// their own state (an import's rows) and so can count exactly after each
// step, however many runs it took.
func (t *Task) SetCounts(done, failed int64) {
	t.mu.Lock()
	t.progress.Done, t.progress.Failed = done, failed
	t.mu.Unlock()
}

// Fail counts one item as failed and records why, for the job's error list.
func (t *Task) Fail(item, message string) {
	t.mu.Lock()
	t.progress.Failed++
	t.progress.Errors = append(t.progress.Errors, db.JobError{Item: item, Message: message})
	t.mu.Unlock()
}

// Save records the counters, the item errors since the last Save and
// checkpoint, atomically. It works even after the job's context was
// cancelled, so a step finished just before a pause still counts. An error
// (such as a lost lease) means the step was not recorded: return it.
func (t *Task) Save(checkpoint string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.progress
	p.Checkpoint = checkpoint
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), settleTimeout)
	defer cancel()
	requested, err := t.store.SaveProgress(ctx, t.job.ID, t.worker, p)
	t.interruptFor(requested, err)
	if err != nil {
		return fmt.Errorf("jobs: save progress: %w", err)
	}
	t.progress.Checkpoint = checkpoint
	t.progress.Errors = nil
	return nil
}

// finish ends the run in a final state, first saving what the handler
// counted after its last Save (nothing resumes a finished job, so the
// checkpoint no longer matters).
func (t *Task) finish(ctx context.Context, state, errText string) error {
	t.mu.Lock()
	p := t.progress
	t.mu.Unlock()
	if _, err := t.store.SaveProgress(ctx, t.job.ID, t.worker, p); err != nil {
		return err
	}
	return t.store.FinishJob(ctx, t.job.ID, t.worker, state, errText)
}

// wait ends the run paused until w.Until, first saving what the handler
// counted after its last Save (with its checkpoint, which the resumed run
// starts from).
func (t *Task) wait(ctx context.Context, w *WaitError) error {
	t.mu.Lock()
	p := t.progress
	t.mu.Unlock()
	if _, err := t.store.SaveProgress(ctx, t.job.ID, t.worker, p); err != nil {
		return err
	}
	return t.store.WaitJob(ctx, t.job.ID, t.worker, w.Until.Unix(), w.Reason)
}

// interruptFor cancels the handler's context when a heartbeat or save
// brings news of a pause, a cancel, or a lost lease.
func (t *Task) interruptFor(requested string, err error) {
	switch {
	case errors.Is(err, db.ErrLeaseLost):
		t.cancel(errLeaseLost)
	case requested == db.JobPaused:
		t.cancel(errPauseRequested)
	case requested == db.JobCancelled:
		t.cancel(errCancelRequested)
	}
}
