package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // times show in the configured zone even on hosts without zoneinfo

	"github.com/jingdesk/jingdesk/internal/backup"
	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/scores"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/internal/sends"
	"github.com/jingdesk/jingdesk/internal/webhooks"
	"github.com/jingdesk/jingdesk/web"
)

// ServeConfig is the server's configuration after flags and environment.
type ServeConfig struct {
	Addr            string
	Data            string
	TLSCert         string
	TLSKey          string
	LogFormat       string
	LogLevel        string
	TimeZone        string
	PublicURL       string
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	ShutdownTimeout time.Duration
	BehindProxy     bool
	// The platform connection; empty fields fall back to the settings
	// stored in the console, and with no credentials at all the embedded
	// sandbox is used.
	JingBaseURL   string
	JingAppID     string
	JingAppSecret string // environment only: a flag would show in the process list
	SandboxSeed   int64
	// RefdataTTL is how old cached reference data may grow before it is refreshed.
	RefdataTTL time.Duration
	// LeadSyncEvery is how often the local copy of the leads is brought up
	// to date (an incremental sync).
	LeadSyncEvery time.Duration
	// ImportMaxMB is the largest file an import accepts, in MiB.
	ImportMaxMB int64
	// ScoreRefreshEvery refreshes every lead's cached scores this often; 0: only on demand.
	ScoreRefreshEvery time.Duration
	// SandboxChangesPerMinute makes the embedded sandbox change leads by
	// itself, announced by webhooks, so live updates show from the start.
	SandboxChangesPerMinute float64
	// MetricsAddr, when set, serves /metrics without sign-in on a listener
	// of its own (for a Prometheus on the same host or private network).
	MetricsAddr string
}

