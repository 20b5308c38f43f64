package sends

import (
	"context"
	"errors"
	"strconv"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// Before a send can be confirmed, and again before it is approved, the
// console checks what the platform lets it check, so a send fails early
// (or not at all) instead of after everyone agreed to it: an email's
// sender mailbox is still verified, its crowds still exist there with
// members, and — as far as the console knows its members — they have
// email addresses. The platform does not say which members have an
// address before a send is created (edm.create refuses a crowd without
// one: 40004 "所选人群中没有可发送的邮箱地址"); what the console knows is
// the members it listed and the leads and imports they match
// (db.CrowdKnownMembers): when it knows them all and none has an address,
// it refuses as the platform would; otherwise it warns that persons
// without an email are skipped, with the figures it has.

// Refusals of the check.
var (
	// ErrNoEmailAddresses: every member is known to the console and none has an email address.
	ErrNoEmailAddresses = msg.Refuse(msg.Conflict, "send_check.error.no_email")
	// ErrCrowdsEmpty: the platform says the crowds have no members (now).
	ErrCrowdsEmpty = msg.Refuse(msg.Conflict, "send_check.error.crowds_empty")
)

// RefusedByPrecheck reports a refusal of the precheck (a send the
// platform would refuse), which the confirmation shows in place.
func RefusedByPrecheck(err error) bool {
	var m *msg.Error
	return errors.Is(err, ErrNoEmailAddresses) || errors.Is(err, ErrCrowdsEmpty) || errors.Is(err, ErrMailboxUnverified) ||
		(errors.As(err, &m) && m.Msg.ID == crowdGoneID)
}

const crowdGoneID = "send_check.error.crowd_gone"

// errCrowdGoneOnPlatform refuses a crowd the platform no longer has.
func errCrowdGoneOnPlatform(name string) error {
	return msg.Refuse(msg.Conflict, crowdGoneID, msg.Str("Name", name))
}

// Reach is what the console knows, before sending, of how many of an
// email send's audience can be reached.
type Reach struct {
	Checked   bool  // an email send to crowds: the figures below mean something
	Listed    bool  // every crowd's members were listed here (else the figures cover only those listed)
	Members   int64 // members of the crowds as last listed here
	Known     int64 // of them, known to the console (a lead of the copy or an import)
	WithEmail int64 // of the known, with an email address
}

// Unknown is how many listed members the console knows nothing of.
func (r Reach) Unknown() int64 { return r.Members - r.Known }

// Precheck checks a send before it is confirmed or approved: nil, or the
// refusal that would make the platform refuse it, and what the console
// knows of how many it reaches. A platform that cannot be asked is the
// platform's error: the step waits rather than going unchecked.
func (s *Service) Precheck(ctx context.Context, sd db.Send) (Reach, error) {
	if sd.Channel != EDM || sd.Test || len(sd.GroupIDs) == 0 {
		return Reach{}, nil
	}
	client, err := s.client()
	if err != nil {
		return Reach{}, err
	}
	if _, err := s.mailbox(ctx, client, sd.MailboxID); err != nil {
		return Reach{}, err
	}
	var onPlatform int64
	for _, g := range sd.GroupIDs {
		cr, err := client.CrowdDetail(ctx, g)
		if je, ok := jing.AsError(err); ok && je.Code == jing.CodeBusinessFailed {
			return Reach{}, errCrowdGoneOnPlatform(s.crowdName(ctx, g))
		}
		if err != nil {
			return Reach{}, err
		}
		onPlatform += int64(cr.UserCount)
	}
	if onPlatform == 0 {
		return Reach{}, ErrCrowdsEmpty
	}
	r := Reach{Checked: true, Listed: true}
	for _, g := range sd.GroupIDs {
		k, err := s.cfg.Store.CrowdKnownMembers(ctx, g)
		if err != nil {
			return r, err
		}
		r.Listed = r.Listed && k.ListedAt > 0
		r.Members, r.Known, r.WithEmail = r.Members+k.Members, r.Known+k.Known, r.WithEmail+k.WithEmail
	}
	if r.Listed && r.Members > 0 && r.Known == r.Members && r.WithEmail == 0 {
		return r, ErrNoEmailAddresses
	}
	return r, nil
}

// crowdName is a crowd's name in the local copy, or its id.
func (s *Service) crowdName(ctx context.Context, groupID int64) string {
	if c, err := s.cfg.Store.Crowd(ctx, groupID); err == nil && c.Name != "" {
		return c.Name
	}
	return "#" + strconv.FormatInt(groupID, 10)
}
