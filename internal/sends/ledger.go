package sends

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/roles"
)

// MaySend reports whether u may send, approve, cancel and decide:
// marketers and administrators.
func MaySend(u *db.User) bool {
	return u != nil && roles.Works(u.Role)
}

// actOn is send id for a step user takes: refused (ErrNotAllowed) unless
// they may send.
func (s *Service) actOn(ctx context.Context, user *db.User, id int64) (db.Send, error) {
	if !MaySend(user) {
		return db.Send{}, ErrNotAllowed
	}
	return s.cfg.Store.Send(ctx, id)
}

// Confirmation is what the confirmation step shows before a send goes:
// the frozen audience size and the rules that apply to it.
type Confirmation struct {
	Send          db.Send
	Count         int64
	MustType      bool // the count must be typed
	NeedsApproval bool // a second person must approve
}

// PrepareConfirmation computes what confirming the draft would freeze.
func (s *Service) PrepareConfirmation(ctx context.Context, id int64) (Confirmation, error) {
	sd, err := s.cfg.Store.Send(ctx, id)
	if err != nil {
		return Confirmation{}, err
	}
	n, err := s.AudienceSize(ctx, sd)
	if err != nil {
		return Confirmation{}, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return Confirmation{}, err
	}
	return Confirmation{Send: sd, Count: n, MustType: n > st.ConfirmTypeAbove,
		NeedsApproval: st.ApprovalAbove > 0 && n > st.ApprovalAbove && !sd.Test}, nil
}

// Confirm freezes a draft's audience and sends it, or leaves it waiting
// for a second person's approval. typed is the count the user typed (it
// must equal the audience size when the rules ask for it).
func (s *Service) Confirm(ctx context.Context, id int64, user *db.User, typed string) (db.Send, error) {
	if !MaySend(user) {
		return db.Send{}, ErrNotAllowed
	}
	c, err := s.PrepareConfirmation(ctx, id)
	if err != nil {
		return db.Send{}, err
	}
	if c.Send.State != db.SendDraft {
		return c.Send, ErrNotDraft
	}
	if c.Count <= 0 {
		return c.Send, ErrEmptyAudience
	}
	if c.MustType && strings.ReplaceAll(strings.TrimSpace(typed), ",", "") != strconv.FormatInt(c.Count, 10) {
		return c.Send, ErrCountMismatch
	}
	to := db.SendApproved
	if c.NeedsApproval {
		to = db.SendAwaitingApproval
	}
	now := s.cfg.Now().Unix()
	err = s.cfg.Store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendDraft}, To: to,
		Set: map[string]any{"confirmed_by": user.ID, "confirmed_at": now, "audience_count": c.Count}})
	if errors.Is(err, db.ErrConflict) {
		return c.Send, ErrStateChanged
	}
	if err != nil {
		return c.Send, err
	}
	s.audit(ctx, user, c.Send, "confirm", msg.New("sends.audit.confirmed", msg.Int("Count", c.Count), stateArg(to)).Encode(), "", "")
	if to == db.SendAwaitingApproval {
		return s.cfg.Store.Send(ctx, id)
	}
	return s.Submit(ctx, id, user)
}

// Approve lets a send that waits for approval go: by a marketer or
// administrator other than who confirmed it.
func (s *Service) Approve(ctx context.Context, id int64, user *db.User) (db.Send, error) {
	sd, err := s.actOn(ctx, user, id)
	if err != nil {
		return sd, err
	}
	if sd.ConfirmedBy == user.ID || sd.CreatedBy == user.ID {
		s.audit(ctx, user, sd, "approve", msg.New("sends.audit.own_approval").Encode(), "", db.OutcomeDenied)
		return sd, ErrOwnApproval
	}
	err = s.cfg.Store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendAwaitingApproval}, To: db.SendApproved,
		Set: map[string]any{"approved_by": user.ID, "approved_at": s.cfg.Now().Unix()}})
	if errors.Is(err, db.ErrConflict) {
		return sd, ErrStateChanged
	}
	if err != nil {
		return sd, err
	}
	s.audit(ctx, user, sd, "approve", msg.New("sends.audit.approved", msg.Int("Count", sd.AudienceCount)).Encode(), "", "")
	return s.Submit(ctx, id, user)
}

// Reject sends a send waiting for approval back to its author as a draft.
func (s *Service) Reject(ctx context.Context, id int64, user *db.User, note string) error {
	sd, err := s.actOn(ctx, user, id)
	if err != nil {
		return err
	}
	err = s.cfg.Store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendAwaitingApproval}, To: db.SendDraft,
		Set: map[string]any{"confirmed_by": nil, "confirmed_at": 0, "evidence": note}})
	if errors.Is(err, db.ErrConflict) {
		return ErrStateChanged
	}
	if err == nil {
		s.audit(ctx, user, sd, "reject", msg.New("sends.audit.rejected", msg.Str("Note", note)).Encode(), "", "")
	}
	return err
}

