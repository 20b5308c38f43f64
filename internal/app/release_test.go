package app

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The release build's -ldflags stamps reach `jingdesk version`.
func TestVersionShowsTheStampedCommitAndDate(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a binary")
	}
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "jingdesk")
	ldflags := "-s -w -X main.version=v9.8.7-test -X main.commit=abc1234 -X main.date=2031-02-03T04:05:06Z"
	build := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, ".")
	build.Dir = strings.TrimSpace(string(root))
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("version: %v", err)
	}
	want := "jingdesk v9.8.7-test (commit abc1234, built 2031-02-03T04:05:06Z, " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if string(out) != want {
		t.Fatalf("version printed\n%q\nwant\n%q", out, want)
	}
}

var metricsURL = regexp.MustCompile(`metrics listening[^\n]*url\W+(http://[^"\s]+/metrics)`)

// --metrics-addr serves the exposition without sign-in on its own
// listener, while the console's /metrics still wants an administrator;
// the listener stops with the server.
func TestMetricsAddrServesTheExpositionWithoutSignIn(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	base, stderr, stop := startServe(t, "--data", dir, "--metrics-addr", "127.0.0.1:0")
	m := metricsURL.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no metrics URL logged:\n%s", stderr.String())
	}
	if resp, err := http.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	found := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		for _, name := range []string{`jingdesk_http_requests_total{route="/healthz",method="GET",code="200"} `, "jingdesk_build_info{version=\"test\"",
			"jingdesk_jobs{state=\"queued\"} ", "jingdesk_platform_calls_total{endpoint=", "go_goroutines "} {
			if strings.HasPrefix(line, name) {
				found[name] = true
			}
		}
	}
	if len(found) != 5 {
		t.Fatalf("metrics lack some series (found %v):\n%s", found, body)
	}
	// The console's own /metrics is not open: an anonymous visitor is sent to sign in.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous /metrics on the console: %d", resp.StatusCode)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(m[1]); err == nil {
		t.Fatal("the metrics listener still answers after the server stopped")
	}
}
