package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/auth"
	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/scores"
	"github.com/jingdesk/jingdesk/internal/sends"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
	"github.com/jingdesk/jingdesk/internal/webhooks"
)

// harness is a real server on a temporary SQLite file, driven through
// httptest with a cookie jar per simulated browser.
type harness struct {
	t     testing.TB
	srv   *Server
	store *db.Store
	clock *testClock
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

type harnessOption func(*Deps)

func withSetupToken(tok string) harnessOption { return func(d *Deps) { d.SetupToken = tok } }

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	auth.SetCostForTests()
	store := fixture.Store(t)
	clock := &testClock{now: time.Unix(1_790_000_000, 0)}
	store.SetClock(clock.Now)
	zone, _ := time.LoadLocation("Asia/Shanghai")
	catalog, err := i18n.NewCatalog(zone)
	if err != nil {
		t.Fatal(err)
	}
	failOnMissingTranslations(t, catalog)
	d := Deps{
		Store:           store,
		Catalog:         catalog,
		Logger:          testkit.Quiet(),
		SessionHashKey:  []byte(strings.Repeat("h", 64)),
		SessionBlockKey: []byte(strings.Repeat("b", 32)),
		Version:         "test",
		Now:             clock.Now,
	}
	for _, o := range opts {
		o(&d)
	}
	withRequiredServices(t, &d)
	srv, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv.Throttle().Now = clock.Now
	return &harness{t: t, srv: srv, store: store, clock: clock}
}

// withRequiredServices gives the server, after the test's options, the
// services web.New requires that the test did not give: real ones on the
// harness's store, idle (a small embedded sandbox behind the platform
// manager, a job runner never started, reference data as stored, a
// webhook service whose worker does not run, leads, scores and crowds
// services on a runner never started, a sends service that follows
// nothing). A test that uses one of them gives its own through an option
// (withPlatform, withJobs, withCrowds, …).
func withRequiredServices(t testing.TB, d *Deps) {
	t.Helper()
	if d.Platform == nil {
		withPlatform(t, nil)(d)
	}
	if d.Jobs == nil {
		d.Jobs = jobs.New(d.Store, jobs.Config{Logger: d.Logger})
	}
	if d.Reference == nil {
		ref, err := refdata.New(context.Background(), refdata.Config{Store: d.Store, Platform: d.Platform,
			Runner: jobs.New(d.Store, jobs.Config{Logger: d.Logger}), Logger: d.Logger, Now: d.Now})
		if err != nil {
			t.Fatal(err)
		}
		d.Reference = ref
	}
	if d.Webhooks == nil {
		var hooks *webhooks.Service
		withWebhooks(t, &hooks)(d)
	}
	idle := jobs.New(d.Store, jobs.Config{Logger: d.Logger}) // never started
	if d.Leads == nil {
		d.Leads = built[*leads.Service](t)(leads.New(leads.Config{Store: d.Store, Platform: d.Platform, Runner: idle, Logger: d.Logger, Now: d.Now}))
	}
	if d.LeadExports == nil {
		withLeadExports(t, idle, 0)(d)
	}
	if d.Crowds == nil {
		d.Crowds = built[*crowds.Service](t)(crowds.New(crowds.Config{Store: d.Store, Platform: d.Platform, Runner: idle,
			DataDir: t.TempDir(), Logger: d.Logger, Now: d.Now}))
	}
	if d.Scores == nil {
		d.Scores = built[*scores.Service](t)(scores.New(scores.Config{Store: d.Store, Platform: d.Platform, Crowds: d.Crowds,
			Runner: idle, Logger: d.Logger, Now: d.Now}))
	}
	if d.Sends == nil {
		d.Sends = built[*sends.Service](t)(sends.New(sends.Config{Store: d.Store, Platform: d.Platform, Logger: d.Logger, Now: d.Now}))
	}
}

// built returns what a constructor built, failing the test on its error.
func built[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// failOnMissingTranslations makes any untranslated id rendered during the
// test a failure (collected under a lock: a browser test's server goroutines
// may render after the handler returned).
func failOnMissingTranslations(t testing.TB, catalog *i18n.Catalog) {
	var mu sync.Mutex
	missing := map[string]bool{}
	catalog.OnMissing(func(lang, id string) {
		mu.Lock()
		missing[lang+": "+id] = true
		mu.Unlock()
	})
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for m := range missing {
			t.Errorf("untranslated message id rendered: %s", m)
		}
	})
}

