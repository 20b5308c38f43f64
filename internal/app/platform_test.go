package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// sandboxMarked reports whether the sign-in page's foot says "沙箱平台"
// (Sandbox platform), as it does in sandbox mode.
func sandboxMarked(page string) bool {
	text, ok := testkit.TestIDText(page, "bare-sandbox")
	return ok && text == "沙箱平台"
}

func TestServeWithoutCredentialsRunsTheEmbeddedSandbox(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	base, stderr, stop := startServe(t, "--data", dir)
	if !sandboxMarked(getBody(t, base+"/login")) {
		t.Fatal("the sign-in page is not marked as sandbox")
	}
	m := regexp.MustCompile(`using the embedded sandbox"[^\n]* url=(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("the embedded sandbox's address is not logged:\n%s", stderr.String())
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(m[1]); err == nil {
		t.Fatal("the embedded sandbox still listens after shutdown")
	}
	// Nothing changed the demo tenant: it is reseeded next time, not saved.
	// (Saving changes across restarts is tested in the sandbox package.)
	if _, err := os.Stat(filepath.Join(dir, "sandbox.json")); !os.IsNotExist(err) {
		t.Fatalf("an unchanged sandbox tenant was written: %v", err)
	}
}

func TestServeWithCredentialsConnectsToThePlatform(t *testing.T) {
	t.Parallel()
	pf := fixture.Sandbox(t, sandbox.Config{AppID: "flag-app", AppSecret: "env-secret", Persons: 100, Leads: 20})
	base, stderr, stop := startServeEnv(t, envMap("JINGDESK_JING_APP_SECRET", "env-secret"),
		"--data", t.TempDir(), "--jing-base-url", pf.URL, "--jing-app-id", "flag-app")
	if sandboxMarked(getBody(t, base+"/login")) {
		t.Fatal("the sign-in page says sandbox although credentials were given")
	}
	stop()
	logs := stderr.String()
	if !strings.Contains(logs, "base_url="+pf.URL) || strings.Contains(logs, "env-secret") {
		t.Fatalf("the connection is not logged, or the secret is:\n%s", logs)
	}
}

func TestServeRefusesAnInvalidCatalog(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`{"leads.nope": {"path": "/v1/x"}}`:         `unknown endpoint "leads.nope"`,
		`{"leads.update": {"path": "v1/x"}}`:        `line 1: leads.update: path "v1/x" must start with /`,
		`{"leads.update": {"daily_quota": 0}}`:      "daily_quota must be positive",
		`{"leads.update": {"path": "/v1/x"},,}`:     "not valid JSON",
		`{"users.identity_batch": {"disabled": 1}}`: `"disabled" must be true or false`,
		`{"leads.update": {"paht": "/v1/x"}}`:       `leads.update: unknown field "paht"`,
		`{"crowds.import": {"max_batch": 0}}`:       "crowds.import: max_batch must be between 1 and",
		`{"crowds.update": {"method": "FETCH"}}`:    `crowds.update: method "FETCH"`,
	}
	for body, want := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "catalog.json"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data", dir)
		if err == nil || !strings.Contains(err.Error(), "catalog.json") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming catalog.json and %q", body, err, want)
		}
	}
}

func TestServeRefusesABadBaseURL(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	_, _, err := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data", dir, "--jing-base-url", "jingopenapi.jingsocial.com")
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "-jing-base-url: must be an http:// or https:// address") {
		t.Fatalf("bad base URL: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("the data directory was created before the flags were checked")
	}
}

func TestServeAppliesAValidCatalog(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "catalog.json"), []byte(`{"leads.update": {"path": "/v1/leads/modify"},
		"users.identity_batch": {"disabled": true}, "users.create": {"rate_per_second": 5, "daily_quota": 20000, "max_batch": 50}}`), 0o600)
	_, stderr, stop := startServe(t, "--data", dir)
	stop()
	if !strings.Contains(stderr.String(), "endpoint catalog overrides loaded") || !strings.Contains(stderr.String(), "entries=3") {
		t.Fatalf("the overrides were not reported:\n%s", stderr.String())
	}
}

var sandboxURL = regexp.MustCompile(`URL:\s+(http://127\.0\.0\.1:\d+)`)

// sandboxCommand runs `jingdesk sandbox args…` until stop, which checks
// that it stopped cleanly; url is where it listens.
func runSandboxCommand(t *testing.T, args ...string) (url string, stdout *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append([]string{"sandbox", "--addr", "127.0.0.1:0"}, args...),
			IO{Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr}, Build{Version: "test"})
	}()
	t.Cleanup(cancel)
	url = awaitOutput(t, "the sandbox to listen", stdout, sandboxURL, done)
	return url, stdout, func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("sandbox stop: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("sandbox did not stop")
		}
		if !strings.Contains(stderr.String(), "msg=stopped") {
			t.Fatalf("no clean stop logged:\n%s", stderr.String())
		}
	}
}

