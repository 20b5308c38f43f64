package refdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

// jobParams say what a refresh job refreshes.
type jobParams struct {
	// Connection is the platform the refresh is for; once another is live
	// the job stops, since the switch asked for a refresh of its own.
	Connection string `json:"connection"`
	Key        string `json:"key,omitempty"` // one set; "" for all
	// FreshSince skips sets fetched successfully at or after this Unix
	// second: the background refresh fetches only what the TTL says is old.
	FreshSince int64 `json:"fresh_since,omitempty"`
}

// checkpoint is where a refresh got to: a restart resumes after the sets
// already done (discovery then reads them from SQLite, as refreshed).
type checkpoint struct {
	Done    []string `json:"done,omitempty"`    // sets attempted, fetched or failed
	Absent  []string `json:"absent,omitempty"`  // candidate sets the platform has no list for
	Fetched int      `json:"fetched,omitempty"` // sets fetched successfully
	Failed  int      `json:"failed,omitempty"`
	LastErr string   `json:"last_err,omitempty"`
}

// RequestRefresh starts a refresh of one set (key) or of everything (key ""), as a background job of kind "refdata.refresh" owned by userID, and returns the job's id. Requests coalesce: while a refresh is queued or running, every request returns that job's id instead of starting another.
func (s *Service) RequestRefresh(ctx context.Context, userID int64, key string) (int64, error) {
	return s.request(ctx, userID, jobParams{Key: key})
}

// request queues a refresh for the live connection unless one is pending.
func (s *Service) request(ctx context.Context, userID int64, p jobParams) (int64, error) {
	p.Connection = s.connection()
	if id, ok, err := s.pending(ctx, p.Connection); err != nil || ok {
		return id, err
	}
	if p.Key != "" && !isFixed(p.Key) {
		if _, err := s.store.RefSet(ctx, p.Connection, p.Key); errors.Is(err, db.ErrNotFound) {
			return 0, fmt.Errorf("refdata: refresh %q: %w", p.Key, ErrUnknownSet)
		} else if err != nil {
			return 0, err
		}
	}
	title := jobs.Title("jobs.title.reference")
	if p.Key != "" {
		title = jobs.Title("jobs.title.reference_set", msg.Str("Set", p.Key))
	}
	// Any pending refresh of this connection does the work.
	return jobs.EnqueueOrJoin(ctx, s.cfg.Runner,
		jobs.Spec{Kind: JobKind, Title: title, OwnerID: userID, Params: p},
		func(q jobParams) bool { return q.Connection == p.Connection })
}

// ActiveRefresh is the queued or running refresh job, if any.
func (s *Service) ActiveRefresh(ctx context.Context) (jobID int64, ok bool, err error) {
	return s.pending(ctx, s.connection())
}

// pending is the queued or running refresh of connection. A refresh still
// finishing for a previous connection does not count: it stops on its own.
func (s *Service) pending(ctx context.Context, connection string) (int64, bool, error) {
	pend, err := s.store.PendingJobs(ctx, JobKind)
	if err != nil {
		return 0, false, err
	}
	for _, j := range pend {
		var p jobParams
		if json.Unmarshal([]byte(j.Params), &p) == nil && p.Connection == connection {
			return j.ID, true, nil
		}
	}
	return 0, false, nil
}

// refresh is one run of a refresh job.
type refresh struct {
	s      *Service
	t      *jobs.Task
	p      jobParams
	client *jing.Client
	cp     checkpoint
	// wide counts the run's failures that no endpoint would escape.
	wide int
	// unreachable, once set, is the platform-wide failure every further
	// set is recorded with, without calling the platform again.
	unreachable error
	// planned are the sets this run found on the platform, in fetch order.
	planned []string
}

// errSuperseded stops a run whose connection is no longer the live one.
var errSuperseded = errors.New("refdata: the platform connection changed")

// runRefresh is the job handler. One set failing does not stop the others;
// the job fails only when no set could be fetched, and then every set
// keeps its previous copy.
func (s *Service) runRefresh(ctx context.Context, t *jobs.Task) error {
	run := &refresh{s: s, t: t}
	if err := t.Params(&run.p); err != nil {
		return err
	}
	client, conn := s.cfg.Platform.Current()
	if conn != run.p.Connection {
		s.log.Info("refresh superseded: the platform connection changed before it ran", "job", t.ID())
		return nil
	}
	run.client = client
	if cp := t.Checkpoint(); cp != "" {
		if err := json.Unmarshal([]byte(cp), &run.cp); err != nil {
			return fmt.Errorf("refdata: job %d checkpoint: %w", t.ID(), err)
		}
	}
	defer s.rebuildAfter(run)
	err := run.all(ctx)
	if errors.Is(err, errSuperseded) {
		return nil
	}
	if err != nil {
		return err
	}
	if run.cp.Fetched == 0 && run.cp.Failed > 0 {
		return fmt.Errorf("no reference set could be fetched; every set keeps its previous copy: %s", run.cp.LastErr)
	}
	return nil
}

