// Package web is jingdesk's HTTP layer: the route table, handlers per area,
// sessions, CSRF, roles, and rendering templ views. Only this package maps
// errors to HTTP statuses.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/auth"
	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/scores"
	"github.com/jingdesk/jingdesk/internal/sends"
	"github.com/jingdesk/jingdesk/internal/webhooks"
	"github.com/jingdesk/jingdesk/templates/forms"
)

// Deps is everything the web layer needs from main.
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
	// Sandbox marks every page "Sandbox" when no Platform manager is given;
	// with one, the manager's live connection decides.
	Sandbox bool
	Version string
	Jobs    JobService
	// Platform holds the live platform client and its settings.
	Platform *platform.Manager
	// CatalogFile is where the endpoint catalog's overrides are read from (shown to administrators).
	CatalogFile string
	// Reference is the cached reference data and the resolver of ids to names (internal/refdata).
	Reference ReferenceData
	// Leads is the local copy's service: sync and moves (internal/leads); nil: the board says it is unavailable.
	Leads *leads.Service
	// Crowds is the crowds and imports service (internal/crowds); nil: those pages say they are unavailable.
	Crowds *crowds.Service
	// Sends is the SMS and email sends service (internal/sends); nil: those pages say they are unavailable.
	Sends *sends.Service
	// Scores is the score cache and its views' actions (internal/scores); nil: the page says it is unavailable.
	Scores *scores.Service
	// Webhooks receives and applies the platform's events (internal/webhooks); nil: the receiver is 404.
	Webhooks *webhooks.Service
	// OptionTree is the tree of an option_set field from the reference
	// data, roots first (nil when there is none); the cascading picker's
	// fragment endpoint rebuilds the picker from it. Nil: the reference
	// data's trees when Reference is set, otherwise that endpoint is 404.
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
}

// Server holds the handlers' shared state. Nothing here is per request.
type Server struct {
	Deps
	echo     *echo.Echo
	sessions *sessions.CookieStore
	throttle *auth.Throttle
	// verifyPassword is auth.VerifyPassword; tests count the checks.
	verifyPassword func(hash, password string) bool
	setupMu        sync.Mutex
	board          *boardCache
	metrics        *httpMetrics
}

// New builds the server and its route table.
func New(d Deps) (*Server, error) {
	if len(d.SessionHashKey) != 64 || len(d.SessionBlockKey) != 32 {
		return nil, fmt.Errorf("web: session keys must be 64 and 32 bytes")
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
	s := &Server{Deps: d, throttle: auth.NewThrottle(5, 15*time.Minute), board: newBoardCache(), metrics: newHTTPMetrics(),
		verifyPassword: auth.VerifyPassword}
	go auth.WarmUp() // off the start-up path
	if s.OptionTree == nil && s.Reference != nil {
		s.OptionTree = s.referenceTree
	}
	s.sessions = newCookieStore(d)
	s.echo = s.newEcho()
	return s, nil
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Throttle exposes the sign-in throttle so tests can move its clock.
func (s *Server) Throttle() *auth.Throttle { return s.throttle }

func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if s.BehindProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Use(s.countRequests, s.requestIDAndLog, s.recoverPanics, securityHeaders, s.loadSession, s.checkCSRF)
	for _, r := range s.Routes() {
		e.Add(r.Method, r.Path, r.Handler, s.requireAccess(r.Access))
		s.metrics.routes[r.Path] = true
	}
	return e
}

// log returns the request's logger (it carries the request id).
func (s *Server) log(c echo.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger).(*slog.Logger); ok {
		return l
	}
	return s.Logger
}

// JobService is what the web layer needs from the background job runner:
// a user's pause, resume or cancel, checked by the rules of internal/jobs.
type JobService interface {
	Act(ctx context.Context, actor jobs.Actor, a jobs.Action, id int64) (db.Job, error)
}
