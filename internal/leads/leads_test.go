package leads

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// fastCatalog lifts the pacing of the lead endpoints, so tests do not wait on it.
func fastCatalog(t testing.TB) jing.Catalog {
	return fixture.Catalog(t, fixture.Pace{Keys: []string{"leads."}})
}

// rig is a sandbox tenant (40 leads) over real HTTP, a client of it whose
// writes are audited into audits, and a Service on a temporary database.
type rig struct {
	t      *testing.T
	sb     *sandbox.Running
	client *jing.Client
	store  *db.Store
	runner *jobs.Runner
	svc    *Service

	mu     sync.Mutex
	audits []jing.WriteRecord
}

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	return newRigOn(t, cfg, rigSetup{})
}

// rigSetup varies the rig: a clock shared by the sandbox, the client, the
// store and the service, and a catalog for the sandbox alone (so it can
// enforce limits the client does not know of, as a platform does).
type rigSetup struct {
	now            func() time.Time
	sandboxCatalog jing.Catalog
}

func newRigOn(t *testing.T, cfg Config, setup rigSetup) *rig {
	t.Helper()
	r := &rig{t: t}
	cat := fastCatalog(t)
	sbCat := cat
	if !setup.sandboxCatalog.IsZero() {
		sbCat = setup.sandboxCatalog
	}
	r.sb = fixture.Sandbox(t, sandbox.Config{Seed: 1, Persons: 200, Leads: 40, Catalog: sbCat, Now: setup.now})
	r.client = fixture.Client(t, r.sb.URL, cat, fixture.Attempts(2), func(c *jing.Config) {
		c.Now = setup.now
		c.Audit = func(_ context.Context, rec jing.WriteRecord) {
			r.mu.Lock()
			r.audits = append(r.audits, rec)
			r.mu.Unlock()
		}
	})
	r.store = fixture.Store(t)
	if setup.now != nil {
		r.store.SetClock(setup.now)
		cfg.Now = setup.now
	}
	r.start(cfg)
	return r
}

