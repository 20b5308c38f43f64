package jing_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

// countingHandler counts the requests that reach the sandbox per path.
type countingHandler struct {
	next  http.Handler
	mu    sync.Mutex
	calls map[string]int
}

func (h *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.calls[r.URL.Path]++
	h.mu.Unlock()
	h.next.ServeHTTP(w, r)
}

func (h *countingHandler) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[path]
}

type rig struct {
	sb      *sandbox.Server
	baseURL string
	calls   *countingHandler
	client  *jing.Client
	clock   *testkit.OffsetClock
	tokens  *memTokens
}

type rigOption func(*sandbox.Config, *jing.Config)

// fast raises members.list's limit on both sides so tests are not paced to 10/s.
func fast(rate float64) rigOption {
	return func(sc *sandbox.Config, cc *jing.Config) {
		cat := overrideRate(rate)
		sc.Catalog, cc.Catalog = cat, cat
	}
}

func overrideRate(rate float64) jing.Catalog {
	cat, err := jing.DefaultCatalog().ApplyOverrides(map[string]jing.Override{
		"members.list": {RatePerSecond: &rate}, "sms.send": {RatePerSecond: &rate}})
	if err != nil {
		panic(err)
	}
	return cat
}

func newRig(t testing.TB, opts ...rigOption) *rig {
	clock := &testkit.OffsetClock{}
	scfg := sandbox.Config{Seed: 1, Persons: 200, Leads: 50, Now: clock.Now}
	tokens := &memTokens{}
	ccfg := jing.Config{Credentials: jing.Credentials{AppID: "sandbox", AppSecret: "sandbox"}, Now: clock.Now,
		Tokens: tokens, Logger: testkit.Quiet(),
		Retry: jing.RetryPolicy{BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond, RateLimitDelay: 20 * time.Millisecond}}
	for _, o := range opts {
		o(&scfg, &ccfg)
	}
	sb := sandbox.New(scfg)
	calls := &countingHandler{next: sb, calls: map[string]int{}}
	srv := httptest.NewServer(calls)
	t.Cleanup(srv.Close)
	ccfg.BaseURL = srv.URL
	client, err := jing.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{sb: sb, baseURL: srv.URL, calls: calls, client: client, clock: clock, tokens: tokens}
}

type memTokens struct {
	mu    sync.Mutex
	tok   jing.Token
	saves int
}

func (m *memTokens) LoadToken(context.Context) (jing.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok, nil
}

func (m *memTokens) SaveToken(_ context.Context, t jing.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tok, m.saves = t, m.saves+1
	return nil
}

type memberItem struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func listMembers(ctx context.Context, c *jing.Client) (jing.Page[memberItem], error) {
	var p jing.Page[memberItem]
	err := c.Call(ctx, "members.list", jing.PageRequest{Page: 1, PerPage: 5}, &p)
	return p, err
}

func TestFirstCallObtainsAndPersistsAToken(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	p, err := listMembers(context.Background(), r.client)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 5 || p.Meta.TotalCount != 30 || p.Meta.PageCount != 6 {
		t.Fatalf("page: %d items, meta %+v", len(p.Items), p.Meta)
	}
	if r.sb.Issued() != 1 || r.tokens.saves != 1 || r.tokens.tok.AccessToken == "" {
		t.Fatalf("issued %d, saved %d", r.sb.Issued(), r.tokens.saves)
	}
	// A new client (a restart) uses the stored token without asking again.
	again, _ := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: r.client.BaseURL(), AppID: "sandbox", AppSecret: "sandbox"},
		Tokens: r.tokens, Now: r.clock.Now})
	if _, err := listMembers(context.Background(), again); err != nil {
		t.Fatal(err)
	}
	if r.sb.Issued() != 1 {
		t.Fatalf("restart obtained a new token: issued %d", r.sb.Issued())
	}
}

func TestTokenExpiryMidRunIsInvisibleToTheCaller(t *testing.T) {
	t.Parallel()
	r := newRig(t, fast(1000))
	ctx := context.Background()
	if _, err := listMembers(ctx, r.client); err != nil {
		t.Fatal(err)
	}
	r.sb.ExpireAccessTokens() // the platform ends the token early
	if _, err := listMembers(ctx, r.client); err != nil {
		t.Fatalf("call after the token expired: %v", err)
	}
	if r.client.Renewals() != 2 {
		t.Fatalf("renewals %d, want 2 (first token, then one renewal)", r.client.Renewals())
	}
	if r.calls.count("/v1/oauth2/token/refresh") != 1 {
		t.Fatal("the renewal did not use the refresh token")
	}
}