// Cancel withdraws a send that has not gone to the platform. A scheduled
// email the platform has not started is deleted there first.
func (s *Service) Cancel(ctx context.Context, id int64, user *db.User) error {
	sd, err := s.actOn(ctx, user, id)
	if err != nil {
		return err
	}
	from := []string{db.SendDraft, db.SendAwaitingApproval, db.SendApproved}
	if scheduledOnPlatform(sd) {
		client, _ := s.cfg.Platform.Current()
		rctx, reqID := jing.CaptureRequestID(jing.WithActor(ctx, user.Username))
		if err := client.DeleteEDM(rctx, sd.PlatformID); err != nil {
			return err
		}
		s.audit(ctx, user, sd, "cancel", msg.New("sends.audit.deleted_scheduled").Encode(), reqID(), "")
		from = []string{db.SendSubmitted}
	}
	err = s.cfg.Store.TransitionSend(ctx, id, db.SendTransition{From: from, To: db.SendCancelled})
	if errors.Is(err, db.ErrConflict) {
		return ErrStateChanged
	}
	if err == nil {
		s.audit(ctx, user, sd, "cancel", msg.New("sends.audit.cancelled").Encode(), "", "")
	}
	return err
}

// Submit sends an approved send to the platform, once. Of concurrent
// callers only the one whose transition to submitting succeeds calls the
// platform; the others get the send as it stands. The platform call runs
// to its end even if the caller's request goes away.
func (s *Service) Submit(ctx context.Context, id int64, user *db.User) (db.Send, error) {
	ctx = context.WithoutCancel(ctx)
	err := s.cfg.Store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendApproved}, To: db.SendSubmitting,
		Set: map[string]any{"submit_at": s.cfg.Now().Unix()}})
	if errors.Is(err, db.ErrConflict) {
		return s.cfg.Store.Send(ctx, id) // someone else won: nothing to do
	}
	if err != nil {
		return db.Send{}, err
	}
	s.track(id, true)
	defer s.track(id, false)
	sd, err := s.cfg.Store.Send(ctx, id)
	if err != nil {
		return sd, err
	}
	actor := ""
	if user != nil {
		actor = user.Username
	}
	s.submit(ctx, sd, user, actor)
	return s.cfg.Store.Send(ctx, id)
}

func (s *Service) track(id int64, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.inFlight[id] = true
	} else {
		delete(s.inFlight, id)
	}
}

func (s *Service) submitting(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight[id]
}

// submit makes the platform calls of a send in "submitting" and records
// the outcome: submitted, failed (the platform refused: nothing was sent)
// or unknown.
func (s *Service) submit(ctx context.Context, sd db.Send, user *db.User, actor string) {
	client, _ := s.cfg.Platform.Current()
	wctx, reqID := jing.CaptureRequestID(jing.WithActor(ctx, actor))
	var platformID, status string
	var err error
	switch sd.Channel {
	case SMS:
		platformID, status, err = s.submitSMS(wctx, client, sd)
	case EDM:
		platformID, status, err = s.submitEDM(wctx, client, sd)
	}
	set := map[string]any{"request_id": reqID(), "platform_id": platformID}
	switch {
	case err == nil:
		set["platform_status"], set["submitted_at"], set["last_error"] = status, s.cfg.Now().Unix(), ""
		s.settle(ctx, sd, user, db.SendSubmitted, set, "submit", msg.New("sends.audit.accepted", msg.Nested("Status", msg.New("sends.pstatus."+status))).Encode(), "")
	case notSent(err):
		set["last_error"] = msg.ErrorText(err)
		s.settle(ctx, sd, user, db.SendFailed, set, "submit",
			msg.New("sends.audit.refused", msg.Nested("Error", msg.FromError(err))).Encode(), db.OutcomeFailed)
	default:
		// A timeout, a dropped connection, an answer not understood: the
		// platform may have sent. Never again on its own (see follow.go).
		set["last_error"] = msg.ErrorText(err)
		set["evidence"] = msg.New("sends.evidence.no_clear_answer").Encode()
		s.settle(ctx, sd, user, db.SendUnknown, set, "submit",
			msg.New("sends.audit.unknown", msg.Nested("Error", msg.FromError(err))).Encode(), db.OutcomeFailed)
	}
}

// settle records the end of a submission.
func (s *Service) settle(ctx context.Context, sd db.Send, user *db.User, to string, set map[string]any, action, summary, outcome string) {
	err := s.cfg.Store.TransitionSend(ctx, sd.ID, db.SendTransition{From: []string{db.SendSubmitting}, To: to, Set: set})
	if err != nil {
		s.log.Error("record a send's outcome", "send", sd.ID, "to", to, "error", err)
	}
	rid, _ := set["request_id"].(string)
	s.audit(ctx, user, sd, action, summary, rid, outcome)
}

