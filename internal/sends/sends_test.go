package sends

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// rig is a sandbox tenant over real HTTP, a client of it, and a Service
// on a temporary database with three users.
type rig struct {
	t      *testing.T
	sb     *sandbox.Running
	client *jing.Client
	store  *db.Store
	svc    *Service
	mia    *db.User // marketer
	lei    *db.User // marketer
	vic    *db.User // viewer
}

func newRig(t *testing.T) *rig {
	t.Helper()
	cat := fixture.Catalog(t, fixture.Pace{})
	r := &rig{t: t, sb: fixture.Sandbox(t, sandbox.Config{Seed: 5, Persons: 300, Leads: 5, Catalog: cat})}
	r.client = fixture.Client(t, r.sb.URL, cat)
	r.store = fixture.Store(t)
	r.mia, r.lei, r.vic = r.user("mia", db.RoleMarketer), r.user("lei", db.RoleMarketer), r.user("vic", db.RoleViewer)
	r.svc = r.newService()
	return r
}

// newService is the service as a (re)started process builds it.
func (r *rig) newService() *Service {
	svc, err := New(Config{Store: r.store, Platform: fixture.Fixed{Client: r.client}})
	if err != nil {
		r.t.Fatal(err)
	}
	return svc
}

func (r *rig) user(name, role string) *db.User {
	u, err := r.store.CreateUser(context.Background(), db.NewUser{Username: name, PasswordHash: "x", Role: role})
	if err != nil {
		r.t.Fatal(err)
	}
	return &u
}

// smsDraft writes an SMS draft to n pasted mobiles of the tenant.
func (r *rig) smsDraft(n int) int64 {
	r.t.Helper()
	var mobiles []string
	for _, p := range r.sb.SamplePersons(n * 2) {
		if p.Mobile != "" && len(mobiles) < n {
			mobiles = append(mobiles, p.Mobile)
		}
	}
	id, err := r.svc.CreateDraft(context.Background(), r.mia.ID, SMS, Draft{Name: "双十一提醒",
		SMSID: r.sb.SMSMessageIDs("approved")[0], Mobiles: mobiles})
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

func (r *rig) send(id int64) db.Send {
	r.t.Helper()
	sd, err := r.store.Send(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return sd
}

// Fifty concurrent confirmations of one send: one task, one sms.send.
func TestConcurrentConfirmationsCallThePlatformOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	id := r.smsDraft(20)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { r.svc.Confirm(context.Background(), id, r.mia, "20") })
	}
	wg.Wait()
	if n := r.sb.CallsToday("sms.send"); n != 1 {
		t.Fatalf("sms.send called %d times, want 1", n)
	}
	if n := r.sb.CallsToday("sms.task_create"); n != 1 {
		t.Fatalf("sms.task_create called %d times, want 1", n)
	}
	sd := r.send(id)
	if sd.State != db.SendSubmitted || sd.PlatformID == "" || sd.AudienceCount != 20 || sd.RequestID == "" {
		t.Fatalf("send after confirmation: %s %q count %d request %q", sd.State, sd.PlatformID, sd.AudienceCount, sd.RequestID)
	}
	// A late double click changes nothing.
	if _, err := r.svc.Confirm(context.Background(), id, r.mia, "20"); !errors.Is(err, ErrNotDraft) {
		t.Fatalf("confirming a sent send: %v", err)
	}
	if _, err := r.svc.Submit(context.Background(), id, r.mia); err != nil || r.sb.CallsToday("sms.send") != 1 {
		t.Fatalf("submitting a submitted send: %v, %d calls", err, r.sb.CallsToday("sms.send"))
	}
}

