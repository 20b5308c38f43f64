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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/importfile"
	"github.com/jingdesk/jingdesk/internal/jing"
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
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "sends"), inFlight: map[int64]bool{}}
	if cfg.Runner != nil {
		cfg.Runner.Register(ConsentJobKind, s.runConsent)
	}
	return s, nil
}

// --- settings ---

// Settings are the sending rules an administrator sets.
type Settings struct {
	TestMobiles []string `json:"test_mobiles"` // the only numbers a test SMS goes to
	TestEmails  []string `json:"test_emails"`  // the only addresses a test email goes to
	// ConfirmTypeAbove: confirming a send to more people than this asks
	// for the count to be typed.
	ConfirmTypeAbove int64 `json:"confirm_type_above"`
	// ApprovalAbove: a send to more people than this waits for a second
	// person's approval; 0 turns approval off.
	ApprovalAbove int64 `json:"approval_above"`
}

// DefaultSettings apply until an administrator saves others.
var DefaultSettings = Settings{ConfirmTypeAbove: 1000}

const settingsKey = "sends.settings"

// Settings returns the current sending rules.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	raw, err := s.cfg.Store.Setting(ctx, settingsKey)
	if errors.Is(err, db.ErrNotFound) {
		return DefaultSettings, nil
	}
	if err != nil {
		return Settings{}, err
	}
	st := DefaultSettings
	return st, json.Unmarshal([]byte(raw), &st)
}

// ErrBadSettings refuses settings with an invalid test recipient.
var ErrBadSettings = errors.New("sends: a test recipient is not a valid mobile or email")

// SaveSettings checks and stores the sending rules (test recipients normalised).
func (s *Service) SaveSettings(ctx context.Context, st Settings) (Settings, error) {
	var err error
	if st.TestMobiles, err = normaliseAll(importfile.ColMobile, st.TestMobiles); err != nil {
		return st, err
	}
	if st.TestEmails, err = normaliseAll(importfile.ColEmail, st.TestEmails); err != nil {
		return st, err
	}
	st.ConfirmTypeAbove, st.ApprovalAbove = max(st.ConfirmTypeAbove, 0), max(st.ApprovalAbove, 0)
	b, _ := json.Marshal(st)
	return st, s.cfg.Store.SetSetting(ctx, settingsKey, string(b))
}

func normaliseAll(role string, values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		if strings.TrimSpace(v) == "" {
			continue
		}
		n, reason := importfile.Normalize(role, v)
		if reason != "" {
			return nil, fmt.Errorf("%w: %q", ErrBadSettings, v)
		}
		out = append(out, n)
	}
	return out, nil
}

// --- drafts ---

// Draft is what a user writes: the message, the audience, the time.
type Draft struct {
	Name      string
	SMSID     string // sms
	Subject   string // edm
	MailboxID string // edm
	HTML      string // edm
	GroupIDs  []int64
	Mobiles   []string // sms: a pasted list, normalised
	SendTime  int64    // 0: at once
}

// Errors of drafts and confirmation a user can act on.
var (
	ErrNoName        = errors.New("sends: the send needs a name")
	ErrNoMessage     = errors.New("sends: choose an approved message")
	ErrNoAudience    = errors.New("sends: choose crowds or paste mobiles")
	ErrBothAudiences = errors.New("sends: a send goes to crowds or to a list of mobiles, not both")
	ErrNoMailbox     = errors.New("sends: choose a verified sender mailbox")
	ErrNoSubject     = errors.New("sends: the email needs a subject and a body")
	ErrPastTime      = errors.New("sends: the send time has passed")
	ErrNotDraft      = errors.New("sends: the send is no longer a draft")
)

// ParseMobiles reads a pasted list (one per line, or separated by commas,
// semicolons or spaces) as the importer would: normalised, deduplicated,
// and the invalid ones returned apart.
func ParseMobiles(text string) (valid, invalid []string) {
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(",;，；\n\r\t", r) }) {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, reason := importfile.Normalize(importfile.ColMobile, f)
		switch {
		case reason != "":
			invalid = append(invalid, f)
		case !seen[n]:
			seen[n] = true
			valid = append(valid, n)
		}
	}
	return valid, invalid
}

func (s *Service) check(channel string, d Draft) error {
	switch {
	case strings.TrimSpace(d.Name) == "":
		return ErrNoName
	case channel == SMS && d.SMSID == "":
		return ErrNoMessage
	case channel == EDM && d.MailboxID == "":
		return ErrNoMailbox
	case channel == EDM && (strings.TrimSpace(d.Subject) == "" || strings.TrimSpace(d.HTML) == ""):
		return ErrNoSubject
	case len(d.GroupIDs) == 0 && len(d.Mobiles) == 0:
		return ErrNoAudience
	case len(d.GroupIDs) > 0 && len(d.Mobiles) > 0, channel == EDM && len(d.Mobiles) > 0:
		return ErrBothAudiences
	case d.SendTime != 0 && d.SendTime <= s.cfg.Now().Unix():
		return ErrPastTime
	}
	return nil
}

