// Package platform is the service layer between the console and the Jing
// platform. It keeps the connection settings (the app_secret sealed with the
// data directory's key), persists the client's token pair and daily call
// counts in SQLite, records every write in the audit log, and holds the live
// client: the embedded sandbox until credentials are configured, the real
// platform after, switching at once when an administrator changes them.
package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/secret"
)

// ProductionBaseURL is the platform's documented address, used when
// credentials are given without a base URL.
const ProductionBaseURL = "https://jingopenapi.jingsocial.com"

// The settings rows the connection lives in.
const (
	keyBaseURL   = "platform.base_url"
	keyAppID     = "platform.app_id"
	keyAppSecret = "platform.app_secret" // sealed with the Box
)

// Overrides come from flags and the environment. A non-empty field wins
// over the stored setting, and the console shows it read-only.
type Overrides struct {
	BaseURL   string
	AppID     string
	AppSecret string
}

// SandboxOptions shape the embedded sandbox.
type SandboxOptions struct {
	Seed int64
	// StatePath keeps the demo tenant's changes across restarts ("" keeps them in memory only).
	StatePath string
	// ReadOnly reads StatePath but never writes it, and the sandbox's client
	// keeps its token and call counts in memory: for a command that runs
	// beside a console using the same data directory (jingdesk check), so
	// that nothing of the console's sandbox or stored token is changed.
	ReadOnly bool
	// Persons and Leads size the demo tenant (0: the sandbox's defaults).
	Persons int
	Leads   int
	// Addr is where it listens; default a free loopback port.
	Addr string
	// ChangesPerMinute makes random "platform-side" lead changes, announced
	// by webhooks (see WebhookURL), so the console's live updates show.
	ChangesPerMinute float64
	// WebhookURL, when set, is where the sandbox delivers its events.
	WebhookURL string
	// SendSpeed makes the sandbox's sends deliver that many times faster
	// than the platform's (sandbox.Config.SendSpeed; 1 when 0).
	SendSpeed float64
	// Quirks make the sandbox answer like an undocumented platform (tests).
	Quirks sandbox.Quirks
}

// Config builds a Manager.
type Config struct {
	Store     *db.Store
	Box       *secret.Box
	Catalog   jing.Catalog // zero: the default catalog
	Overrides Overrides
	Sandbox   SandboxOptions
	Logger    *slog.Logger
	// Tune, when set, adjusts each client's configuration before it is
	// built (tests shorten the retry delays).
	Tune func(*jing.Config)
	Now  func() time.Time
}

// tokenStore keeps the token pair in the platform_token row, sealed. The
// scope ties it to one platform and app_id: a pair obtained elsewhere is
// treated as absent rather than sent.
type tokenStore struct {
	store *db.Store
	box   *secret.Box
	scope string
}

func (s *tokenStore) LoadToken(ctx context.Context) (jing.Token, error) {
	row, err := s.store.PlatformToken(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return jing.Token{}, nil
	}
	if err != nil {
		return jing.Token{}, err
	}
	if row.Scope != s.scope {
		return jing.Token{}, nil
	}
	access, err := s.box.Open(row.AccessToken)
	if err != nil {
		return jing.Token{}, fmt.Errorf("platform: stored access token: %w", err)
	}
	refresh, err := s.box.Open(row.RefreshToken)
	if err != nil {
		return jing.Token{}, fmt.Errorf("platform: stored refresh token: %w", err)
	}
	return jing.Token{AccessToken: access, RefreshToken: refresh,
		ExpiresAt: time.Unix(row.ExpiresAt, 0), RefreshExpiresAt: time.Unix(row.RefreshExpiresAt, 0)}, nil
}

// SaveToken stores the pair, sealed with the data directory's key.
func (s *tokenStore) SaveToken(ctx context.Context, t jing.Token) error {
	access, err := s.box.Seal(t.AccessToken)
	if err != nil {
		return err
	}
	refresh, err := s.box.Seal(t.RefreshToken)
	if err != nil {
		return err
	}
	return s.store.SavePlatformToken(ctx, db.PlatformToken{Scope: s.scope, AccessToken: access, RefreshToken: refresh,
		ExpiresAt: t.ExpiresAt.Unix(), RefreshExpiresAt: t.RefreshExpiresAt.Unix()})
}

// usageStore counts calls in the platform_usage table.
type usageStore struct{ store *db.Store }

func (u usageStore) CountCall(ctx context.Context, endpoint, day string) (int, error) {
	return u.store.CountPlatformCall(ctx, day, endpoint)
}

func (u usageStore) CallsOn(ctx context.Context, day string) (map[string]int, error) {
	return u.store.PlatformCallsOn(ctx, day)
}

// AuditHook records every write the client makes: who asked for it, what
// it was, how it ended, and the platform's request_id for its support. A
// write whose effect is unknown (no clear answer, or an answer not
// understood, with its HTTP status and excerpt) is recorded as such.
func AuditHook(store *db.Store, logger *slog.Logger) jing.AuditHook {
	return func(ctx context.Context, r jing.WriteRecord) {
		e := db.AuditEntry{Action: "platform." + r.Endpoint, Username: r.Actor, Object: "endpoint:" + r.Endpoint,
			Summary: writeSummary(r), Outcome: writeOutcome(r.Err), RequestID: r.RequestID}
		// The write happened even if the request that asked for it is gone.
		if err := store.Audit(context.WithoutCancel(ctx), e); err != nil {
			logger.Error("write audit log", "action", e.Action, "error", err)
		}
	}
}

func writeOutcome(err error) string {
	if err == nil {
		return db.OutcomeOK
	}
	if e, ok := jing.AsError(err); ok && e.EffectUnknown() {
		return db.OutcomeUnknown
	}
	return db.OutcomeFailed
}

// writeSummary says how a write ended (a stored message, read in the
// viewer's language on the audit page): the platform's error with its own
// words, or the answer not understood with its status and excerpt.
func writeSummary(r jing.WriteRecord) string {
	ms := msg.Int("MS", r.Duration.Milliseconds())
	if r.Err == nil {
		return msg.New("platform.audit.done", ms).Encode()
	}
	if _, ok := jing.AsError(r.Err); !ok {
		return msg.New("platform.audit.not_sent", ms).Encode()
	}
	return msg.New("platform.audit.failed", ms, msg.Nested("Error", msg.FromError(r.Err))).Encode()
}