// rebuildAfter swaps in a resolver with what the run stored, even when it
// was interrupted: the sets it did refresh are in SQLite already.
func (s *Service) rebuildAfter(run *refresh) {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := s.rebuild(ctx); err != nil {
		s.log.Error("rebuild the reference data index", "job", run.t.ID(), "error", err)
	}
}

// all runs the refresh: one set, or everything, phase by phase: each
// phase discovers its sets from those of the phases before it, as
// refreshed (or, where that failed, as cached).
func (run *refresh) all(ctx context.Context) error {
	if run.p.Key != "" {
		sp, err := run.specOf(ctx, run.p.Key)
		if err != nil {
			return err
		}
		return run.sets(ctx, []spec{sp})
	}
	fixed := func(context.Context) ([]spec, error) { return fixedSpecs(), nil }
	for _, discover := range []func(context.Context) ([]spec, error){fixed, run.typeSpecs, run.fieldSpecs} {
		specs, err := discover(ctx)
		if err != nil {
			return err
		}
		if err := run.sets(ctx, specs); err != nil {
			return err
		}
	}
	return run.dropVanished(ctx)
}

func (run *refresh) typeSpecs(ctx context.Context) ([]spec, error) {
	var out []spec
	for _, o := range objects {
		bts, err := run.items(ctx, businessTypesKey(o))
		if err != nil {
			return nil, err
		}
		out = append(out, typeSpecs(o, bts)...)
	}
	return out, nil
}

func (run *refresh) fieldSpecs(ctx context.Context) ([]spec, error) {
	var out []spec
	for _, o := range objects {
		bts, err := run.items(ctx, businessTypesKey(o))
		if err != nil {
			return nil, err
		}
		var fieldSets [][]db.RefItem
		for _, bt := range bts {
			fs, err := run.items(ctx, fieldsKey(o, bt.ID))
			if err != nil {
				return nil, err
			}
			fieldSets = append(fieldSets, fs)
		}
		out = append(out, fieldSpecs(o, fieldSets)...)
	}
	return out, nil
}

// items reads a set as stored: this run's copy if it got one, else the
// previous one, else none.
func (run *refresh) items(ctx context.Context, key string) ([]db.RefItem, error) {
	items, err := run.s.store.RefItems(ctx, run.p.Connection, key)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	return items, err
}

// specOf rebuilds the spec of a stored set, for a refresh of that set alone.
func (run *refresh) specOf(ctx context.Context, key string) (spec, error) {
	for _, sp := range fixedSpecs() {
		if sp.Key == key {
			return sp, nil
		}
	}
	row, err := run.s.store.RefSet(ctx, run.p.Connection, key)
	if errors.Is(err, db.ErrNotFound) {
		return spec{}, fmt.Errorf("refdata: refresh %q: %w", key, ErrUnknownSet)
	}
	if err != nil {
		return spec{}, err
	}
	sp := spec{Key: row.Key, Kind: row.Kind, Object: row.Object, Scope: row.Scope}
	if sp.Kind == KindOptions {
		f, _ := run.s.Resolver().FieldMeta(row.Object, "", row.Scope)
		sp.Preset = f.Preset
	}
	return sp, nil
}

// sets refreshes specs in order, skipping those done before a restart,
// saving the checkpoint after each.
func (run *refresh) sets(ctx context.Context, specs []spec) error {
	for _, sp := range specs {
		run.planned = append(run.planned, sp.Key)
	}
	run.t.SetTotal(int64(len(run.planned) - len(run.cp.Absent)))
	for _, sp := range specs {
		if slices.Contains(run.cp.Done, sp.Key) {
			continue
		}
		if err := run.check(ctx); err != nil {
			return err
		}
		if err := run.one(ctx, sp); err != nil {
			return err
		}
		if err := run.save(sp.Key); err != nil {
			return err
		}
	}
	return nil
}

