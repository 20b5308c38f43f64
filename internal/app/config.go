package app

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/scores"
)

// ServeConfig is the server's configuration after defaults, environment
// and flags, checked as a whole (parseServe).
type ServeConfig struct {
	Addr            string
	Data            string
	TLSCert         string
	TLSKey          string
	LogFormat       string
	LogLevel        slog.Level
	TimeZone        *time.Location
	PublicURL       string
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// ShutdownTimeout bounds, on a stop, the wait for in-flight requests,
	// then the wait for each background part (jobs, a backup under way…).
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

	certificate *tls.Certificate // TLSCert and TLSKey, loaded by check
}

// maxImportMB bounds --import-max-mb (1 TiB), far above any spreadsheet.
const maxImportMB = 1 << 20

// serveSettings are the server's settings, in the order of README's
// Configuration table. The other commands pick theirs from this list
// (lookup), so a setting they share is defined once.
func serveSettings(c *ServeConfig) []setting {
	return []setting{
		{flag: "addr", env: "JINGDESK_ADDR", def: "127.0.0.1:8080", help: "listen `address`", set: hostPort(&c.Addr, false)},
		{flag: "data", env: "JINGDESK_DATA", def: "./jingdesk-data", help: "data `directory`, created 0700", set: nonEmpty(&c.Data)},
		{flag: "tls-cert", env: "JINGDESK_TLS_CERT", help: "TLS certificate `file`; with --tls-key serves HTTPS", set: anyText(&c.TLSCert)},
		{flag: "tls-key", env: "JINGDESK_TLS_KEY", help: "TLS private key `file`", set: anyText(&c.TLSKey)},
		{flag: "log-format", env: "JINGDESK_LOG_FORMAT", def: "text", help: "log `format`: text or json", set: oneOf(&c.LogFormat, "text", "json")},
		{flag: "log-level", env: "JINGDESK_LOG_LEVEL", def: "info", help: "log `level`: debug, info, warn or error", set: logLevel(&c.LogLevel)},
		{flag: "timezone", env: "JINGDESK_TIMEZONE", def: "Asia/Shanghai", help: "`zone` times are shown in", set: timeZone(&c.TimeZone)},
		{flag: "public-url", env: "JINGDESK_PUBLIC_URL", help: "`URL` users reach the console at, for links the server prints",
			set: webURL(&c.PublicURL, "https://jingdesk.example.com")},
		{flag: "idle-timeout", env: "JINGDESK_IDLE_TIMEOUT", def: "8h", help: "sign out after this `duration` unused",
			set: duration(&c.IdleTimeout, time.Minute, false)},
		{flag: "absolute-timeout", env: "JINGDESK_ABSOLUTE_TIMEOUT", def: "168h", help: "sign out this `duration` after signing in",
			set: duration(&c.AbsoluteTimeout, time.Minute, false)},
		{flag: "behind-proxy", env: "JINGDESK_BEHIND_PROXY", def: "false", isBool: true, set: boolean(&c.BehindProxy),
			help: "trust X-Forwarded-For from private/loopback addresses: set only behind a reverse proxy"},
		{flag: "shutdown-timeout", env: "JINGDESK_SHUTDOWN_TIMEOUT", def: "20s", set: duration(&c.ShutdownTimeout, time.Second, false),
			help: "on a stop, the `duration` in-flight requests, then each background part, may take to finish"},
		{flag: "jing-base-url", env: "JINGDESK_JING_BASE_URL", help: "platform base `URL`; overrides the stored settings",
			set: webURL(&c.JingBaseURL, platform.ProductionBaseURL)},
		{flag: "jing-app-id", env: "JINGDESK_JING_APP_ID", set: anyText(&c.JingAppID),
			help: "platform `app_id`; overrides the stored settings (the secret comes from JINGDESK_JING_APP_SECRET)"},
		{env: "JINGDESK_JING_APP_SECRET", secret: true, set: anyText(&c.JingAppSecret)},
		{flag: "sandbox-seed", env: "JINGDESK_SANDBOX_SEED", def: "1", help: "`number` seeding the embedded sandbox's demo tenant", set: anyInt(&c.SandboxSeed)},
		{flag: "refdata-ttl", env: "JINGDESK_REFDATA_TTL", def: shortDuration(refdata.DefaultTTL), set: duration(&c.RefdataTTL, time.Minute, false),
			help: "refresh the platform's reference data (statuses, options, fields, members) once older than this `duration`"},
		{flag: "lead-sync-every", env: "JINGDESK_LEAD_SYNC_EVERY", def: shortDuration(leads.DefaultSyncEvery),
			set: duration(&c.LeadSyncEvery, 10*time.Second, false), help: "bring the local copy of the platform's leads up to date every `duration`"},
		{flag: "sandbox-changes-per-minute", env: "JINGDESK_SANDBOX_CHANGES_PER_MINUTE", def: "1", set: nonNegative(&c.SandboxChangesPerMinute),
			help: "`number` of lead and account changes the embedded sandbox makes by itself each minute, with webhooks (0: none)"},
		{flag: "score-refresh-every", env: "JINGDESK_SCORE_REFRESH_EVERY", def: shortDuration(scores.DefaultMaxAge),
			set: duration(&c.ScoreRefreshEvery, time.Minute, true), help: "refresh the cached scores of every lead every `duration`; 0 for only on demand"},
		{flag: "import-max-mb", env: "JINGDESK_IMPORT_MAX_MB", def: fmt.Sprint(crowds.DefaultMaxUpload >> 20),
			set: wholeNumber(&c.ImportMaxMB, 1, maxImportMB), help: "largest spreadsheet an import accepts, in `MiB`"},
		{flag: "metrics-addr", env: "JINGDESK_METRICS_ADDR", set: hostPort(&c.MetricsAddr, true),
			help: "also serve /metrics, without sign-in, on this `address` (such as 127.0.0.1:9464); never expose it publicly"},
	}
}

// parseServe reads the server's configuration and checks it as a whole:
// every problem is reported at once.
func parseServe(args []string, io IO) (ServeConfig, error) {
	var c ServeConfig
	fs := newFlagSet("serve", io)
	err := loadSettings(fs, args, io.lookupEnv, serveSettings(&c))
	if errors.Is(err, ErrUsage) || errors.Is(err, errHelpShown) {
		return c, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "unexpected argument %q\n", fs.Arg(0))
		return c, ErrUsage
	}
	return c, errors.Join(err, c.check())
}

// check enforces what no single setting can: the TLS files go together,
// and load (a wrong path or key is said at start, not on the first
// connection).
func (c *ServeConfig) check() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if c.TLSCert == "" {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return fmt.Errorf("--tls-cert and --tls-key: %w", err)
	}
	c.certificate = &cert
	return nil
}

// scheme is the console's URL scheme.
func (c *ServeConfig) scheme() string {
	if c.TLSCert != "" {
		return "https"
	}
	return "http"
}

// newLogger writes the log in the configured format and level.
func newLogger(c ServeConfig, io IO) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(io.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(io.Stderr, opts))
}
