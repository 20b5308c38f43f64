package sends

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// --- settling unknown outcomes ---

// Reconcile looks on the platform for every send whose outcome is
// unknown, and for every send left "submitting" by a process that died
// (older than Abandoned and not being submitted here). A send found is
// settled as submitted; one that cannot be found stays unknown with the
// evidence of the look, for a person to decide. Nothing is sent.
func (s *Service) Reconcile(ctx context.Context) error {
	open, err := s.cfg.Store.ListSends(ctx, db.SendFilter{States: []string{db.SendSubmitting, db.SendUnknown}, Tests: true, Limit: 500})
	if err != nil {
		return err
	}
	var errs []error
	for _, sd := range open {
		if sd.State == db.SendSubmitting && (s.submitting(sd.ID) || s.cfg.Now().Unix()-sd.SubmitAt < int64(s.cfg.Abandoned.Seconds())) {
			continue // its call may still be under way
		}
		if err := s.reconcileOne(ctx, sd); err != nil {
			errs = append(errs, fmt.Errorf("send %d: %w", sd.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) reconcileOne(ctx context.Context, sd db.Send) error {
	if sd.State == db.SendSubmitting {
		// The process died during the submission: from now on it is unknown.
		if sd.Channel == SMS && sd.PlatformID == "" {
			// It died before the task existed in the ledger, so before sms.send.
			return s.settleFound(ctx, sd, db.SendFailed, "", "", msg.New("sends.evidence.stopped_before_send").Encode())
		}
		err := s.cfg.Store.TransitionSend(ctx, sd.ID, db.SendTransition{From: []string{db.SendSubmitting}, To: db.SendUnknown,
			Set: map[string]any{"evidence": msg.New("sends.evidence.stopped_during_call").Encode()}})
		if err != nil {
			return err
		}
		s.audit(ctx, nil, sd, "unknown", msg.New("sends.audit.stopped").Encode(), "", db.OutcomeFailed)
		sd.State = db.SendUnknown
	}
	client, _ := s.cfg.Platform.Current()
	switch sd.Channel {
	case SMS:
		return s.lookForSMS(ctx, client, sd)
	case EDM:
		return s.lookForEDM(ctx, client, sd)
	}
	return nil
}

// lookForSMS asks the platform about the send's task.
func (s *Service) lookForSMS(ctx context.Context, client *jing.Client, sd db.Send) error {
	d, err := client.SMSSendDetail(ctx, sd.PlatformID, jing.PageRequest{Page: 1, PerPage: 1})
	if err != nil {
		return s.noteLook(ctx, sd, msg.New("sends.evidence.task_lookup_failed", msg.Str("Task", sd.PlatformID),
			msg.Nested("Error", msg.FromError(err))).Encode())
	}
	if d.Status == "draft" {
		return s.noteLook(ctx, sd, msg.New("sends.evidence.task_draft", msg.Str("Task", sd.PlatformID),
			msg.Time("Time", s.cfg.Now())).Encode())
	}
	return s.settleFound(ctx, sd, db.SendSubmitted, sd.PlatformID, d.Status,
		msg.New("sends.evidence.task_found", msg.Str("Task", sd.PlatformID), msg.Str("Status", d.Status)).Encode())
}

// lookForEDM searches the platform's email sends for the send key.
func (s *Service) lookForEDM(ctx context.Context, client *jing.Client, sd db.Send) error {
	name := sd.PlatformName()
	seen := 0
	paging := client.NewPaging("edm.list")
	for page := 1; page <= 20; page++ {
		p, err := client.ListEDM(ctx, jing.EDMListRequest{PageRequest: jing.PageRequest{Page: page, PerPage: jing.DefaultPerPage}})
		if err != nil {
			return s.noteLook(ctx, sd, msg.New("sends.evidence.edm_lookup_failed", msg.Nested("Error", msg.FromError(err))).Encode())
		}
		for _, e := range p.Items {
			if e.Name == name {
				return s.settleFound(ctx, sd, db.SendSubmitted, e.EDMID, e.Status, msg.New("sends.evidence.edm_found",
					msg.Str("ID", e.EDMID), msg.Str("Name", name), msg.Str("Status", e.Status)).Encode())
			}
		}
		seen += len(p.Items)
		more, err := paging.More(page, p.Info())
		if err != nil {
			return s.noteLook(ctx, sd, msg.New("sends.evidence.edm_lookup_failed", msg.Nested("Error", msg.FromError(err))).Encode())
		}
		if !more {
			break
		}
	}
	return s.noteLook(ctx, sd, msg.New("sends.evidence.edm_not_found", msg.Str("Name", name), msg.Int("Count", int64(seen)),
		msg.Time("Time", s.cfg.Now())).Encode())
}

func (s *Service) noteLook(ctx context.Context, sd db.Send, evidence string) error {
	return s.cfg.Store.SetSendEvidence(ctx, sd.ID, evidence)
}

func (s *Service) settleFound(ctx context.Context, sd db.Send, to, platformID, status, evidence string) error {
	set := map[string]any{"evidence": evidence, "platform_id": platformID, "platform_status": status}
	if to == db.SendSubmitted {
		set["submitted_at"] = s.cfg.Now().Unix()
	}
	err := s.cfg.Store.TransitionSend(ctx, sd.ID, db.SendTransition{From: []string{db.SendSubmitting, db.SendUnknown}, To: to, Set: set})
	if err != nil {
		return err
	}
	s.audit(ctx, nil, sd, "settle", evidence, "", "")
	return nil
}

// Decisions a person takes on a send whose outcome stays unknown.
const (
	DecideSent  = "sent"  // it went: stop worrying, follow it if it can be found
	DecideAgain = "again" // it did not go: send it again, as a new attempt
)

// Decide settles an unknown send by a person's decision, recorded with
// the evidence they saw.
func (s *Service) Decide(ctx context.Context, id int64, user *db.User, decision string) (db.Send, error) {
	sd, err := s.actOn(ctx, user, id)
	if err != nil {
		return sd, err
	}
	switch decision {
	case DecideSent:
		err = s.cfg.Store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendUnknown}, To: db.SendDone,
			Set: map[string]any{"evidence": msg.New("sends.evidence.marked_sent", msg.Stored("Before", sd.Evidence),
				msg.Str("User", user.Username)).Encode()}})
	case DecideAgain:
		// A new attempt has its own name on the platform, so a late
		// appearance of the first one can still be told apart.
		err = s.cfg.Store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendUnknown}, To: db.SendApproved,
			Set: map[string]any{"attempt": sd.Attempt + 1, "platform_id": "", "platform_status": "",
				"evidence": msg.New("sends.evidence.sent_again", msg.Stored("Before", sd.Evidence), msg.Str("User", user.Username)).Encode()}})
	default:
		return sd, fmt.Errorf("sends: unknown decision %q", decision)
	}
	if errors.Is(err, db.ErrConflict) {
		return sd, ErrStateChanged
	}
	if err != nil {
		return sd, err
	}
	s.audit(ctx, user, sd, "decide", msg.New("sends.audit.decided", msg.Nested("Decision", msg.New("sends.unknown."+decision)), msg.Stored("Evidence", sd.Evidence)).Encode(), "", "")
	if decision == DecideAgain {
		return s.Submit(ctx, id, user)
	}
	return s.cfg.Store.Send(ctx, id)
}