// An answer lost after the platform sent (the connection dropped) leaves
// the send unknown; a restarted console finds the task sending on the
// platform and settles it, without a second sms.send.
func TestALostAnswerIsReconciledFromThePlatform(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	id := r.smsDraft(5)
	r.sb.SetFaults(sandbox.Faults{DropRate: 1, Only: []string{"sms.send"}})
	sd, err := r.svc.Confirm(context.Background(), id, r.mia, "")
	if err != nil {
		t.Fatal(err)
	}
	if sd.State != db.SendUnknown || sd.PlatformID == "" {
		t.Fatalf("after a dropped answer: %s task %q", sd.State, sd.PlatformID)
	}
	r.sb.SetFaults(sandbox.Faults{})
	restarted := r.newService()
	if err := restarted.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	sd = r.send(id)
	if sd.State != db.SendSubmitted || !strings.Contains(sd.Evidence, `"sends.evidence.task_found"`) {
		t.Fatalf("after reconciling: %s, evidence %q", sd.State, sd.Evidence)
	}
	if n := r.sb.CallsToday("sms.send"); n != 1 {
		t.Fatalf("sms.send called %d times, want 1", n)
	}
}

// A process killed between "submitting" and the answer: the next one
// treats the send as unknown once the call is surely over, looks it up
// and settles it, with no second call.
func TestAKillDuringSubmissionIsReconciledWithoutASecondCall(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	id := r.smsDraft(5)
	ctx := context.Background()
	// What the killed process got done: the transition, the task, the send.
	if err := r.store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendDraft}, To: db.SendSubmitting,
		Set: map[string]any{"submit_at": time.Now().Add(-time.Hour).Unix(), "audience_count": 5}}); err != nil {
		t.Fatal(err)
	}
	sd := r.send(id)
	task, err := r.client.CreateSMSTask(ctx, jing.SMSTaskInput{SMSID: sd.SMSID, Name: sd.PlatformName(), Mobiles: sd.Mobiles})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendSubmitting}, To: db.SendSubmitting,
		Set: map[string]any{"platform_id": task}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.SendSMSTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	restarted := r.newService()
	if err := restarted.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if sd := r.send(id); sd.State != db.SendSubmitted {
		t.Fatalf("after the restart: %s (%s)", sd.State, sd.Evidence)
	}
	if n := r.sb.CallsToday("sms.send"); n != 1 {
		t.Fatalf("sms.send called %d times, want 1", n)
	}
}

// A send still "submitting" in the ledger without its task recorded died
// before sms.send: it is settled as not sent.
func TestAKillBeforeTheTaskExistedSettlesAsNotSent(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	id := r.smsDraft(5)
	if err := r.store.TransitionSend(context.Background(), id, db.SendTransition{From: []string{db.SendDraft}, To: db.SendSubmitting,
		Set: map[string]any{"submit_at": time.Now().Add(-time.Hour).Unix()}}); err != nil {
		t.Fatal(err)
	}
	if err := r.newService().Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sd := r.send(id); sd.State != db.SendFailed || r.sb.CallsToday("sms.send") != 0 {
		t.Fatalf("after the restart: %s, %d sends", sd.State, r.sb.CallsToday("sms.send"))
	}
}

