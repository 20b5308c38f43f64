package web

// /metrics: the Prometheus text exposition format (version 0.0.4), written
// by hand. Admin-only on the main server; with --metrics-addr the same
// exposition is also served without sign-in on a listener of its own
// (internal/app), through MetricsHandler.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/templates/live"
)

// metricsContentType is the text exposition format's media type.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// durationBuckets are the latency histogram's upper bounds, in seconds.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// jobStates are the states a job can be in, in the order they are listed.
var jobStates = []string{"queued", "running", "paused", "done", "failed", "cancelled"}

// unmatchedRoute labels requests no route matched (404s for any path), so
// scanners cannot grow the series without bound.
const unmatchedRoute = "unmatched"

type requestKey struct {
	route, method string
	code          int
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	count  uint64
}

// httpMetrics counts the requests the main server answered.
type httpMetrics struct {
	routes map[string]bool // the route table's patterns; filled before serving, read-only after

	mu        sync.Mutex
	requests  map[requestKey]uint64
	durations map[string]*histogram
}

func newHTTPMetrics() *httpMetrics {
	return &httpMetrics{routes: map[string]bool{}, requests: map[requestKey]uint64{}, durations: map[string]*histogram{}}
}

func (m *httpMetrics) observe(route, method string, code int, d time.Duration) {
	if !m.routes[route] {
		route = unmatchedRoute
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER"
	}
	secs := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[requestKey{route, method, code}]++
	h := m.durations[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(durationBuckets)+1)}
		m.durations[route] = h
	}
	i, _ := slices.BinarySearch(durationBuckets, secs) // the first bound >= secs ("le")
	h.counts[i]++
	h.sum += secs
	h.count++
}

// showMetrics is /metrics on the main server (administrators only).
func (a *systemArea) showMetrics(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentType, metricsContentType)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.Response().WriteHeader(http.StatusOK)
	return a.writeMetrics(c.Request().Context(), c.Response())
}

// metricsHandler serves the exposition without sign-in (Server.MetricsHandler).
func (a *systemArea) metricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", metricsContentType)
		w.Header().Set("Cache-Control", "no-store")
		if err := a.writeMetrics(r.Context(), w); err != nil {
			a.logger.Warn("write metrics", "error", err)
		}
	})
}

