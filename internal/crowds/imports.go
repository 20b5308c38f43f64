package crowds

import (
	"context"
	"errors"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

// MayChange reports whether actor may change im (read its file another
// way, validate, start or discard it): its owner or an administrator, and
// only one who acts at all. It is the rule internal/jobs applies to the
// import's jobs, so the page that offers a step and the job it starts
// agree on who may act.
func MayChange(actor jobs.Actor, im db.Import) bool {
	return actor.MayActOn(db.Job{OwnerID: im.UserID})
}

// ErrNotStarted: an import that has no job yet has nothing to pause,
// resume or cancel (its page offers no such button).
var ErrNotStarted = msg.Refuse(msg.Conflict, "imports.error.not_started")

// HistoryEntry is one import of the history: once started, its rows by
// state and its job (zero while it has none, or once it was deleted).
type HistoryEntry struct {
	Import db.Import
	States map[string]int64
	Job    db.Job
}

// History is the last limit imports, newest first.
func (s *Service) History(ctx context.Context, limit int) ([]HistoryEntry, error) {
	list, err := s.cfg.Store.ListImports(ctx, db.ImportFilter{Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]HistoryEntry, 0, len(list))
	for _, im := range list {
		e := HistoryEntry{Import: im}
		if im.Stage == db.ImportStarted {
			if e.States, err = s.cfg.Store.ImportStateCounts(ctx, im.ID); err != nil {
				return nil, err
			}
			if e.Job, err = s.job(ctx, im.JobID); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// job is job id, or the zero Job when there is none (id 0, or deleted).
func (s *Service) job(ctx context.Context, id int64) (db.Job, error) {
	if id == 0 {
		return db.Job{}, nil
	}
	j, err := s.cfg.Store.Job(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return db.Job{}, nil
	}
	return j, err
}

// Run is a started import as its progress panel shows it: its job (zero
// before it is queued), whether it is finished, its last crowd import
// calls and its progress by phase.
type Run struct {
	Job      db.Job
	Finished bool
	Batches  []db.ImportBatch
	Progress RunProgress
}

// Run reads a started import's progress for viewer, with its last batches
// crowd import calls. A finished import its owner looks at is seen: the
// imports badge stops counting it.
func (s *Service) Run(ctx context.Context, im db.Import, viewer int64, batches int) (Run, error) {
	var r Run
	var err error
	if r.Batches, err = s.cfg.Store.RecentImportBatches(ctx, im.ID, batches); err != nil {
		return r, err
	}
	if im.JobID != 0 {
		if r.Job, err = s.cfg.Store.Job(ctx, im.JobID); err != nil {
			return r, err
		}
		r.Finished = !r.Job.Active()
	}
	if r.Progress, err = s.Progress(ctx, im, r.Job); err != nil {
		return r, err
	}
	if r.Finished && viewer == im.UserID && im.SeenAt == 0 {
		err = s.cfg.Store.MarkImportSeen(ctx, im.ID)
	}
	return r, err
}