// start builds a runner and a service on the rig's store, and starts the runner.
func (r *rig) start(cfg Config) {
	r.t.Helper()
	r.runner = jobs.New(r.store, jobs.Config{Logger: testkit.Quiet(), Poll: 50 * time.Millisecond})
	cfg.Store, cfg.Platform, cfg.Runner, cfg.Logger = r.store, fixture.Fixed{Client: r.client}, r.runner, testkit.Quiet()
	svc, err := New(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.svc = svc
	fixture.Start(r.t, r.runner)
}

// sync requests a sync and waits for its job to finish done.
func (r *rig) sync(full bool) db.Job {
	r.t.Helper()
	id, err := r.svc.RequestSync(context.Background(), 0, full)
	if err != nil {
		r.t.Fatal(err)
	}
	return fixture.WaitJobState(r.t, r.store, id, db.JobDone)
}

func (r *rig) local(uuid string) db.Lead {
	r.t.Helper()
	l, err := r.store.Lead(context.Background(), uuid)
	if err != nil {
		r.t.Fatal(err)
	}
	return l
}

func (r *rig) remote(uuid string) jing.Lead {
	r.t.Helper()
	l, err := r.client.QueryLead(context.Background(), jing.LeadKey{JingUUID: uuid})
	if err != nil {
		r.t.Fatal(err)
	}
	return l
}

// openLead is a lead of the copy in the first status of its pipeline, with
// another open status to move it to.
func (r *rig) openLead() (db.Lead, string) {
	r.t.Helper()
	all, _, err := r.store.ListLeads(context.Background(), db.LeadFilter{Limit: 100, Sort: "created"})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, l := range all {
		sts, err := r.client.LeadStatuses(context.Background(), l.BusinessType)
		if err != nil {
			r.t.Fatal(err)
		}
		if len(sts) > 2 && l.Status == sts[0].JingUUID && !r.svc.ClosingStatus(l.BusinessType, sts[1].JingUUID) {
			return l, sts[1].JingUUID
		}
	}
	r.t.Fatal("no lead in the first status of its pipeline")
	return db.Lead{}, ""
}

func TestFullThenIncrementalSync(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{pageSize: 10})
	ctx := context.Background()
	job := r.sync(true)
	if n, _ := r.store.CountLeads(ctx); n != 40 || job.Done != 40 || job.Total != 40 {
		t.Fatalf("%d leads after a full sync; job %d/%d", n, job.Done, job.Total)
	}
	st, _ := r.store.LeadSync(ctx)
	if st.Connection != "sandbox" || st.FullSyncedAt == 0 || st.HighWater == 0 {
		t.Fatalf("sync state %+v", st)
	}
	// The planner's statistics describe the copy the sync filled, not the
	// empty table of before.
	if n, ok, err := r.store.StatisticsRows(ctx, "leads"); err != nil || !ok || n != 40 {
		t.Fatalf("planner statistics for leads after a full sync: %d rows (present %v, %v); want 40", n, ok, err)
	}
	// The copy is the platform's lead, custom fields included.
	l, next := r.openLead()
	p := r.remote(l.UUID)
	if l.Name != p.Name || l.Mobile != p.Mobile || l.Company != p.CompanyID || l.Owner != string(p.Owner) ||
		l.UpdatedAt != p.UpdatedTimestamp || l.LifeStatus != p.LifeStatus || !strings.Contains(string(l.Fields), p.JingUUID) {
		t.Fatalf("local %+v, platform %+v", l, p)
	}

	// On the platform: a new lead, and a status change.
	created, err := r.client.CreateLead(ctx, jing.LeadInput{LeadFields: jing.LeadFields{BusinessType: l.BusinessType,
		Name: "欧阳娜娜", Mobile: "13912345678", CompanyID: "杭州云栖科技有限公司"}})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Unix()
	if err := r.client.UpdateLeadStatus(ctx, l.UUID, next); err != nil {
		t.Fatal(err)
	}
	job = r.sync(false)
	if job.Total >= 40 {
		t.Fatalf("the incremental sync listed %d leads", job.Total)
	}
	if got := r.local(created); got.Name != "欧阳娜娜" || got.Company != "杭州云栖科技有限公司" {
		t.Fatalf("the new lead in the copy: %+v", got)
	}
	if ls, _, _ := r.store.ListLeads(ctx, db.LeadFilter{Query: "云栖科技"}); !slices.ContainsFunc(ls, func(x db.Lead) bool { return x.UUID == created }) {
		t.Fatal("the new lead is not found by search")
	}
	got := r.local(l.UUID)
	if got.Status != next || got.StatusSince < before || got.UpdatedAt != r.remote(l.UUID).UpdatedTimestamp {
		t.Fatalf("after the platform's status change: %+v", got)
	}
	hist, err := r.store.LeadStatusHistory(ctx, l.UUID)
	if err != nil || len(hist) != 1 || hist[0].From != l.Status || hist[0].To != next || hist[0].Origin != db.OriginSync {
		t.Fatalf("history %+v, %v", hist, err)
	}
	if n, _ := r.store.CountLeads(ctx); n != 41 {
		t.Fatalf("%d leads after the incremental sync, want 41", n)
	}
}