// writeMetrics writes every metric. A source that fails (the database
// busy, say) is logged and left out; the rest is still written.
func (a *systemArea) writeMetrics(ctx context.Context, out io.Writer) error {
	w := &expo{w: bufio.NewWriter(out)}

	// Build and process.
	w.family("jingdesk_build_info", "gauge", "The running build: always 1, with the stamped version, commit and date as labels.")
	w.sample("jingdesk_build_info", []string{"version", a.build.Version, "commit", a.build.Commit, "date", a.build.Date,
		"goversion", runtime.Version()}, 1)
	w.family("jingdesk_start_time_seconds", "gauge", "When the process started, in Unix seconds.")
	w.sample("jingdesk_start_time_seconds", nil, float64(a.startedAt.UnixNano())/1e9)
	w.family("jingdesk_uptime_seconds", "gauge", "Seconds since the process started.")
	w.sample("jingdesk_uptime_seconds", nil, time.Since(a.startedAt).Seconds())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.family("go_goroutines", "gauge", "Number of goroutines that currently exist.")
	w.sample("go_goroutines", nil, float64(runtime.NumGoroutine()))
	w.family("go_memstats_heap_alloc_bytes", "gauge", "Bytes of allocated heap objects.")
	w.sample("go_memstats_heap_alloc_bytes", nil, float64(ms.HeapAlloc))
	w.family("go_memstats_heap_inuse_bytes", "gauge", "Bytes in in-use heap spans.")
	w.sample("go_memstats_heap_inuse_bytes", nil, float64(ms.HeapInuse))
	// The heap's live bytes as of the last collection: unlike the two
	// above it holds no garbage, so a series of it shows a leak.
	heapLive := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(heapLive)
	if heapLive[0].Value.Kind() == metrics.KindUint64 {
		w.family("go_gc_heap_live_bytes", "gauge", "Heap bytes live after the last garbage collection.")
		w.sample("go_gc_heap_live_bytes", nil, float64(heapLive[0].Value.Uint64()))
	}
	w.family("go_memstats_sys_bytes", "gauge", "Bytes of memory obtained from the OS.")
	w.sample("go_memstats_sys_bytes", nil, float64(ms.Sys))
	w.family("go_gc_cycles_total", "counter", "Completed GC cycles.")
	w.sample("go_gc_cycles_total", nil, float64(ms.NumGC))

	// HTTP requests.
	a.metrics.mu.Lock()
	keys := make([]requestKey, 0, len(a.metrics.requests))
	for k := range a.metrics.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b requestKey) int {
		return strings.Compare(a.route+" "+a.method+" "+strconv.Itoa(a.code), b.route+" "+b.method+" "+strconv.Itoa(b.code))
	})
	w.family("jingdesk_http_requests_total", "counter", "HTTP requests answered, by route pattern, method and status code.")
	for _, k := range keys {
		w.sample("jingdesk_http_requests_total", []string{"route", k.route, "method", k.method, "code", strconv.Itoa(k.code)},
			float64(a.metrics.requests[k]))
	}
	routes := make([]string, 0, len(a.metrics.durations))
	for r := range a.metrics.durations {
		routes = append(routes, r)
	}
	slices.Sort(routes)
	const dur = "jingdesk_http_request_duration_seconds"
	w.family(dur, "histogram", "Time to answer an HTTP request, by route pattern.")
	for _, r := range routes {
		h := a.metrics.durations[r]
		var cum uint64
		for i, le := range durationBuckets {
			cum += h.counts[i]
			w.sample(dur+"_bucket", []string{"route", r, "le", formatFloat(le)}, float64(cum))
		}
		w.sample(dur+"_bucket", []string{"route", r, "le", "+Inf"}, float64(h.count))
		w.sample(dur+"_sum", []string{"route", r}, h.sum)
		w.sample(dur+"_count", []string{"route", r}, float64(h.count))
	}
	a.metrics.mu.Unlock()

	// The platform: calls and errors per endpoint since the current
	// connection was made (a new connection starts again from 0).
	stats := a.platform.Stats(ctx)
	w.family("jingdesk_platform_sandbox", "gauge", "1 while the console uses the embedded sandbox instead of the platform.")
	w.sample("jingdesk_platform_sandbox", nil, boolValue(a.platform.Sandbox()))
	w.family("jingdesk_platform_calls_total", "counter", "Platform API calls, by endpoint.")
	for _, st := range stats {
		w.sample("jingdesk_platform_calls_total", []string{"endpoint", st.Endpoint.Key}, float64(st.Calls))
	}
	w.family("jingdesk_platform_errors_total", "counter", "Platform API calls that failed, by endpoint.")
	for _, st := range stats {
		w.sample("jingdesk_platform_errors_total", []string{"endpoint", st.Endpoint.Key}, float64(st.Errors))
	}
	w.family("jingdesk_platform_call_duration_seconds_total", "counter", "Time spent in platform API calls, by endpoint.")
	for _, st := range stats {
		w.sample("jingdesk_platform_call_duration_seconds_total", []string{"endpoint", st.Endpoint.Key}, st.TotalDuration.Seconds())
	}
	w.family("jingdesk_platform_calls_today", "gauge", "Platform API calls today (the platform's quota day), by endpoint.")
	for _, st := range stats {
		w.sample("jingdesk_platform_calls_today", []string{"endpoint", st.Endpoint.Key}, float64(st.CallsToday))
	}

	// Background jobs and the queue.
	if jobs, err := a.store.JobStateCounts(ctx); err != nil {
		a.logger.Warn("metrics: count jobs", "error", err)
	} else {
		w.family("jingdesk_jobs", "gauge", "Background jobs, by state.")
		for _, st := range jobStates {
			w.sample("jingdesk_jobs", []string{"state", st}, float64(jobs[st]))
		}
		w.family("jingdesk_job_queue_depth", "gauge", "Background jobs waiting for a worker (queued).")
		w.sample("jingdesk_job_queue_depth", nil, float64(jobs["queued"]))
	}

	// Webhook events.
	if hooks, err := a.store.WebhookCounts(ctx); err != nil {
		a.logger.Warn("metrics: count webhook events", "error", err)
	} else {
		w.family("jingdesk_webhook_events", "gauge", "Stored webhook events, by state.")
		for _, st := range live.States {
			w.sample("jingdesk_webhook_events", []string{"state", st}, float64(hooks[st]))
		}
	}

	// The database.
	file, wal := a.store.FileSizes()
	w.family("jingdesk_database_size_bytes", "gauge", "Size of the database file and its write-ahead log.")
	w.sample("jingdesk_database_size_bytes", []string{"file", "db"}, float64(file))
	w.sample("jingdesk_database_size_bytes", []string{"file", "wal"}, float64(wal))

	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// expo writes exposition lines, keeping the first write error.
type expo struct {
	w   *bufio.Writer
	err error
}

func (e *expo) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *expo) family(name, typ, help string) {
	e.printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// sample writes one line; labels are name, value pairs.
func (e *expo) sample(name string, labels []string, v float64) {
	var b strings.Builder
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(labels[i])
			b.WriteString(`="`)
			b.WriteString(escapeLabel(labels[i+1]))
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	e.printf("%s %s\n", b.String(), formatFloat(v))
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(v string) string { return labelEscaper.Replace(v) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
