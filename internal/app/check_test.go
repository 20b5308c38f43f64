package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// checkLine is one endpoint's result as `jingdesk check` prints it.
type checkLine struct {
	mark, status, detail string
}

var checkResultLine = regexp.MustCompile(`^  ([✓✗!–]) (\S+)\s+(.+)$`)

// checkLines reads the printed report: endpoint → its line and the detail under it.
func checkLines(out string) map[string]checkLine {
	lines := map[string]checkLine{}
	report := out[strings.LastIndex(out, "Verified "):]
	last := ""
	for _, l := range strings.Split(report, "\n") {
		if m := checkResultLine.FindStringSubmatch(l); m != nil && strings.Contains(m[2], ".") {
			last = m[2]
			lines[last] = checkLine{mark: m[1], status: m[3]}
			continue
		}
		if strings.HasPrefix(l, "    ") && last != "" {
			cl := lines[last]
			cl.detail = strings.TrimSpace(l)
			lines[last] = cl
		}
	}
	return lines
}

// smsSendInDataDir makes the console of dir send an SMS on its embedded
// sandbox (saved in sandbox.json) and keep it in its ledger: what
// sms.send_detail reads back.
func smsSendInDataDir(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	d, err := openData(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pc, err := platformConfig(d, ServeConfig{SandboxSeed: 1}, testkit.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	pm, err := platform.Open(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close() // saves the sandbox's state
	client, conn := pm.Current()
	submitSMS(t, d.store, client, conn)
}

// submitSMS creates an SMS task on the platform of client (named conn, as
// the console names it) and keeps it in store's ledger as a submitted
// send, not yet finished: what sms.send_detail reads back and what the
// send follower asks after.
func submitSMS(t *testing.T, store *db.Store, client *jing.Client, conn string) {
	t.Helper()
	ctx := context.Background()
	msgs, err := client.ListSMS(ctx, jing.PageRequest{Page: 1, PerPage: 1})
	if err != nil || len(msgs.Items) == 0 {
		t.Fatalf("sms.list: %v", err)
	}
	in := jing.SMSTaskInput{SMSID: msgs.Items[0].SMSID, Name: "check fixture", Mobiles: []string{"13800138000"}}
	task, err := client.CreateSMSTask(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	u, err := store.CreateUser(ctx, db.NewUser{Username: "mia", PasswordHash: "x", Role: db.RoleMarketer})
	if err != nil {
		t.Fatal(err)
	}
	id, err := store.CreateSend(ctx, "check-fixture", u.ID, db.SendDraftInput{Channel: "sms", Connection: conn,
		Name: in.Name, SMSID: in.SMSID, Mobiles: in.Mobiles})
	if err == nil {
		err = store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendDraft}, To: db.SendSubmitted,
			Set: map[string]any{"platform_id": task}})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestCheckUnderstandsEveryReadOfTheDefaultSandboxAndLeavesItAsItWas(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	smsSendInDataDir(t, dir)
	state, _ := os.ReadFile(filepath.Join(dir, "sandbox.json"))
	ledger, _ := os.ReadFile(filepath.Join(dir, "sandbox.ledger.json"))
	if len(state) == 0 || len(ledger) == 0 {
		t.Fatal("the fixture left no sandbox state")
	}

	// The embedded sandbox spends no real quota: no question asked.
	out, errOut, err := runCLI(t, "", "check", "--data", dir, "--lang", "en")
	if err != nil {
		t.Fatalf("check: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "built-in sandbox") || !strings.Contains(out, "It makes 28 calls") ||
		!strings.Contains(out, "The console understands every answer it read.") {
		t.Fatalf("output:\n%s", out)
	}
	lines := checkLines(out)
	for _, key := range platform.ReadOnlyEndpoints() {
		if l := lines[key]; l.mark != "✓" || l.status != "Understood" {
			t.Errorf("%s: %+v", key, l)
		}
	}
	if len(lines) != len(platform.ReadOnlyEndpoints()) {
		t.Errorf("%d endpoints reported, want %d", len(lines), len(platform.ReadOnlyEndpoints()))
	}
	// The console of this data directory finds the report; the sandbox's
	// files (the running console's) are untouched.
	store := fixture.StoreAt(t, filepath.Join(dir, "jingdesk.db"))
	if raw, err := store.Setting(context.Background(), "platform.verify_report"); err != nil || !strings.Contains(raw, `"connection":"embedded sandbox"`) {
		t.Fatalf("report kept: %v %.200s", err, raw)
	}
	if entries, err := store.ListAudit(context.Background(), db.AuditFilter{Action: "platform.verify"}); err != nil || len(entries) != 1 ||
		entries[0].Username != "cli" {
		t.Fatalf("audit entries: %+v %v", entries, err)
	}
	if s, _ := os.ReadFile(filepath.Join(dir, "sandbox.json")); !bytes.Equal(s, state) {
		t.Error("check rewrote sandbox.json")
	}
	if l, _ := os.ReadFile(filepath.Join(dir, "sandbox.ledger.json")); !bytes.Equal(l, ledger) {
		t.Error("check rewrote sandbox.ledger.json")
	}

	// An app_id without a secret leaves the console on the sandbox: the check says so.
	out, _, err = runCLI(t, "", "check", "--data", dir, "--lang", "en", "--jing-app-id", "half-configured")
	if err != nil || !strings.Contains(out, "settings are incomplete") || !strings.Contains(out, "built-in sandbox") {
		t.Fatalf("half configured: %v\n%s", err, out)
	}

	// Chinese unless told otherwise.
	out, _, err = runCLI(t, "", "check", "--data", dir, "--lang", "zh-CN")
	if err != nil || !strings.Contains(out, "控制台能理解读取到的每一个答复") {
		t.Fatalf("in Chinese: %v\n%s", err, out)
	}
}

// checkPlatform runs a sandbox standing in for a real platform, with quirks.
func checkPlatform(t *testing.T, flags ...string) *sandbox.Running {
	t.Helper()
	qs := sandbox.Quirks{}
	for _, f := range flags {
		if err := qs.Set(f); err != nil {
			t.Fatal(err)
		}
	}
	return fixture.Sandbox(t, sandbox.Config{AppID: "app-c", AppSecret: "secret-c", Seed: 4, Persons: 300, Leads: 60, Quirks: qs})
}

func writesCalled(sb *sandbox.Running) []string {
	var out []string
	for _, e := range jing.DefaultCatalog().All() {
		if e.Write && sb.CallsToday(e.Key) > 0 {
			out = append(out, e.Key)
		}
	}
	return out
}

func TestCheckNamesTheEndpointAndTheProblemUnderEachQuirk(t *testing.T) {
	t.Parallel()
	env := envMap("JINGDESK_JING_APP_SECRET", "secret-c")
	lists := []string{"members.list", "leads.list", "crowds.list", "sms.list", "edm.list"}
	for _, c := range []struct {
		quirks []string
		fails  bool
		// want: endpoint → status and a piece of its detail.
		want map[string][2]string
	}{
		// Quirks on every endpoint reach the token first: nothing else is called.
		{quirks: []string{"no-code"}, fails: true,
			want: map[string][2]string{"oauth.token": {"Answer not understood", "has no code"}, "leads.list": {"Skipped", "no access token"}}},
		{quirks: []string{"empty-answer"}, fails: true,
			want: map[string][2]string{"oauth.token": {"Answer not understood", "oauth.token"}}},
		{quirks: []string{"string-code"}, fails: true,
			want: map[string][2]string{"oauth.token": {"Answer not understood", "code the console does not recognise"}}},
		{quirks: []string{"items-renamed"}, fails: true,
			want: map[string][2]string{"crowds.list": {"Answer not understood", "lacks the field items"},
				"objects.business_types": {"Answer not understood", "lacks the field items"},
				"edm.mailboxes":          {"Answer not understood", "lacks the field items"},
				"crowds.detail":          {"Skipped", "crowds.list, which failed"},
				"users.query":            {"Skipped", "leads.list, which failed"}}},
		// Quirks on one endpoint name it, and what it was not.
		{quirks: []string{"html-404=leads.list"}, fails: true,
			want: map[string][2]string{"leads.list": {"Path not found", "HTTP 404"}, "leads.query": {"Skipped", "leads.list"}}},
		{quirks: []string{"json-404=crowds.users"}, fails: true,
			want: map[string][2]string{"crowds.users": {"Path not found", "(HTTP 404)"}, "crowds.list": {"Understood", ""}}},
		{quirks: []string{"no-code=members.list", "string-code=crowds.detail", "empty-answer=edm.detail"}, fails: true,
			want: map[string][2]string{"members.list": {"Answer not understood", "has no code"},
				"crowds.detail": {"Answer not understood", "code the console does not recognise"},
				"edm.detail":    {"Answer not understood", "edm.detail"}}},
		{quirks: []string{"items-renamed=privacy.status"}, fails: true,
			want: map[string][2]string{"privacy.status": {"Answer not understood", "items"}}},
		// Lists without _meta are understood (paged by length): a note, not a failure.
		{quirks: []string{"no-meta"},
			want: map[string][2]string{"leads.list": {"Understood", "without _meta"}, "crowds.users": {"Understood", "without _meta"}}},
		// A 404 page for paths outside the catalog, a users.create without
		// uuids and webhook bodies as objects are nothing a read meets: the
		// console copes with them (web/quirks_test.go).
		{quirks: []string{"html-404"}, want: map[string][2]string{"leads.list": {"Understood", ""}}},
		{quirks: []string{"json-404"}, want: map[string][2]string{"crowds.list": {"Understood", ""}}},
		{quirks: []string{"no-user-uuid"}, want: map[string][2]string{"users.query": {"Understood", ""}}},
		{quirks: []string{"webhook-objects"}, want: map[string][2]string{"leads.query": {"Understood", ""}}},
	} {
		name := strings.Join(c.quirks, "+")
		sb := checkPlatform(t, c.quirks...)
		dir := filepath.Join(t.TempDir(), "data")
		out, errOut, err := runCLIEnv(t, env, "", "check", "--data", dir, "--lang", "en", "--yes",
			"--jing-base-url", sb.URL, "--jing-app-id", "app-c")
		if (err != nil) != c.fails {
			t.Errorf("%s: error %v, want failure %v\n%s\n%s", name, err, c.fails, out, errOut)
			continue
		}
		if c.fails && !strings.Contains(err.Error(), "Endpoints with problems") {
			t.Errorf("%s: %v", name, err)
		}
		lines := checkLines(out)
		for key, want := range c.want {
			got := lines[key]
			if got.status != want[0] || !strings.Contains(got.detail, want[1]) {
				t.Errorf("%s: %s: %q / %q, want %q / …%q…", name, key, got.status, got.detail, want[0], want[1])
			}
			if want[0] == "Answer not understood" || want[0] == "Path not found" {
				if got.mark != "✗" || !strings.Contains(got.detail, key) {
					t.Errorf("%s: %s: the problem does not name the endpoint: %+v", name, key, got)
				}
			}
		}
		if name == "no-meta" {
			for _, key := range lists {
				if lines[key].mark != "!" {
					t.Errorf("no-meta: %s not marked: %+v", key, lines[key])
				}
			}
			if _, _, err := runCLIEnv(t, env, "", "check", "--data", dir, "--yes", "--strict", "--jing-base-url", sb.URL, "--jing-app-id", "app-c"); err == nil {
				t.Error("no-meta --strict: no failure")
			}
		}
		if w := writesCalled(sb); len(w) > 0 {
			t.Errorf("%s: writes called: %v", name, w)
		}
	}
}

func TestCheckAsksBeforeSpendingAPlatformsQuota(t *testing.T) {
	t.Parallel()
	env := envMap("JINGDESK_JING_APP_SECRET", "secret-c")
	sb := checkPlatform(t)
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"check", "--data", dir, "--lang", "en", "--jing-base-url", sb.URL, "--jing-app-id", "app-c"}
	for _, answer := range []string{"", "n\n", "whatever\n"} {
		out, _, err := runCLIEnv(t, env, answer, args...)
		if !errors.Is(err, errNotConfirmed) || !strings.Contains(out, "Make these calls? [y/N]") ||
			!strings.Contains(out, "Nothing was called") || !strings.Contains(out, "members.list           1 call · today 0 of 10,000") {
			t.Fatalf("answer %q: %v\n%s", answer, err, out)
		}
	}
	for _, e := range jing.DefaultCatalog().All() {
		if n := sb.CallsToday(e.Key); n > 0 {
			t.Fatalf("%s called %d times without a yes", e.Key, n)
		}
	}
	out, _, err := runCLIEnv(t, env, "y\n", args...)
	if err != nil || sb.CallsToday("members.list") != 1 {
		t.Fatalf("with a yes: %v, %d calls\n%s", err, sb.CallsToday("members.list"), out)
	}
	// The next plan counts what this one spent (the console's own count).
	out, _, _ = runCLIEnv(t, env, "", args...)
	if !strings.Contains(out, "members.list           1 call · today 1 of 10,000") {
		t.Fatalf("the second plan:\n%s", out)
	}
}

func TestCheckRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"check", "--lang", "fr"},
		{"check", "extra"},
		{"check", "--no-such-flag"},
	} {
		if _, _, err := runCLI(t, "", args...); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