func TestSandboxCommandServesThePlatformAPI(t *testing.T) {
	t.Parallel()
	url, stdout, stop := runSandboxCommand(t, "--persons", "300", "--leads", "80", "--app-id", "demo", "--app-secret", "demo-secret")
	if out := stdout.String(); !strings.Contains(out, "app_id:     demo") || !strings.Contains(out, "app_secret: demo-secret") {
		t.Fatalf("credentials not printed:\n%s", out)
	}
	client, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: url, AppID: "demo", AppSecret: "demo-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	var page jing.Page[json.RawMessage]
	if err := client.Call(context.Background(), "members.list", jing.PageRequest{Page: 1, PerPage: 3}, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Meta.TotalCount < 3 || client.Renewals() != 1 {
		t.Fatalf("members.list: %d items of %d, %d token renewals", len(page.Items), page.Meta.TotalCount, client.Renewals())
	}
	stop()
}

func TestSandboxCommandAnswersWithQuirks(t *testing.T) {
	t.Parallel()
	url, _, stop := runSandboxCommand(t, "--persons", "300", "--leads", "80", "--quirk", "no-meta", "--quirk", "json-404=leads.update")
	client, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: url, AppID: "sandbox", AppSecret: "sandbox"}})
	if err != nil {
		t.Fatal(err)
	}
	var page jing.Page[json.RawMessage]
	if err := client.Call(context.Background(), "members.list", jing.PageRequest{Page: 1, PerPage: 3}, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Meta.Known() {
		t.Fatalf("members.list under no-meta: %d items, meta %+v", len(page.Items), page.Meta)
	}
	err = client.UpdateLead(context.Background(), "x", jing.LeadInput{LeadFields: jing.LeadFields{Name: "王芳"}})
	if e, ok := jing.AsError(err); !ok || e.Kind != jing.KindInvalidPath || e.HTTPStatus != 404 {
		t.Fatalf("leads.update under json-404: %v", err)
	}
	stop()
}

func TestSandboxCommandRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"sandbox", "--error-rate", "1.5"},
		{"sandbox", "--drop-rate", "-0.1"},
		{"sandbox", "--persons", "0"},
		{"sandbox", "--app-secret", ""},
		{"sandbox", "--quirk", "no-such-quirk"},
		{"sandbox", "--quirk", "no-meta=leads.lst"},
		{"sandbox", "--deny", "leads.list,leads.nope"},
	} {
		if _, _, err := runCLI(t, "", args...); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	if _, errOut, err := runCLI(t, "", "sandbox", "-h"); err != nil || !strings.Contains(errOut, "-platform-changes-per-minute") ||
		!strings.Contains(errOut, "-deny-ip") || !strings.Contains(errOut, "-quirk") {
		t.Fatalf("sandbox -h: %v %q", err, errOut)
	}
	if out, _, _ := runCLI(t, "", "help"); !strings.Contains(out, "jingdesk sandbox") {
		t.Fatal("the usage text does not list the sandbox command")
	}
}
