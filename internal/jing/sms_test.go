package jing_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
)

// sendsFast lifts every business endpoint's rate limit on both sides (the
// SMS, EDM and scoring tests make many quick calls), with extra overrides.
func sendsFast(extra map[string]jing.Override) rigOption {
	return func(sc *sandbox.Config, cc *jing.Config) {
		rate := 1000.0
		overrides := map[string]jing.Override{}
		for _, e := range jing.DefaultCatalog().All() {
			if !strings.HasPrefix(e.Key, "oauth.") {
				overrides[e.Key] = jing.Override{RatePerSecond: &rate}
			}
		}
		for k, o := range extra {
			o.RatePerSecond = &rate
			overrides[k] = o
		}
		cat, err := jing.DefaultCatalog().ApplyOverrides(overrides)
		if err != nil {
			panic(err)
		}
		sc.Catalog, cc.Catalog = cat, cat
	}
}

// testMobiles are n distinct valid mainland mobiles.
func testMobiles(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("1380013%04d", i)
	}
	return out
}

func approvedSMS(t *testing.T, r *rig) jing.SMSMessage {
	t.Helper()
	p, err := r.client.ListSMS(context.Background(), jing.PageRequest{Page: 1, PerPage: 10})
	if err != nil || len(p.Items) == 0 {
		t.Fatalf("no approved SMS: %v", err)
	}
	return p.Items[0]
}

