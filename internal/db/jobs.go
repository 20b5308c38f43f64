package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Job states. queued, running and paused are unfinished; the rest are final.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobPaused    = "paused"
	JobDone      = "done"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// ErrLeaseLost means a worker no longer holds the job it is writing to: its
// lease expired and the job was requeued (or taken by another worker).
var ErrLeaseLost = errors.New("job lease lost")

// ErrJobState refuses a pause, resume or cancel the job's state does not allow
// (a finished job cannot be paused, a cancelled one cannot be resumed).
var ErrJobState = errors.New("job state does not allow this")

// Job is one background job: what it does (kind, params), whose it is, where
// it stands (state, counters, checkpoint) and who is working on it (lease).
type Job struct {
	ID             int64
	Kind           string
	Title          string
	OwnerID        int64  // 0 for jobs the system started
	OwnerName      string // display name, else username; "" without an owner
	State          string
	Params         string // JSON
	Checkpoint     string // opaque to the store; the kind's handler defines it
	Total          int64  // 0 while unknown
	Done           int64
	Failed         int64
	Error          string // why a failed job failed
	RequestedState string // "paused" or "cancelled" asked of a running job
	LeaseOwner     string
	LeaseUntil     int64
	Attempts       int
	CreatedAt      int64
	UpdatedAt      int64
	StartedAt      int64 // first run; 0 when never started
	FinishedAt     int64 // 0 while unfinished
	RunStartedAt   int64 // start of the current (or last) run
	RunBase        int64 // Done+Failed when that run began
	// ResumeAt is when a paused job resumes by itself (Unix seconds; 0:
	// only when someone resumes it). Error then says why it waits.
	ResumeAt int64
}

// Active reports whether the job is unfinished.
func (j Job) Active() bool {
	return j.State == JobQueued || j.State == JobRunning || j.State == JobPaused
}

const jobColumns = `j.id, j.kind, j.title, COALESCE(j.owner_id, 0), COALESCE(NULLIF(u.display_name, ''), u.username, ''),
	j.state, j.params, j.checkpoint, j.total, j.done, j.failed, j.error, j.requested_state, j.lease_owner, j.lease_until,
	j.attempts, j.created_at, j.updated_at, COALESCE(j.started_at, 0), COALESCE(j.finished_at, 0), j.run_started_at, j.run_base, j.resume_at
	FROM jobs j LEFT JOIN users u ON u.id = j.owner_id`

func scanJob(row interface{ Scan(...any) error }) (Job, error) {
	var j Job
	err := row.Scan(&j.ID, &j.Kind, &j.Title, &j.OwnerID, &j.OwnerName, &j.State, &j.Params, &j.Checkpoint,
		&j.Total, &j.Done, &j.Failed, &j.Error, &j.RequestedState, &j.LeaseOwner, &j.LeaseUntil,
		&j.Attempts, &j.CreatedAt, &j.UpdatedAt, &j.StartedAt, &j.FinishedAt, &j.RunStartedAt, &j.RunBase, &j.ResumeAt)
	return j, err
}

// NewJob is what queueing a job needs.
type NewJob struct {
	Kind    string
	Title   string
	OwnerID int64  // 0 for none
	Params  string // JSON; "" means {}
	Total   int64  // 0 when not known yet
}

// CreateJob queues a job.
func (s *Store) CreateJob(ctx context.Context, n NewJob) (Job, error) {
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		id, err = s.insertJob(ctx, tx, n)
		return err
	})
	if err != nil {
		return Job{}, err
	}
	return s.Job(ctx, id)
}

