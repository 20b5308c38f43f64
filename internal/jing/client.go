package jing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Credentials locate the platform and identify this application.
type Credentials struct {
	BaseURL   string
	AppID     string
	AppSecret string
}

// UsageStore counts calls per endpoint per platform day, so the daily quota
// survives restarts. CountCall adds one and returns the new count.
type UsageStore interface {
	CountCall(ctx context.Context, endpoint, day string) (int, error)
	CallsOn(ctx context.Context, day string) (map[string]int, error)
}

// WriteRecord is what the audit hook hears of every call that changes the platform.
type WriteRecord struct {
	Endpoint  string
	Actor     string // from WithActor; "" when unknown
	RequestID string
	Duration  time.Duration
	Err       error // nil on success
}

// AuditHook records writes; the service layer stores them in the audit log.
type AuditHook func(ctx context.Context, r WriteRecord)

// RetryPolicy bounds the client's retries.
type RetryPolicy struct {
	// MaxAttempts for a transient failure of a call that is safe to repeat.
	MaxAttempts int
	BaseDelay   time.Duration
	MaxDelay    time.Duration
	// MaxRateLimitWaits is how many 20002 answers are waited out before giving up.
	MaxRateLimitWaits int
	RateLimitDelay    time.Duration
}

// Config builds a Client. Zero values take sensible defaults.
type Config struct {
	Credentials
	Catalog Catalog
	Tokens  TokenStore // nil: tokens live in memory only
	Usage   UsageStore // nil: usage lives in memory only
	Audit   AuditHook
	Logger  *slog.Logger
	HTTP    *http.Client
	Now     func() time.Time
	Retry   RetryPolicy
	// PaceFactor is the share of each endpoint's rate limit the client
	// uses, leaving room for clock jitter so that 20002 stays rare.
	PaceFactor float64
	// RenewBefore renews a token this long before it expires.
	RenewBefore time.Duration
	// MaxPages bounds a walk through a list (DefaultMaxPages).
	MaxPages int
}

// Client calls the platform. It is safe for concurrent use.
type Client struct {
	cfg     Config
	log     *slog.Logger
	tokens  tokenManager
	pacers  map[string]*rate.Limiter
	usage   UsageStore
	stats   statsBook
	quotaMu sync.Mutex
	// exhausted remembers endpoints whose daily quota ran out, until reset.
	exhausted map[string]time.Time
	// metaMissing remembers the list endpoints found answering without _meta.
	metaMissing sync.Map
}

// New builds a client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" || cfg.AppID == "" || cfg.AppSecret == "" {
		return nil, errors.New("jing: base URL, app_id and app_secret are all required")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Catalog.IsZero() {
		cfg.Catalog = DefaultCatalog()
	}
	cfg = withDefaults(cfg)
	c := &Client{cfg: cfg, log: cfg.Logger.With("component", "jing"), pacers: map[string]*rate.Limiter{},
		usage: cfg.Usage, exhausted: map[string]time.Time{}}
	if c.usage == nil {
		c.usage = newMemoryUsage()
	}
	for _, e := range cfg.Catalog.All() {
		c.pacers[e.Key] = rate.NewLimiter(rate.Limit(e.RatePerSecond*cfg.PaceFactor), 1)
	}
	c.tokens = tokenManager{store: cfg.Tokens}
	c.stats.init(cfg.Catalog)
	return c, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				MaxIdleConns:          64,
				MaxIdleConnsPerHost:   32,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: 25 * time.Second,
			},
		}
	}
	r := &cfg.Retry
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 4
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 250 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 8 * time.Second
	}
	if r.MaxRateLimitWaits <= 0 {
		r.MaxRateLimitWaits = 40
	}
	if r.RateLimitDelay <= 0 {
		r.RateLimitDelay = 500 * time.Millisecond
	}
	if cfg.PaceFactor <= 0 || cfg.PaceFactor > 1 {
		cfg.PaceFactor = 0.97
	}
	if cfg.RenewBefore <= 0 {
		cfg.RenewBefore = time.Minute
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = DefaultMaxPages
	}
	return cfg
}

// Catalog is the catalog this client calls.
func (c *Client) Catalog() Catalog { return c.cfg.Catalog }

// BaseURL is the platform address this client calls.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

type actorKey struct{}

// WithActor names who a call is made for; the audit hook receives it.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

type requestIDKey struct{}

// CaptureRequestID makes the calls made with the returned context record
// the platform's request_id of their answer (the last call's wins), which
// read returns: a ledger keeps it beside the step it settled.
func CaptureRequestID(ctx context.Context) (_ context.Context, read func() string) {
	box := new(string)
	return context.WithValue(ctx, requestIDKey{}, box), func() string { return *box }
}

