package sends

import (
	"context"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// ErrNotCopyable refuses copying a send that did not end without sending.
var ErrNotCopyable = msg.Refuse(msg.Conflict, "send_check.error.not_copyable")

// Copyable reports whether a send can be edited as a new draft: it ended
// and sent nothing (the platform refused it, or it was cancelled).
func Copyable(sd db.Send) bool {
	return !sd.Test && (sd.State == db.SendFailed || sd.State == db.SendCancelled)
}

// CopyAsDraft makes a new draft of a send that sent nothing, with its
// message and audience as they were (a time already past becomes "at
// once"), for user to change and send again; the old send stays as the
// record of what happened. Both are audited, each naming the other. It
// returns the new draft's id.
func (s *Service) CopyAsDraft(ctx context.Context, id int64, user *db.User) (int64, error) {
	sd, err := s.actOn(ctx, user, id)
	if err != nil {
		return 0, err
	}
	if !Copyable(sd) {
		return 0, ErrNotCopyable
	}
	_, conn := s.cfg.Platform.Current()
	in := db.SendDraftInput{Channel: sd.Channel, Connection: conn, Name: sd.Name, SMSID: sd.SMSID, Content: sd.Content,
		Signature: sd.Signature, Subject: sd.Subject, MailboxID: sd.MailboxID, Sender: sd.Sender, GroupIDs: sd.GroupIDs,
		Mobiles: sd.Mobiles, Excluded: sd.Excluded, SendTime: sd.SendTime}
	if in.SendTime <= s.cfg.Now().Unix() {
		in.SendTime = 0
	}
	newID, err := s.cfg.Store.CreateSend(ctx, NewKey(), user.ID, in)
	if err != nil {
		return 0, err
	}
	s.audit(ctx, user, sd, "copy", msg.New("send_check.audit.copied_to", msg.Int("Send", newID)).Encode(), "", "")
	s.audit(ctx, user, db.Send{ID: newID}, "copy", msg.New("send_check.audit.copied_from", msg.Int("Send", sd.ID)).Encode(), "", "")
	return newID, nil
}
