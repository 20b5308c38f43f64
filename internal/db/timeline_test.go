package db

import (
	"context"
	"testing"
	"time"
)

// A lead's timeline holds its sends (only those that reached its mobile
// or email) and its score changes (not a score fetched again unchanged),
// with its notes and moves, newest first; a webhook echo that overtook the
// console's re-read becomes the console user's, kept once.
func TestLeadTimelineSourcesAndEcho(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	s.SetClock(func() time.Time { return now })
	l := Lead{UUID: "L1", BusinessType: "bt", Status: "s1", Name: "王芳", Mobile: "13900000001", Email: "wf@example.com",
		UpdatedAt: 1_799_999_000, Fields: []byte(`{}`)}
	if err := s.UpsertLeads(ctx, []Lead{l}); err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, NewUser{Username: "mia", PasswordHash: "x", Role: RoleMarketer, Lang: "zh-Hans"})
	if err != nil {
		t.Fatal(err)
	}
	send := func(key, channel, name string, recs ...SendRecord) {
		id, err := s.CreateSend(ctx, key, u.ID, SendDraftInput{Channel: channel, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSendRecords(ctx, id, recs); err != nil {
			t.Fatal(err)
		}
	}
	send("k1", "sms", "双十一短信", SendRecord{Recipient: "13900000001", Status: "delivered", At: 1_799_999_100},
		SendRecord{Recipient: "13900000002", Status: "delivered", At: 1_799_999_100})
	send("k2", "edm", "新品邮件", SendRecord{Recipient: "wf@example.com", Status: "opened", At: 1_799_999_200})
	send("k3", "sms", "失败的短信", SendRecord{Recipient: "13900000001", Status: "failed", At: 1_799_999_300})
	for _, h := range []struct {
		score float64
		at    int64
	}{{40, 1_799_999_400}, {40, 1_799_999_500}, {55, 1_799_999_600}} {
		if _, err := s.write.ExecContext(ctx, `INSERT INTO score_history(subject, id, kind, model, score, band, at)
			VALUES('lead', 'L1', 'identity', 'm1', ?, '', ?)`, h.score, h.at); err != nil {
			t.Fatal(err)
		}
	}

	// A console note whose webhook echo is applied before the re-read is saved.
	since := now.Unix()
	now = now.Add(time.Second)
	if _, err := s.ApplyObjectEvent(ctx, ObjectEvent{Object: "lead", UUID: "L1", At: now.Unix(), Tie: "e1",
		Set: map[string]any{"latest_remark": "约了周二演示"}, Note: "约了周二演示"}); err != nil {
		t.Fatal(err)
	}
	l.UpdatedAt, l.Fields = now.Unix(), []byte(`{"latest_remark":"约了周二演示"}`)
	if err := s.SaveEditedLead(ctx, l, LeadEdit{Actor: "mia", Since: since, Note: "约了周二演示"}); err != nil {
		t.Fatal(err)
	}

	got, next, err := s.LeadTimeline(ctx, TimelineQuery{UUID: "L1", Recipients: []string{l.Mobile, l.Email}, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	rest, last, err := s.LeadTimeline(ctx, TimelineQuery{UUID: "L1", Recipients: []string{l.Mobile, l.Email}, After: next})
	if err != nil {
		t.Fatal(err)
	}
	if last.Kind != "" {
		t.Fatalf("a next page after the last: %+v", last)
	}
	got = append(got, rest...)
	type line struct{ kind, a, b, c, actor string }
	want := []line{
		{LeadEventNote, "", "约了周二演示", "", "mia"},
		{TimelineScore, "identity", "55.0", "40.0", ""},
		{TimelineScore, "identity", "40.0", "", ""},
		{TimelineSend, "edm", "新品邮件", "opened", ""},
		{TimelineSend, "sms", "双十一短信", "delivered", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries: %+v", len(got), got)
	}
	for i, e := range got {
		if g := (line{e.Kind, e.A, e.B, e.C, e.Actor}); g != want[i] {
			t.Fatalf("entry %d: %+v, want %+v", i, g, want[i])
		}
	}
	if got[0].Origin != OriginConsole {
		t.Fatalf("the echoed note's origin %q", got[0].Origin)
	}
}