func TestTwoHundredConcurrentCallersCauseOneRenewal(t *testing.T) {
	t.Parallel()
	r := newRig(t, fast(100000))
	ctx := context.Background()
	var wg sync.WaitGroup
	var failures atomic.Int32
	burst := func() {
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := listMembers(ctx, r.client); err != nil {
					failures.Add(1)
					t.Log(err)
				}
			}()
		}
		wg.Wait()
	}
	burst()
	if r.client.Renewals() != 1 || r.sb.Issued() != 1 {
		t.Fatalf("first burst: %d renewals, %d tokens issued", r.client.Renewals(), r.sb.Issued())
	}
	r.sb.ExpireAccessTokens()
	burst()
	if failures.Load() != 0 {
		t.Fatalf("%d callers saw an error", failures.Load())
	}
	if r.client.Renewals() != 2 || r.sb.Issued() != 2 {
		t.Fatalf("after expiry: %d renewals, %d tokens issued; want exactly one more", r.client.Renewals(), r.sb.Issued())
	}
}

func TestANewPairAfterTheRefreshTokenExpires(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	if _, err := listMembers(ctx, r.client); err != nil {
		t.Fatal(err)
	}
	r.clock.Jump(31 * 24 * time.Hour)
	if _, err := listMembers(ctx, r.client); err != nil {
		t.Fatal(err)
	}
	if r.calls.count("/v1/oauth2/token") != 2 || r.calls.count("/v1/oauth2/token/refresh") != 0 {
		t.Fatalf("token %d, refresh %d: a dead refresh token must lead to a new pair",
			r.calls.count("/v1/oauth2/token"), r.calls.count("/v1/oauth2/token/refresh"))
	}
}

func TestARateLimitStormIsPacedThrough(t *testing.T) {
	t.Parallel()
	// The client believes 200/s; the platform allows 20/s: most first tries get 20002.
	r := newRig(t, func(sc *sandbox.Config, cc *jing.Config) {
		sc.Catalog, cc.Catalog = overrideRate(20), overrideRate(200)
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	var failures atomic.Int32
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := listMembers(ctx, r.client); err != nil {
				failures.Add(1)
				t.Log(err)
			}
		}()
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d callers saw an error during a 20002 storm", failures.Load())
	}
	if n := r.calls.count("/v1/member/list"); n <= 40 {
		t.Fatalf("only %d requests: the storm never happened", n)
	}
}

func TestPacingKeepsCallsUnderTheLimit(t *testing.T) {
	t.Parallel()
	r := newRig(t, fast(40))
	ctx := context.Background()
	for i := 0; i < 60; i++ {
		if _, err := listMembers(ctx, r.client); err != nil {
			t.Fatal(err)
		}
	}
	// Paced calls never exceed the limit, so the platform never said 20002.
	if n := r.calls.count("/v1/member/list"); n != 60 {
		t.Fatalf("%d requests for 60 calls: pacing let calls exceed the limit", n)
	}
}

func TestDailyQuotaExhaustionPausesWithTheRightError(t *testing.T) {
	t.Parallel()
	r := newRig(t, fast(1000))
	r.sb.SetDailyQuota(5)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := listMembers(ctx, r.client); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	_, err := listMembers(ctx, r.client)
	perr, ok := jing.AsError(err)
	if !ok || perr.Kind != jing.KindQuota || perr.Code != jing.CodeRateLimited {
		t.Fatalf("sixth call: %v", err)
	}
	reset := perr.Until.In(time.FixedZone("CST", 8*3600))
	if reset.Hour() != 0 || reset.Minute() != 0 || !reset.After(r.clock.Now()) || reset.Sub(r.clock.Now()) > 24*time.Hour {
		t.Fatalf("quota resets at %v", reset)
	}
	before := r.calls.count("/v1/member/list")
	if _, err := listMembers(ctx, r.client); !jing.IsKind(err, jing.KindQuota) {
		t.Fatalf("seventh call: %v", err)
	}
	if r.calls.count("/v1/member/list") != before {
		t.Fatal("the client kept calling an exhausted endpoint")
	}
	if msg := render(t, perr, "zh-CN"); !contains(msg, "额度") || !contains(msg, perr.RequestID) {
		t.Fatalf("message %q", msg)
	}
	// The next platform day it works again.
	r.clock.Jump(24 * time.Hour)
	if _, err := listMembers(ctx, r.client); err != nil {
		t.Fatalf("next day: %v", err)
	}
}

func TestTheClientsOwnDailyCountStopsBeforeThePlatformDoes(t *testing.T) {
	t.Parallel()
	q := 3
	cat, _ := jing.DefaultCatalog().ApplyOverrides(map[string]jing.Override{"members.list": {DailyQuota: &q}})
	r := newRig(t, func(sc *sandbox.Config, cc *jing.Config) { cc.Catalog = cat })
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		listMembers(ctx, r.client)
	}
	if _, err := listMembers(ctx, r.client); !jing.IsKind(err, jing.KindQuota) {
		t.Fatalf("fourth call: %v", err)
	}
	if n := r.calls.count("/v1/member/list"); n != 3 {
		t.Fatalf("%d requests reached the platform, want 3", n)
	}
}

