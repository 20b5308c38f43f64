package crowds

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/importfile"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// An import runs in three phases as a user sees them: looking the persons
// up, creating those the platform does not know (when asked), and adding
// them to the crowd (checking the members it already has first). Each has
// its counts from the rows' states, and a rate and time left from when
// its current run began.

// Phases of an import as shown.
const (
	PhaseLookup = "lookup"
	PhaseCreate = "create"
	PhaseCrowd  = "crowd"
)

// shownPhase maps the job's checkpoints to the phases shown.
var shownPhase = map[string]string{phaseResolve: PhaseLookup, phaseCreate: PhaseCreate, phaseMembers: PhaseCrowd, phaseImport: PhaseCrowd}

// phaseStamp is when a phase began and ended, and where its current run
// began (time and rows done then), for its rate.
type phaseStamp struct {
	Started    int64 `json:"started,omitempty"`
	Finished   int64 `json:"finished,omitempty"`
	RunStarted int64 `json:"run_started,omitempty"`
	RunBase    int64 `json:"run_base,omitempty"`
}

type phases map[string]*phaseStamp

func readPhases(s string) phases {
	p := phases{}
	if s != "" {
		json.Unmarshal([]byte(s), &p) // a damaged record only loses the rates
	}
	return p
}

func (p phases) stamp(name string) *phaseStamp {
	if p[name] == nil {
		p[name] = &phaseStamp{}
	}
	return p[name]
}

// beginPhase records that a checkpoint's phase runs from now (once per run
// of the shown phase).
func (r *importRun) beginPhase(ctx context.Context, checkpoint string) error {
	name := shownPhase[checkpoint]
	if r.begun[name] {
		return nil // begun in this run already (the crowd phase's second step)
	}
	r.begun[name] = true
	st := r.phases.stamp(name)
	now := r.s.cfg.Now().Unix()
	n, err := r.s.cfg.Store.ImportPhaseCounts(ctx, r.im.ID)
	if err != nil {
		return err
	}
	if st.Started == 0 {
		st.Started = now
	}
	st.RunStarted, st.RunBase = now, tallies(n, r.im)[name].Done
	return r.savePhases(ctx)
}

// endPhase records that a checkpoint's phase is over.
func (r *importRun) endPhase(ctx context.Context, checkpoint string) error {
	if checkpoint == phaseMembers {
		return nil // the crowd phase goes on with the import itself
	}
	r.phases.stamp(shownPhase[checkpoint]).Finished = r.s.cfg.Now().Unix()
	return r.savePhases(ctx)
}

func (r *importRun) savePhases(ctx context.Context) error {
	b, _ := json.Marshal(r.phases)
	return r.s.cfg.Store.SetImportPhases(ctx, r.im.ID, string(b))
}

// Tally is how far a phase is: rows done of the rows it has so far (a
// later phase's total grows while the phase before it runs).
type Tally struct{ Done, Total int64 }

// tallies counts each phase's rows from ImportPhaseCounts.
func tallies(n map[string]int64, im db.Import) map[string]Tally {
	all := func(state string) int64 {
		return n[state] + n[state+"+created"] + n[state+"+refused"] + n[state+"+created+refused"]
	}
	created := int64(0)
	for key, v := range n {
		if strings.Contains(key, "+created") {
			created += v
		}
	}
	valid := im.Counts.Valid
	out := map[string]Tally{PhaseLookup: {valid - all(db.RowPending), valid}}
	unknown, notFound := all(db.RowUnknown), all(db.RowNotFound)
	crowdDone := all(db.RowImported) + all(db.RowAlreadyMember) + n[db.RowFailed+"+refused"] + n[db.RowFailed+"+created+refused"]
	if im.IdentityType == importfile.ColUUID {
		crowdDone += notFound // the crowd import says which uuids it does not know
	} else if im.CreateMissing {
		done := created + n[db.RowFailed] // a plain failure is a person the platform would not create
		out[PhaseCreate] = Tally{done, done + unknown}
	} else {
		out[PhaseCreate] = Tally{notFound, notFound + unknown} // skipped: reported as not found
	}
	out[PhaseCrowd] = Tally{crowdDone, crowdDone + all(db.RowResolved)}
	return out
}

