package app

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// envMap is an environment for IO.LookupEnv: tests that use it need no
// t.Setenv, so they run in parallel.
func envMap(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// parseServeWith parses serve's configuration from args and env alone.
func parseServeWith(env func(string) (string, bool), args ...string) (ServeConfig, string, error) {
	var stderr bytes.Buffer
	c, err := parseServe(args, IO{Stdout: &stderr, Stderr: &stderr, LookupEnv: env})
	return c, stderr.String(), err
}

func TestEveryServeFlagHasItsVariableAndItsReadmeRow(t *testing.T) {
	t.Parallel()
	var c ServeConfig
	settings := serveSettings(&c)
	for _, s := range settings {
		want := "JINGDESK_" + strings.ToUpper(strings.ReplaceAll(s.flag, "-", "_"))
		switch {
		case s.flag == "" && !s.secret:
			t.Errorf("%s has no flag, yet is no secret", s.env)
		case s.flag != "" && s.env != want:
			t.Errorf("--%s: variable %q, want %q", s.flag, s.env, want)
		}
	}

	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := configurationRows(t, string(readme))
	if len(rows) != len(settings) {
		t.Errorf("README's Configuration table has %d rows, serve has %d settings", len(rows), len(settings))
	}
	for i, s := range settings {
		want := [3]string{"(none)", "`" + s.env + "`", "(none)"}
		if s.flag != "" {
			want[0] = "`--" + s.flag + "`"
		}
		if s.def != "" {
			want[2] = "`" + s.def + "`"
		}
		if i >= len(rows) || rows[i] != want {
			got := [3]string{}
			if i < len(rows) {
				got = rows[i]
			}
			t.Errorf("README row %d: %q, want %q (flag, variable, default; in the order of serveSettings)", i+1, got, want)
		}
	}
}

// configurationRows are the flag, variable and default cells of the
// table under README's "## Configuration".
func configurationRows(t *testing.T, readme string) [][3]string {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Configuration\n")
	if !ok {
		t.Fatal("README has no Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var rows [][3]string
	inTable := false
	for line := range strings.Lines(section) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break // the first table only
			}
			continue
		}
		inTable = true
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) < 4 || strings.HasPrefix(cells[0], " Flag") || strings.HasPrefix(cells[0], " ---") {
			continue
		}
		rows = append(rows, [3]string{strings.TrimSpace(cells[0]), strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])})
	}
	return rows
}

var flagRefusal = regexp.MustCompile(`invalid (?:boolean )?value "[^"]*" for (?:flag )?-([a-z-]+): (.*) \("jingdesk serve -h" lists the flags\)$`)

// A variable that does not read is refused with its name, its value and
// the very reason the same value is refused as a flag; before, such
// values silently became the default.
func TestBadEnvironmentValuesAreRefusedAsTheirFlagsAre(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ flag, value string }{
		{"import-max-mb", "abc"},
		{"import-max-mb", "0"},
		{"lead-sync-every", "5"},
		{"lead-sync-every", "5s"},
		{"refdata-ttl", "30s"},
		{"score-refresh-every", "-1h"},
		{"idle-timeout", "soon"},
		{"shutdown-timeout", "0"},
		{"behind-proxy", "yes"},
		{"log-level", "loud"},
		{"log-format", "xml"},
		{"timezone", "Mars/Olympus_Mons"},
		{"addr", "8080"},
		{"metrics-addr", "localhost"},
		{"public-url", "console.example.com"},
		{"jing-base-url", "ftp://jing"},
		{"sandbox-seed", "one"},
		{"sandbox-changes-per-minute", "-1"},
	} {
		name := envName(tc.flag)
		_, _, flagErr := parseServeWith(envMap(), "--"+tc.flag+"="+tc.value)
		m := flagRefusal.FindStringSubmatch(fmt.Sprint(flagErr))
		if !errors.Is(flagErr, ErrUsage) || m == nil || m[1] != tc.flag {
			t.Errorf("--%s=%s: %v", tc.flag, tc.value, flagErr)
			continue
		}
		_, _, err := parseServeWith(envMap(name, tc.value))
		want := `invalid value "` + tc.value + `" for environment variable ` + name + ": " + m[2]
		if err == nil || err.Error() != want {
			t.Errorf("%s=%s:\n got %v\nwant %s", name, tc.value, err, want)
		}
	}
}

