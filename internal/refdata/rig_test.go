package refdata

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fastCatalog lifts the 10/s pacing of the endpoints a refresh calls, so
// tests do not wait on it; the sandbox and the client share it.
func fastCatalog(t testing.TB, overrides map[string]jing.Override) jing.Catalog {
	t.Helper()
	rate := 5000.0
	over := map[string]jing.Override{}
	for _, e := range jing.DefaultCatalog().All() {
		if strings.HasPrefix(e.Key, "objects.") || e.Key == "leads.status_list" || e.Key == "members.list" {
			over[e.Key] = jing.Override{RatePerSecond: &rate}
		}
	}
	for k, o := range overrides {
		o.RatePerSecond = &rate
		over[k] = o
	}
	cat, err := jing.DefaultCatalog().ApplyOverrides(over)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func startSandbox(t testing.TB, seed int64, faults sandbox.Faults) *sandbox.Running {
	t.Helper()
	sb, err := sandbox.Start(sandbox.Config{Seed: seed, Persons: 200, Leads: 40, Catalog: fastCatalog(t, nil), Faults: faults},
		"127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close(context.Background()) })
	return sb
}

// newClient is a client of the sandbox at url; cat "zero" means fastCatalog.
func newClient(t testing.TB, url string, cat jing.Catalog) *jing.Client {
	t.Helper()
	if cat.IsZero() {
		cat = fastCatalog(t, nil)
	}
	c, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: url, AppID: "sandbox", AppSecret: "sandbox"},
		Catalog: cat, Logger: quiet(),
		Retry: jing.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakePlatform is a live connection the test swaps by hand.
type fakePlatform struct {
	mu       sync.Mutex
	client   *jing.Client
	name     string
	replaced chan struct{}
}

func newFakePlatform(c *jing.Client, name string) *fakePlatform {
	return &fakePlatform{client: c, name: name, replaced: make(chan struct{})}
}

func (p *fakePlatform) Current() (*jing.Client, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client, p.name
}

func (p *fakePlatform) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.replaced
}

// use replaces the client; a new name is another platform, announced as a switch.
func (p *fakePlatform) use(c *jing.Client, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.client = c
	if name != p.name {
		p.name = name
		close(p.replaced)
		p.replaced = make(chan struct{})
	}
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// rig is a Service on a temporary database, its job runner, and the
// platform it talks to.
type rig struct {
	t      testing.TB
	store  *db.Store
	runner *jobs.Runner
	svc    *Service
	plat   Platform
	clock  *testClock
	// With sandboxRig: the tenant, a client of it, and the fake platform
	// (named "sandbox") that hands the client out.
	sb     *sandbox.Running
	client *jing.Client
	fake   *fakePlatform
}

// sandboxRig is a rig on a fresh sandbox tenant (seed 1).
func sandboxRig(t testing.TB, hold bool, opts ...rigOption) *rig {
	t.Helper()
	sb := startSandbox(t, 1, sandbox.Faults{})
	client := newClient(t, sb.URL, jing.Catalog{})
	fake := newFakePlatform(client, "sandbox")
	r := newRig(t, fake, hold, opts...)
	r.sb, r.client, r.fake = sb, client, fake
	return r
}

type rigOption func(*Config)

// newRig builds the service on plat; the runner is started unless held.
func newRig(t testing.TB, plat Platform, hold bool, opts ...rigOption) *rig {
	t.Helper()
	store, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "jingdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clock := &testClock{now: time.Unix(1_800_000_000, 0)}
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
	runner := jobs.New(r.store, jobs.Config{Workers: 2, Heartbeat: 50 * time.Millisecond, Poll: time.Hour, Logger: quiet()})
	cfg := Config{Store: r.store, Platform: r.plat, Runner: runner, Logger: quiet(), Now: r.clock.Now}
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
	if err := r.runner.Start(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.runner.Stop(ctx)
	})
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

// waitJob polls job id until it is finished, failing unless it is in state.
func (r *rig) waitJob(id int64, state string) db.Job {
	r.t.Helper()
	var j db.Job
	waitFor(r.t, "job to finish", func() bool {
		var err error
		j, err = r.store.Job(context.Background(), id)
		return err == nil && !j.Active()
	})
	if j.State != state {
		errs, _ := r.store.ListJobErrors(context.Background(), id, 0)
		r.t.Fatalf("job %d ended %s (%s), want %s; item errors %+v", id, j.State, j.Error, state, errs)
	}
	return j
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(5 * time.Millisecond)
	}
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

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
