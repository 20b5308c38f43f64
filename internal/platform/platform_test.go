package platform

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

func newBox(t *testing.T) *secret.Box {
	t.Helper()
	b, err := secret.NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startPlatform runs a sandbox standing in for a real platform, with its own credentials.
func startPlatform(t *testing.T, appID, appSecret string) *sandbox.Running {
	t.Helper()
	return fixture.Sandbox(t, sandbox.Config{AppID: appID, AppSecret: appSecret, Seed: 2, Persons: 200, Leads: 40})
}

// open builds a Manager with a small embedded sandbox and quick retries.
func open(t *testing.T, store *db.Store, box *secret.Box, edit ...func(*Config)) *Manager {
	t.Helper()
	cfg := Config{Store: store, Box: box, Logger: testkit.Quiet(), Sandbox: SandboxOptions{Seed: 1, Persons: 200, Leads: 40},
		Tune: func(c *jing.Config) {
			c.Retry = jing.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
		}}
	for _, e := range edit {
		e(&cfg)
	}
	m, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func listMembers(ctx context.Context, c *jing.Client) (jing.Page[json.RawMessage], error) {
	var p jing.Page[json.RawMessage]
	err := c.Call(ctx, "members.list", jing.PageRequest{Page: 1, PerPage: 2}, &p)
	return p, err
}

func TestTheTokenRowHoldsNoPlaintextToken(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	pf := startPlatform(t, "app-1", "secret-1")
	m := open(t, store, box)
	ctx := context.Background()
	if _, err := m.Save(ctx, SettingsInput{BaseURL: pf.URL, AppID: "app-1", AppSecret: "secret-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := listMembers(ctx, m.Client()); err != nil {
		t.Fatal(err)
	}
	tok, err := (&tokenStore{store: store, box: box, scope: pf.URL + " app-1"}).LoadToken(ctx)
	if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("stored token: %+v %v", tok, err)
	}
	raw, err := sql.Open("sqlite", "file:"+store.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var access, refresh string
	var expires int64
	if err := raw.QueryRow(`SELECT access_token, refresh_token, expires_at FROM platform_token`).Scan(&access, &refresh, &expires); err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{tok.AccessToken, tok.RefreshToken} {
		if strings.Contains(access, plain) || strings.Contains(refresh, plain) {
			t.Fatal("a token is stored in clear")
		}
	}
	if opened, _ := box.Open(access); opened != tok.AccessToken {
		t.Fatal("the stored access token does not open to the token in use")
	}
	if until := time.Until(time.Unix(expires, 0)); until < time.Hour || until > 2*time.Hour {
		t.Fatalf("stored expiry %v from now, want the sandbox's ~75 minutes", until)
	}
}

func TestTheTokenSurvivesARestart(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	pf := startPlatform(t, "app-2", "secret-2")
	ctx := context.Background()
	first := open(t, store, box)
	first.Save(ctx, SettingsInput{BaseURL: pf.URL, AppID: "app-2", AppSecret: "secret-2"})
	if _, err := listMembers(ctx, first.Client()); err != nil {
		t.Fatal(err)
	}
	first.Close()
	if pf.Issued() != 1 {
		t.Fatalf("%d tokens issued, want 1", pf.Issued())
	}
	// A new manager on the same database: the console restarted.
	second := open(t, store, box)
	if second.Sandbox() {
		t.Fatal("the stored credentials were not used after the restart")
	}
	if _, err := listMembers(ctx, second.Client()); err != nil {
		t.Fatal(err)
	}
	if pf.Issued() != 1 {
		t.Fatalf("the restart obtained a new token: %d issued", pf.Issued())
	}
}

// fakePlatform answers every call with success and a known request id
// (and the fields the client reads: a token, a lead's id, an empty list).
func fakePlatform(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data := map[string]any{"jing_uuid": "NNMb4EHH4rMuvKknapkerW", "items": []any{}}
		if strings.HasPrefix(r.URL.Path, "/v1/oauth2/") {
			data = map[string]any{"access_token": "fake-access", "refresh_token": "fake-refresh", "expires_in": 4500}
		}
		json.NewEncoder(w).Encode(map[string]any{"code": 0, "msg": "success", "request_id": "rid-" + strings.ReplaceAll(r.URL.Path, "/", "-"), "data": data})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTheAuditHookRecordsWritesWithThePlatformsRequestID(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	srv := fakePlatform(t)
	m := open(t, store, box, func(c *Config) { c.Overrides = Overrides{BaseURL: srv.URL, AppID: "a", AppSecret: "s"} })
	ctx := jing.WithActor(context.Background(), "mia")
	if err := m.Client().Call(ctx, "leads.create", map[string]string{"name": "王芳"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := listMembers(ctx, m.Client()); err != nil { // a read: not audited
		t.Fatal(err)
	}
	entries, _ := store.ListAudit(context.Background(), db.AuditFilter{Action: "platform."})
	if len(entries) != 1 {
		t.Fatalf("%d platform audit entries, want 1 (the write only): %+v", len(entries), entries)
	}
	e := entries[0]
	if e.Action != "platform.leads.create" || e.Username != "mia" || e.Outcome != db.OutcomeOK || e.RequestID != "rid--v1-leads-create" {
		t.Fatalf("audit entry %+v", e)
	}
}

func TestAFailedWriteIsAuditedAsFailed(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	m := open(t, store, box)
	// An empty body: the platform refuses it, and says so with a request id.
	err := m.Client().Call(jing.WithActor(context.Background(), "li"), "leads.create", map[string]string{}, nil)
	perr, ok := jing.AsError(err)
	if !ok || perr.RequestID == "" {
		t.Fatalf("want a platform refusal with a request id, got %v", err)
	}
	entries, _ := store.ListAudit(context.Background(), db.AuditFilter{Action: "platform.leads.create"})
	if len(entries) != 1 || entries[0].Outcome != db.OutcomeFailed || entries[0].RequestID != perr.RequestID ||
		entries[0].Username != "li" || !strings.Contains(entries[0].Summary, "failed") {
		t.Fatalf("audit entries %+v", entries)
	}
}

func TestSavingCredentialsSwitchesAtOnceAndClearingReturnsToTheSandbox(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	m := open(t, store, box)
	ctx := context.Background()
	embedded := m.SandboxServer()
	if !m.Sandbox() || embedded == nil {
		t.Fatal("no credentials: the embedded sandbox should be in use")
	}
	if _, err := listMembers(ctx, m.Client()); err != nil {
		t.Fatalf("the embedded sandbox does not answer: %v", err)
	}
	pf := startPlatform(t, "live", "live-secret")
	changes, err := m.Save(ctx, SettingsInput{BaseURL: pf.URL + "/", AppID: "live", AppSecret: "live-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Sandbox() || m.Client().BaseURL() != pf.URL || len(changes) != 3 {
		t.Fatalf("after saving: sandbox %v, base %s, changes %v", m.Sandbox(), m.Client().BaseURL(), changes)
	}
	if strings.Contains(fmt.Sprint(changes), "live-secret") {
		t.Fatal("the change summary names the secret")
	}
	if _, err := listMembers(ctx, m.Client()); err != nil || pf.Issued() != 1 {
		t.Fatalf("call to the configured platform: %v (issued %d)", err, pf.Issued())
	}
	if _, err := http.Get(embedded.URL); err == nil {
		t.Fatal("the embedded sandbox still listens after switching away")
	}
	// Saving again without a secret keeps the stored one.
	if _, err := m.Save(ctx, SettingsInput{BaseURL: pf.URL, AppID: "live"}); err != nil || m.Sandbox() {
		t.Fatalf("save without a secret: %v, sandbox %v", err, m.Sandbox())
	}
	cleared, err := m.ClearSecret(ctx)
	if err != nil || !cleared || !m.Sandbox() {
		t.Fatalf("clear: %v %v, sandbox %v", cleared, err, m.Sandbox())
	}
	st, _ := m.Status(ctx)
	if !st.Sandbox || !st.Incomplete || st.Stored.SecretSet || st.Stored.AppID != "live" {
		t.Fatalf("status after clearing: %+v", st)
	}
	if _, err := listMembers(ctx, m.Client()); err != nil {
		t.Fatalf("the new embedded sandbox does not answer: %v", err)
	}
}

func TestOverridesWinAndAreLocked(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	pf := startPlatform(t, "env-app", "env-secret")
	m := open(t, store, box, func(c *Config) {
		c.Overrides = Overrides{BaseURL: pf.URL, AppID: "env-app", AppSecret: "env-secret"}
	})
	ctx := context.Background()
	if m.Sandbox() {
		t.Fatal("overrides alone should connect to the platform")
	}
	changes, err := m.Save(ctx, SettingsInput{BaseURL: "http://127.0.0.1:1", AppID: "other", AppSecret: "other"})
	if err != nil || len(changes) != 0 {
		t.Fatalf("locked fields changed: %v %v", changes, err)
	}
	st, _ := m.Status(ctx)
	if !st.Locked.BaseURL || !st.Locked.AppID || !st.Locked.AppSecret || st.LockedAppID != "env-app" || st.BaseURL != pf.URL {
		t.Fatalf("status %+v", st)
	}
	if _, err := listMembers(ctx, m.Client()); err != nil {
		t.Fatal(err)
	}
}

func TestASecretSealedWithAnotherKeyIsReportedAndTheSandboxUsed(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	other, _ := secret.NewBox(bytes.Repeat([]byte{9}, 32))
	sealed, _ := other.Seal("lost")
	ctx := context.Background()
	store.SetSetting(ctx, keyAppID, "app")
	store.SetSetting(ctx, keyAppSecret, sealed)
	m := open(t, store, box)
	st, err := m.Status(ctx)
	if err != nil || !st.Sandbox || !st.SecretUnreadable || !st.Stored.SecretSet {
		t.Fatalf("status %+v %v", st, err)
	}
}

func TestTheSecretIsStoredSealed(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	m := open(t, store, box)
	ctx := context.Background()
	pf := startPlatform(t, "x", "the-secret-value")
	m.Save(ctx, SettingsInput{BaseURL: pf.URL, AppID: "x", AppSecret: "the-secret-value"})
	v, err := store.Setting(ctx, keyAppSecret)
	if err != nil || strings.Contains(v, "the-secret-value") {
		t.Fatalf("stored secret %q %v", v, err)
	}
	if plain, _ := box.Open(v); plain != "the-secret-value" {
		t.Fatal("the stored secret does not open to what was saved")
	}
}

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func TestTheLogsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	logs := &lockedBuffer{}
	pf := startPlatform(t, "log-app", "log-secret-9f2")
	m := open(t, store, box, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	m.Save(ctx, SettingsInput{BaseURL: pf.URL, AppID: "log-app", AppSecret: "log-secret-9f2"})
	if _, err := m.TestConnection(ctx); err != nil {
		t.Fatal(err)
	}
	m.CheckEndpoints(ctx)
	m.Save(ctx, SettingsInput{BaseURL: pf.URL, AppID: "log-app", AppSecret: "wrong-secret-4c1"})
	if _, err := m.TestConnection(ctx); err == nil {
		t.Fatal("a wrong secret passed the connection test")
	}
	tok, _ := (&tokenStore{store: store, box: box, scope: pf.URL + " log-app"}).LoadToken(ctx)
	out := logs.String()
	if !strings.Contains(out, "platform call") {
		t.Fatalf("no debug call log written:\n%s", out)
	}
	for _, s := range []string{"log-secret-9f2", "wrong-secret-4c1", tok.AccessToken, tok.RefreshToken} {
		if s != "" && strings.Contains(out, s) {
			t.Fatalf("a secret reached the log: %q\n%s", s, out)
		}
	}
}

func TestCheckEndpointsCoversTheCatalogInOrder(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	wrong := "/v1/member/query"
	cat, err := jing.DefaultCatalog().ApplyOverrides(map[string]jing.Override{"members.list": {Path: &wrong}})
	if err != nil {
		t.Fatal(err)
	}
	pf := startPlatform(t, "chk", "chk-secret")
	m := open(t, store, box, func(c *Config) {
		c.Catalog = cat
		c.Overrides = Overrides{BaseURL: pf.URL, AppID: "chk", AppSecret: "chk-secret"}
	})
	results := m.CheckEndpoints(context.Background())
	all := cat.All()
	if len(results) != len(all) {
		t.Fatalf("%d results for %d entries", len(results), len(all))
	}
	for i, r := range results {
		if r.Endpoint.Key != all[i].Key {
			t.Fatalf("result %d is %s, want %s", i, r.Endpoint.Key, all[i].Key)
		}
		want := jing.ProbeStatus("")
		switch r.Endpoint.Key {
		case "members.list":
			want = jing.ProbePathNotFound
		case "oauth.token", "oauth.refresh":
			want = jing.ProbeReachable
		}
		if want != "" && r.Status != want {
			t.Errorf("%s: %s, want %s", r.Endpoint.Key, r.Status, want)
		}
	}
	if diff := m.Overridden(); len(diff) != 1 || diff["members.list"][0] != "path" {
		t.Fatalf("overridden entries %v", diff)
	}
}

func TestUsageIsCountedInTheDatabase(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	m := open(t, store, box)
	ctx := context.Background()
	for range 3 {
		if _, err := listMembers(ctx, m.Client()); err != nil {
			t.Fatal(err)
		}
	}
	day, err := store.PlatformCallsOn(ctx, jing.QuotaDay(time.Now()))
	if err != nil || day["members.list"] != 3 || day["oauth.token"] != 1 {
		t.Fatalf("usage today %v %v", day, err)
	}
	for _, s := range m.Stats(ctx) {
		if s.Endpoint.Key == "members.list" && s.CallsToday != 3 {
			t.Fatalf("stats show %d calls today", s.CallsToday)
		}
	}
}

func TestTheConnectionNamesThePlatformAndAnnouncesASwitch(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	m := open(t, store, box)
	ctx := context.Background()
	if m.Connection() != "embedded sandbox" {
		t.Fatalf("sandbox connection %q: it must not depend on the sandbox's port", m.Connection())
	}
	changed := m.Changed()
	pf := startPlatform(t, "live", "live-secret")
	if _, err := m.Save(ctx, SettingsInput{BaseURL: pf.URL, AppID: "live", AppSecret: "live-secret"}); err != nil {
		t.Fatal(err)
	}
	client, name := m.Current()
	if !testkit.Closed(changed) || name != pf.URL+" live" || client != m.Client() || m.Connection() != name {
		t.Fatalf("after the switch: announced %v, connection %q", testkit.Closed(changed), name)
	}
	// A new secret for the same app_id: a new client, the same platform.
	changed = m.Changed()
	if _, err := m.Save(ctx, SettingsInput{BaseURL: pf.URL, AppID: "live", AppSecret: "rotated"}); err != nil {
		t.Fatal(err)
	}
	if !testkit.Closed(changed) || m.Connection() != name {
		t.Fatalf("after a new secret: announced %v, connection %q", testkit.Closed(changed), m.Connection())
	}
	// Settings that change nothing replace nothing.
	changed = m.Changed()
	if err := m.Reload(ctx); err != nil || testkit.Closed(changed) {
		t.Fatalf("a reload without changes announced a switch (%v)", err)
	}
}