// submitSMS creates the platform's task, records its id, then sends it.
// sms.send is the call that messages people: it is made at most once per
// attempt, and only after the task id is safe in the ledger, so after a
// crash the reconciler can always look the task up.
func (s *Service) submitSMS(ctx context.Context, client *jing.Client, sd db.Send) (string, string, error) {
	taskID := sd.PlatformID
	if taskID == "" {
		var err error
		taskID, err = client.CreateSMSTask(ctx, jing.SMSTaskInput{SMSID: sd.SMSID, Name: sd.PlatformName(),
			GroupIDs: sd.GroupIDs, Mobiles: audienceMobiles(sd), SendTime: sd.SendTime})
		if err != nil {
			// Creating a task messages nobody: whatever happened, nothing was sent.
			return "", "", &notSentError{err}
		}
		if err := s.cfg.Store.TransitionSend(ctx, sd.ID, db.SendTransition{From: []string{db.SendSubmitting}, To: db.SendSubmitting,
			Set: map[string]any{"platform_id": taskID}}); err != nil {
			return "", "", &notSentError{err}
		}
	}
	res, err := client.SendSMSTask(ctx, taskID)
	return taskID, res.Status, err
}

// audienceMobiles are the pasted mobiles less those the consent check excluded.
func audienceMobiles(sd db.Send) []string {
	if len(sd.Excluded) == 0 {
		return sd.Mobiles
	}
	out := make([]string, 0, len(sd.Mobiles))
	for _, m := range sd.Mobiles {
		if !contains(sd.Excluded, m) {
			out = append(out, m)
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// submitEDM creates the email send: the one call that emails people.
func (s *Service) submitEDM(ctx context.Context, client *jing.Client, sd db.Send) (string, string, error) {
	id, err := client.CreateEDM(ctx, jing.EDMInput{Name: sd.PlatformName(), Subject: sd.Subject, MailboxID: sd.MailboxID,
		HTML: sd.Content, GroupIDs: sd.GroupIDs, SendTime: sd.SendTime})
	status := "sending"
	if sd.SendTime > 0 {
		status = "scheduled"
	}
	return id, status, err
}

// notSentError marks a failure known to have sent nothing.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// notSent reports an error after which the platform certainly sent
// nothing: it answered with a refusal (a business, parameter, permission
// or credentials error, a rate limit or quota), or the failing call sends
// nothing anyway. A timeout, a dropped connection or a 20000/40005 "service
// unavailable" leaves it open.
func notSent(err error) bool {
	var ns *notSentError
	if errors.As(err, &ns) {
		return true
	}
	je, ok := jing.AsError(err)
	if !ok {
		return false
	}
	switch je.Kind {
	case jing.KindBusiness, jing.KindInvalid, jing.KindPermission, jing.KindAuth, jing.KindInvalidPath,
		jing.KindDisabled, jing.KindRateLimited, jing.KindQuota:
		return true
	}
	return false
}

// updateScheduled changes a scheduled email the platform has not
// started: its content and time on the platform first (edm.update), then
// the ledger. Its name and audience stay as confirmed; it keeps a time.
func (s *Service) updateScheduled(ctx context.Context, sd db.Send, user *db.User, d Draft) (db.Send, error) {
	d.GroupIDs, d.Name = sd.GroupIDs, sd.Name
	if d.SendTime == 0 {
		return sd, ErrPastTime
	}
	if err := checkDraft(EDM, d, s.cfg.Now().Unix()); err != nil {
		return sd, err
	}
	client, _ := s.cfg.Platform.Current()
	wctx, reqID := jing.CaptureRequestID(jing.WithActor(ctx, user.Username))
	in := jing.EDMInput{Name: sd.PlatformName(), Subject: d.Subject, MailboxID: d.MailboxID, HTML: d.HTML, GroupIDs: sd.GroupIDs, SendTime: d.SendTime}
	if err := client.UpdateEDM(wctx, sd.PlatformID, in); err != nil {
		if je, ok := jing.AsError(err); ok && je.Code == jing.CodeBusinessFailed {
			return sd, ErrStarted
		}
		return sd, err
	}
	mb, err := s.mailbox(ctx, client, d.MailboxID)
	if err != nil {
		return sd, err
	}
	if err := s.cfg.Store.UpdateScheduledSend(ctx, sd.ID, d.Subject, d.MailboxID, mb.Address, d.HTML, d.SendTime); err != nil {
		return sd, err
	}
	s.audit(ctx, user, sd, "update", msg.New("sends.audit.updated_scheduled").Encode(), reqID(), "")
	return s.cfg.Store.Send(ctx, sd.ID)
}
