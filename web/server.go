// Package web is jingdesk's HTTP layer: the route table, handlers per area,
// sessions, CSRF, roles, and rendering templ views. Only this package maps
// errors to HTTP statuses.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/auth"
	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/idletrim"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/leadexport"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/scores"
	"github.com/jingdesk/jingdesk/internal/sends"
	"github.com/jingdesk/jingdesk/internal/webhooks"
	"github.com/jingdesk/jingdesk/templates/forms"
)

// Deps is everything the web layer needs from main: the one input of New,
// which hands each area only the part it uses (web/areas.go). Store,
// Catalog, Platform, Jobs, Reference, Webhooks, Leads, Scores, Crowds and Sends
// are required.
type Deps struct {
	Store   *db.Store
	Catalog *i18n.Catalog
	Logger  *slog.Logger
	// SessionHashKey (64 bytes) authenticates and SessionBlockKey (32 bytes)
	// encrypts the session cookie; both live in the data directory.
	SessionHashKey  []byte
	SessionBlockKey []byte
	// SecureCookies marks cookies Secure; set when serving TLS.
	SecureCookies bool
	// BehindProxy trusts X-Forwarded-For from private and loopback
	// addresses. Off by default: a client could otherwise name any address
	// and slip past the per-address sign-in throttle and the audit log.
	BehindProxy bool
	// IdleTimeout ends a session unused this long; AbsoluteTimeout ends any session this old.
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// SetupToken, when not empty, lets /setup?token=… create the first administrator.
	SetupToken string
	Version    string
	Jobs       JobService
	// Platform holds the live platform client and its settings.
	Platform *platform.Manager
	// CatalogFile is where the endpoint catalog's overrides are read from (shown to administrators).
	CatalogFile string
	// Reference is the cached reference data and the resolver of ids to names (internal/refdata).
	Reference ReferenceData
	// Leads is the local copy's service: sync, moves and every write of a lead (internal/leads).
	Leads *leads.Service
	// LeadExports writes the leads list as CSV or xlsx, as a job when large (internal/leadexport).
	LeadExports *leadexport.Service
	// Crowds is the crowds and imports service (internal/crowds).
	Crowds *crowds.Service
	// Sends is the SMS and email sends service (internal/sends).
	Sends *sends.Service
	// Scores is the score cache, its views and their actions (internal/scores); required.
	Scores *scores.Service
	// Webhooks receives and applies the platform's events (internal/webhooks).
	Webhooks *webhooks.Service
	// OptionTree is the tree of an option_set field from the reference
	// data, roots first (nil when there is none); the cascading picker's
	// fragment endpoint rebuilds the picker from it. Nil: the reference
	// data's trees.
	OptionTree func(lang, object, fieldCode string) []*forms.TreeChoice
	Now        func() time.Time
	// Build is what the release build stamped (Settings → System, /metrics).
	Build BuildInfo
	// DataDir is the data directory (Settings → System: its path, the backups in it).
	DataDir string
	// StartedAt is when the process started (uptime); zero: when New ran.
	StartedAt time.Time
	// MetricsAddr is the separate listener serving /metrics without sign-in ("" when off).
	MetricsAddr string
	// MemoryTrim hears of every request, so the memory a busy spell used
	// is handed back once requests stop (internal/idletrim); nil: never.
	MemoryTrim *idletrim.Trimmer
}

// Server is the HTTP handler: the middleware, the route table, and the
// areas (web/areas.go) whose handlers the table names. The handlers of
// areas not yet given a struct of their own are still methods on Server
// and read their services from the embedded Deps.
type Server struct {
	Deps
	*kit
	echo    *echo.Echo
	signIns *signIns
	metrics *httpMetrics
	areas   *areas
}

// New checks d, builds the areas from it and the route table.
func New(d Deps) (*Server, error) {
	d, err := d.withDefaults()
	if err != nil {
		return nil, err
	}
	k := &kit{logger: d.Logger, now: d.Now, store: d.Store, approvals: d.Sends, chrome: d.Platform, version: d.Version, behindProxy: d.BehindProxy}
	s := &Server{Deps: d, kit: k, signIns: newSignIns(k, d), metrics: newHTTPMetrics()}
	s.areas = newAreas(d, k, s.signIns, s.metrics)
	go auth.WarmUp() // off the start-up path
	s.echo = s.newEcho()
	return s, nil
}

// withDefaults refuses Deps missing what every server needs, naming each
// missing part, and fills in the defaults.
func (d Deps) withDefaults() (Deps, error) {
	if len(d.SessionHashKey) != 64 || len(d.SessionBlockKey) != 32 {
		return d, fmt.Errorf("web: session keys must be 64 and 32 bytes")
	}
	var missing []string
	for name, absent := range map[string]bool{
		"Store": d.Store == nil, "Catalog": d.Catalog == nil, "Platform": d.Platform == nil, "Jobs": d.Jobs == nil,
		"Reference": d.Reference == nil, "Webhooks": d.Webhooks == nil,
		"Leads": d.Leads == nil, "Scores": d.Scores == nil, "LeadExports": d.LeadExports == nil,
		"Crowds": d.Crowds == nil, "Sends": d.Sends == nil,
	} {
		if absent {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return d, fmt.Errorf("web: Deps lacks %s", strings.Join(missing, ", "))
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.IdleTimeout == 0 {
		d.IdleTimeout = 8 * time.Hour
	}
	if d.AbsoluteTimeout == 0 {
		d.AbsoluteTimeout = 7 * 24 * time.Hour
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Build.Version == "" {
		d.Build.Version = d.Version
	}
	if d.StartedAt.IsZero() {
		d.StartedAt = time.Now()
	}
	return d, nil
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Throttle exposes the sign-in throttle so tests can move its clock.
func (s *Server) Throttle() *auth.Throttle { return s.areas.auth.throttle }

// MetricsHandler serves the /metrics exposition without sign-in: for the
// separate --metrics-addr listener only, never on the console's own address.
func (s *Server) MetricsHandler() http.Handler { return s.areas.system.metricsHandler() }

func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if s.BehindProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Use(s.noteActivity, s.metrics.countRequests, s.requestIDAndLog, recoverPanics, securityHeaders, compressPages, s.signIns.load, s.checkCSRF)
	for _, r := range s.Routes() {
		e.Add(r.Method, r.Path, r.Handler, requireAccess(r.Access))
		s.metrics.routes[r.Path] = true
	}
	return e
}

// noteActivity tells the memory trimmer a request came.
func (s *Server) noteActivity(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.MemoryTrim.Busy()
		return next(c)
	}
}

// JobService is what the web layer needs from the background job runner:
// a user's pause, resume or cancel, checked by the rules of internal/jobs.
type JobService interface {
	Act(ctx context.Context, actor jobs.Actor, a jobs.Action, id int64) (db.Job, error)
}