// check stops the run when it was interrupted or its connection retired.
func (run *refresh) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if run.s.connection() != run.p.Connection {
		return errSuperseded
	}
	return nil
}

func (run *refresh) save(key string) error {
	run.cp.Done = append(run.cp.Done, key)
	b, err := json.Marshal(run.cp)
	if err != nil {
		return err
	}
	return run.t.Save(string(b))
}

// one refreshes one set: fetched and swapped in, or its failure recorded
// beside the copy it keeps.
func (run *refresh) one(ctx context.Context, sp spec) error {
	fresh, err := run.fresh(ctx, sp)
	if err != nil {
		return err
	}
	if fresh {
		run.t.Did(1)
		return nil
	}
	items, err := run.fetch(ctx, sp)
	switch {
	case err == nil:
		return run.replace(ctx, sp, items)
	case ctx.Err() != nil:
		return ctx.Err() // interrupted: the set is fetched again on resume
	case sp.Kind == KindOptions && jing.IsKind(err, jing.KindInvalid):
		// The platform says the field has no option list (it derives the
		// values itself, as for life_status and lead_pool): not a set.
		run.cp.Absent = append(run.cp.Absent, sp.Key)
		run.t.SetTotal(int64(len(run.planned) - len(run.cp.Absent)))
		return nil
	}
	return run.fail(ctx, sp, err)
}

// fresh reports a set the run may skip: fetched since FreshSince.
func (run *refresh) fresh(ctx context.Context, sp spec) (bool, error) {
	if run.p.FreshSince == 0 {
		return false, nil
	}
	row, err := run.s.store.RefSet(ctx, run.p.Connection, sp.Key)
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	return err == nil && row.LastError == "" && row.FetchedAt >= run.p.FreshSince, err
}

// fetch calls the platform, unless it already proved unreachable.
func (run *refresh) fetch(ctx context.Context, sp spec) ([]db.RefItem, error) {
	if run.unreachable != nil {
		return nil, run.unreachable
	}
	items, err := fetch(ctx, run.client, sp)
	if err != nil && platformWide(err) {
		run.wide++
		if run.cp.Fetched == 0 && run.wide >= len(fixedSpecs()) {
			// The first sets all failed alike: calling on would only wait
			// out every set's retries before failing the same way.
			run.unreachable = err
		}
	}
	return items, err
}

// platformWide reports a failure no other endpoint would escape: the
// platform unreachable or unavailable, or the credentials refused.
func platformWide(err error) bool {
	e, ok := jing.AsError(err)
	return ok && (e.Kind == jing.KindTransient || e.Kind == jing.KindAuth)
}

func (run *refresh) replace(ctx context.Context, sp spec, items []db.RefItem) error {
	change, err := run.s.store.ReplaceRefSet(ctx, sp.row(run.p.Connection), items)
	if err != nil {
		return err
	}
	if !change.Empty() {
		run.s.log.Info("reference set changed", "set", sp.Key,
			"added", len(change.Added), "renamed", len(change.Renamed), "removed", len(change.Removed))
	}
	run.cp.Fetched++
	run.t.Did(1)
	return nil
}

func (run *refresh) fail(ctx context.Context, sp spec, err error) error {
	row := sp.row(run.p.Connection)
	row.LastError, row.LastErrorDetail = err.Error(), encodeError(err)
	if rerr := run.s.store.RecordRefFailure(ctx, row); rerr != nil {
		return rerr
	}
	run.s.log.Warn("reference set not refreshed; its previous copy stays", "set", sp.Key, "error", err)
	run.cp.Failed++
	run.cp.LastErr = err.Error()
	run.t.Fail(sp.Key, msg.ErrorText(err))
	return nil
}

// dropVanished deletes the sets the platform no longer has (a removed
// business type's statuses and fields, a removed field's options). Sets
// are discovered from refreshed or cached copies, so a failed fetch never
// makes its dependants look vanished.
func (run *refresh) dropVanished(ctx context.Context) error {
	rows, err := run.s.store.RefSets(ctx, run.p.Connection)
	if err != nil {
		return err
	}
	var gone []string
	for _, r := range rows {
		if !slices.Contains(run.planned, r.Key) || slices.Contains(run.cp.Absent, r.Key) {
			gone = append(gone, r.Key)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	run.s.log.Info("reference sets gone from the platform", "sets", gone)
	return run.s.store.DeleteRefSets(ctx, run.p.Connection, gone)
}