// --- following a send on the platform ---

// Refresh fetches a submitted send's status and counts from the platform,
// and marks it done once the platform has finished with it.
func (s *Service) Refresh(ctx context.Context, id int64) (db.Send, error) {
	sd, err := s.cfg.Store.Send(ctx, id)
	if err != nil || sd.PlatformID == "" || (sd.State != db.SendSubmitted && sd.State != db.SendDone) {
		return sd, err
	}
	client, _ := s.cfg.Platform.Current()
	var status string
	var c db.SendCounts
	switch sd.Channel {
	case SMS:
		d, err := client.SMSSendDetail(ctx, sd.PlatformID, jing.PageRequest{Page: 1, PerPage: 1})
		if err != nil {
			return sd, err
		}
		status, c = d.Status, db.SendCounts{Total: int64(d.Total), Sent: int64(d.Sent), Delivered: int64(d.Delivered), Failed: int64(d.Failed)}
	case EDM:
		d, err := client.EDMDetail(ctx, sd.PlatformID)
		if err != nil {
			return sd, err
		}
		status = d.Status
		c = db.SendCounts{Total: int64(d.Total), Sent: int64(d.Total), Delivered: int64(d.Delivered), Failed: int64(d.Failed),
			Opened: int64(d.Opened), Clicked: int64(d.Clicked), Bounced: int64(d.Bounced)}
	}
	if err := s.cfg.Store.RecordSendProgress(ctx, id, status, c); err != nil {
		return sd, err
	}
	if finished(status) && sd.State == db.SendSubmitted {
		if err := s.cfg.Store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendSubmitted}, To: db.SendDone}); err == nil {
			s.audit(ctx, nil, sd, "done", msg.New("sends.audit.done", msg.Int("Delivered", c.Delivered), msg.Int("Failed", c.Failed)).Encode(), "", "")
		}
	}
	return s.cfg.Store.Send(ctx, id)
}

func finished(status string) bool { return status == "sent" || status == "failed" }