func parseServe(args []string, io IO) (ServeConfig, error) {
	var c ServeConfig
	fs := newFlagSet("serve", io)
	fs.StringVar(&c.Addr, "addr", env("ADDR", "127.0.0.1:8080"), "listen address (env JINGDESK_ADDR)")
	fs.StringVar(&c.Data, "data", env("DATA", "./jingdesk-data"), "data directory, created 0700 (env JINGDESK_DATA)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("TLS_CERT", ""), "TLS certificate file; with --tls-key serves HTTPS (env JINGDESK_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("TLS_KEY", ""), "TLS private key file (env JINGDESK_TLS_KEY)")
	fs.StringVar(&c.LogFormat, "log-format", env("LOG_FORMAT", "text"), "log format: text or json (env JINGDESK_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (env JINGDESK_LOG_LEVEL)")
	fs.StringVar(&c.TimeZone, "timezone", env("TIMEZONE", "Asia/Shanghai"), "zone times are shown in (env JINGDESK_TIMEZONE)")
	fs.StringVar(&c.PublicURL, "public-url", env("PUBLIC_URL", ""), "URL users reach the console at, for links the server prints (env JINGDESK_PUBLIC_URL)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", envDuration("IDLE_TIMEOUT", 8*time.Hour), "sign out after this long unused (env JINGDESK_IDLE_TIMEOUT)")
	fs.DurationVar(&c.AbsoluteTimeout, "absolute-timeout", envDuration("ABSOLUTE_TIMEOUT", 7*24*time.Hour), "sign out this long after signing in (env JINGDESK_ABSOLUTE_TIMEOUT)")
	fs.BoolVar(&c.BehindProxy, "behind-proxy", env("BEHIND_PROXY", "") == "1" || env("BEHIND_PROXY", "") == "true",
		"trust X-Forwarded-For from private/loopback addresses: set only behind a reverse proxy (env JINGDESK_BEHIND_PROXY=1)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish on shutdown")
	fs.StringVar(&c.JingBaseURL, "jing-base-url", env("JING_BASE_URL", ""), "platform base URL; overrides Settings → Platform (env JINGDESK_JING_BASE_URL)")
	fs.StringVar(&c.JingAppID, "jing-app-id", env("JING_APP_ID", ""), "platform app_id; overrides Settings → Platform (env JINGDESK_JING_APP_ID; the secret comes from JINGDESK_JING_APP_SECRET)")
	fs.Int64Var(&c.SandboxSeed, "sandbox-seed", envInt("SANDBOX_SEED", 1), "seed of the embedded sandbox's demo tenant (env JINGDESK_SANDBOX_SEED)")
	fs.DurationVar(&c.RefdataTTL, "refdata-ttl", envDuration("REFDATA_TTL", refdata.DefaultTTL),
		"refresh the platform's reference data (statuses, options, fields, members) when older than this (env JINGDESK_REFDATA_TTL)")
	fs.DurationVar(&c.LeadSyncEvery, "lead-sync-every", envDuration("LEAD_SYNC_EVERY", leads.DefaultSyncEvery),
		"bring the local copy of the platform's leads up to date this often (env JINGDESK_LEAD_SYNC_EVERY)")
	fs.Int64Var(&c.ImportMaxMB, "import-max-mb", envInt("IMPORT_MAX_MB", crowds.DefaultMaxUpload>>20),
		"largest spreadsheet an import accepts, in MiB (env JINGDESK_IMPORT_MAX_MB)")
	fs.Float64Var(&c.SandboxChangesPerMinute, "sandbox-changes-per-minute", 1,
		"lead and account changes the embedded sandbox makes by itself each minute, with webhooks (0: none)")
	fs.DurationVar(&c.ScoreRefreshEvery, "score-refresh-every", envDuration("SCORE_REFRESH_EVERY", scores.DefaultMaxAge),
		"refresh the cached scores of every lead this often; 0 for only on demand (env JINGDESK_SCORE_REFRESH_EVERY)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("METRICS_ADDR", ""),
		"also serve /metrics, without sign-in, on this address (such as 127.0.0.1:9464); never expose it publicly (env JINGDESK_METRICS_ADDR)")
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	c.JingAppSecret = env("JING_APP_SECRET", "")
	if c.JingBaseURL != "" {
		if u, err := url.Parse(c.JingBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("--jing-base-url must be an http:// or https:// address, such as %s", platform.ProductionBaseURL)
		}
	}
	if c.RefdataTTL < time.Minute {
		return c, fmt.Errorf("--refdata-ttl must be at least 1m")
	}
	if c.LeadSyncEvery < 10*time.Second {
		return c, fmt.Errorf("--lead-sync-every must be at least 10s")
	}
	if c.ImportMaxMB < 1 {
		return c, fmt.Errorf("--import-max-mb must be at least 1")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("--log-format must be text or json")
	}
	return c, nil
}

func envInt(name string, def int64) int64 {
	if n, err := strconv.ParseInt(env(name, ""), 10, 64); err == nil {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(env(name, "")); err == nil && d > 0 {
		return d
	}
	return def
}

func newLogger(c ServeConfig, io IO) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(io.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(io.Stderr, opts))
}

// serve runs the console until ctx ends, then lets in-flight requests finish.
func serve(ctx context.Context, args []string, io IO, build Build) error {
	cfg, err := parseServe(args, io)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, io)
	zone, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return fmt.Errorf("--timezone %q: %w", cfg.TimeZone, err)
	}
	release, err := claimDataDir(ctx, cfg.Data, build, logger)
	if err != nil {
		return err
	}
	defer release()
	d, err := openData(ctx, cfg.Data)
	if err != nil {
		return err
	}
	defer d.Close()
	backupCtx, stopBackups := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackups()
	go backup.Run(backupCtx, cfg.Data, build.Version, backupSchedule(backupCtx, d.store), logger)
	pm, err := openPlatform(ctx, d, cfg, logger)
	if err != nil {
		return err
	}
	defer pm.Close() // also on early returns; a second Close is a no-op
	runner := jobs.New(d.store, jobs.Config{Logger: logger})
	// Each capability registers its job kinds here, before the runner starts.
	ref, err := refdata.New(ctx, refdata.Config{Store: d.store, Platform: pm, Runner: runner, TTL: cfg.RefdataTTL, Logger: logger})
	if err != nil {
		return err
	}
	leadSvc, err := leads.New(leads.Config{Store: d.store, Platform: pm, Runner: runner, Logger: logger, SyncEvery: cfg.LeadSyncEvery})
	if err != nil {
		return err
	}
	crowdSvc, err := crowds.New(crowds.Config{Store: d.store, Platform: pm, Runner: runner, DataDir: d.path,
		MaxUpload: cfg.ImportMaxMB << 20, Logger: logger})
	if err != nil {
		return err
	}
	sendSvc, err := sends.New(sends.Config{Store: d.store, Platform: pm, Runner: runner, Logger: logger})
	if err != nil {
		return err
	}
	scoreSvc, err := scores.New(scores.Config{Store: d.store, Platform: pm, Runner: runner, Crowds: crowdSvc, Logger: logger,
		RefreshEvery: cfg.ScoreRefreshEvery})
	if err != nil {
		return err
	}
	if err := runner.Start(ctx); err != nil {
		return err
	}
	defer stopJobs(runner, cfg.ShutdownTimeout, logger) // also on early returns; a second Stop is a no-op
	if err := ref.Start(ctx); err != nil {
		return err
	}
	defer ref.Stop() // before the runner: no refresh is requested while it stops
	if err := leadSvc.Start(ctx); err != nil {
		return err
	}
	defer leadSvc.Stop() // likewise: no sync is requested while the runner stops
	scoreSvc.Start(ctx)
	defer scoreSvc.Stop()
	box, err := d.secretBox()
	if err != nil {
		return err
	}
	hooks, err := webhooks.New(webhooks.Config{Store: d.store, Box: box, Logger: logger})
	if err != nil {
		return err
	}
	hooks.Start(ctx)
	defer hooks.Stop()
	// Sends: unknown outcomes are looked for, submitted sends followed.
	followCtx, stopFollowing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFollowing()
	go sendSvc.Follow(followCtx, sends.FollowEvery)
	srv, err := buildServer(ctx, d, cfg, logger, zone, build, runner, pm, ref, leadSvc, crowdSvc, sendSvc, scoreSvc, hooks)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	baseURL := cfg.PublicURL
	if baseURL == "" {
		baseURL = scheme + "://" + displayAddr(ln.Addr().String())
	}
	if err := pointSandboxAtReceiver(ctx, pm, hooks, ln, cfg.TLSCert != ""); err != nil {
		return err
	}
	// Start-up (migrations, the embedded sandbox's seeding) leaves garbage
	// the runtime would keep for a while; hand it back so an idle console
	// stays small.
	debug.FreeOSMemory()
	stopMetrics, err := startMetrics(cfg.MetricsAddr, srv.MetricsHandler(), logger)
	if err != nil {
		return err
	}
	defer stopMetrics()
	logger.Info("jingdesk listening", "url", baseURL, "data", cfg.Data, "version", build.Version)
	if srv.SetupToken != "" {
		setupURL := strings.TrimRight(baseURL, "/") + "/setup?token=" + srv.SetupToken
		logger.Warn("no accounts yet: open the one-time setup link to create the first administrator", "url", setupURL)
		fmt.Fprintf(io.Stderr, "\n  Create the first administrator at:\n  %s\n\n", setupURL)
	}
	if err := serveHTTP(ctx, ln, srv, cfg, logger); err != nil {
		return err
	}
	stopMetrics()
	// Only now: a request may have queued, paused or cancelled a job until the end.
	stopFollowing()
	hooks.Stop()
	scoreSvc.Stop()
	ref.Stop()
	leadSvc.Stop()
	stopJobs(runner, cfg.ShutdownTimeout, logger)
	// Then the embedded sandbox, which saves the demo tenant's state.
	pm.Close()
	logger.Info("stopped")
	return nil
}

