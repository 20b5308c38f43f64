package platform

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// smsSendOnRecord makes an SMS task on the live connection's platform and
// records it in the console's ledger, as a send the console made: the one
// sms.send_detail can be verified with.
func smsSendOnRecord(t *testing.T, m *Manager, store *db.Store) string {
	t.Helper()
	ctx := context.Background()
	client, conn := m.Current()
	msgs, err := client.ListSMS(ctx, jing.PageRequest{Page: 1, PerPage: 1})
	if err != nil || len(msgs.Items) == 0 {
		t.Fatalf("sms.list: %v (%d messages)", err, len(msgs.Items))
	}
	task, err := client.CreateSMSTask(ctx, jing.SMSTaskInput{SMSID: msgs.Items[0].SMSID, Name: "verify fixture", Mobiles: []string{"13800138000"}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := store.CreateUser(ctx, db.NewUser{Username: "fixture", PasswordHash: "x", Role: db.RoleMarketer})
	if err != nil {
		t.Fatal(err)
	}
	id, err := store.CreateSend(ctx, "fixture-key", u.ID, db.SendDraftInput{Channel: "sms", Connection: conn, Name: "verify fixture",
		SMSID: msgs.Items[0].SMSID, Mobiles: []string{"13800138000"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendDraft}, To: db.SendSubmitted,
		Set: map[string]any{"platform_id": task}}); err != nil {
		t.Fatal(err)
	}
	return task
}

// callsToday is every endpoint's admitted calls today, as the sandbox counts them.
func callsToday(sb *sandbox.Server) map[string]int {
	out := map[string]int{}
	for _, e := range jing.DefaultCatalog().All() {
		out[e.Key] = sb.CallsToday(e.Key)
	}
	return out
}

func quirks(t *testing.T, flags ...string) sandbox.Quirks {
	t.Helper()
	qs := sandbox.Quirks{}
	for _, f := range flags {
		if err := qs.Set(f); err != nil {
			t.Fatal(err)
		}
	}
	return qs
}

func resultOf(rep VerifyReport, key string) VerifyResult {
	for _, r := range rep.Reads {
		if r.Endpoint == key {
			return r
		}
	}
	return VerifyResult{}
}

func TestEveryReadOnlyEndpointIsVerifiedAndNoWrite(t *testing.T) {
	t.Parallel()
	var want []string
	for _, e := range jing.DefaultCatalog().All() {
		if !e.Write && !strings.HasPrefix(e.Key, "oauth.") {
			want = append(want, e.Key)
		}
	}
	got := ReadOnlyEndpoints()
	if a, b := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)); !slices.Equal(a, b) {
		t.Fatalf("verified %v\nread-only endpoints %v", a, b)
	}
	// A read waits for those it takes an id from: each must come earlier
	// (no cycle, no unknown name).
	for i, rc := range readChecks {
		for _, a := range rc.after {
			if j := slices.Index(got, a); j < 0 || j >= i {
				t.Errorf("%s reads after %s, which is not an earlier read", rc.key, a)
			}
		}
	}
	// Every read serves a feature, so its failure never goes unannounced.
	for _, key := range got {
		if len(FeaturesOf(key)) == 0 {
			t.Errorf("%s is needed by no feature", key)
		}
	}
}

