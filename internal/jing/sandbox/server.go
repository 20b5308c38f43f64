// Package sandbox is a faithful stand-in for the Jing open platform: the
// same catalog, paths, envelopes, authentication, limits, validation and
// error codes, over a seeded demo tenant whose state really changes. It is
// the console's embedded default (a new user tries everything on it) and the
// double every test runs against, over real HTTP.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// Config describes a sandbox platform. Zero values take the defaults.
type Config struct {
	AppID     string // default "sandbox"
	AppSecret string // default "sandbox"
	Seed      int64  // the demo tenant is a pure function of the seed and sizes
	Persons   int    // default 20,000
	Leads     int    // default 3,000
	Catalog   jing.Catalog
	// TokenTTL is the access token's life (expires_in); the platform's is
	// not fixed, so the default varies a little around 4,500 s as seen.
	TokenTTL   time.Duration
	RefreshTTL time.Duration // default 30 days
	// DailyQuota, when set, replaces every endpoint's daily quota.
	DailyQuota int
	// WebhookURL, when set, receives lead/account events as the platform sends them.
	WebhookURL string
	// SendSpeed makes SMS and email sends reach their recipients that many
	// times faster than the platform's (1 when 0 or less): at 10 a send
	// whose slowest receipt comes after ~28 s is final after ~3 s. For
	// tests and demonstrations that follow a send to its end.
	SendSpeed float64
	// PlatformChangesPerMinute makes random "platform-side" lead changes (with webhooks).
	PlatformChangesPerMinute float64
	// StatePath, when set, keeps the tenant's state across restarts.
	StatePath string
	// ReadOnlyState reads StatePath (and its ledger) but never writes
	// either, nor moves a file that does not load: for a process that runs
	// beside the console that owns the files (jingdesk check).
	ReadOnlyState bool
	Faults        Faults
	// Permissions refuse endpoints with 40006 (permissions.go).
	Permissions Permissions
	// Quirks make it answer like an undocumented platform (quirks.go).
	Quirks Quirks
	Now    func() time.Time
	Logger *slog.Logger
}

// Faults injects trouble, for tests and demonstrations.
type Faults struct {
	// ErrorRate is the share of business calls answered 20000 or 40005 (0..1).
	ErrorRate float64
	// RateLimitRate is the share of business calls answered 20002 (the
	// platform's concurrency limit) although within the catalog's limits.
	RateLimitRate float64
	// Only, when set, limits the faults to these endpoints (catalog keys).
	Only []string
	// Latency is added before every answer.
	Latency time.Duration
	// DropRate is the share of business calls whose connection is closed
	// without an answer, after the call took effect.
	DropRate float64
}

// applies reports whether the faults concern endpoint key.
func (f Faults) applies(key string) bool { return len(f.Only) == 0 || slices.Contains(f.Only, key) }

// Server is the sandbox platform. It is an http.Handler.
type Server struct {
	cfg      Config
	log      *slog.Logger
	handlers map[string]handler

	mu         sync.Mutex
	tenant     *tenant
	ledger     *ledger // ids handed out and tokens issued (ledger.go)
	tokenStats TokenStats
	limits     limitState
	faults     Faults
	perms      Permissions
	quirks     Quirks
	faultRN    *lockedRand
	events     *eventQueue
	recent     []jing.WebhookEvent // the latest events emitted, newest last (RecentEvents)
	state      *stateStore         // nil without Config.StatePath (persist.go)
}

// New builds a sandbox with its seeded tenant.
func New(cfg Config) *Server {
	cfg = withDefaults(cfg)
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "sandbox"), faults: cfg.Faults,
		perms: cfg.Permissions, quirks: cfg.Quirks.clone(), faultRN: newLockedRand(cfg.Seed ^ 0x5eed)}
	if err := cfg.Permissions.Check(cfg.Catalog); err != nil {
		s.log.Error("sandbox: permissions name an unknown endpoint; it is never refused", "error", err)
	}
	s.state = newStateStore(cfg.StatePath, cfg.ReadOnlyState, s.log)
	s.tenant = s.state.loadOrSeed(cfg)
	s.tenant.Sends.speed = cfg.SendSpeed
	s.ledger = loadLedger(ledgerPath(cfg.StatePath), cfg.ReadOnlyState, s.log)
	s.ledger.resumeCounters(s.tenant)
	s.limits = newLimitState()
	s.events = newEventQueue(s)
	s.handlers = s.routes()
	return s
}

