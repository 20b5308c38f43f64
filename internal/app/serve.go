package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
	_ "time/tzdata" // times show in the configured zone even on hosts without zoneinfo

	"github.com/jingdesk/jingdesk/internal/backup"
	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/idletrim"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/leadexport"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/scores"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/internal/sends"
	"github.com/jingdesk/jingdesk/internal/upkeep"
	"github.com/jingdesk/jingdesk/internal/webhooks"
	"github.com/jingdesk/jingdesk/web"
)

// serve runs the console until ctx ends, then stops it part by part.
func serve(ctx context.Context, args []string, io IO, build Build) error {
	cfg, err := parseServe(args, io)
	if err != nil {
		return err
	}
	s := newServer(cfg, io, build)
	limitMemory(io, s.log)
	if err := s.run(ctx); err != nil {
		return err
	}
	s.log.Info("stopped")
	return nil
}

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// does not set one: as the heap nears it the collector runs sooner, so a
// burst of large pages (a 290 KB board, many at once) does not double the
// heap first. It is soft: a console that needs more gets more, the
// collector then using at most half the CPU. SQLite's page caches are not
// Go memory; they are bounded per connection (internal/db).
const defaultMemoryLimit = 100 << 20

// limitMemory applies defaultMemoryLimit unless GOMEMLIMIT is set (the
// runtime has read it then).
func limitMemory(io IO, log *slog.Logger) {
	if v, ok := io.lookupEnv("GOMEMLIMIT"); ok && v != "" {
		log.Debug("Go memory limit from GOMEMLIMIT", "limit", v)
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
}

// server is a running jingdesk server. Its parts are filled in as they
// start (parts lists them); each field is set by one part's start.
type server struct {
	cfg   ServeConfig
	io    IO
	build Build
	log   *slog.Logger

	releaseData func() // the data directory's lock
	data        *dataDir
	platform    *platform.Manager
	runner      *jobs.Runner
	refdata     *refdata.Service
	leads       *leads.Service
	exports     *leadexport.Service
	crowds      *crowds.Service
	sends       *sends.Service
	scores      *scores.Service
	webhooks    *webhooks.Service
	web         *web.Server
	memoryTrim  *idletrim.Trimmer // hands back what a busy spell used, once quiet
	http        *httpServer
	metrics     *httpServer
	// failed hears from a part that cannot go on (a listener that died).
	failed chan error

	// Intervals of the background loops (tests shorten them).
	backupLook  time.Duration
	followEvery time.Duration
	// observe hears the parts start and stop, in order (tests).
	observe func(event string)
}

func newServer(cfg ServeConfig, io IO, build Build) *server {
	return &server{cfg: cfg, io: io, build: build, log: newLogger(cfg, io), failed: make(chan error, 1),
		backupLook: backup.LookEvery, followEvery: sends.FollowEvery}
}

// parts is the composition of the console, in the order it starts; it
// stops in the reverse order. Job kinds are registered (services) before
// the runner starts, every service runs before the web server takes
// requests, and every part that writes has stopped before the database
// closes and the data directory is released.
func (s *server) parts() []component {
	return []component{
		{name: "data directory lock", start: s.claimDataDir, stop: func(context.Context) error { s.releaseData(); return nil }},
		{name: "database", start: s.openDatabase, stop: func(context.Context) error { return s.data.Close() }},
		background("scheduled backups", s.runBackups),
		{name: "platform", start: s.openPlatform, stop: func(context.Context) error { return s.platform.Close() }},
		{name: "services", start: s.wireServices},
		{name: "job runner", start: func(ctx context.Context) error { return s.runner.Start(ctx) }, stop: s.stopJobs},
		{name: "reference data upkeep", start: func(ctx context.Context) error { return s.refdata.Start(ctx) },
			stop: waitFor(func() { s.refdata.Stop() })},
		{name: "lead sync schedule", start: func(ctx context.Context) error { return s.leads.Start(ctx) },
			stop: waitFor(func() { s.leads.Stop() })},
		{name: "score refresh schedule", start: func(ctx context.Context) error { s.scores.Start(ctx); return nil },
			stop: waitFor(func() { s.scores.Stop() })},
		{name: "webhook worker", start: func(ctx context.Context) error { s.webhooks.Start(ctx); return nil },
			stop: waitFor(func() { s.webhooks.Stop() })},
		background("send follow", func(ctx context.Context) { s.sends.Follow(ctx, s.followEvery) }),
		background("database upkeep", s.runUpkeep),
		{name: "web pages", start: s.buildWeb},
		{name: "metrics listener", start: s.listenMetrics, stop: s.stopMetrics},
		{name: "web server", start: s.listen, stop: s.shutdownWeb},
	}
}

// fail stops the console: a part cannot go on. The first failure is the
// one reported.
func (s *server) fail(err error) {
	select {
	case s.failed <- err:
	default:
	}
}

// run starts the parts, runs until ctx ends, and stops them.
func (s *server) run(ctx context.Context) error {
	l := lifecycle{log: s.log, stopTimeout: s.cfg.ShutdownTimeout, observe: s.observe}
	return l.run(ctx, s.parts(), s.failed)
}

// claimDataDir takes the data directory's lock (one server per data
// directory) and backs an older database up before it is migrated.
func (s *server) claimDataDir(ctx context.Context) (err error) {
	s.releaseData, err = claimDataDir(ctx, s.cfg.Data, s.build, s.log)
	return err
}

func (s *server) openDatabase(ctx context.Context) (err error) {
	s.data, err = openData(ctx, s.cfg.Data)
	return err
}

// runBackups takes the scheduled backups until ctx ends.
func (s *server) runBackups(ctx context.Context) {
	backup.Run(ctx, s.backupLook, s.cfg.Data, s.build.Version, backupSchedule(ctx, s.data.store), s.log)
}

// runUpkeep deletes history past its retention and keeps the query
// planner's statistics current, hourly, until ctx ends.
func (s *server) runUpkeep(ctx context.Context) {
	upkeep.Run(ctx, upkeep.Config{Store: s.data.store, Pruners: s.pruners(), Logger: s.log})
}

// pruners are the kinds of history with a retention of their own.
func (s *server) pruners() []upkeep.Pruner {
	return []upkeep.Pruner{
		{What: "import rows", Prune: s.crowds.PruneImportRows},
		{What: "score history", Prune: s.scores.PruneHistory},
	}
}

func (s *server) openPlatform(ctx context.Context) (err error) {
	s.platform, err = openPlatform(ctx, s.data, s.cfg, s.log)
	return err
}

// wireServices builds the job runner and the services; each registers
// its job kinds with the runner, which starts next. The data directory's
// lock proves the process that ran here before is gone: the jobs it left
// running resume at once (Sole).
func (s *server) wireServices(ctx context.Context) (err error) {
	store, pm, log := s.data.store, s.platform, s.log
	s.runner = jobs.New(store, jobs.Config{Logger: log, Sole: true})
	if s.refdata, err = refdata.New(ctx, refdata.Config{Store: store, Platform: pm, Runner: s.runner, TTL: s.cfg.RefdataTTL, Logger: log}); err != nil {
		return err
	}
	if s.leads, err = leads.New(leads.Config{Store: store, Platform: pm, Runner: s.runner, Logger: log, SyncEvery: s.cfg.LeadSyncEvery}); err != nil {
		return err
	}
	// The lead list's export writes its headers in the reader's language.
	catalog, err := i18n.NewCatalog(s.cfg.TimeZone)
	if err != nil {
		return err
	}
	if s.exports, err = leadexport.New(leadexport.Config{Store: store, Runner: s.runner, Catalog: catalog, Names: s.refdata.Resolver,
		Dir: filepath.Join(s.data.path, "exports"), Logger: log}); err != nil {
		return err
	}
	if s.crowds, err = crowds.New(crowds.Config{Store: store, Platform: pm, Runner: s.runner, DataDir: s.data.path,
		MaxUpload: s.cfg.ImportMaxMB << 20, Logger: log}); err != nil {
		return err
	}
	if s.sends, err = sends.New(sends.Config{Store: store, Platform: pm, Runner: s.runner, Logger: log}); err != nil {
		return err
	}
	if s.scores, err = scores.New(scores.Config{Store: store, Platform: pm, Runner: s.runner, Crowds: s.crowds, Logger: log,
		RefreshEvery: s.cfg.ScoreRefreshEvery}); err != nil {
		return err
	}
	box, err := s.data.secretBox()
	if err != nil {
		return err
	}
	s.webhooks, err = webhooks.New(webhooks.Config{Store: store, Box: box, Logger: log})
	return err
}

// stopJobs interrupts running jobs and puts them back in the queue, so the
// next start resumes them from their checkpoint.
func (s *server) stopJobs(ctx context.Context) error {
	if err := s.runner.Stop(ctx); err != nil {
		return fmt.Errorf("%w (their jobs resume once their lease expires)", err)
	}
	return nil
}

// buildWeb builds the web server's handler from the services.
func (s *server) buildWeb(ctx context.Context) error {
	catalog, err := i18n.NewCatalog(s.cfg.TimeZone)
	if err != nil {
		return err
	}
	hashKey, blockKey, err := s.data.sessionKeys()
	if err != nil {
		return err
	}
	users, err := s.data.store.CountUsers(ctx)
	if err != nil {
		return err
	}
	setupToken := ""
	if users == 0 {
		setupToken = secret.Token(24)
	}
	store := s.data.store
	s.memoryTrim = idletrim.NewReleasing(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := store.ReleaseKeptStatements(ctx); err != nil {
			s.log.Warn("releasing the kept statements", "err", err)
		}
	})
	s.web, err = web.New(web.Deps{
		MemoryTrim:      s.memoryTrim,
		Store:           s.data.store,
		Catalog:         catalog,
		Logger:          s.log,
		SessionHashKey:  hashKey,
		SessionBlockKey: blockKey,
		SecureCookies:   s.cfg.TLSCert != "",
		BehindProxy:     s.cfg.BehindProxy,
		IdleTimeout:     s.cfg.IdleTimeout,
		AbsoluteTimeout: s.cfg.AbsoluteTimeout,
		SetupToken:      setupToken,
		Version:         s.build.Version,
		Build:           web.BuildInfo{Version: s.build.Version, Commit: s.build.Commit, Date: s.build.Date},
		DataDir:         s.data.path,
		StartedAt:       time.Now(),
		MetricsAddr:     s.cfg.MetricsAddr,
		Jobs:            s.runner,
		Platform:        s.platform,
		CatalogFile:     s.data.catalogFile(),
		Reference:       s.refdata,
		Leads:           s.leads,
		LeadExports:     s.exports,
		Crowds:          s.crowds,
		Sends:           s.sends,
		Scores:          s.scores,
		Webhooks:        s.webhooks,
	})
	return err
}

