package refdata

import (
	"context"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// fastCatalog lifts the 10/s pacing of the endpoints a refresh calls, so
// tests do not wait on it; the sandbox and the client share it.
func fastCatalog(t testing.TB, overrides map[string]jing.Override) jing.Catalog {
	return fixture.Catalog(t, fixture.Pace{Keys: []string{"objects.", "leads.status_list", "members.list"}, Overrides: overrides})
}

func startSandbox(t testing.TB, seed int64, faults sandbox.Faults) *sandbox.Running {
	t.Helper()
	return fixture.Sandbox(t, sandbox.Config{Seed: seed, Persons: 200, Leads: 40, Catalog: fastCatalog(t, nil), Faults: faults})
}

// newClient is a client of the sandbox at url; cat "zero" means fastCatalog.
func newClient(t testing.TB, url string, cat jing.Catalog) *jing.Client {
	t.Helper()
	if cat.IsZero() {
		cat = fastCatalog(t, nil)
	}
	return fixture.Client(t, url, cat, fixture.Attempts(2))
}

// rig is a Service on a temporary database, its job runner, and the
// platform it talks to.
type rig struct {
	t      testing.TB
	store  *db.Store
	runner *jobs.Runner
	svc    *Service
	plat   Platform
	clock  *testkit.Clock
	// With sandboxRig: the tenant, a client of it, and the connection
	// (named "sandbox") that hands the client out.
	sb     *sandbox.Running
	client *jing.Client
	fake   *fixture.Switchable
}

// sandboxRig is a rig on a fresh sandbox tenant (seed 1).
func sandboxRig(t testing.TB, hold bool, opts ...rigOption) *rig {
	t.Helper()
	sb := startSandbox(t, 1, sandbox.Faults{})
	client := newClient(t, sb.URL, jing.Catalog{})
	fake := fixture.NewSwitchable(client, "sandbox")
	r := newRig(t, fake, hold, opts...)
	r.sb, r.client, r.fake = sb, client, fake
	return r
}

type rigOption func(*Config)

// newRig builds the service on plat; the runner is started unless held.
func newRig(t testing.TB, plat Platform, hold bool, opts ...rigOption) *rig {
	t.Helper()
	store := fixture.Store(t)
	clock := testkit.NewClock(time.Unix(1_800_000_000, 0))
	store.SetClock(clock.Now)
	r := &rig{t: t, store: store, plat: plat, clock: clock}
	r.runner, r.svc = r.service(opts...)
	if !hold {
		r.startRunner()
	}
	return r
}

// service builds a Service (and its runner) on the rig's store, as a
// start of the console would.
func (r *rig) service(opts ...rigOption) (*jobs.Runner, *Service) {
	r.t.Helper()
	runner := jobs.New(r.store, jobs.Config{Workers: 2, Heartbeat: 50 * time.Millisecond, Poll: time.Hour, Logger: testkit.Quiet()})
	cfg := Config{Store: r.store, Platform: r.plat, Runner: runner, Logger: testkit.Quiet(), Now: r.clock.Now}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := New(context.Background(), cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(svc.Stop)
	return runner, svc
}

func (r *rig) startRunner() {
	r.t.Helper()
	fixture.Start(r.t, r.runner)
}

// refresh requests a refresh and waits for its job to end in state.
func (r *rig) refresh(key, state string) db.Job {
	r.t.Helper()
	id, err := r.svc.RequestRefresh(context.Background(), 0, key)
	if err != nil {
		r.t.Fatal(err)
	}
	return r.waitJob(id, state)
}

// waitJob waits for job id to end, failing unless it is in state.
func (r *rig) waitJob(id int64, state string) db.Job {
	r.t.Helper()
	return fixture.WaitJobState(r.t, r.store, id, state)
}

// sets is Sets by key.
func (r *rig) sets() map[string]SetInfo {
	r.t.Helper()
	list, err := r.svc.Sets(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]SetInfo{}
	for _, s := range list {
		out[s.Key] = s
	}
	return out
}

func (r *rig) items(key string) []Item {
	r.t.Helper()
	items, err := r.svc.Items(context.Background(), key)
	if err != nil {
		r.t.Fatal(err)
	}
	return items
}