func withDefaults(cfg Config) Config {
	if cfg.AppID == "" {
		cfg.AppID = "sandbox"
	}
	if cfg.AppSecret == "" {
		cfg.AppSecret = "sandbox"
	}
	if cfg.Persons <= 0 {
		cfg.Persons = 20000
	}
	if cfg.Leads <= 0 {
		cfg.Leads = 3000
	}
	if cfg.Catalog.IsZero() {
		cfg.Catalog = jing.DefaultCatalog()
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = jing.RefreshTokenLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return cfg
}

// SetFaults changes the injected faults while running.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// SetTokenTTL changes the life of tokens issued from now on.
func (s *Server) SetTokenTTL(d time.Duration) {
	s.mu.Lock()
	s.cfg.TokenTTL = d
	s.mu.Unlock()
}

// SetDailyQuota replaces every endpoint's daily quota (0: the catalog's).
func (s *Server) SetDailyQuota(n int) {
	s.mu.Lock()
	s.cfg.DailyQuota = n
	s.mu.Unlock()
}

// handler answers one business call; it runs with s.mu held, so it may
// read and change the tenant freely.
type handler func(c *call) (any, error)

// call is one request as a handler sees it.
type call struct {
	s        *Server
	endpoint jing.Endpoint
	body     []byte
	now      time.Time
}

// decode reads the JSON body into v; a malformed body is 40002.
func (c *call) decode(v any) error {
	if err := json.Unmarshal(c.body, v); err != nil {
		return apiError{jing.CodeInvalidParameter, "无效的数据格式: " + err.Error()}
	}
	return nil
}

// apiError is a platform error answer.
type apiError struct {
	code int
	msg  string
}

func (e apiError) Error() string { return fmt.Sprintf("%d %s", e.code, e.msg) }

func missing(field string) error {
	return apiError{jing.CodeMissingParameter, jing.SubMissingParameter + ": " + field}
}

func invalid(field, why string) error {
	return apiError{jing.CodeInvalidParameter, jing.SubInvalidParameter + ": " + field + " " + why}
}

func business(msg string) error { return apiError{jing.CodeBusinessFailed, msg} }

// ServeHTTP answers as the platform does: HTTP 200 with an envelope, the
// error in its code.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep, ok := s.cfg.Catalog.ByPath(r.Method, r.URL.Path)
	if !ok || ep.Disabled {
		if !s.notServed(w, r, "") {
			s.answer(w, jing.Endpoint{}, nil, apiError{jing.CodeInvalidParameter, jing.SubNoSuchMethod})
		}
		return
	}
	if s.notServed(w, r, ep.Key) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return
	}
	data, err := s.serve(r, ep, body)
	if s.inject(w, ep) {
		return
	}
	s.answer(w, ep, data, err)
}

