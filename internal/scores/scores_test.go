package scores

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

type rig struct {
	t      *testing.T
	sb     *sandbox.Running
	client *jing.Client
	store  *db.Store
	dir    string
	// clock is shared by the sandbox and the services, so that scores
	// drift and cached ones go stale.
	clock  *testkit.OffsetClock
	runner *jobs.Runner
	svc    *Service
	crowds *crowds.Service
	admin  db.User
	mia    db.User
}

func newRig(t *testing.T, persons int) *rig {
	t.Helper()
	r := &rig{t: t, dir: t.TempDir(), clock: &testkit.OffsetClock{}}
	cat := fixture.Catalog(t, fixture.Pace{})
	r.sb = fixture.Sandbox(t, sandbox.Config{Seed: 11, Persons: persons, Leads: 300, Catalog: cat, Now: r.clock.Now})
	r.client = fixture.Client(t, r.sb.URL, cat, func(c *jing.Config) { c.Now = r.clock.Now })
	r.store = fixture.StoreAt(t, filepath.Join(r.dir, "test.db"))
	r.admin, _ = r.store.CreateUser(context.Background(), db.NewUser{Username: "ada", PasswordHash: "x", Role: db.RoleAdmin})
	r.mia, _ = r.store.CreateUser(context.Background(), db.NewUser{Username: "mia", PasswordHash: "x", Role: db.RoleMarketer})
	r.start()
	return r
}

// start builds a runner and the services on the rig's store, as a
// (re)started process does.
func (r *rig) start() {
	r.t.Helper()
	r.runner = jobs.New(r.store, jobs.Config{Logger: testkit.Quiet(), Poll: 20 * time.Millisecond, Heartbeat: 50 * time.Millisecond})
	var err error
	r.crowds, err = crowds.New(crowds.Config{Store: r.store, Platform: fixture.Fixed{Client: r.client}, Runner: r.runner, DataDir: r.dir,
		RetryDelay: time.Millisecond, Now: r.clock.Now})
	if err != nil {
		r.t.Fatal(err)
	}
	r.svc, err = New(Config{Store: r.store, Platform: fixture.Fixed{Client: r.client}, Runner: r.runner, Crowds: r.crowds, Now: r.clock.Now})
	if err != nil {
		r.t.Fatal(err)
	}
	fixture.Start(r.t, r.runner)
}

// bigCrowd makes a crowd of the tenant's first n persons on the platform.
func (r *rig) bigCrowd(n int) (int64, []string) {
	r.t.Helper()
	ctx := context.Background()
	var uuids []string
	for _, p := range r.sb.SamplePersons(n) {
		uuids = append(uuids, p.OmniUserUUID)
	}
	id, err := r.client.CreateCrowd(ctx, "全部客户", "")
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.client.ImportToCrowd(ctx, id, uuids); err != nil {
		r.t.Fatal(err)
	}
	slices.Sort(uuids)
	return id, uuids
}

func (r *rig) waitJob(id int64) db.Job { return fixture.WaitJob(r.t, r.store, id) }

func (r *rig) fetch(pop db.ScorePopulation, kinds ...string) db.Job {
	r.t.Helper()
	id, err := r.svc.RequestFetch(context.Background(), r.mia.ID, pop, kinds, time.Hour)
	if err != nil {
		r.t.Fatal(err)
	}
	j := r.waitJob(id)
	if j.State != db.JobDone {
		r.t.Fatalf("fetch ended %s: %s", j.State, j.Error)
	}
	return j
}

func (r *rig) calls(kind string) int { return r.sb.CallsToday("scores.user_" + kind) }