// listenMetrics serves /metrics without sign-in on --metrics-addr, when set.
func (s *server) listenMetrics(context.Context) error {
	if s.cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on --metrics-addr %s: %w", s.cfg.MetricsAddr, err)
	}
	s.metrics = metricsServer(s.web.MetricsHandler(), s.log)
	// A metrics listener that dies is logged; the console goes on.
	s.metrics.serve(ln, func(err error) { s.log.Error("metrics listener stopped", "error", err) })
	s.log.Info("metrics listening (no sign-in: keep this address off public networks)",
		"url", "http://"+displayAddr(ln.Addr().String())+"/metrics")
	return nil
}

func (s *server) stopMetrics(ctx context.Context) error {
	if s.metrics == nil {
		return nil
	}
	return s.metrics.stop(ctx)
}

// listen serves the console and says where (and, with no account yet,
// the one-time setup link).
func (s *server) listen(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	if err := pointSandboxAtReceiver(ctx, s.platform, s.webhooks, ln, s.cfg.scheme()); err != nil {
		ln.Close()
		return err
	}
	// Start-up (migrations, the embedded sandbox's seeding) leaves garbage
	// the runtime would keep for a while; hand it back so an idle console
	// stays small.
	debug.FreeOSMemory()
	s.memoryTrim.Busy() // and what its first jobs use, once they are done with it
	s.http = newHTTPServer(s.web, s.cfg.certificate, s.log)
	s.http.serve(ln, s.fail)
	baseURL := s.cfg.PublicURL
	if baseURL == "" {
		baseURL = s.cfg.scheme() + "://" + displayAddr(ln.Addr().String())
	}
	s.log.Info("jingdesk listening", "url", baseURL, "data", s.cfg.Data, "version", s.build.Version)
	if s.web.SetupToken != "" {
		setupURL := strings.TrimRight(baseURL, "/") + "/setup?token=" + s.web.SetupToken
		s.log.Warn("no accounts yet: open the one-time setup link to create the first administrator", "url", setupURL)
		fmt.Fprintf(s.io.Stderr, "\n  Create the first administrator at:\n  %s\n\n", setupURL)
	}
	return nil
}

// shutdownWeb stops taking connections and lets in-flight requests finish.
func (s *server) shutdownWeb(ctx context.Context) error {
	s.log.Info("shutting down: finishing in-flight requests", "timeout", s.cfg.ShutdownTimeout)
	return s.http.stop(ctx)
}

// displayAddr turns a listen address into one a browser can open.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// pointSandboxAtReceiver makes the embedded sandbox deliver its webhook
// events to this console's own receiver (over loopback), now and after
// every rotation of the secret: the live updates work from the first run.
func pointSandboxAtReceiver(ctx context.Context, pm *platform.Manager, hooks *webhooks.Service, ln net.Listener, scheme string) error {
	base := scheme + "://" + displayAddr(ln.Addr().String()) + "/webhooks/jing/"
	point := func(secret string) {
		if sb := pm.SandboxServer(); sb != nil {
			sb.SetWebhookURL(base + secret)
		}
	}
	hooks.OnRotate(point)
	secret, err := hooks.Secret(ctx)
	if err != nil {
		return err
	}
	point(secret)
	return nil
}