// serve runs every check the platform makes, then the handler.
func (s *Server) serve(r *http.Request, ep jing.Endpoint, body []byte) (any, error) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return nil, apiError{jing.CodeInvalidParameter, "无效的content-type"}
	}
	if !json.Valid(body) {
		return nil, apiError{jing.CodeInvalidParameter, "无效的数据格式"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if err := s.limits.admit(ep, s.quotaFor(ep), now); err != nil {
		return nil, err
	}
	if s.perms.IPNotAllowed { // not even a token for an address the platform does not allow
		return nil, s.perms.refuse(ep)
	}
	if !isOAuth(ep.Key) {
		if err := s.authorize(r, now); err != nil {
			return nil, err
		}
	}
	if err := s.perms.refuse(ep); err != nil {
		return nil, err
	}
	if !isOAuth(ep.Key) {
		if err := s.maybeFail(ep); err != nil {
			return nil, err
		}
	}
	h, ok := s.handlers[ep.Key]
	if !ok {
		return nil, apiError{jing.CodeInvalidParameter, jing.SubNoSuchMethod}
	}
	data, err := h(&call{s: s, endpoint: ep, body: body, now: now})
	if err == nil && ep.Write {
		// Whatever a write changed (persons, crowds and their members,
		// leads, sends) is saved soon after: each handler need not
		// remember to say so.
		s.markChanged()
	}
	return data, err
}

func (s *Server) quotaFor(ep jing.Endpoint) int {
	if s.cfg.DailyQuota > 0 {
		return s.cfg.DailyQuota
	}
	return ep.DailyQuota
}

// authorize checks the app_id and access_token headers.
func (s *Server) authorize(r *http.Request, now time.Time) error {
	if r.Header.Get("app_id") != s.cfg.AppID {
		return apiError{jing.CodeInvalidParameter, "无效的appId参数"}
	}
	return s.ledger.Tokens.check(r.Header.Get("access_token"), now)
}

// maybeFail injects 20002 and 20000/40005 at the configured rates (with s.mu held).
func (s *Server) maybeFail(ep jing.Endpoint) error {
	if !s.faults.applies(ep.Key) {
		return nil
	}
	if s.faults.RateLimitRate > 0 && s.faultRN.Float64() < s.faults.RateLimitRate {
		return apiError{jing.CodeRateLimited, jing.SubConcurrency}
	}
	if s.faults.ErrorRate <= 0 || s.faultRN.Float64() >= s.faults.ErrorRate {
		return nil
	}
	if s.faultRN.Float64() < 0.5 {
		return apiError{jing.CodeUnavailable, jing.SubUnavailable}
	}
	return apiError{jing.CodeServiceException, jing.SubServiceException}
}

// inject adds latency and drops connections after the call took effect,
// the way a gateway timeout leaves a client not knowing the outcome.
func (s *Server) inject(w http.ResponseWriter, ep jing.Endpoint) bool {
	s.mu.Lock()
	f := s.faults
	drop := !isOAuth(ep.Key) && f.applies(ep.Key) && f.DropRate > 0 && s.faultRN.Float64() < f.DropRate
	s.mu.Unlock()
	if f.Latency > 0 {
		time.Sleep(f.Latency)
	}
	if !drop {
		return false
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return true
		}
	}
	panic(http.ErrAbortHandler)
}

// answer writes the envelope (the string-code variant where documented),
// shaped by the quirks in force.
func (s *Server) answer(w http.ResponseWriter, ep jing.Endpoint, data any, err error) {
	code, msg := jing.CodeOK, "success"
	if err != nil {
		var ae apiError
		if !errors.As(err, &ae) {
			s.log.Error("sandbox handler", "endpoint", ep.Key, "error", err)
			ae = apiError{jing.CodeServiceException, jing.SubServiceException}
		}
		code, msg, data = ae.code, ae.msg, nil
	}
	if data == nil {
		data = struct{}{}
	}
	qs := s.currentQuirks()
	if code == jing.CodeOK {
		shaped, err := shapeData(qs, ep.Key, data)
		if err != nil {
			s.log.Error("sandbox: reshape an answer", "endpoint", ep.Key, "error", err)
		} else {
			data = shaped
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(envelopeFor(qs, ep, code, msg, data, newRequestID(), time.Now().UnixMilli()))
}

func isOAuth(key string) bool { return len(key) > 6 && key[:6] == "oauth." }

// routes maps every catalog key to its handler, domain by domain.
func (s *Server) routes() map[string]handler {
	all := map[string]handler{}
	for _, group := range []map[string]handler{
		s.oauthHandlers(), s.memberHandlers(), s.leadHandlers(), s.objectHandlers(),
		s.userHandlers(), s.crowdHandlers(), s.privacyHandlers(),
		s.smsHandlers(), s.edmHandlers(), s.scoreHandlers(),
	} {
		for k, h := range group {
			all[k] = h
		}
	}
	return all
}

// Running is a sandbox listening on a loopback port.
type Running struct {
	*Server
	URL  string
	http *http.Server
}

// Start serves a sandbox on addr (e.g. "127.0.0.1:0") until Close.
func Start(cfg Config, addr string) (*Running, error) {
	s := New(cfg)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	s.startBackground()
	return &Running{Server: s, URL: "http://" + ln.Addr().String(), http: srv}, nil
}

// Close stops serving and the background work, saving state if configured.
// Serving stops first, so no call changes the tenant after the final save.
func (r *Running) Close(ctx context.Context) error {
	err := r.http.Shutdown(ctx)
	r.Server.stopBackground()
	return err
}