// 20000 on the send call: unknown, not retried; when the platform shows
// the task unsent, it stays unknown for a person, who may send again (a
// new attempt, one more call).
func TestA20000OnTheSendCallIsUnknownAndNeverRetried(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	id := r.smsDraft(5)
	r.sb.SetFaults(sandbox.Faults{ErrorRate: 1, Only: []string{"sms.send"}})
	sd, err := r.svc.Confirm(context.Background(), id, r.mia, "")
	if err != nil {
		t.Fatal(err)
	}
	if sd.State != db.SendUnknown || r.sb.CallsToday("sms.send") != 1 {
		t.Fatalf("after 20000: %s, %d calls", sd.State, r.sb.CallsToday("sms.send"))
	}
	r.sb.SetFaults(sandbox.Faults{})
	for range 3 {
		if err := r.svc.Reconcile(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sd = r.send(id)
	if sd.State != db.SendUnknown || !strings.Contains(sd.Evidence, `"sends.evidence.task_draft"`) || r.sb.CallsToday("sms.send") != 1 {
		t.Fatalf("after reconciling: %s %q, %d calls", sd.State, sd.Evidence, r.sb.CallsToday("sms.send"))
	}
	if _, err := r.svc.Decide(context.Background(), id, r.vic, DecideAgain); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("a viewer decided: %v", err)
	}
	sd, err = r.svc.Decide(context.Background(), id, r.lei, DecideAgain)
	if err != nil {
		t.Fatal(err)
	}
	if sd.State != db.SendSubmitted || sd.Attempt != 2 || !strings.HasSuffix(sd.PlatformName(), "-2]") || r.sb.CallsToday("sms.send") != 2 {
		t.Fatalf("sent again: %s attempt %d, %d calls", sd.State, sd.Attempt, r.sb.CallsToday("sms.send"))
	}
}

// Above the approval size a send waits for a second person; its author
// cannot approve it, a viewer cannot send at all.
func TestApprovalNeedsASecondPerson(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.svc.SaveSettings(ctx, Settings{ConfirmTypeAbove: 10, ApprovalAbove: 15}); err != nil {
		t.Fatal(err)
	}
	id := r.smsDraft(20)
	if _, err := r.svc.Confirm(ctx, id, r.vic, "20"); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("viewer confirmed: %v", err)
	}
	if _, err := r.svc.Confirm(ctx, id, r.mia, "19"); !errors.Is(err, ErrCountMismatch) {
		t.Fatalf("a wrong count: %v", err)
	}
	sd, err := r.svc.Confirm(ctx, id, r.mia, "20")
	if err != nil || sd.State != db.SendAwaitingApproval {
		t.Fatalf("confirmed: %v %s", err, sd.State)
	}
	if _, err := r.svc.Approve(ctx, id, r.mia); !errors.Is(err, ErrOwnApproval) {
		t.Fatalf("self-approval: %v", err)
	}
	if r.sb.CallsToday("sms.send") != 0 {
		t.Fatal("sent before approval")
	}
	sd, err = r.svc.Approve(ctx, id, r.lei)
	if err != nil || sd.State != db.SendSubmitted || sd.ApprovedBy != r.lei.ID || r.sb.CallsToday("sms.send") != 1 {
		t.Fatalf("approved: %v %s", err, sd.State)
	}
	entries, _ := r.store.ListAudit(ctx, db.AuditFilter{Action: "send."})
	if len(entries) < 3 {
		t.Fatalf("audit entries: %+v", entries)
	}
}

// An email send whose answer was lost is found on the platform by the
// send key in its name.
func TestAnUnknownEmailIsFoundByItsKey(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	mbs, err := r.client.Mailboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mailbox string
	for _, mb := range mbs {
		if mb.Verified {
			mailbox = mb.MailboxID
		}
	}
	crowds, _ := r.client.ListCrowds(ctx, jing.CrowdListRequest{PageRequest: jing.PageRequest{Page: 1, PerPage: 5}})
	g := crowds.Items[0]
	r.store.SaveCrowd(ctx, db.Crowd{GroupID: g.GroupID, Name: g.Name, UserCount: int64(g.UserCount)})
	id, err := r.svc.CreateDraft(ctx, r.mia.ID, EDM, Draft{Name: "新品通知", Subject: "新品上市", MailboxID: mailbox,
		HTML: "<h1>新品</h1>", GroupIDs: []int64{g.GroupID}})
	if err != nil {
		t.Fatal(err)
	}
	r.sb.SetFaults(sandbox.Faults{DropRate: 1, Only: []string{"edm.create"}})
	sd, err := r.svc.Confirm(ctx, id, r.mia, "")
	if err != nil || sd.State != db.SendUnknown {
		t.Fatalf("after a dropped answer: %v %s", err, sd.State)
	}
	r.sb.SetFaults(sandbox.Faults{})
	if err := r.svc.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	sd = r.send(id)
	if sd.State != db.SendSubmitted || sd.PlatformID == "" || r.sb.CallsToday("edm.create") != 1 {
		t.Fatalf("after reconciling: %s %q (%s)", sd.State, sd.PlatformID, sd.Evidence)
	}
	if sd, err = r.svc.Refresh(ctx, id); err != nil || sd.Counts.Total == 0 {
		t.Fatalf("refresh: %v %+v", err, sd.Counts)
	}
}

