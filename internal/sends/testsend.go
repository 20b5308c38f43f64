package sends

import (
	"context"
	"strconv"
	"strings"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// TestSend sends a draft's message to the allow-listed test recipients
// only, through the same ledger (a test send of its own, exactly once).
// For email, the test addresses are put in a crowd of their own on the
// platform first ("jingdesk 测试收件人"), since email sends go to crowds.
func (s *Service) TestSend(ctx context.Context, draftID int64, user *db.User) (db.Send, error) {
	sd, err := s.actOn(ctx, user, draftID)
	if err != nil {
		return sd, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return sd, err
	}
	_, conn := s.cfg.Platform.Current()
	in := db.SendDraftInput{Channel: sd.Channel, Test: true, Connection: conn, Name: "[测试] " + sd.Name, SMSID: sd.SMSID,
		Content: sd.Content, Signature: sd.Signature, Subject: "[测试] " + sd.Subject, MailboxID: sd.MailboxID, Sender: sd.Sender}
	switch sd.Channel {
	case SMS:
		if len(st.TestMobiles) == 0 {
			return sd, ErrNoTestRecipients
		}
		in.Mobiles = st.TestMobiles
	case EDM:
		if len(st.TestEmails) == 0 {
			return sd, ErrNoTestRecipients
		}
		group, err := s.testCrowd(ctx, user.Username, st.TestEmails)
		if err != nil {
			return sd, err
		}
		in.GroupIDs = []int64{group}
	}
	id, err := s.cfg.Store.CreateSend(ctx, NewKey(), user.ID, in)
	if err != nil {
		return sd, err
	}
	count := int64(len(st.TestMobiles))
	if sd.Channel == EDM {
		count = int64(len(st.TestEmails))
	}
	err = s.cfg.Store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendDraft}, To: db.SendApproved,
		Set: map[string]any{"confirmed_by": user.ID, "confirmed_at": s.cfg.Now().Unix(), "audience_count": count}})
	if err != nil {
		return sd, err
	}
	test, _ := s.cfg.Store.Send(ctx, id)
	s.audit(ctx, user, test, "test", msg.New("sends.audit.test", msg.Str("Send", strconv.FormatInt(sd.ID, 10)), msg.Int("Count", count)).Encode(), "", "")
	return s.Submit(ctx, id, user)
}

// testCrowdName is the platform crowd test emails go to.
const testCrowdName = "jingdesk 测试收件人"

// testCrowd makes sure the test crowd exists and holds the test addresses.
func (s *Service) testCrowd(ctx context.Context, actor string, emails []string) (int64, error) {
	client, _ := s.cfg.Platform.Current()
	wctx := jing.WithActor(ctx, actor)
	var group int64
	for c, err := range client.AllCrowds(ctx, testCrowdName) {
		if err != nil {
			return 0, err
		}
		if c.Name == testCrowdName {
			group = c.GroupID
		}
	}
	if group == 0 {
		var err error
		if group, err = client.CreateCrowd(wctx, testCrowdName, "Test recipients of jingdesk's email test sends"); err != nil {
			return 0, err
		}
	}
	in := make([]jing.PersonInput, len(emails))
	for i, e := range emails {
		in[i] = jing.PersonInput{Identities: []jing.Identity{{Type: jing.IdentityEmail, Value: e, Name: "邮箱"}}}
	}
	res, err := client.CreatePersons(wctx, in)
	if err != nil {
		return 0, err
	}
	var uuids []string
	for _, ok := range res.Success {
		uuids = append(uuids, ok.OmniUserUUID)
	}
	if len(res.Failure) > 0 {
		return 0, errTestAddress(identityValues(res.Failure[0].Identities), strings.TrimSpace(res.Failure[0].Reason))
	}
	if _, err := client.ImportToCrowd(wctx, group, uuids); err != nil {
		return 0, err
	}
	return group, nil
}

// identityValues names a person of a batch by its identities' values.
func identityValues(ids []jing.Identity) string {
	vals := make([]string, len(ids))
	for i, id := range ids {
		vals[i] = id.Value
	}
	return strings.Join(vals, ", ")
}