func TestVerifyUnderstandsTheSandboxSpendsWhatItSaidAndWritesNothing(t *testing.T) {
	t.Parallel()
	store := fixture.Store(t)
	m := open(t, store, newBox(t))
	ctx := context.Background()
	sb := m.SandboxServer().Server

	// Before any SMS send, sms.send_detail has nothing to read, and says so.
	plan := m.PlanVerification(ctx)
	if plan.Calls() != len(ReadOnlyEndpoints())-1 || !plan.Reads[slices.Index(ReadOnlyEndpoints(), "sms.send_detail")].NothingToRead {
		t.Fatalf("plan: %d calls, want every read but sms.send_detail", plan.Calls())
	}
	rep, err := m.VerifyAnswers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(rep, "sms.send_detail"); r.Status != VerifySkipped || r.Detail.ID != "platform.verify.nothing.sms_task" {
		t.Fatalf("sms.send_detail with no send: %+v", r)
	}

	smsSendOnRecord(t, m, store)
	plan = m.PlanVerification(ctx)
	if plan.Calls() != len(ReadOnlyEndpoints()) || len(plan.Writes) != 16 {
		t.Fatalf("plan: %d calls, %d writes", plan.Calls(), len(plan.Writes))
	}
	before := callsToday(sb)
	rep, err = m.VerifyAnswers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := callsToday(sb)
	if rep.Token.Status != VerifyUnderstood || len(rep.Problems()) != 0 {
		t.Fatalf("token %+v, problems %+v", rep.Token, rep.Problems())
	}
	for _, r := range rep.Reads {
		if r.Status != VerifyUnderstood || r.NoMeta {
			t.Errorf("%s: %s %+v", r.Endpoint, r.Status, r.Detail)
		}
	}
	// Exactly the plan: one call to each read, none to any write.
	for _, pr := range plan.Reads {
		if d := after[pr.Endpoint] - before[pr.Endpoint]; d != pr.Calls {
			t.Errorf("%s: %d calls, the plan said %d", pr.Endpoint, d, pr.Calls)
		}
	}
	for _, w := range plan.Writes {
		if after[w] != before[w] {
			t.Errorf("the verification called %s, a write", w)
		}
	}
}

func TestAFailedEndpointFailsTheFeaturesThatNeedItUntilVerifiedAgain(t *testing.T) {
	t.Parallel()
	store := fixture.Store(t)
	m := open(t, store, newBox(t))
	ctx := context.Background()
	m.SandboxServer().SetQuirks(quirks(t, "items-renamed=crowds.list"))
	rep, err := m.VerifyAnswers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := resultOf(rep, "crowds.list")
	if got.Status != VerifyNotUnderstood || got.Field != "items" || got.Detail.ID != "jing.error" {
		t.Fatalf("crowds.list: %+v", got)
	}
	for _, key := range []string{"crowds.detail", "crowds.users"} {
		if r := resultOf(rep, key); r.Status != VerifySkipped || r.Detail.ID != "platform.verify.reason.after" {
			t.Errorf("%s: %+v, want skipped after crowds.list", key, r)
		}
	}
	// Persons for their scores come from the leads instead.
	if r := resultOf(rep, "scores.user_identity"); r.Status != VerifyUnderstood {
		t.Errorf("scores.user_identity: %+v", r)
	}
	for _, f := range Features {
		_, failed := m.VerificationFailures(ctx, f)
		needs := slices.Contains(FeatureEndpoints(f), "crowds.list")
		if needs != (len(failed) == 1 && failed[0].Endpoint == "crowds.list") || !needs && len(failed) > 0 {
			t.Errorf("%s: failures %+v (needs crowds.list: %v)", f, failed, needs)
		}
	}
	if _, all := m.VerificationFailures(ctx, ""); len(all) != 1 {
		t.Fatalf("all features: %+v", all)
	}

	// Another console process (jingdesk check, a restart) reads the same report.
	other := open(t, store, newBox(t))
	if last, found := other.LastVerification(ctx); !found || !last.At.Equal(rep.At) ||
		resultOf(last, "crowds.list").Field != "items" {
		t.Fatalf("the kept report: found %v, %+v", found, resultOf(last, "crowds.list"))
	}

	m.SandboxServer().SetQuirks(nil)
	if _, err := m.VerifyAnswers(ctx); err != nil {
		t.Fatal(err)
	}
	if _, all := m.VerificationFailures(ctx, ""); len(all) != 0 {
		t.Fatalf("after a clean verification: %+v", all)
	}
}