// PhaseProgress is one phase of a started import.
type PhaseProgress struct {
	Name        string // PhaseLookup, PhaseCreate, PhaseCrowd
	State       string // "waiting", "current" (running, or the job waits in it), "done"
	Skip        bool   // create, not asked: unknown persons are reported as not found
	Done, Total int64
	PerMinute   int64
	SecondsLeft int64 // this phase's, while it runs
	Took        int64 // seconds, once done
	OneByOne    bool  // lookup one person per call (the batch endpoint is disabled)
}

// RunProgress is a started import's progress by phase, with the share of
// the whole done (each phase weighs what its calls take at the platform's
// pace) and the time left for all of it.
type RunProgress struct {
	Phases      []PhaseProgress
	Percent     int64
	SecondsLeft int64
	States      map[string]int64 // the rows by state (one count gives both)
}

// Progress is a started import's progress; job is its job (the zero Job
// before it exists).
func (s *Service) Progress(ctx context.Context, im db.Import, job db.Job) (RunProgress, error) {
	n, err := s.cfg.Store.ImportPhaseCounts(ctx, im.ID)
	if err != nil {
		return RunProgress{}, err
	}
	tally := tallies(n, im)
	stamps := readPhases(im.Phases)
	current := phaseIndex(job.Checkpoint)
	if job.State == db.JobDone {
		current = len(phaseOrder)
	}
	now := s.cfg.Now().Unix()
	est := s.estimatePhases(im, tally, im.CreateMissing, im.CrowdNew, 0)
	out := RunProgress{States: map[string]int64{}}
	for key, v := range n {
		state, _, _ := strings.Cut(key, "+")
		out.States[state] += v
	}
	var weightAll, weightDone float64
	for i, name := range phaseOrder {
		t, ok := tally[name]
		if !ok {
			continue
		}
		p := PhaseProgress{Name: name, Done: t.Done, Total: t.Total, Skip: name == PhaseCreate && !im.CreateMissing}
		st := stamps.stamp(name)
		switch {
		case i < current:
			p.State = "done"
			if st.Finished > 0 && st.Started > 0 {
				p.Took = st.Finished - st.Started
			}
		case i == current:
			p.State = "current"
			if job.State == db.JobRunning && st.RunStarted > 0 {
				p.PerMinute, p.SecondsLeft = pace(t.Done-st.RunBase, now-st.RunStarted, t.Total-t.Done)
			}
		default:
			p.State = "waiting"
		}
		e := est[name]
		p.OneByOne = e.OneByOne
		w := math.Max(e.Takes.Seconds(), 1)
		weightAll += w
		switch {
		case p.State == "done":
			weightDone += w
		case t.Total > 0:
			weightDone += w * float64(t.Done) / float64(t.Total)
		}
		if p.State == "waiting" && !p.Skip {
			out.SecondsLeft += int64(e.Takes.Seconds())
		}
		out.SecondsLeft += p.SecondsLeft
		out.Phases = append(out.Phases, p)
	}
	if weightAll > 0 {
		out.Percent = min(100, int64(100*weightDone/weightAll))
	}
	if current >= len(phaseOrder) {
		out.Percent = 100
	}
	return out, nil
}

var phaseOrder = []string{PhaseLookup, PhaseCreate, PhaseCrowd}

func phaseIndex(checkpoint string) int {
	if checkpoint == "done" {
		return len(phaseOrder)
	}
	for i, name := range phaseOrder {
		if shownPhase[checkpoint] == name {
			return i
		}
	}
	return 0
}

// pace is a rate per minute and the seconds left from rows done in a run.
func pace(done, elapsed, remaining int64) (perMinute, secondsLeft int64) {
	if done <= 0 || elapsed <= 0 {
		return 0, 0
	}
	perMinute = max(1, done*60/elapsed)
	if remaining > 0 {
		secondsLeft = (remaining*elapsed + done - 1) / done
	}
	return perMinute, secondsLeft
}

