package web

import (
	"context"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// crowdsRig is a server with the crowds service on the embedded sandbox
// (200 persons, the demo crowds), unpaced, with a running jobs runner.
type crowdsRig struct {
	t      testing.TB
	h      *harness
	svc    *crowds.Service
	runner *jobs.Runner
	plat   *platform.Manager
}

// withCrowds wires the crowds service into the harness being built; opts
// change its configuration.
func withCrowds(t testing.TB, rig *crowdsRig, opts ...func(*crowds.Config)) harnessOption {
	return withCrowdsRunner(t, rig, true, opts...)
}

// withCrowdsRunner is withCrowds with the runner started or not (a test
// that must see a job queued starts it itself: rig.startRunner).
func withCrowdsRunner(t testing.TB, rig *crowdsRig, start bool, opts ...func(*crowds.Config)) harnessOption {
	return withCrowdsOn(t, rig, start, nil, opts...)
}

// withCrowdsOn is withCrowdsRunner on a platform whose configuration
// edits change further (a sandbox's send speed, say).
func withCrowdsOn(t testing.TB, rig *crowdsRig, start bool, edits []func(*platform.Config), opts ...func(*crowds.Config)) harnessOption {
	return func(d *Deps) {
		unpacedCatalog := func(c *platform.Config) { c.Catalog = unpaced(t) }
		withPlatform(t, nil, append([]func(*platform.Config){unpacedCatalog}, edits...)...)(d)
		runner := jobs.New(d.Store, jobs.Config{Logger: d.Logger, Heartbeat: 50 * time.Millisecond, Poll: 50 * time.Millisecond})
		cfg := crowds.Config{Store: d.Store, Platform: d.Platform, Runner: runner, DataDir: t.TempDir(),
			Logger: d.Logger, Now: d.Now, RetryDelay: time.Millisecond}
		for _, o := range opts {
			o(&cfg)
		}
		svc, err := crowds.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		*rig = crowdsRig{t: t, svc: svc, runner: runner, plat: d.Platform}
		d.Crowds, d.Jobs = svc, runner
		if start {
			rig.startRunner()
		}
	}
}

// startRunner starts the rig's jobs runner (stopped when the test ends).
func (r *crowdsRig) startRunner() {
	r.t.Helper()
	runner := r.runner
	if err := runner.Start(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		runner.Stop(ctx)
	})
}

// newCrowdsHarness is a server with the crowd list synced from the sandbox.
func newCrowdsHarness(t testing.TB) (*harness, *crowdsRig) {
	t.Helper()
	var rig crowdsRig
	h := newHarness(t, withCrowds(t, &rig))
	rig.h = h
	rig.sync()
	return h, &rig
}

// sandbox is the embedded platform: its persons and crowds, faults.
func (r *crowdsRig) sandbox() *sandbox.Running { return r.plat.SandboxServer() }

// sync refreshes the local crowd list and waits for it.
func (r *crowdsRig) sync() {
	r.t.Helper()
	id, err := r.svc.RequestSync(context.Background(), 0)
	if err != nil {
		r.t.Fatal(err)
	}
	r.waitJob(id)
}

// waitJob waits for job id to end, failing unless it ended done.
func (r *crowdsRig) waitJob(id int64) db.Job {
	return fixture.WaitJobState(r.t, r.h.store, id, db.JobDone)
}
