package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
)

// sandboxOptions are the flags of `jingdesk sandbox`.
type sandboxOptions struct {
	addr     string
	cfg      sandbox.Config
	catalog  string
	shutdown time.Duration
	logs     ServeConfig // only the log format and level
}

func parseSandbox(args []string, io IO) (sandboxOptions, error) {
	var o sandboxOptions
	c := &o.cfg
	fs := newFlagSet("sandbox", io)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9900", "listen address")
	fs.Int64Var(&c.Seed, "seed", 1, "seed of the demo tenant (the same seed gives the same tenant)")
	fs.StringVar(&c.AppID, "app-id", "sandbox", "app_id clients must present")
	fs.StringVar(&c.AppSecret, "app-secret", "sandbox", "app_secret clients must present")
	fs.IntVar(&c.Persons, "persons", 20000, "persons in the demo tenant")
	fs.IntVar(&c.Leads, "leads", 3000, "leads in the demo tenant")
	fs.DurationVar(&c.TokenTTL, "token-ttl", 0, "access token life (0: about 75 minutes, varying as the platform's does)")
	fs.IntVar(&c.DailyQuota, "daily-quota", 0, "replace every endpoint's daily quota (0: the catalog's)")
	fs.Float64Var(&c.Faults.ErrorRate, "error-rate", 0, "share of business calls answered 20000 or 40005, 0 to 1")
	fs.DurationVar(&c.Faults.Latency, "latency", 0, "delay added before every answer")
	fs.Float64Var(&c.Faults.DropRate, "drop-rate", 0, "share of business calls whose connection is dropped after they took effect, 0 to 1")
	fs.Func("deny", "endpoints (catalog keys, comma-separated) the tenant is not granted: answered 40006", func(v string) error {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.Permissions.Denied = append(c.Permissions.Denied, k)
			}
		}
		return nil
	})
	fs.BoolVar(&c.Permissions.IPNotAllowed, "deny-ip", false, "answer every call 40006 \"IP无权访问\", as a platform whose IP allow-list lacks the caller")
	fs.StringVar(&c.WebhookURL, "webhook-url", "", "where to deliver lead and account events, as the platform does")
	fs.Float64Var(&c.PlatformChangesPerMinute, "platform-changes-per-minute", 0, "random lead and account changes made \"on the platform\", with webhooks")
	fs.StringVar(&c.StatePath, "state", "", "keep the tenant's state in this file across restarts")
	fs.StringVar(&o.catalog, "catalog", "", "catalog.json with overrides (paths, limits) to serve instead of the built-in catalog")
	c.Quirks = sandbox.Quirks{}
	fs.Var(c.Quirks, "quirk", "answer like an undocumented platform: NAME or NAME=ENDPOINT,… (repeatable; see the README)")
	fs.DurationVar(&o.shutdown, "shutdown-timeout", 10*time.Second, "how long in-flight requests may finish on shutdown")
	if err := loadSettings(fs, args, io.lookupEnv, lookup(serveSettings(&o.logs), "log-format", "log-level")); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "unexpected argument %q\n", fs.Arg(0))
		return o, ErrUsage
	}
	for name, rate := range map[string]float64{"--error-rate": c.Faults.ErrorRate, "--drop-rate": c.Faults.DropRate} {
		if rate < 0 || rate > 1 {
			return o, fmt.Errorf("%s must be between 0 and 1", name)
		}
	}
	if c.Persons <= 0 || c.Leads <= 0 || c.DailyQuota < 0 || c.PlatformChangesPerMinute < 0 {
		return o, fmt.Errorf("--persons and --leads must be positive; --daily-quota and --platform-changes-per-minute cannot be negative")
	}
	if c.AppID == "" || c.AppSecret == "" {
		return o, fmt.Errorf("--app-id and --app-secret cannot be empty")
	}
	return o, nil
}

// sandboxCommand serves a sandbox platform until ctx ends (SIGINT or SIGTERM).
func sandboxCommand(ctx context.Context, args []string, io IO) error {
	o, err := parseSandbox(args, io)
	if err != nil {
		return err
	}
	logger := newLogger(o.logs, io)
	if o.catalog != "" {
		if o.cfg.Catalog, err = jing.LoadCatalog(o.catalog); err != nil {
			return fmt.Errorf("--catalog: %w", err)
		}
	}
	cat := o.cfg.Catalog
	if cat.IsZero() {
		cat = jing.DefaultCatalog()
	}
	if err := o.cfg.Permissions.Check(cat); err != nil {
		return fmt.Errorf("--deny: %w", err)
	}
	o.cfg.Logger = logger
	start := time.Now()
	sb, err := sandbox.Start(o.cfg, o.addr)
	if err != nil {
		return err
	}
	logger.Info("sandbox platform listening", "url", sb.URL, "seed", o.cfg.Seed, "started_in", time.Since(start).Round(time.Millisecond))
	if len(o.cfg.Quirks) > 0 {
		logger.Warn("sandbox answers with quirks, unlike the documented platform", "quirks", o.cfg.Quirks.String())
	}
	fmt.Fprintf(io.Stdout, "Jing sandbox platform\n  URL:        %s\n  app_id:     %s\n  app_secret: %s\n\n"+
		"Connect jingdesk to it with:\n  JINGDESK_JING_APP_SECRET=%s jingdesk serve --jing-base-url %s --jing-app-id %s\n",
		sb.URL, o.cfg.AppID, o.cfg.AppSecret, o.cfg.AppSecret, sb.URL, o.cfg.AppID)
	<-ctx.Done()
	logger.Info("shutting down the sandbox", "timeout", o.shutdown)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), o.shutdown)
	defer cancel()
	if err := sb.Close(shutdownCtx); err != nil {
		return fmt.Errorf("sandbox shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