func TestTransientErrorsOnANonIdempotentCallAreNotRetried(t *testing.T) {
	t.Parallel()
	r := newRig(t, fast(1000))
	ctx := context.Background()
	if _, err := listMembers(ctx, r.client); err != nil { // get a token first
		t.Fatal(err)
	}
	r.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	err := r.client.Call(ctx, "sms.send", map[string]any{"task_id": "t1"}, nil)
	if !jing.IsKind(err, jing.KindOutcomeUnknown) {
		t.Fatalf("sms.send under 20000: %v", err)
	}
	if n := r.calls.count("/v1/sms/task/send"); n != 1 {
		t.Fatalf("a non-idempotent call was sent %d times", n)
	}
	// A read under the same fault is retried, a bounded number of times.
	err = r.client.Call(ctx, "members.list", jing.PageRequest{}, nil)
	if !jing.IsKind(err, jing.KindTransient) {
		t.Fatalf("members.list under 20000: %v", err)
	}
	if n := r.calls.count("/v1/member/list"); n != 1+4 {
		t.Fatalf("read tried %d times, want 4 (after the first successful call)", n-1)
	}
	// Half the calls failing: reads still get through.
	r.sb.SetFaults(sandbox.Faults{ErrorRate: 0.5})
	for i := 0; i < 10; i++ {
		if _, err := listMembers(ctx, r.client); err != nil && !jing.IsKind(err, jing.KindTransient) {
			t.Fatal(err)
		}
	}
}

func TestADroppedConnectionOnANonIdempotentCallIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	r := newRig(t, fast(1000))
	ctx := context.Background()
	listMembers(ctx, r.client)
	r.sb.SetFaults(sandbox.Faults{DropRate: 1})
	err := r.client.Call(ctx, "sms.send", map[string]any{"task_id": "t1"}, nil)
	if !jing.IsKind(err, jing.KindOutcomeUnknown) || r.calls.count("/v1/sms/task/send") != 1 {
		t.Fatalf("dropped sms.send: %v (sent %d times)", err, r.calls.count("/v1/sms/task/send"))
	}
	e, _ := jing.AsError(err)
	if msg := render(t, e, "en"); !contains(msg, "not known whether") {
		t.Fatalf("message %q", msg)
	}
}

func TestAWrongPathYieldsTheInvalidPathError(t *testing.T) {
	t.Parallel()
	wrong := "/v1/member/lists"
	cat, _ := jing.DefaultCatalog().ApplyOverrides(map[string]jing.Override{"members.list": {Path: &wrong}})
	r := newRig(t, func(sc *sandbox.Config, cc *jing.Config) { cc.Catalog = cat })
	err := r.client.Call(context.Background(), "members.list", jing.PageRequest{}, nil)
	perr, ok := jing.AsError(err)
	if !ok || perr.Kind != jing.KindInvalidPath || perr.Code != jing.CodeInvalidParameter || perr.RequestID == "" {
		t.Fatalf("wrong path: %v", err)
	}
}

func TestWrongCredentialsAreAnAuthErrorWithoutRetrying(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(sc *sandbox.Config, cc *jing.Config) { cc.AppSecret = "not-the-secret" })
	err := r.client.Call(context.Background(), "members.list", jing.PageRequest{}, nil)
	if !jing.IsKind(err, jing.KindAuth) {
		t.Fatalf("wrong secret: %v", err)
	}
	if n := r.calls.count("/v1/oauth2/token"); n != 1 {
		t.Fatalf("token asked %d times", n)
	}
}

func TestADisabledEntryIsNotCalled(t *testing.T) {
	t.Parallel()
	off := true
	cat, _ := jing.DefaultCatalog().ApplyOverrides(map[string]jing.Override{"members.list": {Disabled: &off}})
	r := newRig(t, func(sc *sandbox.Config, cc *jing.Config) { cc.Catalog = cat })
	if err := r.client.Call(context.Background(), "members.list", jing.PageRequest{}, nil); !jing.IsKind(err, jing.KindDisabled) {
		t.Fatalf("disabled: %v", err)
	}
	if r.calls.count("/v1/member/list") != 0 {
		t.Fatal("a disabled endpoint was called")
	}
}

