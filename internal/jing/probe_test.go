package jing_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

// clientCatalog gives the client (not the sandbox) a corrected catalog, as
// an operator's catalog.json would.
func probeCatalog(t testing.TB, o map[string]jing.Override) rigOption {
	cat, err := jing.DefaultCatalog().ApplyOverrides(o)
	if err != nil {
		t.Fatal(err)
	}
	return func(_ *sandbox.Config, cc *jing.Config) { cc.Catalog = cat }
}

// countAudits counts audit hook calls.
func probeAudits(n *atomic.Int32) rigOption {
	return func(_ *sandbox.Config, cc *jing.Config) {
		cc.Audit = func(context.Context, jing.WriteRecord) { n.Add(1) }
	}
}

func TestProbeFindsTheMethodsTheSandboxServes(t *testing.T) {
	t.Parallel()
	var audits atomic.Int32
	r := newRig(t, probeAudits(&audits))
	ctx := context.Background()
	for _, key := range []string{"oauth.token", "oauth.refresh", "members.list"} {
		res := r.client.Probe(ctx, key)
		if res.Status != jing.ProbeReachable || res.Err != nil {
			t.Errorf("%s: %s (code %d %q, %v), want reachable", key, res.Status, res.Code, res.Msg, res.Err)
		}
	}
	// The OAuth probes carried no credentials: the one token issued is the
	// one the members.list probe needed.
	if r.sb.Issued() != 1 {
		t.Fatalf("%d tokens issued, want 1", r.sb.Issued())
	}
	// The sandbox serves the whole catalog, and knows every method from its
	// empty body; a write's probe is never audited, as it did nothing.
	for _, e := range r.client.Catalog().All() {
		res := r.client.Probe(ctx, e.Key)
		if res.Status != jing.ProbeReachable {
			t.Errorf("%s: %s (code %d %q, %v)", e.Key, res.Status, res.Code, res.Msg, res.Err)
		}
		if e.Write && res.Code == jing.CodeOK {
			t.Errorf("%s: the probe of a write succeeded, so it acted", e.Key)
		}
	}
	if audits.Load() != 0 {
		t.Fatalf("probes went through the audit hook %d times", audits.Load())
	}
	for _, st := range r.client.Stats(ctx) {
		if st.Endpoint.Key == "members.list" && (st.Calls != 0 || st.CallsToday == 0) {
			t.Fatalf("members.list: %d calls in the stats (want 0), %d today in the usage count (want > 0)", st.Calls, st.CallsToday)
		}
	}
}

func TestProbeReportsAWrongPath(t *testing.T) {
	t.Parallel()
	r := newRig(t, probeCatalog(t, map[string]jing.Override{"members.list": {Path: probePtr("/v1/member/query")}}))
	res := r.client.Probe(context.Background(), "members.list")
	if res.Status != jing.ProbePathNotFound || res.Code != jing.CodeInvalidParameter || res.RequestID == "" {
		t.Fatalf("wrong path: %+v", res)
	}
	if !jing.IsKind(res.Err, jing.KindInvalidPath) {
		t.Fatalf("error %v, want an invalid path *Error", res.Err)
	}
}

func TestProbeWithAWrongSecretIsAnAuthFailure(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(_ *sandbox.Config, cc *jing.Config) { cc.AppSecret = "wrong" })
	res := r.client.Probe(context.Background(), "members.list")
	if res.Status != jing.ProbeAuthFailed || !jing.IsKind(res.Err, jing.KindAuth) {
		t.Fatalf("wrong secret: %+v", res)
	}
	if r.calls.count("/v1/member/list") != 0 {
		t.Fatal("the method was called without a token")
	}
}

func TestProbeIsNotRetried(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	if res := r.client.Probe(ctx, "members.list"); res.Status != jing.ProbeReachable {
		t.Fatalf("before faults: %s", res.Status)
	}
	r.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	res := r.client.Probe(ctx, "members.list")
	if res.Status != jing.ProbeUnavailable || !jing.IsKind(res.Err, jing.KindTransient) {
		t.Fatalf("failing platform: %+v", res)
	}
	if n := r.calls.count("/v1/member/list"); n != 2 {
		t.Fatalf("members.list reached the platform %d times, want 2 (one per probe)", n)
	}
}

func TestProbeSkipsADisabledEntry(t *testing.T) {
	t.Parallel()
	r := newRig(t, probeCatalog(t, map[string]jing.Override{"members.list": {Disabled: probePtr(true)}}))
	res := r.client.Probe(context.Background(), "members.list")
	if res.Status != jing.ProbeDisabled || r.calls.count("/v1/member/list") != 0 || r.sb.Issued() != 0 {
		t.Fatalf("disabled entry: %+v, %d calls", res, r.calls.count("/v1/member/list"))
	}
}

func TestProbeOfAnUnreachablePlatformIsUnavailable(t *testing.T) {
	t.Parallel()
	dead, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: "http://127.0.0.1:1", AppID: "sandbox", AppSecret: "sandbox"},
		Retry: jing.RetryPolicy{MaxAttempts: 1}, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if res := dead.Probe(context.Background(), "oauth.token"); res.Status != jing.ProbeUnavailable || res.Err == nil {
		t.Fatalf("nothing listening: %+v", res)
	}
}

func probePtr[T any](v T) *T { return &v }
