package sends

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// Every problem of a draft, for both channels, is one refusal about its
// form field, found by the one check the create and change paths share.
func TestADraftIsCheckedOnceForBothChannels(t *testing.T) {
	const now = 1_800_000_000
	sms := Draft{Name: "提醒", SMSID: "m1", Mobiles: []string{"13900000001"}}
	email := Draft{Name: "月刊", Subject: "十月", MailboxID: "mb1", HTML: "<p>x</p>", GroupIDs: []int64{7}}
	with := func(d Draft, change func(*Draft)) Draft { change(&d); return d }
	for _, tc := range []struct {
		name    string
		channel string
		draft   Draft
		want    error
		field   string
	}{
		{"sms fine", SMS, sms, nil, ""},
		{"email fine", EDM, email, nil, ""},
		{"sms no name", SMS, with(sms, func(d *Draft) { d.Name = "  " }), ErrNoName, "name"},
		{"email no name", EDM, with(email, func(d *Draft) { d.Name = "" }), ErrNoName, "name"},
		{"no message", SMS, with(sms, func(d *Draft) { d.SMSID = "" }), ErrNoMessage, "message"},
		{"no audience", SMS, with(sms, func(d *Draft) { d.Mobiles = nil }), ErrNoAudience, "audience"},
		{"both audiences", SMS, with(sms, func(d *Draft) { d.GroupIDs = []int64{7} }), ErrBothAudiences, "audience"},
		{"no subject", EDM, with(email, func(d *Draft) { d.Subject = " " }), ErrNoSubject, "subject"},
		{"no mailbox", EDM, with(email, func(d *Draft) { d.MailboxID = "" }), ErrNoMailbox, "mailbox"},
		{"no body", EDM, with(email, func(d *Draft) { d.HTML = "\n " }), ErrNoHTML, "html"},
		{"body too large", EDM, with(email, func(d *Draft) { d.HTML = strings.Repeat("x", HTMLMax+1) }), ErrHTMLTooLarge, "html"},
		{"no crowd", EDM, with(email, func(d *Draft) { d.GroupIDs = nil }), ErrNoCrowd, "audience"},
		{"email to mobiles", EDM, with(email, func(d *Draft) { d.Mobiles = []string{"13900000001"} }), ErrBothAudiences, "audience"},
		{"sms past time", SMS, with(sms, func(d *Draft) { d.SendTime = now }), ErrPastTime, "when"},
		{"email past time", EDM, with(email, func(d *Draft) { d.SendTime = now - 60 }), ErrPastTime, "when"},
		{"later is fine", EDM, with(email, func(d *Draft) { d.SendTime = now + 60 }), nil, ""},
	} {
		err := checkDraft(tc.channel, tc.draft, now)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		if r, ok := msg.AsError(err); err != nil && (!ok || r.Field != tc.field || r.Kind != msg.Invalid) {
			t.Errorf("%s: refusal %+v, want an invalid one about %q", tc.name, r, tc.field)
		}
	}
}

// Pasted entries that are not mobiles refuse the draft, counted, about
// the list: none is dropped without the user knowing.
func TestPastedEntriesThatAreNotMobilesAreRefusedNotDropped(t *testing.T) {
	valid, invalid := ParseMobiles("13900000001\n12x45，13900000001; 555")
	if len(valid) != 1 || len(invalid) != 2 {
		t.Fatalf("ParseMobiles: %v %v", valid, invalid)
	}
	err := checkDraft(SMS, Draft{Name: "a", SMSID: "m", Mobiles: valid, NotMobiles: invalid}, 0)
	r, ok := msg.AsError(err)
	if !ok || r.Msg.ID != "sends.error.invalid_mobiles" || r.Field != "mobiles" || len(r.Msg.Args) != 1 || *r.Msg.Args[0].Num != 2 {
		t.Fatalf("invalid mobiles: %v", err)
	}
	// All of them invalid is still that refusal, not "no audience".
	if err := checkDraft(SMS, Draft{Name: "a", SMSID: "m", NotMobiles: invalid}, 0); errors.Is(err, ErrNoAudience) || err == nil {
		t.Fatalf("only invalid mobiles: %v", err)
	}
}

// A draft naming a crowd the local copy does not have is refused before
// anything is stored or the platform is asked.
func TestADraftNamingACrowdTheCopyLacksIsRefused(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	_, err := r.svc.CreateDraft(ctx, r.mia.ID, SMS, Draft{Name: "x", SMSID: r.sb.SMSMessageIDs("approved")[0], GroupIDs: []int64{987654}})
	if !errors.Is(err, ErrCrowdGone) {
		t.Fatalf("create with an unknown crowd: %v", err)
	}
	if list, _ := r.store.ListSends(ctx, db.SendFilter{Tests: true}); len(list) != 0 || r.sb.CallsToday("sms.list") != 0 {
		t.Fatalf("a refused draft left %d sends and %d platform calls", len(list), r.sb.CallsToday("sms.list"))
	}
}

// A send changes only while it can (Changeable); past that the change is
// refused, said as where the send stands, and audited.
func TestChangeIsRefusedOnceTheSendMovedOn(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	id := r.smsDraft(3)
	d := Draft{Name: "改名", SMSID: r.sb.SMSMessageIDs("approved")[0], Mobiles: r.send(id).Mobiles}
	if Changeable(r.send(id)) != AsDraft {
		t.Fatal("a draft is not changeable as a draft")
	}
	if sd, err := r.svc.Change(ctx, id, r.mia, d); err != nil || sd.Name != "改名" {
		t.Fatalf("change a draft: %v %q", err, sd.Name)
	}
	if _, err := r.svc.Change(ctx, id, r.vic, d); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("a viewer's change: %v", err)
	}
	if _, err := r.svc.Confirm(ctx, id, r.mia, ""); err != nil {
		t.Fatal(err)
	}
	if Changeable(r.send(id)) != "" {
		t.Fatal("a submitted SMS is still changeable")
	}
	d.Name = "晚了"
	if _, err := r.svc.Change(ctx, id, r.mia, d); !errors.Is(err, ErrStarted) {
		t.Fatalf("change after submission: %v", err)
	}
	if r.send(id).Name != "改名" {
		t.Fatal("the refused change was stored")
	}
	entries, _ := r.store.ListAudit(ctx, db.AuditFilter{Action: "send.update"})
	if len(entries) != 1 || entries[0].Outcome != db.OutcomeDenied {
		t.Fatalf("the refusal is not audited: %+v", entries)
	}
}

// The size a page shows is frozen at confirmation; before that (and
// after a rejection back to draft) it is counted again.
func TestTheAudienceShownIsFrozenOnceConfirmed(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	three := []string{"13900000001", "13900000002", "13900000003"}
	for _, tc := range []struct {
		name string
		sd   db.Send
		want int64
	}{
		{"draft", db.Send{State: db.SendDraft, Mobiles: three}, 3},
		{"draft less the excluded", db.Send{State: db.SendDraft, Mobiles: three, Excluded: three[:1]}, 2},
		{"submitted", db.Send{State: db.SendSubmitted, ConfirmedAt: 1, AudienceCount: 7, Mobiles: three}, 7},
		{"rejected back to draft", db.Send{State: db.SendDraft, AudienceCount: 7, Mobiles: three}, 3},
		{"a crowd the copy lacks", db.Send{State: db.SendDraft, GroupIDs: []int64{987654}}, 0},
	} {
		if got := r.svc.Audience(ctx, tc.sd); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