func TestWritesGoThroughTheAuditHook(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var records []jing.WriteRecord
	r := newRig(t, fast(1000), func(sc *sandbox.Config, cc *jing.Config) {
		cc.Audit = func(_ context.Context, w jing.WriteRecord) { mu.Lock(); records = append(records, w); mu.Unlock() }
	})
	ctx := jing.WithActor(context.Background(), "mia")
	listMembers(ctx, r.client) // a read: not audited
	r.client.Call(ctx, "sms.send", map[string]any{"task_id": "none"}, nil)
	mu.Lock()
	defer mu.Unlock()
	if len(records) != 1 || records[0].Endpoint != "sms.send" || records[0].Actor != "mia" || records[0].RequestID == "" {
		t.Fatalf("audit records: %+v", records)
	}
}

func TestPagesWalksEveryItem(t *testing.T) {
	t.Parallel()
	r := newRig(t, fast(1000))
	seen := map[int]bool{}
	for m, err := range jing.Pages[memberItem](context.Background(), r.client, "members.list",
		func(p jing.PageRequest) any { return p }) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[m.ID] {
			t.Fatalf("member %d twice", m.ID)
		}
		seen[m.ID] = true
	}
	if len(seen) != 30 {
		t.Fatalf("walked %d members, want 30", len(seen))
	}
}

func TestStatsCountCallsAndErrors(t *testing.T) {
	t.Parallel()
	r := newRig(t, fast(1000))
	ctx := context.Background()
	listMembers(ctx, r.client)
	listMembers(ctx, r.client)
	r.client.Call(ctx, "members.list", map[string]any{"perPage": 1000}, nil)
	for _, s := range r.client.Stats(ctx) {
		if s.Endpoint.Key != "members.list" {
			continue
		}
		if s.Calls != 3 || s.Errors != 1 || s.CallsToday != 3 || s.LastError == "" || s.LastRequestID == "" {
			t.Fatalf("stats %+v", s)
		}
		return
	}
	t.Fatal("no stats for members.list")
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// ctxTokens refuses to save with a cancelled context, as a SQLite store does.
type ctxTokens struct{ memTokens }

func (c *ctxTokens) SaveToken(ctx context.Context, t jing.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.memTokens.SaveToken(ctx, t)
}

func TestTheRenewedTokenIsSavedWithALiveContext(t *testing.T) {
	t.Parallel()
	store := &ctxTokens{}
	r := newRig(t, func(sc *sandbox.Config, cc *jing.Config) { cc.Tokens = store })
	if _, err := listMembers(context.Background(), r.client); err != nil {
		t.Fatal(err)
	}
	if store.saves != 1 || store.tok.AccessToken == "" {
		t.Fatalf("token not persisted: %d saves", store.saves)
	}
}

func TestCallsAreLoggedWithoutSecretsOrBodies(t *testing.T) {
	t.Parallel()
	var buf syncBuf
	r := newRig(t, fast(1000), func(sc *sandbox.Config, cc *jing.Config) {
		cc.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	listMembers(ctx, r.client)
	r.client.Call(ctx, "members.list", map[string]any{"perPage": 1000, "note": "13800138000"}, nil)
	out := buf.String()
	for _, want := range []string{"endpoint=members.list", "code=0", "code=40002", "request_id=", "duration_ms="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"sandbox\n", r.tokens.tok.AccessToken, r.tokens.tok.RefreshToken, "13800138000", "app_secret"} {
		if secret != "" && strings.Contains(out, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A check of the platform announces its calls: with WithSingleAttempt
// each request is sent once, a transient failure or a rate limit returned
// at once. EnsureToken obtains a token only when none is held.
func TestASingleAttemptIsSentOnceAndATokenOnlyWhenNeeded(t *testing.T) {
	t.Parallel()
	r := newRig(t, fast(1000))
	ctx := context.Background()
	renewed, err := r.client.EnsureToken(ctx)
	if err != nil || !renewed {
		t.Fatalf("first token: renewed %v, %v", renewed, err)
	}
	if renewed, err := r.client.EnsureToken(ctx); err != nil || renewed || r.sb.Issued() != 1 {
		t.Fatalf("a valid token renewed again: %v %v, %d issued", renewed, err, r.sb.Issued())
	}
	once := jing.WithSingleAttempt(ctx)
	r.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	if err := r.client.Call(once, "members.list", jing.PageRequest{}, nil); !jing.IsKind(err, jing.KindTransient) {
		t.Fatalf("members.list under 20000: %v", err)
	}
	r.sb.SetFaults(sandbox.Faults{RateLimitRate: 1})
	if err := r.client.Call(once, "members.list", jing.PageRequest{}, nil); !jing.IsKind(err, jing.KindRateLimited) {
		t.Fatalf("members.list under 20002: %v", err)
	}
	if n := r.calls.count("/v1/member/list"); n != 2 {
		t.Fatalf("members.list sent %d times, want once per call", n)
	}
}
