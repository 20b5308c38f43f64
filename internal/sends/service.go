// Package sends prepares, approves and submits SMS and email sends exactly
// once, and follows them on the platform.
//
// A send is a ledger row in SQLite, written before the platform is
// called, that moves draft → (awaiting_approval →) approved → submitting →
// submitted → done. The step to submitting is one conditional UPDATE: of a
// double click, two tabs or a retried request exactly one wins, and only
// the winner calls the platform. A call whose outcome cannot be known (a
// timeout, a dropped connection, an ambiguous platform error) leaves the
// send unknown: the console looks for it on the platform by the send key
// embedded in its name and settles it when found; otherwise a person
// decides, with the evidence shown. An unknown send is never sent again
// on its own.
package sends

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/secret"
)

// Channels.
const (
	SMS = "sms"
	EDM = "edm"
)

// Config builds a Service.
type Config struct {
	Store    *db.Store
	Platform platform.Live
	Runner   *jobs.Runner // for the consent check; nil: not offered
	Logger   *slog.Logger
	Now      func() time.Time
	// Abandoned is how long a send may stay "submitting" before the
	// reconciler treats its call as lost (the client gives up well before).
	Abandoned time.Duration // default 2 min
}

// Service is the sends service.
type Service struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	inFlight map[int64]bool // sends this process is submitting right now

	polls *pollThrottle // when the platform was last asked about a send's delivery
}

// New builds the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Platform == nil {
		return nil, errors.New("sends: store and platform are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Abandoned <= 0 {
		cfg.Abandoned = 2 * time.Minute
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "sends"), inFlight: map[int64]bool{}, polls: newPollThrottle()}
	if cfg.Runner != nil {
		cfg.Runner.Register(ConsentJobKind, s.runConsent)
	}
	return s, nil
}

// NewKey is a send key: short, unique, easy to find in a name.
func NewKey() string { return "jd-" + strings.ToLower(secret.Token(6)) }

// stateArg is a send's state as a parameter, in the reader's words.
func stateArg(state string) msg.Arg { return msg.Nested("State", msg.New("sends.state."+state)) }

// audit records a ledger step; summary is an encoded message (msg), so
// the timeline and the audit log read it in their reader's language.
func (s *Service) audit(ctx context.Context, actor *db.User, sd db.Send, action, summary, requestID string, outcome string) {
	e := db.AuditEntry{Action: "send." + action, Object: fmt.Sprintf("send:%d", sd.ID), Summary: summary,
		RequestID: requestID, Outcome: outcome}
	if e.Outcome == "" {
		e.Outcome = db.OutcomeOK
	}
	if actor != nil {
		e.UserID, e.Username = actor.ID, actor.Username
	}
	if err := s.cfg.Store.Audit(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("write audit log", "action", e.Action, "error", err)
	}
}
