package jing_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
)

// loadCatalogFile writes body as a catalog file and loads it.
func loadCatalogFile(t *testing.T, body string) (jing.Catalog, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := jing.LoadCatalog(path)
	return cat, path, err
}

// Every mistake in catalog.json stops loading with the file, the line,
// the entry and the field named; nothing is ignored.
func TestCatalogFileMistakesAreNamed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		want       []string // all in the error
	}{
		{"unknown endpoint", `{"leads.updte": {"path": "/v1/x"}}`,
			[]string{`unknown endpoint "leads.updte"`, `did you mean "leads.update"`}},
		{"unknown field", "{\n  \"leads.update\": {\n    \"paht\": \"/v1/x\"\n  }\n}",
			[]string{"line 3", `leads.update: unknown field "paht"`, `did you mean "path"`}},
		{"disable for disabled", `{"users.identity_batch": {"disable": true}}`,
			[]string{`users.identity_batch: unknown field "disable"`, `did you mean "disabled"`}},
		{"a field the catalog does not let change", `{"leads.update": {"write": false}}`,
			[]string{`unknown field "write"`, "an entry may set path, method, rate_per_second, daily_quota, max_batch, disabled"}},
		{"an entry that is not an object", `{"leads.update": "/v1/x"}`,
			[]string{`the entry "leads.update" must be a JSON object`}},
		{"a file that is not an object", `[{"leads.update": {}}]`,
			[]string{"the catalog file must be a JSON object", "a list"}},
		{"not JSON", `{"leads.update": {"path": "/v1/x"},,}`, []string{"line 1", "not valid JSON"}},
		{"cut short", `{"leads.update": {"path": "/v1/x"}`, []string{"not valid JSON"}},
		{"something after the object", `{} {}`, []string{"after the catalog object"}},
		{"a repeated endpoint", `{"leads.update": {"path": "/v1/a"}, "leads.update": {"path": "/v1/b"}}`,
			[]string{`endpoint "leads.update" appears twice`}},
		{"a repeated field", `{"leads.update": {"path": "/v1/a", "path": "/v1/b"}}`,
			[]string{`leads.update: field "path" appears twice`}},
		{"null", `{"leads.update": {"path": null}}`, []string{`"path" is null`}},
		{"a path without /", `{"leads.update": {"path": "v1/x"}}`, []string{"leads.update: path", "must start with /"}},
		{"a full URL", `{"leads.update": {"path": "https://example.com/v1/x"}}`, []string{"must start with /"}},
		{"another host", `{"leads.update": {"path": "//evil.example/v1/x"}}`, []string{"not another host"}},
		{"a space in a path", `{"leads.update": {"path": "/v1/leads update"}}`, []string{"spaces"}},
		{"a path of the wrong type", `{"leads.update": {"path": 5}}`, []string{`"path" must be text`}},
		{"an unknown method", `{"crowds.update": {"method": "FETCH"}}`,
			[]string{`crowds.update: method "FETCH" must be one of GET, POST, PUT, PATCH, DELETE`}},
		{"a lower-case method", `{"crowds.update": {"method": "put"}}`, []string{`method "put"`, "upper case"}},
		{"max_batch 0", `{"crowds.import": {"max_batch": 0}}`, []string{"crowds.import: max_batch must be between 1 and 10000, not 0"}},
		{"max_batch negative", `{"crowds.import": {"max_batch": -5}}`, []string{"max_batch must be between 1 and 10000"}},
		{"max_batch too large", `{"crowds.import": {"max_batch": 1000000}}`, []string{"max_batch must be between 1 and 10000, not 1000000"}},
		{"max_batch not whole", `{"crowds.import": {"max_batch": 1.5}}`, []string{`"max_batch" must be a whole number, not 1.5`}},
		{"max_batch as text", `{"crowds.import": {"max_batch": "100"}}`, []string{`"max_batch" must be a whole number, not "100"`}},
		{"max_batch on a single call", `{"leads.create": {"max_batch": 100}}`, []string{"max_batch does not apply: leads.create is not a batch call"}},
		{"rate 0", `{"leads.update": {"rate_per_second": 0}}`, []string{"leads.update: rate_per_second must be positive"}},
		{"rate negative", `{"leads.update": {"rate_per_second": -1}}`, []string{"rate_per_second must be positive"}},
		{"quota 0", `{"leads.update": {"daily_quota": 0}}`, []string{"leads.update: daily_quota must be positive"}},
		{"quota negative", `{"leads.update": {"daily_quota": -10}}`, []string{"daily_quota must be positive"}},
		{"quota beyond any integer", `{"leads.update": {"daily_quota": 1e30}}`, []string{`"daily_quota" must be a whole number`}},
		{"disabled as a number", `{"users.identity_batch": {"disabled": 1}}`, []string{`"disabled" must be true or false, not 1`}},
		{"no tokens at all", `{"oauth.token": {"disabled": true}}`, []string{"oauth.token: disabled cannot be true"}},
		{"two endpoints on one route", `{"members.list": {"path": "/v2/crowd/static/list"}}`,
			[]string{"crowds.list and members.list are both POST /v2/crowd/static/list"}},
		{"a method that lands on another route", `{"crowds.create": {"method": "PUT", "path": "/v2/crowd/static/update"}}`,
			[]string{"are both PUT /v2/crowd/static/update"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cat, path, err := loadCatalogFile(t, tc.body)
			if err == nil {
				t.Fatalf("%s loaded: %v", tc.body, cat.All()[0])
			}
			msg := err.Error()
			for _, w := range append(tc.want, path) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
		})
	}
}