// PhaseEstimate is what a phase will take at the platform's pace.
type PhaseEstimate struct {
	Name     string
	Items    int64 // persons the phase handles (at most, for create)
	Calls    int64 // platform calls
	Takes    time.Duration
	OneByOne bool // lookup: users.identity_batch is disabled, one users.query per person
	UpTo     bool // create: only those the lookup does not find
}

// Estimate says, before an import starts, what each phase will take for
// target: the lookup (one call per person when the batch endpoint is
// disabled), creating persons (at most every valid row, when asked) and
// adding them to the crowd (after listing an existing crowd's members). A
// crowd chosen that is gone meanwhile is estimated as a new one: the start
// will say it is gone.
func (s *Service) Estimate(ctx context.Context, im db.Import, t Target) ([]PhaseEstimate, error) {
	var members int64
	if t.CrowdID != 0 {
		c, err := s.cfg.Store.Crowd(ctx, t.CrowdID)
		if errors.Is(err, db.ErrNotFound) {
			return s.Estimate(ctx, im, Target{CreateMissing: t.CreateMissing})
		}
		if err != nil {
			return nil, err
		}
		members = c.UserCount
	}
	valid := im.Counts.Valid
	tally := map[string]Tally{PhaseLookup: {0, valid}, PhaseCrowd: {0, valid}}
	if t.CreateMissing {
		tally[PhaseCreate] = Tally{0, valid}
	}
	est := s.estimatePhases(im, tally, t.CreateMissing, t.CrowdID == 0, members)
	var out []PhaseEstimate
	for _, name := range phaseOrder {
		if e, ok := est[name]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// estimatePhases is each phase's calls and time for the rows it has left.
func (s *Service) estimatePhases(im db.Import, tally map[string]Tally, createMissing, newCrowd bool, members int64) map[string]PhaseEstimate {
	client, _ := s.cfg.Platform.Current()
	out := map[string]PhaseEstimate{}
	left := func(name string) int64 { t := tally[name]; return max(t.Total-t.Done, 0) }
	if im.IdentityType != importfile.ColUUID {
		n := left(PhaseLookup)
		plan := client.ResolvePlanFor(int(n))
		out[PhaseLookup] = PhaseEstimate{Name: PhaseLookup, Items: n, Calls: int64(plan.Calls), Takes: plan.Takes, OneByOne: !plan.Batched}
	} else {
		out[PhaseLookup] = PhaseEstimate{Name: PhaseLookup, Items: left(PhaseLookup)}
	}
	if _, ok := tally[PhaseCreate]; ok && createMissing {
		n := left(PhaseCreate)
		e := callsFor(client, "users.create", n)
		// The created persons' ids may have to be looked up afterwards.
		plan := client.ResolvePlanFor(int(n))
		e.Calls += int64(plan.Calls)
		e.Takes += plan.Takes
		e.Name, e.Items, e.UpTo, e.OneByOne = PhaseCreate, n, true, !plan.Batched
		out[PhaseCreate] = e
	}
	n := left(PhaseCrowd)
	e := callsFor(client, "crowds.import", n)
	if !newCrowd { // its members are listed first, a page per call
		m := callsFor(client, "crowds.users", (members+jing.DefaultPerPage-1)/jing.DefaultPerPage)
		e.Calls += m.Calls
		e.Takes += m.Takes
	}
	e.Name, e.Items = PhaseCrowd, n
	out[PhaseCrowd] = e
	return out
}

// callsFor is the calls of key for n items (in batches of its MaxBatch; a
// key without one takes one item per call) and their time at its rate.
func callsFor(client *jing.Client, key string, n int64) PhaseEstimate {
	ep, ok := client.Catalog().Get(key)
	if !ok || n <= 0 {
		return PhaseEstimate{}
	}
	per := int64(max(ep.MaxBatch, 1))
	e := PhaseEstimate{Calls: (n + per - 1) / per}
	if ep.RatePerSecond > 0 {
		e.Takes = time.Duration(math.Ceil(float64(e.Calls) / ep.RatePerSecond * float64(time.Second)))
	}
	return e
}