// A test SMS goes to the allow-listed numbers only, once.
func TestATestSendGoesToTheAllowListOnly(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	id := r.smsDraft(50)
	if _, err := r.svc.TestSend(ctx, id, r.mia); !errors.Is(err, ErrNoTestRecipients) {
		t.Fatalf("test send without recipients: %v", err)
	}
	if _, err := r.svc.SaveSettings(ctx, Settings{TestMobiles: []string{"+86 139-0000-0001", "13900000002"}, ConfirmTypeAbove: 1000}); err != nil {
		t.Fatal(err)
	}
	test, err := r.svc.TestSend(ctx, id, r.mia)
	if err != nil || !test.Test || test.State != db.SendSubmitted {
		t.Fatalf("test send: %v %+v", err, test)
	}
	if _, err := r.svc.SyncRecords(ctx, test.ID); err != nil {
		t.Fatal(err)
	}
	recs, total, _ := r.store.SendRecords(ctx, test.ID, db.SendRecordFilter{})
	if total != 2 || recs[0].Recipient != "13900000001" || recs[1].Recipient != "13900000002" {
		t.Fatalf("test recipients: %d %+v", total, recs)
	}
	if sd := r.send(id); sd.State != db.SendDraft {
		t.Fatalf("the draft changed: %s", sd.State)
	}
}

// The consent check excludes the pasted mobiles whose person authorised
// no required policy version (or is unknown), and keeps the others.
func TestTheConsentCheckExcludesWhoHasNotAuthorised(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	runner := jobs.New(r.store, jobs.Config{Logger: testkit.Quiet(), Poll: 20 * time.Millisecond})
	svc, err := New(Config{Store: r.store, Platform: fixture.Fixed{Client: r.client}, Runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	fixture.Start(t, runner)
	var mobiles []string
	never := map[string]bool{}
	for _, p := range r.sb.SamplePersons(60) {
		if p.Mobile != "" {
			mobiles = append(mobiles, p.Mobile)
			never[p.Mobile] = p.Authorized == 0
		}
	}
	mobiles = append(mobiles, "13000000009") // nobody's
	id, err := svc.CreateDraft(ctx, r.mia.ID, SMS, Draft{Name: "合规检查", SMSID: r.sb.SMSMessageIDs("approved")[0], Mobiles: mobiles})
	if err != nil {
		t.Fatal(err)
	}
	job, err := svc.RequestConsentCheck(ctx, id, r.mia.ID)
	if err != nil {
		t.Fatal(err)
	}
	fixture.WaitJobState(t, r.store, job, db.JobDone)
	sd := r.send(id)
	ex := map[string]bool{}
	for _, m := range sd.Excluded {
		ex[m] = true
	}
	if !ex["13000000009"] || len(ex) < 2 || len(ex) >= len(mobiles) {
		t.Fatalf("excluded %d of %d", len(ex), len(mobiles))
	}
	for m, none := range never {
		if none && !ex[m] {
			t.Fatalf("%s authorised nothing but was kept", m)
		}
	}
	if n, _ := svc.AudienceSize(ctx, sd); n != int64(len(mobiles)-len(ex)) {
		t.Fatalf("audience %d, want %d", n, len(mobiles)-len(ex))
	}
	if got := audienceMobiles(sd); len(got) != len(mobiles)-len(ex) {
		t.Fatalf("%d mobiles would be sent to", len(got))
	}
}

// Following a submitted send brings the platform's counts in.
func TestFollowingASendBringsItsDeliveryCounts(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	id := r.smsDraft(10)
	if _, err := r.svc.Confirm(context.Background(), id, r.mia, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.svc.Follow(ctx, 50*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	testkit.Await(t, "the send's delivery counts", func() (db.Send, error) { return r.store.Send(context.Background(), id) },
		func(sd db.Send) bool { return sd.Counts.Total == 10 && sd.Counts.Delivered > 0 && sd.CheckedAt > 0 })
}
