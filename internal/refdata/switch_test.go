package refdata

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// openManager connects a platform.Manager on the rig's database: the
// embedded sandbox, as a console without credentials does.
func openManager(t *testing.T, store *db.Store) *platform.Manager {
	t.Helper()
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, 32))
	testkit.Must(t, err)
	m, err := platform.Open(context.Background(), platform.Config{Store: store, Box: box, Catalog: fastCatalog(t, nil),
		Sandbox: platform.SandboxOptions{Seed: 1, Persons: 200, Leads: 40}, Logger: testkit.Quiet(),
		Tune: func(c *jing.Config) {
			c.Retry = jing.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
		}})
	testkit.Must(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

func TestAConnectionSwitchHidesTheOldPlatformsDataAndRefreshesAtOnce(t *testing.T) {
	t.Parallel()
	store := fixture.Store(t)
	m := openManager(t, store)
	r := &rig{t: t, store: store, plat: m, clock: testkit.NewClock(time.Unix(1_800_000_000, 0))}
	store.SetClock(r.clock.Now)
	r.runner, r.svc = r.service()
	r.startRunner()
	ctx := context.Background()
	testkit.Must(t, r.svc.Start(ctx))
	id, ok, err := r.svc.ActiveRefresh(ctx)
	if !ok || err != nil {
		t.Fatalf("no refresh at the first start (%v)", err)
	}
	r.waitJob(id, db.JobDone)
	sandboxConn := m.Connection()
	oldBT := r.svc.Resolver().DefaultBusinessType(jing.ObjectLead)
	if name := r.svc.Resolver().BusinessType("zh-CN", jing.ObjectLead, oldBT); name != "预设业务类型" {
		t.Fatalf("sandbox business type %q", name)
	}

	// An administrator enters a real platform's credentials. The platform
	// holds its answers until the test lets them through, so the state
	// before its first refresh can be seen.
	real := sandbox.New(sandbox.Config{AppID: "app2", AppSecret: "s2", Seed: 2, Persons: 200, Leads: 40, Catalog: fastCatalog(t, nil)})
	gate := make(chan struct{})
	var open sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		<-gate
		real.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { open.Do(func() { close(gate) }) }) // runs first: held calls return before the server closes
	_, err = m.Save(ctx, platform.SettingsInput{BaseURL: srv.URL, AppID: "app2", AppSecret: "s2"})
	testkit.Must(t, err)
	if m.Connection() == sandboxConn {
		t.Fatal("the connection did not change")
	}
	testkit.WaitFor(t, "the index to follow the switch", func() bool { return r.svc.Resolver().Connection() == m.Connection() })
	sets := r.sets()
	for key, s := range sets {
		if !s.FetchedAt.IsZero() || s.Count != 0 || len(r.items(key)) != 0 {
			t.Errorf("%s shows the old platform's data: %+v", key, s)
		}
	}
	if len(sets) != 3 {
		t.Errorf("%d sets before the new platform's first refresh, want the three fixed ones", len(sets))
	}
	if got := r.svc.Resolver().BusinessType("zh-CN", jing.ObjectLead, oldBT); got != Unknown("zh-CN", oldBT) {
		t.Errorf("the old platform's business type still resolves: %q", got)
	}
	id, ok, err = r.svc.ActiveRefresh(ctx)
	if !ok || err != nil {
		t.Fatalf("the switch started no refresh (%v)", err)
	}
	open.Do(func() { close(gate) })
	r.waitJob(id, db.JobDone)
	newBT := r.svc.Resolver().DefaultBusinessType(jing.ObjectLead)
	if newBT == "" || newBT == oldBT || r.sets()["members"].Count != 30 {
		t.Fatalf("after the new platform's refresh: business type %q, sets %+v", newBT, r.sets())
	}
	if old, _ := store.RefSets(ctx, sandboxConn); len(old) == 0 {
		t.Fatal("the sandbox's copy was dropped; it is only hidden while another platform is live")
	}
}