// Several mistakes are reported together, so one round of corrections fixes the file.
func TestCatalogFileReportsEveryMistakeAtOnce(t *testing.T) {
	t.Parallel()
	_, _, err := loadCatalogFile(t, `{
  "leads.update": {"paht": "/v1/x", "rate_per_second": 0},
  "crowds.import": {"max_batch": 0},
  "leads.nope": {}
}`)
	if err == nil {
		t.Fatal("loaded")
	}
	for _, w := range []string{`line 2: leads.update: unknown field "paht"`, "leads.update: rate_per_second must be positive",
		"crowds.import: max_batch must be between", `unknown endpoint "leads.nope"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\nlacks %q", err, w)
		}
	}
}

func TestAValidCatalogFileChangesOnlyWhatItNames(t *testing.T) {
	t.Parallel()
	cat, _, err := loadCatalogFile(t, `{
  "leads.update": {"path": "/v1/leads/modify", "method": "PUT"},
  "users.identity_batch": {"disabled": true},
  "users.create": {"rate_per_second": 2.5, "daily_quota": 20000, "max_batch": 50, "path": "/v1/user/create?returnFull=false"}
}`)
	if err != nil {
		t.Fatal(err)
	}
	def := jing.DefaultCatalog()
	for _, e := range cat.All() {
		d, _ := def.Get(e.Key)
		switch e.Key {
		case "leads.update":
			if e.Path != "/v1/leads/modify" || e.Method != http.MethodPut || e.RatePerSecond != d.RatePerSecond {
				t.Errorf("leads.update: %+v", e)
			}
		case "users.identity_batch":
			if !e.Disabled || e.Path != d.Path {
				t.Errorf("users.identity_batch: %+v", e)
			}
		case "users.create":
			if e.RatePerSecond != 2.5 || e.DailyQuota != 20000 || e.MaxBatch != 50 || !e.Write {
				t.Errorf("users.create: %+v", e)
			}
		default:
			if e != d {
				t.Errorf("%s changed: %+v", e.Key, e)
			}
		}
	}
	if _, _, err := loadCatalogFile(t, `{}`); err != nil {
		t.Errorf("an empty catalog file: %v", err)
	}
	if _, err := jing.LoadCatalog(filepath.Join(t.TempDir(), "none.json")); err != nil {
		t.Errorf("no file: %v", err)
	}
}

// A method override moves the endpoint on the client and the sandbox
// alike: the call still works, and the old method is no longer served.
func TestAMethodOverrideKeepsClientAndSandboxTogether(t *testing.T) {
	t.Parallel()
	put := http.MethodPut
	cat, err := jing.DefaultCatalog().ApplyOverrides(map[string]jing.Override{"members.list": {Method: &put}})
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(sc *sandbox.Config, cc *jing.Config) { sc.Catalog, cc.Catalog = cat, cat })
	if p, err := listMembers(context.Background(), r.client); err != nil || len(p.Items) != 5 {
		t.Fatalf("members.list over PUT: %d items, %v", len(p.Items), err)
	}
	// A console still on the built-in catalog (POST) is told the method does not exist.
	stale, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: r.baseURL, AppID: "sandbox", AppSecret: "sandbox"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = listMembers(context.Background(), stale)
	if !jing.IsKind(err, jing.KindInvalidPath) {
		t.Fatalf("members.list over POST against a PUT catalog: %v", err)
	}
}

// A platform without the refresh call: with oauth.refresh disabled every
// renewal asks for a new pair, and the disabled entry is never called.
func TestADisabledRefreshRenewsWithANewPair(t *testing.T) {
	t.Parallel()
	off := true
	cat, err := jing.DefaultCatalog().ApplyOverrides(map[string]jing.Override{"oauth.refresh": {Disabled: &off}})
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(sc *sandbox.Config, cc *jing.Config) { cc.Catalog = cat })
	ctx := context.Background()
	if _, err := listMembers(ctx, r.client); err != nil {
		t.Fatal(err)
	}
	r.sb.ExpireAccessTokens()
	if _, err := listMembers(ctx, r.client); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := r.calls.count("/v1/oauth2/token/refresh"); n != 0 {
		t.Fatalf("the disabled refresh was called %d times", n)
	}
	if n := r.calls.count("/v1/oauth2/token"); n != 2 {
		t.Fatalf("%d new pairs, want 2", n)
	}
}