// seededCrowd is one of the tenant's seeded crowds with members.
func seededCrowd(t *testing.T, r *rig) jing.Crowd {
	t.Helper()
	p, err := r.client.ListCrowds(context.Background(), jing.CrowdListRequest{PageRequest: jing.PageRequest{Page: 1, PerPage: 100}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Items {
		if c.UserCount >= 5 {
			return c
		}
	}
	t.Fatalf("none of the %d seeded crowds has 5 members or more", len(p.Items))
	return jing.Crowd{}
}

// wantRefusal checks a refusal's code, its kind (40001 and 40002 are
// KindInvalid, 40004 KindBusiness), message and request id.
func wantRefusal(t *testing.T, err error, code int, msgHas string) {
	t.Helper()
	kind := jing.KindInvalid
	if code == jing.CodeBusinessFailed {
		kind = jing.KindBusiness
	}
	e, ok := jing.AsError(err)
	if !ok || e.Kind != kind || e.Code != code || !strings.Contains(e.Msg, msgHas) || e.RequestID == "" {
		t.Fatalf("got %v; want %s, code %d, message with %q", err, kind, code, msgHas)
	}
}

// sentTask creates a task (of an approved message unless in names one) and sends it.
func sentTask(t *testing.T, r *rig, in jing.SMSTaskInput) string {
	t.Helper()
	if in.SMSID == "" {
		in.SMSID = approvedSMS(t, r).SMSID
	}
	ctx := context.Background()
	id, err := r.client.CreateSMSTask(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.SendSMSTask(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

func smsDetail(t *testing.T, r *rig, taskID string) jing.SMSSendDetail {
	t.Helper()
	d, err := r.client.SMSSendDetail(context.Background(), taskID, jing.PageRequest{Page: 1, PerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSMSListShowsOnlyApprovedMessages(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	p, err := r.client.ListSMS(context.Background(), jing.PageRequest{Page: 1, PerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 6 || p.Meta.TotalCount != 6 || p.Meta.PageCount != 1 {
		t.Fatalf("%d messages, meta %+v", len(p.Items), p.Meta)
	}
	hidden := append(r.sb.SMSMessageIDs("pending"), r.sb.SMSMessageIDs("rejected")...)
	withVariables := 0
	for _, m := range p.Items {
		if m.Status != "approved" || m.Signature == "" || m.SMSID == "" || strings.Contains(strings.Join(hidden, " "), m.SMSID) {
			t.Fatalf("listed %+v", m)
		}
		if strings.Contains(m.Content, "{name}") {
			withVariables++
		}
	}
	if len(hidden) != 2 || withVariables == 0 {
		t.Fatalf("%d unapproved messages, %d with a {name} variable", len(hidden), withVariables)
	}
}

func TestAnSMSTaskIsDeliveredOverTheFollowingSeconds(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	ctx := context.Background()
	mobiles := testMobiles(40)
	id, err := r.client.CreateSMSTask(ctx, jing.SMSTaskInput{SMSID: approvedSMS(t, r).SMSID, Name: "试驾会邀约",
		Mobiles: append(mobiles, mobiles[0])}) // a repeated mobile is messaged once
	if err != nil {
		t.Fatal(err)
	}
	if d := smsDetail(t, r, id); d.Status != "draft" || d.Total != 40 || d.Sent != 0 {
		t.Fatalf("before sending: %+v", d)
	}
	res, err := r.client.SendSMSTask(ctx, id)
	if err != nil || res.TaskID != id || res.Status != "sending" {
		t.Fatalf("send: %+v, %v", res, err)
	}
	first := smsDetail(t, r, id)
	if first.Status != "sending" || first.Delivered+first.Failed == first.Total {
		t.Fatalf("just after sending: %+v", first)
	}
	r.clock.Jump(2 * time.Second)
	mid := smsDetail(t, r, id)
	if mid.Sent == 0 || mid.Sent < first.Sent || mid.Delivered < first.Delivered {
		t.Fatalf("2 s after sending: sent %d, delivered %d (before: %d, %d)", mid.Sent, mid.Delivered, first.Sent, first.Delivered)
	}
	r.clock.Jump(time.Minute)
	done := smsDetail(t, r, id)
	if !done.Done() || done.Sent != 40 || done.Delivered+done.Failed != 40 || done.Delivered < 34 {
		t.Fatalf("a minute later: %s, sent %d, delivered %d, failed %d", done.Status, done.Sent, done.Delivered, done.Failed)
	}
	seen := map[string]bool{}
	for page := 1; page <= 3; page++ {
		p, err := r.client.SMSSendDetail(ctx, id, jing.PageRequest{Page: page, PerPage: 15})
		if err != nil || p.Meta.PageCount != 3 {
			t.Fatalf("page %d: %v, meta %+v", page, err, p.Meta)
		}
		for _, it := range p.Items {
			if seen[it.Mobile] || (it.Status == "failed") == (it.Error == "") || it.Time == 0 {
				t.Fatalf("recipient %+v (seen before: %v)", it, seen[it.Mobile])
			}
			seen[it.Mobile] = true
		}
	}
	if len(seen) != 40 {
		t.Fatalf("pages walked %d recipients, want 40", len(seen))
	}
}

func TestSendingAnSMSTaskTwiceIsRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	id := sentTask(t, r, jing.SMSTaskInput{Name: "保养提醒", Mobiles: testMobiles(3)})
	r.clock.Jump(time.Minute)
	before := smsDetail(t, r, id)
	_, err := r.client.SendSMSTask(context.Background(), id)
	wantRefusal(t, err, jing.CodeBusinessFailed, "任务已发送")
	// A second send would have started the deliveries over.
	if after := smsDetail(t, r, id); !reflect.DeepEqual(after, before) || !after.Done() {
		t.Fatalf("the refused send changed the task: %+v, was %+v", after, before)
	}
	if n := r.calls.count("/v1/sms/task/send"); n != 2 {
		t.Fatalf("%d sms.send requests for two calls", n)
	}
}

func TestADroppedSMSSendIsOutcomeUnknownAndNotRepeated(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	ctx := context.Background()
	id, err := r.client.CreateSMSTask(ctx, jing.SMSTaskInput{SMSID: approvedSMS(t, r).SMSID, Name: "车展邀请", Mobiles: testMobiles(5)})
	if err != nil {
		t.Fatal(err)
	}
	r.sb.SetFaults(sandbox.Faults{DropRate: 1})
	_, err = r.client.SendSMSTask(ctx, id)
	if !jing.IsKind(err, jing.KindOutcomeUnknown) || r.calls.count("/v1/sms/task/send") != 1 {
		t.Fatalf("dropped send: %v, %d requests", err, r.calls.count("/v1/sms/task/send"))
	}
	r.sb.SetFaults(sandbox.Faults{})
	// The platform did act: checking shows the task sending, and a user's
	// second try is refused rather than messaging everyone again.
	if d := smsDetail(t, r, id); d.Status != "sending" {
		t.Fatalf("after the dropped send the task is %q", d.Status)
	}
	_, err = r.client.SendSMSTask(ctx, id)
	wantRefusal(t, err, jing.CodeBusinessFailed, "任务已发送")
}

func TestSMSTaskValidation(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	ok := approvedSMS(t, r).SMSID
	pending, rejected := r.sb.SMSMessageIDs("pending")[0], r.sb.SMSMessageIDs("rejected")[0]
	mobiles := testMobiles(2)
	for _, tc := range []struct {
		name   string
		in     jing.SMSTaskInput
		code   int
		msgHas string
	}{
		{"no sms", jing.SMSTaskInput{Name: "n", Mobiles: mobiles}, jing.CodeMissingParameter, "sms_id"},
		{"no name", jing.SMSTaskInput{SMSID: ok, Mobiles: mobiles}, jing.CodeMissingParameter, "name"},
		{"no audience", jing.SMSTaskInput{SMSID: ok, Name: "n"}, jing.CodeMissingParameter, "group_ids"},
		{"both audiences", jing.SMSTaskInput{SMSID: ok, Name: "n", Mobiles: mobiles, GroupIDs: []int64{1}}, jing.CodeInvalidParameter, "mobiles"},
		{"short mobile", jing.SMSTaskInput{SMSID: ok, Name: "n", Mobiles: []string{"1380013800"}}, jing.CodeInvalidParameter, "1380013800"},
		{"not a mobile prefix", jing.SMSTaskInput{SMSID: ok, Name: "n", Mobiles: []string{"12800138000"}}, jing.CodeInvalidParameter, "12800138000"},
		{"past send time", jing.SMSTaskInput{SMSID: ok, Name: "n", Mobiles: mobiles, SendTime: r.clock.Now().Add(-time.Hour).Unix()}, jing.CodeInvalidParameter, "send_time"},
		{"pending approval", jing.SMSTaskInput{SMSID: pending, Name: "n", Mobiles: mobiles}, jing.CodeBusinessFailed, "审核中"},
		{"rejected", jing.SMSTaskInput{SMSID: rejected, Name: "n", Mobiles: mobiles}, jing.CodeBusinessFailed, "审核未通过"},
		{"unknown sms", jing.SMSTaskInput{SMSID: "NoSuchMessage", Name: "n", Mobiles: mobiles}, jing.CodeBusinessFailed, "短信不存在"},
		{"unknown crowd", jing.SMSTaskInput{SMSID: ok, Name: "n", GroupIDs: []int64{987654321}}, jing.CodeBusinessFailed, "人群不存在"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.client.CreateSMSTask(context.Background(), tc.in)
			wantRefusal(t, err, tc.code, tc.msgHas)
		})
	}
	_, err := r.client.SendSMSTask(context.Background(), "NoSuchTask")
	wantRefusal(t, err, jing.CodeBusinessFailed, "任务不存在")
}

func TestAScheduledSMSTaskStartsAtItsSendTime(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	ctx := context.Background()
	at := r.clock.Now().Add(10 * time.Minute).Unix()
	id, err := r.client.CreateSMSTask(ctx, jing.SMSTaskInput{SMSID: approvedSMS(t, r).SMSID, Name: "双十二预告", Mobiles: testMobiles(10), SendTime: at})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r.client.SendSMSTask(ctx, id); err != nil || res.Status != "scheduled" {
		t.Fatalf("send: %+v, %v", res, err)
	}
	r.clock.Jump(9 * time.Minute)
	if d := smsDetail(t, r, id); d.Status != "scheduled" || d.Sent != 0 {
		t.Fatalf("before its send time: %+v", d)
	}
	r.clock.Jump(2 * time.Minute)
	d := smsDetail(t, r, id)
	if !d.Done() || d.Sent != 10 {
		t.Fatalf("after its send time: %+v", d)
	}
	for _, it := range d.Items {
		if it.Time < at {
			t.Fatalf("%s was sent at %d, before the send time %d", it.Mobile, it.Time, at)
		}
	}
}

func TestAnSMSTaskToACrowdMessagesItsMembersOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	crowd := seededCrowd(t, r)
	id := sentTask(t, r, jing.SMSTaskInput{Name: "人群短信", GroupIDs: []int64{crowd.GroupID, crowd.GroupID}})
	r.clock.Jump(time.Minute)
	d := smsDetail(t, r, id)
	if !d.Done() || d.Total == 0 || d.Total > crowd.UserCount || len(d.Items) != min(d.Total, 100) {
		t.Fatalf("crowd of %d: %+v", crowd.UserCount, d)
	}
	seen := map[string]bool{}
	for _, it := range d.Items {
		if seen[it.Mobile] || len(it.Mobile) != 11 {
			t.Fatalf("recipient %+v", it)
		}
		seen[it.Mobile] = true
	}
}
