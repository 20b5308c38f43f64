package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
)

// Manager holds the live platform client. Handlers take the current client
// for each piece of work; a settings change builds a new one and swaps it in,
// so a call already under way finishes on the client it started with.
type Manager struct {
	cfg Config
	log *slog.Logger

	switchMu sync.Mutex // one switch at a time
	closed   bool       // under switchMu
	cur      atomic.Pointer[connection]

	verifyMu sync.Mutex  // one verification of answers at a time
	reports  reportCache // the last verification (verification.go)
}

// connection is one client and, for the embedded default, its sandbox.
type connection struct {
	client  *jing.Client
	sandbox *sandbox.Running
	// identity tells whether new settings need a new connection.
	identity string
	// name is the platform this connection talks to, for data that
	// belongs to one platform (reference data): the base URL and app_id,
	// or "embedded sandbox" whatever its port. A new secret for the same
	// app_id is the same platform.
	name string
	// replaced is closed when another connection takes this one's place.
	replaced chan struct{}
}

// Locks says which settings come from flags or the environment.
type Locks struct {
	BaseURL   bool
	AppID     bool
	AppSecret bool
}

// resolved is the effective connection settings: stored ones under overrides.
type resolved struct {
	creds  jing.Credentials
	stored Settings
	locked Locks
	// unreadable: a secret is stored but this data directory's key cannot open it.
	unreadable bool
}

// complete reports whether there is enough to leave the sandbox.
func (r resolved) complete() bool { return r.creds.AppID != "" && r.creds.AppSecret != "" }

func (r resolved) identity() string {
	if !r.complete() {
		return "sandbox"
	}
	sum := sha256.Sum256([]byte(r.creds.AppSecret))
	return r.creds.BaseURL + " " + r.creds.AppID + " " + hex.EncodeToString(sum[:8])
}

// ConnectionName is the name the services know the platform reached with
// creds by (Live.Current): the local copies of its data belong to it.
func ConnectionName(creds jing.Credentials) string { return creds.BaseURL + " " + creds.AppID }

// Settings is what is stored in the console (not the overrides). The
// secret itself never leaves this package.
type Settings struct {
	BaseURL   string
	AppID     string
	SecretSet bool
}

