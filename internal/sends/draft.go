package sends

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/importfile"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// Draft is what a user writes: the message, the audience, the time.
type Draft struct {
	Name      string
	SMSID     string // sms
	Subject   string // edm
	MailboxID string // edm
	HTML      string // edm
	GroupIDs  []int64
	Mobiles   []string // sms: a pasted list, normalised (ParseMobiles)
	// NotMobiles are the pasted entries that are not mobiles: a draft
	// with any is refused, so none is dropped without the user knowing.
	NotMobiles []string
	SendTime   int64 // 0: at once
}

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

// validate is the one check of a draft as written, for its channel: the
// first problem found, as a refusal about its form field. It runs before
// anything is stored or the platform is asked about the draft.
func (s *Service) validate(ctx context.Context, channel string, d Draft) error {
	if err := checkDraft(channel, d, s.cfg.Now().Unix()); err != nil {
		return err
	}
	for _, g := range d.GroupIDs {
		if _, err := s.cfg.Store.Crowd(ctx, g); errors.Is(err, db.ErrNotFound) {
			return ErrCrowdGone
		} else if err != nil {
			return err
		}
	}
	return nil
}

// checkDraft is validate's part that needs nothing but the draft and the
// time now (Unix seconds).
func checkDraft(channel string, d Draft, now int64) error {
	if strings.TrimSpace(d.Name) == "" {
		return ErrNoName
	}
	var err error
	switch channel {
	case SMS:
		err = checkSMS(d)
	case EDM:
		err = checkEmail(d)
	default:
		return fmt.Errorf("sends: unknown channel %q", channel)
	}
	if err != nil {
		return err
	}
	if d.SendTime != 0 && d.SendTime <= now {
		return ErrPastTime
	}
	return nil
}

// checkSMS: an approved message, and crowds or a pasted list (all of it mobiles).
func checkSMS(d Draft) error {
	switch {
	case d.SMSID == "":
		return ErrNoMessage
	case len(d.GroupIDs) > 0 && (len(d.Mobiles) > 0 || len(d.NotMobiles) > 0):
		return ErrBothAudiences
	case len(d.NotMobiles) > 0:
		return ErrInvalidMobiles(len(d.NotMobiles))
	case len(d.GroupIDs) == 0 && len(d.Mobiles) == 0:
		return ErrNoAudience
	}
	return nil
}

// checkEmail: a subject, a sender, a body within HTMLMax, and crowds
// (an email goes to crowds only).
func checkEmail(d Draft) error {
	switch {
	case strings.TrimSpace(d.Subject) == "":
		return ErrNoSubject
	case d.MailboxID == "":
		return ErrNoMailbox
	case strings.TrimSpace(d.HTML) == "":
		return ErrNoHTML
	case len(d.HTML) > HTMLMax:
		return ErrHTMLTooLarge
	case len(d.Mobiles) > 0 || len(d.NotMobiles) > 0:
		return ErrBothAudiences
	case len(d.GroupIDs) == 0:
		return ErrNoCrowd
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
		m, err := s.message(ctx, d.SMSID)
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
func (s *Service) message(ctx context.Context, smsID string) (jing.SMSMessage, error) {
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
	client, err := s.client()
	if err != nil {
		return nil, err
	}
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

// Mailboxes lists the platform's sender mailboxes; only a verified one sends.
func (s *Service) Mailboxes(ctx context.Context) ([]jing.Mailbox, error) {
	client, err := s.client()
	if err != nil {
		return nil, err
	}
	return client.Mailboxes(ctx)
}

// mailbox finds a verified sender mailbox.
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
	return jing.Mailbox{}, ErrMailboxUnverified
}

// client is the live platform client, or ErrNoPlatform.
func (s *Service) client() (*jing.Client, error) {
	client, _ := s.cfg.Platform.Current()
	if client == nil {
		return nil, ErrNoPlatform
	}
	return client, nil
}

// CreateDraft writes a new draft with a fresh send key.
func (s *Service) CreateDraft(ctx context.Context, userID int64, channel string, d Draft) (int64, error) {
	if err := s.validate(ctx, channel, d); err != nil {
		return 0, err
	}
	in, err := s.input(ctx, channel, d)
	if err != nil {
		return 0, err
	}
	return s.cfg.Store.CreateSend(ctx, NewKey(), userID, in)
}

// How a send can still change (Changeable).
const (
	AsDraft     = "draft"     // a draft: everything
	AsScheduled = "scheduled" // an email the platform holds for its time: not its name nor audience
)

// Changeable says how a send can still change: AsDraft, AsScheduled, or
// "" when it no longer can.
func Changeable(sd db.Send) string {
	switch {
	case sd.State == db.SendDraft && !sd.Test:
		return AsDraft
	case scheduledOnPlatform(sd):
		return AsScheduled
	}
	return ""
}

// scheduledOnPlatform: an email the platform holds for its send time and
// has not started; it can still be changed or deleted there.
func scheduledOnPlatform(sd db.Send) bool {
	return sd.Channel == EDM && sd.State == db.SendSubmitted && sd.PlatformStatus == "scheduled"
}

// Change changes a send while it can still change (Changeable): a draft,
// or a scheduled email on the platform first. Any other is refused
// (ErrStarted once the platform has it, ErrNotDraft before), and the
// refusal audited.
func (s *Service) Change(ctx context.Context, id int64, user *db.User, d Draft) (db.Send, error) {
	sd, err := s.actOn(ctx, user, id)
	if err != nil {
		return sd, err
	}
	switch Changeable(sd) {
	case AsDraft:
		if err := s.updateDraft(ctx, sd, d); err != nil {
			return sd, err
		}
		return s.cfg.Store.Send(ctx, id)
	case AsScheduled:
		return s.updateScheduled(ctx, sd, user, d)
	}
	s.audit(ctx, user, sd, "update", msg.New("sends.audit.change_refused", stateArg(sd.State)).Encode(), "", db.OutcomeDenied)
	if sd.State == db.SendSubmitted || sd.State == db.SendDone {
		return sd, ErrStarted
	}
	return sd, ErrNotDraft
}

// updateDraft changes a draft (only a draft: one that moved on meanwhile
// is ErrNotDraft).
func (s *Service) updateDraft(ctx context.Context, sd db.Send, d Draft) error {
	if err := s.validate(ctx, sd.Channel, d); err != nil {
		return err
	}
	in, err := s.input(ctx, sd.Channel, d)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.UpdateSendDraft(ctx, sd.ID, in); errors.Is(err, db.ErrConflict) {
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

// Audience is the size pages show for a send: the count frozen when it
// was confirmed, and before that AudienceSize (0 when that cannot be
// told, a crowd gone from the local copy).
func (s *Service) Audience(ctx context.Context, sd db.Send) int64 {
	if sd.ConfirmedAt != 0 && sd.State != db.SendDraft {
		return sd.AudienceCount
	}
	n, err := s.AudienceSize(ctx, sd)
	if err != nil {
		return 0
	}
	return n
}