func envName(flag string) string {
	return "JINGDESK_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func TestEveryBadVariableIsReportedAtOnceEvenUnderAFlag(t *testing.T) {
	t.Parallel()
	env := envMap("JINGDESK_IMPORT_MAX_MB", "abc", "JINGDESK_LEAD_SYNC_EVERY", "5", "JINGDESK_ADDR", "127.0.0.1:0")
	_, _, err := parseServeWith(env, "--lead-sync-every", "1m")
	if err == nil || !strings.Contains(err.Error(), "JINGDESK_IMPORT_MAX_MB") || !strings.Contains(err.Error(), "JINGDESK_LEAD_SYNC_EVERY") {
		t.Fatalf("both variables named: %v", err)
	}
}

func TestAFlagBeatsItsVariableAndAVariableBeatsTheDefault(t *testing.T) {
	t.Parallel()
	env := envMap("JINGDESK_LEAD_SYNC_EVERY", "1m", "JINGDESK_IMPORT_MAX_MB", "7", "JINGDESK_SCORE_REFRESH_EVERY", "0",
		"JINGDESK_BEHIND_PROXY", "true", "JINGDESK_LOG_LEVEL", "", "JINGDESK_TIMEZONE", "UTC", "JINGDESK_SHUTDOWN_TIMEOUT", "3s")
	c, out, err := parseServeWith(env, "--lead-sync-every", "2m", "--behind-proxy=false")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := ServeConfig{LeadSyncEvery: 2 * time.Minute, ImportMaxMB: 7, ScoreRefreshEvery: 0, BehindProxy: false, ShutdownTimeout: 3 * time.Second}
	got := ServeConfig{LeadSyncEvery: c.LeadSyncEvery, ImportMaxMB: c.ImportMaxMB, ScoreRefreshEvery: c.ScoreRefreshEvery,
		BehindProxy: c.BehindProxy, ShutdownTimeout: c.ShutdownTimeout}
	if got != want || c.TimeZone.String() != "UTC" || c.LogLevel.String() != "INFO" {
		t.Fatalf("got %+v (zone %v, level %v), want %+v, zone UTC and the default level (an empty variable is unset)", got, c.TimeZone, c.LogLevel, want)
	}
	if c, _, _ := parseServeWith(envMap("JINGDESK_BEHIND_PROXY", "1")); !c.BehindProxy {
		t.Fatal("JINGDESK_BEHIND_PROXY=1 ignored")
	}
}

func TestTheDefaultsAreTheDocumentedOnes(t *testing.T) {
	t.Parallel()
	c, out, err := parseServeWith(envMap())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if c.Addr != "127.0.0.1:8080" || c.Data != "./jingdesk-data" || c.ImportMaxMB != 100 || c.LeadSyncEvery != 5*time.Minute ||
		c.RefdataTTL != 6*time.Hour || c.ScoreRefreshEvery != 24*time.Hour || c.ShutdownTimeout != 20*time.Second ||
		c.SandboxChangesPerMinute != 1 || c.TimeZone.String() != "Asia/Shanghai" || c.LogFormat != "text" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestTheTLSFilesGoTogetherAndMustLoad(t *testing.T) {
	t.Parallel()
	if _, _, err := parseServeWith(envMap(), "--tls-cert", "x.pem"); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("--tls-cert alone: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	if _, _, err := parseServeWith(envMap("JINGDESK_TLS_KEY", missing), "--tls-cert", missing); err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Fatalf("files that do not exist: %v", err)
	}
}

func TestTheSecretIsNeverRepeated(t *testing.T) {
	t.Parallel()
	s := setting{env: "JINGDESK_JING_APP_SECRET", secret: true}
	if err := s.refuse("environment variable "+s.env, "hunter2", errors.New("bad")); strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("secret in a message: %v", err)
	}
}