func TestInterruptedSyncResumesFromItsCheckpoint(t *testing.T) {
	t.Parallel()
	stopped := make(chan struct{})
	var r *rig
	r = newRig(t, Config{pageSize: 5, afterPage: func(ctx context.Context, page int) {
		if page == 3 {
			// The process stops during the job: the runner interrupts it
			// and puts it back in the queue.
			runner := r.runner
			go func() { fixture.Stop(runner); close(stopped) }()
			<-ctx.Done()
		}
	}})
	ctx := context.Background()
	id, err := r.svc.RequestSync(ctx, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	<-stopped
	j, _ := r.store.Job(ctx, id)
	if j.State != db.JobQueued || j.Done != 15 || !strings.Contains(j.Checkpoint, `"page":3`) {
		t.Fatalf("interrupted job: %s, done %d, checkpoint %s", j.State, j.Done, j.Checkpoint)
	}
	if n, _ := r.store.CountLeads(ctx); n != 15 {
		t.Fatalf("%d leads after three pages of five", n)
	}

	// The next start resumes at page 4.
	var mu sync.Mutex
	var pages []int
	r.start(Config{pageSize: 5, afterPage: func(_ context.Context, page int) {
		mu.Lock()
		pages = append(pages, page)
		mu.Unlock()
	}})
	j = fixture.WaitJobState(t, r.store, id, db.JobDone)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(pages, []int{4, 5, 6, 7, 8}) {
		t.Fatalf("the resumed run walked pages %v", pages)
	}
	if n, _ := r.store.CountLeads(ctx); n != 40 || j.Done != 40 {
		t.Fatalf("%d leads, job done %d, want 40 each", n, j.Done)
	}
	if st, _ := r.store.LeadSync(ctx); st.FullSyncedAt == 0 {
		t.Fatal("the resumed full sync did not complete the copy")
	}
}

func TestVoidedLeadIsMarkedNotDeleted(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	ctx := context.Background()
	r.sync(true)
	l, _ := r.openLead()
	if err := r.sb.VoidLead(l.UUID); err != nil {
		t.Fatal(err)
	}
	evs := r.sb.RecentLeadEvents()
	if last := evs[len(evs)-1]; last.EventType != jing.EventObjectVoids || last.ExtraData.EntityID != l.UUID {
		t.Fatalf("last event %+v", last)
	}
	// An incremental sync cannot see it go; the next full one asks.
	r.sync(true)
	got, err := r.store.Lead(ctx, l.UUID)
	if err != nil || !got.Voided || got.Name != l.Name {
		t.Fatalf("voided lead: %+v, %v", got, err)
	}
	if n, _ := r.store.CountLeads(ctx); n != 40 {
		t.Fatalf("%d leads kept, want 40", n)
	}
	ls, total, _ := r.store.ListLeads(ctx, db.LeadFilter{Limit: 100})
	if total != 39 || slices.ContainsFunc(ls, func(x db.Lead) bool { return x.UUID == l.UUID }) {
		t.Fatalf("the voided lead is listed (%d listed)", total)
	}
}

func TestMove(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	ctx := context.Background()
	r.sync(true)

	t.Run("success", func(t *testing.T) {
		l, next := r.openLead()
		moved, err := r.svc.Move(ctx, "alice", l.UUID, next, "电话沟通，有意向", l.UpdatedAt)
		if err != nil {
			t.Fatal(err)
		}
		p := r.remote(l.UUID)
		if p.LeadStatus != next || p.LatestRemark != "电话沟通，有意向" {
			t.Fatalf("on the platform: status %s, remark %q", p.LeadStatus, p.LatestRemark)
		}
		if moved.Status != next || moved.UpdatedAt != p.UpdatedTimestamp || moved.StatusSince == 0 ||
			!strings.Contains(string(moved.Fields), "电话沟通") || r.local(l.UUID).Status != next {
			t.Fatalf("moved lead %+v", moved)
		}
		hist, _ := r.store.LeadStatusHistory(ctx, l.UUID)
		if len(hist) != 1 || hist[0] != (db.LeadStatusChange{At: hist[0].At, From: l.Status, To: next, Actor: "alice", Origin: db.OriginConsole}) {
			t.Fatalf("history %+v", hist)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		var eps []string
		for _, a := range r.audits {
			if a.Actor != "alice" || a.RequestID == "" || a.Err != nil {
				t.Fatalf("audited write %+v", a)
			}
			eps = append(eps, a.Endpoint)
		}
		if !slices.Equal(eps, []string{"leads.update", "leads.status_update"}) {
			t.Fatalf("audited writes %v", eps)
		}
	})

	t.Run("refused by the platform", func(t *testing.T) {
		l, _ := r.openLead()
		other := ""
		bts, _ := r.client.BusinessTypes(ctx, jing.ObjectLead)
		for _, bt := range bts {
			if bt.JingUUID != l.BusinessType {
				sts, _ := r.client.LeadStatuses(ctx, bt.JingUUID)
				other = sts[1].JingUUID
				break
			}
		}
		before := r.local(l.UUID)
		_, err := r.svc.Move(ctx, "alice", l.UUID, other, "", l.UpdatedAt)
		e, ok := jing.AsError(err)
		if !ok || e.Kind != jing.KindInvalid {
			t.Fatalf("move to another business type's status: %v", err)
		}
		after := r.local(l.UUID)
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("the copy changed: %+v → %+v", before, after)
		}
		if hist, _ := r.store.LeadStatusHistory(ctx, l.UUID); len(hist) != 0 {
			t.Fatalf("history %+v", hist)
		}
	})

	t.Run("changed upstream", func(t *testing.T) {
		l, next := r.openLead()
		if err := r.client.UpdateLead(ctx, l.UUID, jing.LeadInput{LeadFields: jing.LeadFields{Title: "采购总监"}}); err != nil {
			t.Fatal(err)
		}
		p := r.remote(l.UUID)
		_, err := r.svc.Move(ctx, "alice", l.UUID, next, "备注", l.UpdatedAt)
		var cu *ChangedUpstream
		if !errors.Is(err, ErrChangedUpstream) || !errors.As(err, &cu) {
			t.Fatalf("move of a stale lead: %v", err)
		}
		if cu.Current.Title != "采购总监" || cu.Current.UpdatedAt != p.UpdatedTimestamp || cu.Current.Status != l.Status {
			t.Fatalf("current state %+v", cu.Current)
		}
		if now := r.remote(l.UUID); now.LeadStatus != l.Status || now.LatestRemark == "备注" || now.UpdatedTimestamp != p.UpdatedTimestamp {
			t.Fatalf("the platform was written: %+v", now)
		}
		if got := r.local(l.UUID); got.Title != "采购总监" || got.Status != l.Status {
			t.Fatalf("the copy did not take the platform's state: %+v", got)
		}
	})
}

func TestStartFillsTheCopyAndASwitchReplacesIt(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	ctx := context.Background()
	// A second platform: another tenant (another seed), 30 leads.
	sb2 := fixture.Sandbox(t, sandbox.Config{Seed: 2, Persons: 100, Leads: 30, Catalog: fastCatalog(t)})
	client2 := fixture.Client(t, sb2.URL, fastCatalog(t))
	plat := fixture.NewSwitchable(r.client, "sandbox")
	runner := jobs.New(r.store, jobs.Config{Logger: testkit.Quiet(), Poll: 50 * time.Millisecond})
	svc, err := New(Config{Store: r.store, Platform: plat, Runner: runner, Logger: testkit.Quiet(), SyncEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	fixture.Stop(r.runner) // the rig's own service stays idle
	fixture.Start(t, runner)
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	testkit.WaitFor(t, "the empty copy to be filled", func() bool {
		st, _ := r.store.LeadSync(ctx)
		n, _ := r.store.CountLeads(ctx)
		return st.FullSyncedAt > 0 && n == 40
	})
	ls, _, _ := r.store.ListLeads(ctx, db.LeadFilter{Limit: 1})
	testkit.Must(t, r.store.RecordLeadStatusChange(ctx, ls[0].UUID, db.LeadStatusChange{From: "a", To: "b", Origin: db.OriginWebhook}))

	plat.Use(client2, "other")
	testkit.WaitFor(t, "the copy to follow the new connection", func() bool {
		st, _ := r.store.LeadSync(ctx)
		n, _ := r.store.CountLeads(ctx)
		return st.Connection == "other" && st.FullSyncedAt > 0 && n == 30
	})
	if _, err := r.store.Lead(ctx, ls[0].UUID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("a lead of the previous platform is still in the copy: %v", err)
	}
	if hist, _ := r.store.LeadStatusHistory(ctx, ls[0].UUID); len(hist) != 0 {
		t.Fatalf("history of the previous platform kept: %+v", hist)
	}
}