// insertJob writes a queued job within tx, so that what a job is about can
// be recorded in the same transaction as the job itself.
func (s *Store) insertJob(ctx context.Context, tx *sql.Tx, n NewJob) (int64, error) {
	if n.Params == "" {
		n.Params = "{}"
	}
	now := s.unixNow()
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO jobs(kind, title, owner_id, state, params, total, created_at, updated_at)
		VALUES(?,?,NULLIF(?,0),'queued',?,?,?,?) RETURNING id`, n.Kind, n.Title, n.OwnerID, n.Params, n.Total, now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("db: create job %s: %w", n.Kind, err)
	}
	return id, nil
}

// Job loads one job.
func (s *Store) Job(ctx context.Context, id int64) (Job, error) {
	j, err := scanJob(s.read.QueryRowContext(ctx, `SELECT `+jobColumns+` WHERE j.id = ?`, id))
	if err != nil {
		return Job{}, notFound(err, fmt.Sprintf("job %d", id))
	}
	return j, nil
}

// PendingJobs are the jobs of kind that will run by themselves, oldest
// first: queued, running, or waiting for a known time (a quota's reset).
// Services that run one job of a kind at a time use it to join the job
// under way instead of queueing another: a sync asked for every five
// minutes while one waits for midnight is that one, not a pile of new
// ones all resuming at the reset. A job a user paused does not count: it
// may stay paused for as long as its owner likes.
func (s *Store) PendingJobs(ctx context.Context, kind string) ([]Job, error) {
	jobs, err := s.queryJobs(ctx, `SELECT `+jobColumns+`
		WHERE j.kind = ? AND (j.state IN ('queued','running') OR j.state = 'paused' AND j.resume_at > 0)
		ORDER BY j.id`, kind)
	if err != nil {
		return nil, fmt.Errorf("db: pending %s jobs: %w", kind, err)
	}
	return jobs, nil
}

// queryJobs runs a query that selects jobColumns.
func (s *Store) queryJobs(ctx context.Context, q string, args ...any) ([]Job, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// Scopes of ListJobs.
const (
	JobsActive   = "active"   // queued, running, paused: running first, then oldest first
	JobsFinished = "finished" // done, failed, cancelled: most recently finished first
)

// JobFilter narrows ListJobs. Zero values mean "any".
type JobFilter struct {
	Scope   string // JobsActive, JobsFinished, or "" for all jobs newest first
	OwnerID int64
	Limit   int // default 50, at most 500
}

// ListJobs returns jobs in the order their scope shows them.
func (s *Store) ListJobs(ctx context.Context, f JobFilter) ([]Job, error) {
	var where []string
	var args []any
	order := `j.id DESC`
	switch f.Scope {
	case JobsActive:
		where = append(where, `j.state IN ('queued','running','paused')`)
		order = `CASE j.state WHEN 'running' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END, j.id`
	case JobsFinished:
		where = append(where, `j.state IN ('done','failed','cancelled')`)
		order = `j.finished_at DESC, j.id DESC`
	}
	if f.OwnerID != 0 {
		where = append(where, `j.owner_id = ?`)
		args = append(args, f.OwnerID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := `SELECT ` + jobColumns
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + order + " LIMIT ?"
	jobs, err := s.queryJobs(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("db: list jobs: %w", err)
	}
	return jobs, nil
}

// leaseUntil rounds up, so a lease always lasts at least d even though
// timestamps are whole seconds.
func (s *Store) leaseUntil(d time.Duration) int64 {
	t := s.now().Add(d)
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// ClaimJob takes the oldest queued job of one of kinds for worker, holding
// it for lease. It is one statement on the single writer connection, so two
// workers can never take the same job. No job to take yields ErrNotFound.
func (s *Store) ClaimJob(ctx context.Context, worker string, kinds []string, lease time.Duration) (Job, error) {
	if len(kinds) == 0 {
		return Job{}, fmt.Errorf("db: claim job: %w", ErrNotFound)
	}
	now := s.unixNow()
	args := []any{worker, s.leaseUntil(lease), now, now, now}
	for _, k := range kinds {
		args = append(args, k)
	}
	var id int64
	err := s.write.QueryRowContext(ctx, `UPDATE jobs SET state = 'running', requested_state = '',
		lease_owner = ?, lease_until = ?, attempts = attempts + 1, started_at = COALESCE(started_at, ?),
		updated_at = ?, run_started_at = ?, run_base = done + failed
		WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND kind IN (`+placeholders(len(kinds))+`) ORDER BY id LIMIT 1)
		RETURNING id`, args...).Scan(&id)
	if err != nil {
		return Job{}, notFound(err, "claim job")
	}
	return s.Job(ctx, id)
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// Heartbeat extends worker's lease on a running job and returns the state a
// user asked for meanwhile ("paused", "cancelled" or ""). A worker that no
// longer holds the job gets ErrLeaseLost and must stop.
func (s *Store) Heartbeat(ctx context.Context, id int64, worker string, lease time.Duration) (string, error) {
	var requested string
	err := s.write.QueryRowContext(ctx, `UPDATE jobs SET lease_until = ?
		WHERE id = ? AND state = 'running' AND lease_owner = ? RETURNING requested_state`,
		s.leaseUntil(lease), id, worker).Scan(&requested)
	return requested, leaseErr(err, id)
}

// leaseErr maps "no row updated" to ErrLeaseLost.
func leaseErr(err error, id int64) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("db: job %d: %w", id, ErrLeaseLost)
	}
	return fmt.Errorf("db: job %d: %w", id, err)
}

// JobError is one item a job could not do.
type JobError struct {
	ID      int64
	JobID   int64
	At      int64
	Item    string // what the item was, e.g. a phone number or a row number
	Message string
}

// JobProgress is a job's position after a step: absolute counters, the
// checkpoint to resume from, and the item errors met since the last step.
type JobProgress struct {
	Total      int64
	Done       int64
	Failed     int64
	Checkpoint string
	Errors     []JobError // only Item and Message are read
}

// SaveProgress records a step in one transaction (counters, checkpoint and
// item errors together), so a resumed job never counts or reports an item
// twice. Only the lease holder may save; it learns of a pending pause or
// cancel in the answer, as from Heartbeat.
func (s *Store) SaveProgress(ctx context.Context, id int64, worker string, p JobProgress) (string, error) {
	var requested string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.unixNow()
		err := tx.QueryRowContext(ctx, `UPDATE jobs SET total = ?, done = ?, failed = ?, checkpoint = ?, updated_at = ?
			WHERE id = ? AND state = 'running' AND lease_owner = ? RETURNING requested_state`,
			p.Total, p.Done, p.Failed, p.Checkpoint, now, id, worker).Scan(&requested)
		if err != nil {
			return err
		}
		for _, e := range p.Errors {
			if _, err := tx.ExecContext(ctx, `INSERT INTO job_errors(job_id, at, item, message) VALUES(?,?,?,?)`,
				id, now, e.Item, e.Message); err != nil {
				return err
			}
		}
		return nil
	})
	return requested, leaseErr(err, id)
}

// ListJobErrors returns up to limit item errors of a job, oldest first.
func (s *Store) ListJobErrors(ctx context.Context, jobID int64, limit int) ([]JobError, error) {
	if limit <= 0 {
		limit = 200
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, job_id, at, item, message FROM job_errors
		WHERE job_id = ? ORDER BY id LIMIT ?`, jobID, limit)
	if err != nil {
		return nil, fmt.Errorf("db: job %d: errors: %w", jobID, err)
	}
	defer rows.Close()
	var out []JobError
	for rows.Next() {
		var e JobError
		if err := rows.Scan(&e.ID, &e.JobID, &e.At, &e.Item, &e.Message); err != nil {
			return nil, fmt.Errorf("db: job %d: errors: %w", jobID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// FinishJob ends worker's run in a final state (done, failed or cancelled);
// errText says why a job failed.
func (s *Store) FinishJob(ctx context.Context, id int64, worker, state, errText string) error {
	if state != JobDone && state != JobFailed && state != JobCancelled {
		return fmt.Errorf("db: job %d: %q is not a final state", id, state)
	}
	now := s.unixNow()
	res, err := s.write.ExecContext(ctx, `UPDATE jobs SET state = ?, error = ?, finished_at = ?, updated_at = ?,
		requested_state = '', lease_owner = '', lease_until = 0
		WHERE id = ? AND state = 'running' AND lease_owner = ?`, state, errText, now, now, id, worker)
	return affectedOrLeaseLost(res, err, id)
}

// releaseSet ends a run that did not finish: the job goes to the state a
// user asked for meanwhile, or back to the queue, keeping its checkpoint.
// (SQLite evaluates every SET expression on the old row.)
const releaseSet = `state = CASE requested_state WHEN 'paused' THEN 'paused' WHEN 'cancelled' THEN 'cancelled' ELSE 'queued' END,
	finished_at = CASE requested_state WHEN 'cancelled' THEN :now END,
	requested_state = '', lease_owner = '', lease_until = 0, updated_at = :now`

// ReleaseJob ends worker's interrupted run: paused or cancelled if a user
// asked, otherwise queued again to resume from its checkpoint.
func (s *Store) ReleaseJob(ctx context.Context, id int64, worker string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE jobs SET `+releaseSet+`
		WHERE id = :id AND state = 'running' AND lease_owner = :worker`,
		sql.Named("now", s.unixNow()), sql.Named("id", id), sql.Named("worker", worker))
	return affectedOrLeaseLost(res, err, id)
}

func affectedOrLeaseLost(res sql.Result, err error, id int64) error {
	if err != nil {
		return fmt.Errorf("db: job %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("db: job %d: %w", id, ErrLeaseLost)
	}
	return nil
}

// RequeueOrphans releases running jobs whose lease has expired (their
// worker died or hung) as ReleaseJob would, and says how many there were.
// With everyLease set it releases every running job whatever its lease:
// for a process that knows no other runs jobs on this database (its data
// directory is locked), so that the jobs of one that died are its own
// to resume at once.
func (s *Store) RequeueOrphans(ctx context.Context, everyLease bool) (int64, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE jobs SET `+releaseSet+`
		WHERE state = 'running' AND (lease_until < :now OR :every)`, sql.Named("now", s.unixNow()), sql.Named("every", everyLease))
	if err != nil {
		return 0, fmt.Errorf("db: requeue orphan jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// RequestPause pauses a queued job at once and asks a running one to pause
// after its current step. Pausing a paused job does nothing.
func (s *Store) RequestPause(ctx context.Context, id int64) error {
	return s.changeJob(ctx, id, "pause", func(state, requested string) (string, error) {
		switch {
		case state == JobQueued:
			return `state = 'paused', resume_at = 0`, nil
		case state == JobPaused:
			return `resume_at = 0`, nil // a user's pause outlasts a wait for the quota
		case state == JobRunning && requested == "":
			return `requested_state = 'paused'`, nil
		case state == JobRunning && requested == JobPaused:
			return "", nil
		}
		return "", ErrJobState
	})
}

// RequestCancel cancels a queued or paused job at once and asks a running
// one to stop after its current step. Cancelling a cancelled job does nothing.
func (s *Store) RequestCancel(ctx context.Context, id int64) error {
	return s.changeJob(ctx, id, "cancel", func(state, requested string) (string, error) {
		switch {
		case state == JobQueued || state == JobPaused:
			return `state = 'cancelled', finished_at = :now`, nil
		case state == JobRunning:
			return `requested_state = 'cancelled'`, nil
		case state == JobCancelled:
			return "", nil
		}
		return "", ErrJobState
	})
}

// ResumeJob queues a paused job again (it continues from its checkpoint),
// or withdraws a pause a running job has not honoured yet.
func (s *Store) ResumeJob(ctx context.Context, id int64) error {
	return s.changeJob(ctx, id, "resume", func(state, requested string) (string, error) {
		switch {
		case state == JobPaused:
			return `state = 'queued', resume_at = 0, error = ''`, nil
		case state == JobRunning && requested == JobPaused:
			return `requested_state = ''`, nil
		case state == JobQueued || state == JobRunning && requested == "":
			return "", nil
		}
		return "", ErrJobState
	})
}

// changeJob applies a user's request in one transaction: decide looks at the
// current state and returns the SET clause (which may use :now), "" for
// nothing to do, or ErrJobState.
func (s *Store) changeJob(ctx context.Context, id int64, what string, decide func(state, requested string) (string, error)) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var state, requested string
		err := tx.QueryRowContext(ctx, `SELECT state, requested_state FROM jobs WHERE id = ?`, id).Scan(&state, &requested)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		set, err := decide(state, requested)
		if err != nil || set == "" {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET `+set+`, updated_at = :now WHERE id = :id`,
			sql.Named("now", s.unixNow()), sql.Named("id", id))
		return err
	})
	if err != nil {
		return fmt.Errorf("db: job %d: %s: %w", id, what, err)
	}
	return nil
}

// WaitJob ends worker's run of a job that cannot go on before until: it is
// paused, says why (reason, shown where a failed job shows its error), and
// is queued again by ResumeDueJobs once until has passed. A pause or cancel
// a user asked for meanwhile wins, as in ReleaseJob.
func (s *Store) WaitJob(ctx context.Context, id int64, worker string, until int64, reason string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE jobs SET
		resume_at = CASE requested_state WHEN '' THEN :until ELSE 0 END,
		error = CASE requested_state WHEN '' THEN :reason ELSE '' END,
		state = CASE requested_state WHEN 'cancelled' THEN 'cancelled' ELSE 'paused' END,
		finished_at = CASE requested_state WHEN 'cancelled' THEN :now END,
		requested_state = '', lease_owner = '', lease_until = 0, updated_at = :now
		WHERE id = :id AND state = 'running' AND lease_owner = :worker`,
		sql.Named("until", until), sql.Named("reason", reason), sql.Named("now", s.unixNow()),
		sql.Named("id", id), sql.Named("worker", worker))
	return affectedOrLeaseLost(res, err, id)
}

// ResumeDueJobs queues the waiting jobs whose time has come and says how many.
func (s *Store) ResumeDueJobs(ctx context.Context) (int64, error) {
	now := s.unixNow()
	res, err := s.write.ExecContext(ctx, `UPDATE jobs SET state = 'queued', resume_at = 0, error = '', updated_at = ?
		WHERE state = 'paused' AND resume_at > 0 AND resume_at <= ?`, now, now)
	if err != nil {
		return 0, fmt.Errorf("db: resume waiting jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
