package jing_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// mailboxes splits the tenant's mailboxes into a verified and an unverified one.
func mailboxes(t *testing.T, r *rig) (verified, unverified jing.Mailbox) {
	t.Helper()
	all, err := r.client.Mailboxes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Verified {
			verified = m
		} else {
			unverified = m
		}
	}
	if len(all) != 4 || verified.MailboxID == "" || unverified.MailboxID == "" {
		t.Fatalf("mailboxes %+v", all)
	}
	return verified, unverified
}

func edmInput(mailboxID string, groupIDs []int64, sendTime int64) jing.EDMInput {
	return jing.EDMInput{Name: "12月品牌月刊", Subject: "星辰汽车 12 月月刊", MailboxID: mailboxID,
		HTML: "<p>{name}您好</p>", GroupIDs: groupIDs, SendTime: sendTime}
}

func allEDM(t *testing.T, r *rig, status string) []jing.EDMSend {
	t.Helper()
	p, err := r.client.ListEDM(context.Background(), jing.EDMListRequest{PageRequest: jing.PageRequest{Page: 1, PerPage: 100}, Status: status})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func TestEDMValidation(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	verified, unverified := mailboxes(t, r)
	before := len(allEDM(t, r, ""))
	groups := []int64{987654321} // no such crowd: the checks before it must answer first
	valid := func(change func(*jing.EDMInput)) jing.EDMInput {
		in := edmInput(verified.MailboxID, groups, 0)
		change(&in)
		return in
	}
	for _, tc := range []struct {
		name   string
		in     jing.EDMInput
		code   int
		msgHas string
	}{
		{"no name", valid(func(in *jing.EDMInput) { in.Name = "" }), jing.CodeMissingParameter, "name"},
		{"no subject", valid(func(in *jing.EDMInput) { in.Subject = " " }), jing.CodeMissingParameter, "subject"},
		{"no mailbox", valid(func(in *jing.EDMInput) { in.MailboxID = "" }), jing.CodeMissingParameter, "mailbox_id"},
		{"no html", valid(func(in *jing.EDMInput) { in.HTML = "" }), jing.CodeMissingParameter, "html"},
		{"no crowds", valid(func(in *jing.EDMInput) { in.GroupIDs = nil }), jing.CodeMissingParameter, "group_ids"},
		{"past send time", valid(func(in *jing.EDMInput) { in.SendTime = r.clock.Now().Add(-time.Hour).Unix() }), jing.CodeInvalidParameter, "send_time"},
		{"unknown mailbox", valid(func(in *jing.EDMInput) { in.MailboxID = "NoSuchMailbox" }), jing.CodeBusinessFailed, "发件邮箱不存在"},
		{"unverified mailbox", valid(func(in *jing.EDMInput) { in.MailboxID = unverified.MailboxID }), jing.CodeBusinessFailed, "未通过验证"},
		{"unknown crowd", valid(func(*jing.EDMInput) {}), jing.CodeBusinessFailed, "人群不存在"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.client.CreateEDM(context.Background(), tc.in)
			wantRefusal(t, err, tc.code, tc.msgHas)
		})
	}
	if after := len(allEDM(t, r, "")); after != before {
		t.Fatalf("refused sends were created: %d sends, was %d", after, before)
	}
	_, err := r.client.ListEDM(context.Background(), jing.EDMListRequest{Status: "done"})
	wantRefusal(t, err, jing.CodeInvalidParameter, "status")
	_, err = r.client.EDMDetail(context.Background(), "NoSuchSend")
	wantRefusal(t, err, jing.CodeBusinessFailed, "邮件不存在")
}

func TestListEDMShowsTheSeededHistory(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	all := allEDM(t, r, "")
	byStatus := map[string]int{}
	for i, e := range all {
		byStatus[e.Status]++
		if e.Delivered < e.Opened || e.Opened < e.Clicked || e.Delivered+e.Bounced > e.Total || e.Name == "" || e.Subject == "" {
			t.Fatalf("send %+v", e)
		}
		if i > 0 && e.SendTime > all[i-1].SendTime && all[i-1].Status != "draft" {
			t.Fatalf("not newest first: %v after %v", e.SendTime, all[i-1].SendTime)
		}
	}
	if len(all) != 10 || byStatus["sent"] != 8 || byStatus["failed"] != 1 || byStatus["draft"] != 1 {
		t.Fatalf("seeded sends by status %v", byStatus)
	}
	sent := allEDM(t, r, "sent")
	if len(sent) != 8 || slices.ContainsFunc(sent, func(e jing.EDMSend) bool { return e.Status != "sent" || e.Editable() }) {
		t.Fatalf("status filter: %+v", sent)
	}
	wantRefusal(t, r.client.UpdateEDM(context.Background(), sent[0].EDMID, edmInput("x", []int64{1}, 0)),
		jing.CodeBusinessFailed, "不能修改")
}

func TestEDMRecordsWalkEveryRecipientOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	send := allEDM(t, r, "sent")[0]
	byStatus := map[string]int{}
	seen := map[string]bool{}
	for rec, err := range r.client.AllEDMRecords(context.Background(), send.EDMID) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[rec.Email] || rec.Time < send.SendTime {
			t.Fatalf("record %+v (seen before: %v)", rec, seen[rec.Email])
		}
		seen[rec.Email] = true
		byStatus[rec.Status]++
	}
	if len(seen) != send.Total {
		t.Fatalf("walked %d records of %d recipients", len(seen), send.Total)
	}
	// The records add up to the send's figures.
	if byStatus["delivered"]+byStatus["opened"]+byStatus["clicked"] != send.Delivered ||
		byStatus["opened"]+byStatus["clicked"] != send.Opened || byStatus["clicked"] != send.Clicked ||
		byStatus["bounced"] != send.Bounced || len(byStatus) != 5 {
		t.Fatalf("records by status %v, send %+v", byStatus, send)
	}
}

func TestAScheduledEDMChangesOnlyBeforeItStarts(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	ctx := context.Background()
	crowd := seededCrowd(t, r)
	verified, _ := mailboxes(t, r)
	at := r.clock.Now().Add(10 * time.Minute).Unix()
	id, err := r.client.CreateEDM(ctx, edmInput(verified.MailboxID, []int64{crowd.GroupID}, at))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := r.client.EDMDetail(ctx, id); err != nil || d.Status != "scheduled" || d.SendTime != at || d.Total == 0 || d.Delivered != 0 {
		t.Fatalf("scheduled: %+v, %v", d, err)
	}
	later := edmInput(verified.MailboxID, []int64{crowd.GroupID}, at+300)
	later.Subject = "改期：星辰汽车 12 月月刊"
	if err := r.client.UpdateEDM(ctx, id, later); err != nil {
		t.Fatal(err)
	}
	if d, _ := r.client.EDMDetail(ctx, id); d.Subject != later.Subject || d.SendTime != at+300 || !d.Editable() {
		t.Fatalf("after the update: %+v", d)
	}
	r.clock.Jump(16 * time.Minute) // past the new send time: it has started
	wantRefusal(t, r.client.UpdateEDM(ctx, id, later), jing.CodeBusinessFailed, "不能修改")
	wantRefusal(t, r.client.DeleteEDM(ctx, id), jing.CodeBusinessFailed, "不能删除")
	if d, _ := r.client.EDMDetail(ctx, id); d.Status != "sent" || d.Delivered+d.Bounced+d.Failed != d.Total {
		t.Fatalf("after its send time: %+v", d)
	}

	// A scheduled send can be deleted before it starts, and is gone.
	other, err := r.client.CreateEDM(ctx, edmInput(verified.MailboxID, []int64{crowd.GroupID}, r.clock.Now().Add(time.Hour).Unix()))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.client.DeleteEDM(ctx, other); err != nil {
		t.Fatal(err)
	}
	_, err = r.client.EDMDetail(ctx, other)
	wantRefusal(t, err, jing.CodeBusinessFailed, "邮件不存在")
	if slices.ContainsFunc(allEDM(t, r, ""), func(e jing.EDMSend) bool { return e.EDMID == other }) {
		t.Fatal("a deleted send is still listed")
	}
}

func TestAnEDMSentNowReachesItsCrowd(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	ctx := context.Background()
	crowd := seededCrowd(t, r)
	verified, _ := mailboxes(t, r)
	id, err := r.client.CreateEDM(ctx, edmInput(verified.MailboxID, []int64{crowd.GroupID}, 0))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := r.client.EDMDetail(ctx, id); d.Status != "sending" || d.Editable() || d.Total > crowd.UserCount {
		t.Fatalf("just created: %+v (crowd of %d)", d, crowd.UserCount)
	}
	r.clock.Jump(time.Minute)
	d, err := r.client.EDMDetail(ctx, id)
	if err != nil || d.Status != "sent" || d.Delivered+d.Bounced+d.Failed != d.Total {
		t.Fatalf("a minute later: %+v, %v", d, err)
	}
	n := 0
	for _, err := range r.client.AllEDMRecords(ctx, id) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != d.Total {
		t.Fatalf("%d records for %d recipients", n, d.Total)
	}
}

func TestTheSeededDraftCanBeScheduledThenDeleted(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	ctx := context.Background()
	crowd := seededCrowd(t, r)
	verified, _ := mailboxes(t, r)
	drafts := allEDM(t, r, "draft")
	if len(drafts) != 1 || !drafts[0].Editable() || drafts[0].SendTime != 0 {
		t.Fatalf("drafts %+v", drafts)
	}
	at := r.clock.Now().Add(time.Hour).Unix()
	if err := r.client.UpdateEDM(ctx, drafts[0].EDMID, edmInput(verified.MailboxID, []int64{crowd.GroupID}, at)); err != nil {
		t.Fatal(err)
	}
	if d, _ := r.client.EDMDetail(ctx, drafts[0].EDMID); d.Status != "scheduled" || d.SendTime != at || d.Total == 0 {
		t.Fatalf("the draft after an update with a send time: %+v", d)
	}
	if err := r.client.DeleteEDM(ctx, drafts[0].EDMID); err != nil {
		t.Fatal(err)
	}
	if n := len(allEDM(t, r, "")); n != 9 {
		t.Fatalf("%d sends after deleting one of 10", n)
	}
}