// A 20,000-person crowd: every score fetched once (200 calls of 100),
// across an interruption; a second fetch asks only for what went stale.
func TestTheCacheFetchesEachScoreOnceAndThenOnlyWhatIsStale(t *testing.T) {
	t.Parallel()
	r := newRig(t, 20000)
	group, members := r.bigCrowd(20000)
	pop := db.ScorePopulation{GroupID: group}
	id, err := r.svc.RequestFetch(context.Background(), r.mia.ID, pop, []string{db.ScoreIdentity, db.ScoreActive}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the fetch to start", func() bool { return r.calls("identity") >= 50 })
	fixture.Stop(r.runner) // interrupted mid-fetch
	if j, _ := r.store.Job(context.Background(), id); j.State != db.JobQueued {
		t.Fatalf("interrupted job: %s", j.State)
	}
	r.start()
	if j := r.waitJob(id); j.State != db.JobDone || j.Done != 40000 {
		t.Fatalf("fetch: %s %d done: %s", j.State, j.Done, j.Error)
	}
	// An interrupted call may have been answered and asked again: at most one batch.
	if n := r.calls("identity"); n < 200 || n > 201 {
		t.Fatalf("identity calls %d, want 200 (one more at most after the interruption)", n)
	}
	if n := r.calls("active"); n != 200 {
		t.Fatalf("activity calls %d, want 200", n)
	}
	total, stale, _ := r.store.CountScorePopulation(context.Background(), pop, db.ScoreIdentity, r.clock.Now().Add(-time.Hour).Unix())
	if total != int64(len(members)) || stale != 0 {
		t.Fatalf("population %d, stale %d", total, stale)
	}
	before := r.calls("identity")
	if j := r.fetch(pop, db.ScoreIdentity); j.Done != 0 || r.calls("identity") != before { // nothing is stale
		t.Fatalf("a fresh cache was fetched again: %d ids, %d calls", j.Done, r.calls("identity")-before)
	}
	// Everything is now older than an hour. (The sandbox's daily call
	// count may start again at its midnight: count the job's ids instead.)
	r.clock.Jump(2 * time.Hour)
	if j := r.fetch(pop, db.ScoreIdentity); j.Done != int64(len(members)) {
		t.Fatalf("after going stale: %d ids fetched, want %d", j.Done, len(members))
	}
}

// The summary's figures add up: histogram and bands to the scored, the
// matrix to those with both a grade and a level; top and bottom are ordered.
func TestTheSummaryAddsUp(t *testing.T) {
	t.Parallel()
	r := newRig(t, 2000)
	group, members := r.bigCrowd(1500)
	pop := db.ScorePopulation{GroupID: group}
	r.fetch(pop, db.ScoreIdentity, db.ScoreActive, db.ScoreIntention)
	ctx := context.Background()
	for _, q := range []db.ScoreQuery{{Pop: pop, Kind: db.ScoreIdentity}, {Pop: pop, Kind: db.ScoreActive},
		{Pop: pop, Kind: db.ScoreIntention, Product: "旗舰SUV"}} {
		sum, err := r.store.ScoreSummary(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Population != int64(len(members)) || sum.Scored != int64(len(members)) {
			t.Fatalf("%s: population %d scored %d", q.Kind, sum.Population, sum.Scored)
		}
		var h, b, m int64
		for _, n := range sum.Histogram {
			h += n
		}
		for _, n := range sum.Bands {
			b += n
		}
		for _, n := range sum.Matrix {
			m += n
		}
		if h != sum.Scored || b != sum.Scored || m != sum.Population {
			t.Fatalf("%s: histogram %d, bands %d, matrix %d of %d", q.Kind, h, b, m, sum.Scored)
		}
		top, _ := r.store.TopScored(ctx, q, db.ScoreSelection{}, 10, false)
		bottom, _ := r.store.TopScored(ctx, q, db.ScoreSelection{}, 10, true)
		if len(top) != 10 || top[0].Score < top[9].Score || bottom[0].Score > bottom[9].Score || top[9].Score < bottom[9].Score {
			t.Fatalf("%s: top %v bottom %v", q.Kind, top, bottom)
		}
	}
}

// Saving a selection as a crowd gives the crowd exactly the selection.
func TestSaveAsCrowdHoldsExactlyTheSelection(t *testing.T) {
	t.Parallel()
	r := newRig(t, 2000)
	group, _ := r.bigCrowd(1000)
	pop := db.ScorePopulation{GroupID: group}
	r.fetch(pop, db.ScoreIdentity, db.ScoreActive)
	ctx := context.Background()
	q := db.ScoreQuery{Pop: pop, Kind: db.ScoreIdentity}
	sel := db.ScoreSelection{Grades: []string{"A", "B"}, Levels: []string{"warm", "hot"}}
	want, err := r.store.SelectedPersons(ctx, q, sel)
	if err != nil || len(want) == 0 {
		t.Fatalf("selection: %v, %d", err, len(want))
	}
	if n, _ := r.store.CountScored(ctx, q, sel); n != int64(len(want)) {
		t.Fatalf("count %d, persons %d", n, len(want))
	}
	imp, err := r.svc.SaveAsCrowd(ctx, Actor{ID: r.mia.ID, Username: "mia", Role: r.mia.Role},
		View{Pop: PopCrowd, Crowd: group, Kind: db.ScoreIdentity}, Selection{Grades: sel.Grades, Levels: sel.Levels},
		"高分活跃客户", "A/B × warm/hot")
	if err != nil {
		t.Fatal(err)
	}
	im, _ := r.store.Import(ctx, imp)
	if j := r.waitJob(im.JobID); j.State != db.JobDone {
		t.Fatalf("import %s: %s", j.State, j.Error)
	}
	im, _ = r.store.Import(ctx, imp)
	var got []string
	for m, err := range r.client.AllCrowdUsers(ctx, im.CrowdID) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.OmniUserUUID)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("crowd holds %d, the selection %d", len(got), len(want))
	}
}

