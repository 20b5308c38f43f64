package web

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// expositionLine is one sample of the text format: name{labels} value.
var (
	expositionLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$`)
	expositionMeta = regexp.MustCompile(`^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$`)
)

// parseExposition checks every line of the exposition and returns each
// sample's value by its "name{labels}" (labels exactly as written).
func parseExposition(t *testing.T, body string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	types := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(body))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			if !expositionMeta.MatchString(line) {
				t.Fatalf("line %d is not a HELP or TYPE comment: %q", n, line)
			}
			if f := strings.Fields(line); f[1] == "TYPE" {
				if types[f[2]] != "" {
					t.Fatalf("line %d: %s declared twice", n, f[2])
				}
				types[f[2]] = f[3]
			}
			continue
		}
		m := expositionLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %d is not name{labels} value: %q", n, line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("line %d: value %q: %v", n, m[3], err)
		}
		family := m[1]
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if types[strings.TrimSuffix(family, suf)] == "histogram" {
				family = strings.TrimSuffix(family, suf)
			}
		}
		if types[family] == "" {
			t.Fatalf("line %d: %s has no TYPE before it", n, m[1])
		}
		key := m[1] + m[2]
		if _, dup := out[key]; dup {
			t.Fatalf("line %d: %s twice", n, key)
		}
		out[key] = v
	}
	if n < 20 {
		t.Fatalf("only %d lines:\n%s", n, body)
	}
	return out
}

func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t, withPlatform(t, nil))
	for _, id := range []string{"1", "2", "3"} {
		admin.get("/jobs/" + id) // three ids, one route
	}
	admin.get("/no/such/page/" + strconv.Itoa(42))
	rec := admin.get("/metrics")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	m := parseExposition(t, rec.Body.String())
	if got := m[`jingdesk_http_requests_total{route="/jobs/:id",method="GET",code="404"}`]; got != 3 {
		t.Errorf("GET /jobs/:id 404 counted %v times, want 3", got)
	}
	if strings.Contains(rec.Body.String(), `route="/jobs/1"`) || strings.Contains(rec.Body.String(), "/no/such") {
		t.Error("a raw path became a label")
	}
	if got := m[`jingdesk_http_requests_total{route="unmatched",method="GET",code="404"}`]; got != 1 {
		t.Errorf("unmatched requests: %v, want 1", got)
	}
	if got := m[`jingdesk_http_requests_total{route="/login",method="POST",code="303"}`]; got != 1 {
		t.Errorf("the sign-in: %v, want 1", got)
	}
	// The histogram: cumulative buckets ending in +Inf = count.
	count := m[`jingdesk_http_request_duration_seconds_count{route="/jobs/:id"}`]
	if count != 3 || m[`jingdesk_http_request_duration_seconds_bucket{route="/jobs/:id",le="+Inf"}`] != count {
		t.Errorf("latency histogram of /jobs/:id: count %v, +Inf %v", count, m[`jingdesk_http_request_duration_seconds_bucket{route="/jobs/:id",le="+Inf"}`])
	}
	prev := 0.0
	for _, le := range durationBuckets {
		v := m[`jingdesk_http_request_duration_seconds_bucket{route="/jobs/:id",le="`+formatFloat(le)+`"}`]
		if v < prev {
			t.Fatalf("bucket le=%v (%v) below the one before (%v)", le, v, prev)
		}
		prev = v
	}
	// The next scrape counts this one.
	m = parseExposition(t, admin.get("/metrics").Body.String())
	if got := m[`jingdesk_http_requests_total{route="/metrics",method="GET",code="200"}`]; got != 1 {
		t.Errorf("the first scrape counted %v times", got)
	}
	_ = h
}

func TestMetricsShowPlatformCallsJobsAndWebhooks(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t, withPlatform(t, nil))
	before := parseExposition(t, admin.get("/metrics").Body.String())
	ctx := context.Background()
	for range 2 {
		if err := h.srv.Platform.Client().Call(ctx, "members.list", jing.PageRequest{Page: 1, PerPage: 1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	h.srv.Platform.Client().Call(ctx, "leads.create", map[string]string{}, nil) // refused: an error
	root, _ := h.store.UserByName(ctx, "root")
	h.addJob(root, "Queued one", db.JobQueued)
	h.addJob(root, "Queued two", db.JobQueued)
	h.addJob(root, "Done one", db.JobDone)
	m := parseExposition(t, admin.get("/metrics").Body.String())
	calls := `jingdesk_platform_calls_total{endpoint="members.list"}`
	if m[calls]-before[calls] != 2 {
		t.Errorf("members.list calls went from %v to %v, want +2", before[calls], m[calls])
	}
	errs := `jingdesk_platform_errors_total{endpoint="leads.create"}`
	if m[errs]-before[errs] != 1 {
		t.Errorf("leads.create errors went from %v to %v, want +1", before[errs], m[errs])
	}
	if m[`jingdesk_jobs{state="queued"}`] != 2 || m[`jingdesk_jobs{state="done"}`] != 1 || m[`jingdesk_job_queue_depth`] != 2 {
		t.Errorf("jobs: queued %v, done %v, queue depth %v", m[`jingdesk_jobs{state="queued"}`], m[`jingdesk_jobs{state="done"}`], m[`jingdesk_job_queue_depth`])
	}
	if _, ok := m[`jingdesk_webhook_events{state="failed"}`]; !ok {
		t.Error("no webhook events per state")
	}
	if m[`jingdesk_platform_sandbox`] != 1 {
		t.Error("the sandbox connection is not reported")
	}
	if m[`go_goroutines`] < 1 || m[`go_memstats_heap_alloc_bytes`] <= 0 || m[`go_gc_heap_live_bytes`] <= 0 || m[`jingdesk_uptime_seconds`] < 0 {
		t.Error("runtime gauges missing")
	}
	if m[`jingdesk_build_info{version="test",commit="",date="",goversion="`+runtime.Version()+`"}`] != 1 {
		t.Error("no build info")
	}
}

func TestMetricsAreForAdministratorsOnly(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t)
	h.addUser("vic", db.RoleViewer)
	h.addUser("mia", db.RoleMarketer)
	for _, name := range []string{"vic", "mia"} {
		if rec := h.login(name).get("/metrics"); rec.Code != http.StatusForbidden {
			t.Errorf("%s: /metrics %d, want 403", name, rec.Code)
		}
	}
	if rec := h.anon().get("/metrics"); rec.Code != http.StatusSeeOther {
		t.Errorf("anonymous: /metrics %d, want a redirect to sign in", rec.Code)
	}
	if rec := admin.get("/metrics"); rec.Code != http.StatusOK {
		t.Errorf("admin: %d", rec.Code)
	}
}

// MetricsHandler (the --metrics-addr listener's) needs no session, and
// serves the same exposition.
func TestMetricsHandlerServesWithoutSignIn(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t, withPlatform(t, nil))
	admin.get("/settings/account")
	srv := httptest.NewServer(h.srv.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	m := parseExposition(t, b.String())
	if resp.StatusCode != 200 || m[`jingdesk_http_requests_total{route="/settings/account",method="GET",code="200"}`] < 1 {
		t.Fatalf("separate handler: %d, account page counted %v", resp.StatusCode, m[`jingdesk_http_requests_total{route="/settings/account",method="GET",code="200"}`])
	}
}

func TestMetricsLabelValuesAreEscaped(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	w := &expo{w: bufio.NewWriter(&b)}
	w.family("x", "gauge", "test")
	w.sample("x", []string{"v", "a\"b\\c\nd"}, 1)
	w.w.Flush()
	if !strings.Contains(b.String(), `x{v="a\"b\\c\nd"} 1`) {
		t.Fatalf("escaped: %q", b.String())
	}
}