func TestAReportOfAnotherConnectionSaysNothingOfThisOne(t *testing.T) {
	t.Parallel()
	store := fixture.Store(t)
	m := open(t, store, newBox(t))
	ctx := context.Background()
	m.SandboxServer().SetQuirks(quirks(t, "no-code=leads.list"))
	if _, err := m.VerifyAnswers(ctx); err != nil {
		t.Fatal(err)
	}
	if _, failed := m.VerificationFailures(ctx, FeatureLeads); len(failed) != 1 {
		t.Fatalf("on the sandbox: %+v", failed)
	}
	pf := startPlatform(t, "app-v", "secret-v")
	if _, err := m.Save(ctx, SettingsInput{BaseURL: pf.URL, AppID: "app-v", AppSecret: "secret-v"}); err != nil {
		t.Fatal(err)
	}
	if _, failed := m.VerificationFailures(ctx, FeatureLeads); len(failed) != 0 {
		t.Fatalf("the sandbox's report taken for the platform's: %+v", failed)
	}
	if last, found := m.LastVerification(ctx); !found || last.Connection != "embedded sandbox" {
		t.Fatalf("the report is not kept: %v %q", found, last.Connection)
	}
}

// quirkyPlatform starts a sandbox standing in for a platform (app-v), as
// cfg shapes it: its faults, permissions, quirks, quota.
func quirkyPlatform(t *testing.T, cfg sandbox.Config) *sandbox.Running {
	t.Helper()
	cfg.AppID, cfg.AppSecret, cfg.Seed, cfg.Persons, cfg.Leads = "app-v", "secret-v", 2, 200, 40
	return fixture.Sandbox(t, cfg)
}

// A platform that is not the embedded sandbox, with the console's own
// catalog (as catalog.json would make it).
func openOn(t *testing.T, pf *sandbox.Running, store *db.Store, overrides map[string]jing.Override) *Manager {
	t.Helper()
	cat, err := jing.DefaultCatalog().ApplyOverrides(overrides)
	if err != nil {
		t.Fatal(err)
	}
	return open(t, store, newBox(t), func(c *Config) {
		c.Catalog = cat
		c.Overrides = Overrides{BaseURL: pf.URL, AppID: "app-v", AppSecret: "secret-v"}
	})
}

func TestVerifySaysWhatEachRefusalIs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	on := true
	// Two paths swapped: each endpoint's body goes to the other's method,
	// which refuses it (40001, a parameter missing).
	queryPath, statusPath := "/v1/leads/status/list", "/v1/leads/query"
	pf := quirkyPlatform(t, sandbox.Config{
		Permissions: sandbox.Permissions{Denied: []string{"edm.list"}},
		Faults:      sandbox.Faults{ErrorRate: 1, Only: []string{"sms.list"}},
		Quirks:      quirks(t, "html-404=members.list")})
	m := openOn(t, pf, fixture.Store(t), map[string]jing.Override{
		"crowds.list":       {Disabled: &on},
		"leads.query":       {Path: &queryPath},
		"leads.status_list": {Path: &statusPath},
	})
	rep, err := m.VerifyAnswers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]VerifyStatus{
		"members.list":      VerifyNotFound,
		"edm.list":          VerifyNotPermitted,
		"edm.detail":        VerifySkipped,
		"sms.list":          VerifyUnavailable,
		"crowds.list":       VerifyDisabled,
		"crowds.detail":     VerifySkipped,
		"leads.query":       VerifyRefused,
		"leads.status_list": VerifyRefused,
		"leads.list":        VerifyUnderstood,
	} {
		if got := resultOf(rep, key); got.Status != want {
			t.Errorf("%s: %s (%+v), want %s", key, got.Status, got.Detail, want)
		}
	}
	if r := resultOf(rep, "crowds.detail"); r.Detail.ID != "platform.verify.reason.after_none" {
		t.Errorf("crowds.detail after a disabled crowds.list: %+v", r.Detail)
	}
	// Each request is sent once: the failing sms.list was not retried.
	if n := pf.CallsToday("sms.list"); n != 1 {
		t.Errorf("sms.list was called %d times, want 1 (no retries)", n)
	}
	if pf.CallsToday("crowds.list") != 0 {
		t.Error("a disabled endpoint was called")
	}
	// Not found, not permitted, unavailable, refused twice; a disabled
	// endpoint and the reads it would have given an id are not problems.
	if len(rep.Problems()) != 5 {
		t.Errorf("problems: %+v", rep.Problems())
	}
}