// Leads: the selection's persons come from the leads' omni_user_uuid, and
// the per-status figures add up.
func TestLeadPopulations(t *testing.T) {
	t.Parallel()
	r := newRig(t, 2000)
	ctx := context.Background()
	var leads []db.Lead
	for l, err := range r.client.AllLeads(ctx, jing.LeadFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		leads = append(leads, db.Lead{UUID: l.JingUUID, BusinessType: l.BusinessType, Status: l.LeadStatus, Name: l.Name,
			Fields: json.RawMessage(`{"omni_user_uuid":"` + l.OmniUserUUID + `"}`)})
	}
	if err := r.store.UpsertLeads(ctx, leads); err != nil {
		t.Fatal(err)
	}
	pop := db.ScorePopulation{}
	r.fetch(pop, db.ScoreIdentity, db.ScoreActive)
	sum, err := r.store.ScoreSummary(ctx, db.ScoreQuery{Pop: pop, Kind: db.ScoreIdentity})
	if err != nil || sum.Population != int64(len(leads)) {
		t.Fatalf("summary: %v, population %d of %d", err, sum.Population, len(leads))
	}
	var perStatus int64
	for _, bands := range sum.PerStatus {
		for _, n := range bands {
			perStatus += n
		}
	}
	if perStatus != sum.Scored {
		t.Fatalf("per status %d, scored %d", perStatus, sum.Scored)
	}
	persons, err := r.store.SelectedPersons(ctx, db.ScoreQuery{Pop: pop, Kind: db.ScoreIdentity}, db.ScoreSelection{Grades: []string{"A"}})
	if err != nil || len(persons) == 0 || strings.Contains(strings.Join(persons, ","), ",,") {
		t.Fatalf("lead persons: %v %d", err, len(persons))
	}
}

// Activity drifts day by day on the platform: fetching again later
// records the changes, and movers name who rose and fell since then.
func TestMoversSinceADate(t *testing.T) {
	t.Parallel()
	r := newRig(t, 2000)
	group, _ := r.bigCrowd(500)
	pop := db.ScorePopulation{GroupID: group}
	r.fetch(pop, db.ScoreActive)
	then := r.clock.Now().Unix()
	r.clock.Jump(10 * 24 * time.Hour)
	r.fetch(pop, db.ScoreActive)
	rising, falling, err := r.store.ScoreMovers(context.Background(), db.ScoreQuery{Pop: pop, Kind: db.ScoreActive}, then, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(rising) != 5 || len(falling) == 0 {
		t.Fatalf("rising %d, falling %d", len(rising), len(falling))
	}
	if rising[0].To-rising[0].From < rising[4].To-rising[4].From || falling[0].To >= falling[0].From {
		t.Fatalf("movers out of order: %+v %+v", rising, falling)
	}
	hist, _ := r.store.ScoreHistory(context.Background(), db.SubjectUser, rising[0].ID)
	if len(hist) != 2 || hist[0].Score != rising[0].From || hist[1].Score != rising[0].To {
		t.Fatalf("history of %s: %+v", rising[0].ID, hist)
	}
}

// Clearing activity: administrators only, the count typed, every person's
// outcome; the cache then reads 0.
func TestClearingActivityScores(t *testing.T) {
	t.Parallel()
	r := newRig(t, 2000)
	group, _ := r.bigCrowd(300)
	pop := db.ScorePopulation{GroupID: group}
	r.fetch(pop, db.ScoreActive)
	ctx := context.Background()
	q := db.ScoreQuery{Pop: pop, Kind: db.ScoreActive}
	sel := db.ScoreSelection{Levels: []string{"hot", "warm"}}
	persons, _ := r.store.SelectedPersons(ctx, q, sel)
	n := strconv.Itoa(len(persons))
	view, picked := View{Pop: PopCrowd, Crowd: group, Kind: db.ScoreActive}, Selection{Levels: sel.Levels}
	mia := Actor{ID: r.mia.ID, Username: r.mia.Username, Role: r.mia.Role}
	admin := Actor{ID: r.admin.ID, Username: r.admin.Username, Role: r.admin.Role}
	if _, err := r.svc.RequestClear(ctx, mia, view, picked, n); !errors.Is(err, ErrNotAdmin) {
		t.Fatalf("a marketer cleared: %v", err)
	}
	if _, err := r.svc.RequestClear(ctx, admin, view, picked, "1"); !errors.Is(err, ErrCountMismatch) {
		t.Fatalf("a wrong count: %v", err)
	}
	id, err := r.svc.RequestClear(ctx, admin, view, picked, n)
	if err != nil {
		t.Fatal(err)
	}
	if j := r.waitJob(id); j.State != db.JobDone || j.Done != int64(len(persons)) || j.Failed != 0 {
		t.Fatalf("clear job: %s %d done %d failed", j.State, j.Done, j.Failed)
	}
	if left, _ := r.store.CountScored(ctx, q, sel); left != 0 {
		t.Fatalf("%d still warm or hot in the cache", left)
	}
}