// stopJobs interrupts running jobs and puts them back in the queue, so the
// next start resumes them from their checkpoint.
func stopJobs(runner *jobs.Runner, timeout time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := runner.Stop(ctx); err != nil {
		logger.Warn("background jobs did not stop in time; they resume once their lease expires", "error", err)
	}
}

// serveHTTP serves on ln until ctx ends, then stops accepting connections
// and waits (up to the shutdown timeout) for in-flight requests to finish.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, cfg ServeConfig, logger *slog.Logger) error {
	httpSrv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // imports upload spreadsheets
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- httpSrv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- httpSrv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// buildServer wires the web server from an opened data directory.
func buildServer(ctx context.Context, d *dataDir, cfg ServeConfig, logger *slog.Logger, zone *time.Location, build Build,
	jobService web.JobService, pm *platform.Manager, ref *refdata.Service, leadSvc *leads.Service, crowdSvc *crowds.Service, sendSvc *sends.Service, scoreSvc *scores.Service, hooks *webhooks.Service) (*web.Server, error) {
	catalog, err := i18n.NewCatalog(zone)
	if err != nil {
		return nil, err
	}
	hashKey, blockKey, err := d.sessionKeys()
	if err != nil {
		return nil, err
	}
	users, err := d.store.CountUsers(ctx)
	if err != nil {
		return nil, err
	}
	setupToken := ""
	if users == 0 {
		setupToken = secret.Token(24)
	}
	return web.New(web.Deps{
		Store:           d.store,
		Catalog:         catalog,
		Logger:          logger,
		SessionHashKey:  hashKey,
		SessionBlockKey: blockKey,
		SecureCookies:   cfg.TLSCert != "",
		BehindProxy:     cfg.BehindProxy,
		IdleTimeout:     cfg.IdleTimeout,
		AbsoluteTimeout: cfg.AbsoluteTimeout,
		SetupToken:      setupToken,
		Version:         build.Version,
		Build:           web.BuildInfo{Version: build.Version, Commit: build.Commit, Date: build.Date},
		DataDir:         d.path,
		StartedAt:       time.Now(),
		MetricsAddr:     cfg.MetricsAddr,
		Jobs:            jobService,
		Platform:        pm,
		CatalogFile:     d.catalogFile(),
		Reference:       ref,
		Leads:           leadSvc,
		Crowds:          crowdSvc,
		Sends:           sendSvc,
		Scores:          scoreSvc,
		Webhooks:        hooks,
	})
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
func pointSandboxAtReceiver(ctx context.Context, pm *platform.Manager, hooks *webhooks.Service, ln net.Listener, tls bool) error {
	scheme := "http"
	if tls {
		scheme = "https"
	}
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