// SyncRecords copies every recipient's outcome from the platform, so they
// can be searched, counted by reason and exported.
func (s *Service) SyncRecords(ctx context.Context, id int64) (int, error) {
	sd, err := s.cfg.Store.Send(ctx, id)
	if err != nil || sd.PlatformID == "" {
		return 0, err
	}
	client, _ := s.cfg.Platform.Current()
	n := 0
	paging := client.NewPaging(map[string]string{SMS: "sms.send_detail", EDM: "edm.records"}[sd.Channel])
	for page := 1; ; page++ {
		var recs []db.SendRecord
		var info jing.PageInfo
		switch sd.Channel {
		case SMS:
			d, err := client.SMSSendDetail(ctx, sd.PlatformID, jing.PageRequest{Page: page, PerPage: jing.DefaultPerPage})
			if err != nil {
				return n, err
			}
			for _, it := range d.Items {
				recs = append(recs, db.SendRecord{Recipient: it.Mobile, Status: it.Status, Error: it.Error, At: it.Time})
			}
			info = d.Info()
		case EDM:
			p, err := client.EDMRecords(ctx, sd.PlatformID, jing.PageRequest{Page: page, PerPage: jing.DefaultPerPage})
			if err != nil {
				return n, err
			}
			for _, it := range p.Items {
				recs = append(recs, db.SendRecord{Recipient: it.Email, Status: it.Status, At: it.Time})
			}
			info = p.Info()
		}
		if err := s.cfg.Store.SaveSendRecords(ctx, id, recs); err != nil {
			return n, err
		}
		n += len(recs)
		if more, err := paging.More(page, info); err != nil || !more {
			return n, err
		}
	}
}

// FollowEvery is how often a running console follows its sends.
const FollowEvery = 15 * time.Second

// Follow reconciles and refreshes sends until ctx ends: every interval,
// unknown and abandoned sends are looked for, and submitted ones are
// brought up to date.
func (s *Service) Follow(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reconcile sends", "error", err)
		}
		if open, err := s.cfg.Store.ListSends(ctx, db.SendFilter{States: []string{db.SendSubmitted}, Tests: true, Limit: 100}); err == nil {
			for _, sd := range open {
				s.polls.note(sd.ID)
				if _, err := s.keepUp(ctx, sd.ID); err != nil && ctx.Err() == nil {
					s.log.Warn("refresh a send", "send", sd.ID, "error", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Poll is a send as a page that polls its delivery shows it: a submitted
// send is brought up to date when neither a page nor the follower asked
// the platform about it in the last PollEvery; otherwise, and in any
// other state, the send as stored. However many pages poll, the platform
// is asked about a send at most once per PollEvery. On an error the send
// as stored comes with it.
func (s *Service) Poll(ctx context.Context, id int64) (db.Send, error) {
	sd, err := s.cfg.Store.Send(ctx, id)
	if err != nil || sd.State != db.SendSubmitted || !s.polls.take(id) {
		return sd, err
	}
	now, err := s.keepUp(ctx, id)
	if err != nil {
		return sd, err
	}
	return now, nil
}

// keepUp brings one submitted send up to date: its status and counts
// (Refresh) and, once the platform has finished with it, its recipients'
// outcomes, copied for searching (a failure there is logged: the counts
// stand, and Records → Sync copies them again).
func (s *Service) keepUp(ctx context.Context, id int64) (db.Send, error) {
	now, err := s.Refresh(ctx, id)
	if err != nil {
		return now, err
	}
	if now.State == db.SendDone {
		if _, err := s.SyncRecords(ctx, id); err != nil && ctx.Err() == nil {
			s.log.Warn("copy a send's records", "send", id, "error", err)
		}
	}
	return now, nil
}

// PollEvery is the least time between two questions to the platform
// about one send's delivery (Poll).
const PollEvery = 5 * time.Second

// pollThrottle remembers when the platform was last asked about each
// send, in real time whatever the service's clock: the platform's sends
// progress in real time.
type pollThrottle struct {
	mu   sync.Mutex
	now  func() time.Time
	last map[int64]time.Time
}

func newPollThrottle() *pollThrottle {
	return &pollThrottle{now: time.Now, last: map[int64]time.Time{}}
}

// take reports whether send id may be asked about now, and if so notes it.
func (t *pollThrottle) take(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if last, ok := t.last[id]; ok && now.Sub(last) < PollEvery {
		return false
	}
	t.noteLocked(id, now)
	return true
}

// note records that send id is being asked about now.
func (t *pollThrottle) note(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.noteLocked(id, t.now())
}

// noteLocked notes id at now, forgetting sends not asked about for a
// minute (the map stays as small as the sends being watched).
func (t *pollThrottle) noteLocked(id int64, now time.Time) {
	for k, at := range t.last {
		if now.Sub(at) > time.Minute {
			delete(t.last, k)
		}
	}
	t.last[id] = now
}