// password is the password addUser gives an account.
func password(name string) string { return "pw-" + name + "-long-enough" }

// addUser creates an account directly in the store.
func (h *harness) addUser(name, role string) db.User {
	h.t.Helper()
	hash, err := auth.HashPassword(password(name))
	if err != nil {
		h.t.Fatal(err)
	}
	u, err := h.store.CreateUser(context.Background(), db.NewUser{Username: name, PasswordHash: hash, Role: role})
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

// client is one simulated browser: its cookies and its current CSRF token.
type client struct {
	h    *harness
	jar  *cookiejar.Jar
	csrf string
	ip   string
}

var baseURL, _ = url.Parse("http://jingdesk.test/")

// anon is a fresh browser that has loaded the sign-in page (so it holds a CSRF token).
func (h *harness) anon() *client {
	jar, _ := cookiejar.New(nil)
	c := &client{h: h, jar: jar, ip: "192.0.2.10"}
	if rec := c.get("/login"); rec.Code != http.StatusOK {
		h.t.Fatalf("GET /login: %d", rec.Code)
	}
	return c
}

// login signs name in (its password from addUser) and fails the test otherwise.
func (h *harness) login(name string) *client {
	h.t.Helper()
	c := h.anon()
	rec := c.post("/login", url.Values{"username": {name}, "password": {password(name)}})
	if rec.Code != http.StatusSeeOther {
		h.t.Fatalf("login %s: status %d\n%s", name, rec.Code, rec.Body.String())
	}
	c.get("/settings/account") // pick up the rotated CSRF token
	return c
}

type reqOption func(*http.Request)

// htmx marks a request as coming from htmx (not boosted).
func htmx() reqOption { return func(r *http.Request) { r.Header.Set("HX-Request", "true") } }

// noCSRF sends no token at all; csrfToken sends a given (wrong) one.
func noCSRF() reqOption { return func(r *http.Request) { r.Header.Set("X-Test-No-CSRF", "1") } }
func csrfTokenOpt(tok string) reqOption {
	return func(r *http.Request) { r.Header.Set("X-Test-CSRF", tok) }
}

func (c *client) do(req *http.Request, opts ...reqOption) *httptest.ResponseRecorder {
	c.h.t.Helper()
	req.RemoteAddr = c.ip + ":40000"
	for _, ck := range c.jar.Cookies(baseURL) {
		req.AddCookie(ck)
	}
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	c.h.srv.ServeHTTP(rec, req)
	c.jar.SetCookies(baseURL, rec.Result().Cookies())
	if tok, ok := testkit.CSRFToken(rec.Body.String()); ok {
		c.csrf = tok
	}
	return rec
}

func (c *client) get(path string, opts ...reqOption) *httptest.ResponseRecorder {
	c.h.t.Helper()
	return c.do(httptest.NewRequest(http.MethodGet, path, nil), opts...)
}

// post sends a form with the client's CSRF token unless an option says otherwise.
func (c *client) post(path string, form url.Values, opts ...reqOption) *httptest.ResponseRecorder {
	c.h.t.Helper()
	return c.send(http.MethodPost, path, form, opts...)
}

func (c *client) send(method, path string, form url.Values, opts ...reqOption) *httptest.ResponseRecorder {
	c.h.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	probe := httptest.NewRequest(method, path, nil)
	for _, o := range opts {
		o(probe)
	}
	switch {
	case probe.Header.Get("X-Test-No-CSRF") != "":
	case probe.Header.Get("X-Test-CSRF") != "":
		form.Set("_csrf", probe.Header.Get("X-Test-CSRF"))
	default:
		form.Set("_csrf", c.csrf)
	}
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req, opts...)
}

// countAudit counts audit entries whose action starts with prefix.
func (h *harness) countAudit(prefix, outcome string) int {
	h.t.Helper()
	es, err := h.store.ListAudit(context.Background(), db.AuditFilter{Action: prefix, Outcome: outcome, Limit: 500})
	if err != nil {
		h.t.Fatal(err)
	}
	return len(es)
}