// input turns a draft into the ledger's row, with what it shows of the
// platform's objects (the message's text, the sender's address) copied in.
func (s *Service) input(ctx context.Context, channel string, d Draft) (db.SendDraftInput, error) {
	client, conn := s.cfg.Platform.Current()
	in := db.SendDraftInput{Channel: channel, Connection: conn, Name: strings.TrimSpace(d.Name), SMSID: d.SMSID,
		Subject: d.Subject, MailboxID: d.MailboxID, GroupIDs: d.GroupIDs, Mobiles: d.Mobiles, SendTime: d.SendTime}
	switch channel {
	case SMS:
		m, err := s.message(ctx, client, d.SMSID)
		if err != nil {
			return in, err
		}
		in.Content, in.Signature = m.Content, m.Signature
	case EDM:
		mb, err := s.mailbox(ctx, client, d.MailboxID)
		if err != nil {
			return in, err
		}
		in.Content, in.Sender = d.HTML, mb.Address
	}
	return in, nil
}

// message finds an approved SMS message.
func (s *Service) message(ctx context.Context, client *jing.Client, smsID string) (jing.SMSMessage, error) {
	msgs, err := s.Messages(ctx)
	if err != nil {
		return jing.SMSMessage{}, err
	}
	for _, m := range msgs {
		if m.SMSID == smsID && m.Status == "approved" {
			return m, nil
		}
	}
	return jing.SMSMessage{}, ErrNoMessage
}

// Messages lists the approved SMS messages.
func (s *Service) Messages(ctx context.Context) ([]jing.SMSMessage, error) {
	client, _ := s.cfg.Platform.Current()
	var out []jing.SMSMessage
	paging := client.NewPaging("sms.list")
	for page := 1; ; page++ {
		p, err := client.ListSMS(ctx, jing.PageRequest{Page: page, PerPage: jing.DefaultPerPage})
		if err != nil {
			return nil, err
		}
		for _, m := range p.Items {
			if m.Status == "" || m.Status == "approved" {
				out = append(out, m)
			}
		}
		if more, err := paging.More(page, p.Info()); err != nil || !more {
			return out, err
		}
	}
}

func (s *Service) mailbox(ctx context.Context, client *jing.Client, id string) (jing.Mailbox, error) {
	mbs, err := client.Mailboxes(ctx)
	if err != nil {
		return jing.Mailbox{}, err
	}
	for _, mb := range mbs {
		if mb.MailboxID == id && mb.Verified {
			return mb, nil
		}
	}
	return jing.Mailbox{}, ErrNoMailbox
}

// CreateDraft writes a new draft with a fresh send key.
func (s *Service) CreateDraft(ctx context.Context, userID int64, channel string, d Draft) (int64, error) {
	if err := s.check(channel, d); err != nil {
		return 0, err
	}
	in, err := s.input(ctx, channel, d)
	if err != nil {
		return 0, err
	}
	return s.cfg.Store.CreateSend(ctx, NewKey(), userID, in)
}

// NewKey is a send key: short, unique, easy to find in a name.
func NewKey() string { return "jd-" + strings.ToLower(secret.Token(6)) }

// UpdateDraft changes a draft (only a draft).
func (s *Service) UpdateDraft(ctx context.Context, id int64, d Draft) error {
	sd, err := s.cfg.Store.Send(ctx, id)
	if err != nil {
		return err
	}
	if sd.State != db.SendDraft {
		return ErrNotDraft
	}
	if err := s.check(sd.Channel, d); err != nil {
		return err
	}
	in, err := s.input(ctx, sd.Channel, d)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.UpdateSendDraft(ctx, id, in); errors.Is(err, db.ErrConflict) {
		return ErrNotDraft
	} else if err != nil {
		return err
	}
	return nil
}

// AudienceSize is how many people a send reaches, as far as the console
// can tell before sending: the pasted mobiles, or the crowds' member
// counts from the local copy (a person in two crowds counts twice here;
// the platform sends once).
func (s *Service) AudienceSize(ctx context.Context, sd db.Send) (int64, error) {
	if len(sd.Mobiles) > 0 {
		return int64(len(sd.Mobiles) - len(sd.Excluded)), nil
	}
	var n int64
	for _, g := range sd.GroupIDs {
		c, err := s.cfg.Store.Crowd(ctx, g)
		if err != nil {
			return 0, fmt.Errorf("crowd %d: %w", g, err)
		}
		n += c.UserCount
	}
	return n, nil
}

// audit records a ledger step.
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