func TestATokenNotUnderstoodNamesTheTokenEndpointAndStopsEverything(t *testing.T) {
	t.Parallel()
	pf := quirkyPlatform(t, sandbox.Config{Quirks: quirks(t, "string-code")})
	m := openOn(t, pf, fixture.Store(t), nil)
	rep, err := m.VerifyAnswers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Token.Endpoint != "oauth.token" || rep.Token.Status != VerifyNotUnderstood {
		t.Fatalf("token: %+v", rep.Token)
	}
	for _, r := range rep.Reads {
		if r.Status != VerifySkipped || r.Detail.ID != "platform.verify.reason.no_token" {
			t.Errorf("%s: %+v", r.Endpoint, r)
		}
	}
	for _, f := range Features { // every feature needs a token
		if got := rep.FailedFor(f); len(got) != 1 || got[0].Endpoint != "oauth.token" {
			t.Errorf("%s: %+v", f, got)
		}
	}
	if calls := callsToday(pf.Server); calls["oauth.token"] != 1 || calls["members.list"] != 0 {
		t.Fatalf("calls: %v", calls)
	}
}

func TestTheQuotaOfTheDayIsSaidAndRespected(t *testing.T) {
	t.Parallel()
	pf := quirkyPlatform(t, sandbox.Config{DailyQuota: 1})
	one := 1
	m := openOn(t, pf, fixture.Store(t), map[string]jing.Override{"edm.mailboxes": {DailyQuota: &one}})
	ctx := context.Background()
	if _, err := m.VerifyAnswers(ctx); err != nil {
		t.Fatal(err)
	}
	// The console counted edm.mailboxes's one call of the day: the plan
	// says it will not be called again, and it is not.
	plan := m.PlanVerification(ctx)
	pr := plan.Reads[slices.Index(ReadOnlyEndpoints(), "edm.mailboxes")]
	if pr.Calls != 0 || pr.CallsToday != 1 || pr.DailyQuota != 1 {
		t.Fatalf("plan of edm.mailboxes: %+v", pr)
	}
	rep, err := m.VerifyAnswers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(rep, "edm.mailboxes"); r.Status != VerifyQuota {
		t.Fatalf("edm.mailboxes: %+v", r)
	}
	if pf.CallsToday("edm.mailboxes") != 1 {
		t.Fatal("edm.mailboxes was called beyond its quota")
	}
	// The sandbox's own quota (1 a day) refused the others: quota too.
	if r := resultOf(rep, "members.list"); r.Status != VerifyQuota {
		t.Fatalf("members.list: %+v", r)
	}
}

// BenchmarkLastVerification is what every page pays to know the last
// verification: "hit", from memory (within 5 s of the last read); "miss",
// the settings row read again and found unchanged; "changed", read and
// decoded (a report another process wrote).
func BenchmarkLastVerification(b *testing.B) {
	store, err := db.Open(context.Background(), b.TempDir()+"/jingdesk.db")
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	bx, err := secret.NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		b.Fatal(err)
	}
	m, err := Open(context.Background(), Config{Store: store, Box: bx, Logger: testkit.Quiet(),
		Sandbox: SandboxOptions{Seed: 1, Persons: 200, Leads: 40}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if _, err := m.VerifyAnswers(ctx); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"hit", "miss", "changed"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				switch mode {
				case "miss":
					m.reports.readAt = time.Time{}
				case "changed":
					m.reports.readAt, m.reports.raw = time.Time{}, ""
				}
				if _, found := m.LastVerification(ctx); !found {
					b.Fatal("no report")
				}
			}
		})
	}
}