// Open resolves the settings and connects: to the platform when
// credentials are complete, otherwise to an embedded sandbox it starts.
func Open(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Store == nil || cfg.Box == nil {
		return nil, errors.New("platform: a store and a secret box are required")
	}
	if cfg.Catalog.IsZero() {
		cfg.Catalog = jing.DefaultCatalog()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sandbox.Addr == "" {
		cfg.Sandbox.Addr = "127.0.0.1:0"
	}
	m := &Manager{cfg: cfg, log: cfg.Logger.With("component", "platform")}
	// Only today's counts matter to the quota; a week is kept to look back on.
	if err := cfg.Store.PrunePlatformUsage(ctx, jing.QuotaDay(cfg.Now().AddDate(0, 0, -7))); err != nil {
		m.log.Warn("prune platform usage", "error", err)
	}
	if err := m.Reload(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Client is the current platform client.
func (m *Manager) Client() *jing.Client { return m.cur.Load().client }

// Current is the live client and the name of the platform it talks to
// (see Connection), read together so they never belong to two different
// connections.
func (m *Manager) Current() (*jing.Client, string) {
	c := m.cur.Load()
	return c.client, c.name
}

// Live is the live connection as the services use it (a *Manager, or a
// fixed client in tests): the client, and the name of the platform it
// talks to, which jobs record so they never carry on against another.
type Live interface {
	Current() (*jing.Client, string)
}

// Connection names the platform the live client talks to: its base URL and
// app_id, or "embedded sandbox" whatever port the sandbox listens on.
func (m *Manager) Connection() string { return m.cur.Load().name }

// Changed is closed when the live connection is next replaced; take it
// before reading the connection, then wait on it, to hear of every switch.
func (m *Manager) Changed() <-chan struct{} { return m.cur.Load().replaced }

// Sandbox reports whether the embedded sandbox is in use.
func (m *Manager) Sandbox() bool { return m.cur.Load().sandbox != nil }

// SandboxServer is the embedded sandbox, or nil when a platform is configured.
func (m *Manager) SandboxServer() *sandbox.Running { return m.cur.Load().sandbox }

// Catalog is the catalog every client of this manager uses.
func (m *Manager) Catalog() jing.Catalog { return m.cfg.Catalog }

// Reload re-reads the settings and switches the live client if they changed.
func (m *Manager) Reload(ctx context.Context) error {
	m.switchMu.Lock()
	defer m.switchMu.Unlock()
	if m.closed {
		return errors.New("platform: manager closed")
	}
	r, err := m.resolve(ctx)
	if err != nil {
		return err
	}
	old := m.cur.Load()
	if old != nil && old.identity == r.identity() {
		return nil
	}
	next, err := m.connect(r)
	if err != nil {
		return err
	}
	m.cur.Store(next)
	if old != nil {
		close(old.replaced)
		m.retire(old)
	}
	return nil
}

// retire lets go of a connection that is no longer current: its idle
// connections first (so a sandbox stops without waiting on them), then
// its embedded sandbox, if any.
func (m *Manager) retire(c *connection) error {
	if c.client != nil {
		c.client.CloseIdleConnections()
	}
	if c.sandbox != nil {
		return m.stopSandbox(c.sandbox)
	}
	return nil
}

// Close stops the embedded sandbox, if one runs (saving its state). A
// second Close does nothing.
func (m *Manager) Close() error {
	m.switchMu.Lock()
	defer m.switchMu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if c := m.cur.Load(); c != nil {
		return m.retire(c)
	}
	return nil
}

func (m *Manager) stopSandbox(r *sandbox.Running) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		m.log.Warn("stop the embedded sandbox", "error", err)
		return err
	}
	m.log.Info("embedded sandbox stopped", "url", r.URL)
	return nil
}

// connect builds the connection r describes, starting a sandbox if needed.
func (m *Manager) connect(r resolved) (*connection, error) {
	c := &connection{identity: r.identity(), replaced: make(chan struct{})}
	creds, scope := r.creds, ConnectionName(r.creds)
	if !r.complete() {
		sb, err := m.startSandbox()
		if err != nil {
			return nil, err
		}
		c.sandbox = sb
		// The sandbox's port changes with each start; its tokens are scoped to "the sandbox".
		creds, scope = jing.Credentials{BaseURL: sb.URL, AppID: "sandbox", AppSecret: "sandbox"}, "embedded sandbox"
	}
	jc := jing.Config{Credentials: creds, Catalog: m.cfg.Catalog, Logger: m.cfg.Logger, Now: m.cfg.Now,
		Tokens: &tokenStore{store: m.cfg.Store, box: m.cfg.Box, scope: scope},
		Usage:  usageStore{store: m.cfg.Store},
		Audit:  AuditHook(m.cfg.Store, m.log)}
	if c.sandbox != nil && m.cfg.Sandbox.ReadOnly { // the stored token and counts are the console's
		jc.Tokens, jc.Usage = nil, nil
	}
	if m.cfg.Tune != nil {
		m.cfg.Tune(&jc)
	}
	client, err := jing.New(jc)
	if err != nil {
		if c.sandbox != nil {
			m.stopSandbox(c.sandbox)
		}
		return nil, err
	}
	c.client, c.name = client, scope
	switch {
	case c.sandbox != nil && (r.creds.AppID != "" || r.creds.AppSecret != ""):
		m.log.Warn("platform credentials incomplete (both app_id and app_secret are needed): using the embedded sandbox",
			"url", c.sandbox.URL, "app_id_set", r.creds.AppID != "", "app_secret_set", r.creds.AppSecret != "")
	case c.sandbox != nil:
		m.log.Info("no platform credentials configured: using the embedded sandbox", "url", c.sandbox.URL)
	default:
		m.log.Info("platform connection", "base_url", creds.BaseURL, "app_id", creds.AppID)
	}
	return c, nil
}

func (m *Manager) startSandbox() (*sandbox.Running, error) {
	o := m.cfg.Sandbox
	sb, err := sandbox.Start(sandbox.Config{Seed: o.Seed, Persons: o.Persons, Leads: o.Leads, StatePath: o.StatePath, ReadOnlyState: o.ReadOnly,
		Catalog: m.cfg.Catalog, Logger: m.cfg.Logger, PlatformChangesPerMinute: o.ChangesPerMinute, WebhookURL: o.WebhookURL, SendSpeed: o.SendSpeed, Quirks: o.Quirks}, o.Addr)
	if err != nil {
		return nil, fmt.Errorf("platform: start the embedded sandbox: %w", err)
	}
	return sb, nil
}

// resolve reads the stored settings and lays the overrides over them.
func (m *Manager) resolve(ctx context.Context) (resolved, error) {
	var r resolved
	ov := m.cfg.Overrides
	base, err := m.setting(ctx, keyBaseURL)
	if err != nil {
		return r, err
	}
	appID, err := m.setting(ctx, keyAppID)
	if err != nil {
		return r, err
	}
	sealed, err := m.setting(ctx, keyAppSecret)
	if err != nil {
		return r, err
	}
	appSecret := ""
	if sealed != "" {
		if appSecret, err = m.cfg.Box.Open(sealed); err != nil {
			r.unreadable, appSecret = true, ""
			m.log.Warn("the stored app_secret cannot be decrypted with this data directory's secret.key; enter it again")
		}
	}
	r.stored = Settings{BaseURL: base, AppID: appID, SecretSet: sealed != ""}
	r.locked = Locks{BaseURL: ov.BaseURL != "", AppID: ov.AppID != "", AppSecret: ov.AppSecret != ""}
	r.creds = jing.Credentials{BaseURL: pick(ov.BaseURL, base), AppID: pick(ov.AppID, appID), AppSecret: pick(ov.AppSecret, appSecret)}
	if r.creds.BaseURL == "" {
		r.creds.BaseURL = ProductionBaseURL
	}
	r.creds.BaseURL = strings.TrimRight(r.creds.BaseURL, "/")
	return r, nil
}

func pick(override, stored string) string {
	if override != "" {
		return override
	}
	return stored
}

// setting reads one stored setting, "" when absent.
func (m *Manager) setting(ctx context.Context, key string) (string, error) {
	v, err := m.cfg.Store.Setting(ctx, key)
	if errors.Is(err, db.ErrNotFound) {
		return "", nil
	}
	return v, err
}