func actorFrom(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// Call invokes the catalog entry key with body and decodes the answer's
// data into out (which may be nil). It paces itself below the endpoint's
// limit, renews the token when needed, and retries what is safe to retry.
func (c *Client) Call(ctx context.Context, key string, body, out any) error {
	ep, ok := c.cfg.Catalog.Get(key)
	if !ok {
		return fmt.Errorf("jing: no catalog entry %q", key)
	}
	start := time.Now()
	reqID, err := c.call(ctx, ep, body, out)
	if box, ok := ctx.Value(requestIDKey{}).(*string); ok {
		*box = reqID
	}
	c.stats.record(ep.Key, time.Since(start), reqID, err)
	if ep.Write && c.cfg.Audit != nil {
		c.cfg.Audit(ctx, WriteRecord{Endpoint: ep.Key, Actor: actorFrom(ctx), RequestID: reqID, Duration: time.Since(start), Err: err})
	}
	return err
}

// call is one logical call, with its retries. It returns the request id of
// the last answer received.
func (c *Client) call(ctx context.Context, ep Endpoint, body, out any) (string, error) {
	if ep.Disabled {
		return "", &Error{Endpoint: ep.Key, Kind: KindDisabled}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("jing %s: encode request: %w", ep.Key, err)
	}
	renewed := false
	transientFailures, rateLimitWaits := 0, 0
	for {
		token := ""
		if !isOAuth(ep.Key) {
			if token, err = c.accessToken(ctx); err != nil {
				return "", err
			}
		}
		env, err := c.attempt(ctx, ep, payload, token)
		if err == nil && env.Code == CodeOK {
			if err := decodeAnswer(ep, env, out); err != nil {
				c.log.Warn("platform answer not understood", "endpoint", ep.Key, "kind", err.Kind.String(),
					"problem", string(err.Problem), "field", err.Field, "request_id", env.RequestID)
				return env.RequestID, err
			}
			return env.RequestID, nil
		}
		perr := c.failure(ep, env, err)
		switch perr.Kind {
		case KindAuth:
			if renewed || isOAuth(ep.Key) {
				return perr.RequestID, perr
			}
			renewed = true
			if _, err := c.renewToken(ctx, token); err != nil {
				return perr.RequestID, err
			}
			continue
		case KindRateLimited:
			rateLimitWaits++
			if rateLimitWaits > c.cfg.Retry.MaxRateLimitWaits {
				return perr.RequestID, perr
			}
			if err := sleep(ctx, c.backoff(c.cfg.Retry.RateLimitDelay, rateLimitWaits)); err != nil {
				return perr.RequestID, perr
			}
			continue
		case KindQuota:
			perr.Until = nextQuotaReset(c.cfg.Now())
			c.markExhausted(ep.Key, perr.Until)
			return perr.RequestID, perr
		case KindTransient:
			if !ep.Idempotent && !notSent(err) {
				perr.Kind = KindOutcomeUnknown
				return perr.RequestID, perr
			}
			transientFailures++
			if transientFailures >= c.cfg.Retry.MaxAttempts {
				return perr.RequestID, perr
			}
			if err := sleep(ctx, c.backoff(c.cfg.Retry.BaseDelay, transientFailures)); err != nil {
				return perr.RequestID, perr
			}
			continue
		}
		return perr.RequestID, perr
	}
}

// attempt sends one HTTP request after pacing and counting it.
func (c *Client) attempt(ctx context.Context, ep Endpoint, payload []byte, token string) (envelope, error) {
	if until, ok := c.exhaustedUntil(ep.Key); ok {
		return envelope{}, &Error{Endpoint: ep.Key, Kind: KindQuota, Case: CaseDailyQuota, Until: until}
	}
	if err := c.pacers[ep.Key].Wait(ctx); err != nil {
		return envelope{}, &Error{Endpoint: ep.Key, Kind: KindTransient, Err: err}
	}
	if err := c.countCall(ctx, ep); err != nil {
		return envelope{}, err
	}
	req, err := http.NewRequestWithContext(ctx, ep.Method, c.cfg.BaseURL+ep.Path, bytes.NewReader(payload))
	if err != nil {
		return envelope{}, &Error{Endpoint: ep.Key, Kind: KindInvalidPath, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("app_id", c.cfg.AppID)
	if token != "" {
		req.Header.Set("access_token", token)
	}
	start := time.Now()
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		c.log.Warn("platform call failed", "endpoint", ep.Key, "duration_ms", msSince(start), "error", redactErr(err))
		return envelope{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return envelope{}, err
	}
	env, perr := readEnvelope(ep, answer{status: resp.StatusCode, body: raw})
	// Successes are many (an import makes thousands): debug. Refusals are
	// what an operator looks for: info, with the platform's own text. An
	// answer not understood is a warning. Bodies are never logged: they
	// carry personal data and credentials (the Usage page shows a masked
	// excerpt to administrators).
	switch {
	case perr != nil:
		c.log.Warn("platform answer not understood", "endpoint", ep.Key, "status", resp.StatusCode, "kind", perr.Kind.String(),
			"problem", string(perr.Problem), "code", perr.Code, "request_id", perr.RequestID, "duration_ms", msSince(start))
		return env, perr
	case env.Code != CodeOK:
		c.log.Info("platform call", "endpoint", ep.Key, "status", resp.StatusCode, "code", int(env.Code),
			"msg", env.text(), "request_id", env.RequestID, "duration_ms", msSince(start))
	default:
		c.log.Debug("platform call", "endpoint", ep.Key, "status", resp.StatusCode, "code", 0,
			"request_id", env.RequestID, "duration_ms", msSince(start))
	}
	return env, nil
}

// failure turns a failed attempt into an *Error.
func (c *Client) failure(ep Endpoint, env envelope, err error) *Error {
	var perr *Error
	if errors.As(err, &perr) {
		return perr
	}
	if err != nil {
		return &Error{Endpoint: ep.Key, Kind: KindTransient, Write: ep.Write, Err: err}
	}
	code := int(env.Code)
	kind, cs := classify(code, env.text())
	return &Error{Endpoint: ep.Key, Kind: kind, Case: cs, Code: code, Msg: env.text(), RequestID: env.RequestID, Write: ep.Write}
}

// notSent reports a transport failure that happened before the request
// could reach the platform (so even a non-idempotent call may be retried).
func notSent(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

func (c *Client) countCall(ctx context.Context, ep Endpoint) error {
	n, err := c.usage.CountCall(ctx, ep.Key, QuotaDay(c.cfg.Now()))
	if err != nil {
		c.log.Warn("count platform call", "endpoint", ep.Key, "error", err)
		return nil // counting is bookkeeping; the platform enforces the quota anyway
	}
	if n > ep.DailyQuota {
		until := nextQuotaReset(c.cfg.Now())
		c.markExhausted(ep.Key, until)
		return &Error{Endpoint: ep.Key, Kind: KindQuota, Case: CaseDailyQuota, Until: until}
	}
	return nil
}

func (c *Client) markExhausted(key string, until time.Time) {
	c.quotaMu.Lock()
	c.exhausted[key] = until
	c.quotaMu.Unlock()
}

func (c *Client) exhaustedUntil(key string) (time.Time, bool) {
	c.quotaMu.Lock()
	defer c.quotaMu.Unlock()
	until, ok := c.exhausted[key]
	if ok && !c.cfg.Now().Before(until) {
		delete(c.exhausted, key)
		return time.Time{}, false
	}
	return until, ok
}

// backoff is exponential with full jitter, capped.
func (c *Client) backoff(base time.Duration, attempt int) time.Duration {
	d := base << min(attempt-1, 10)
	d = min(d, c.cfg.Retry.MaxDelay)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func isOAuth(key string) bool { return strings.HasPrefix(key, "oauth.") }

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// redactErr keeps credentials out of logs: URLs in transport errors carry
// no secrets (they travel in headers and bodies), but be strict anyway.
func redactErr(err error) string {
	s := err.Error()
	if i := strings.Index(s, "app_secret"); i >= 0 {
		return s[:i] + "[redacted]"
	}
	return s
}

// memoryUsage counts calls in memory when no store is configured.
type memoryUsage struct {
	mu     sync.Mutex
	counts map[string]int
}

func newMemoryUsage() *memoryUsage { return &memoryUsage{counts: map[string]int{}} }

func (m *memoryUsage) CountCall(_ context.Context, endpoint, day string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[day+" "+endpoint]++
	return m.counts[day+" "+endpoint], nil
}

func (m *memoryUsage) CallsOn(_ context.Context, day string) (map[string]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for k, n := range m.counts {
		if d, ep, ok := strings.Cut(k, " "); ok && d == day {
			out[ep] = n
		}
	}
	return out, nil
}

// CloseIdleConnections closes the client's unused connections. Call it when
// the client is retired: a server shutting down waits up to five seconds
// for connections that were opened but never carried a request.
func (c *Client) CloseIdleConnections() { c.cfg.HTTP.CloseIdleConnections() }
