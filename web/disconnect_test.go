package web

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

// records keeps the log records at or above Info, for tests to look at.
type records struct {
	mu   sync.Mutex
	list []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.list = append(r.list, rec.Clone())
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// find is the first record whose message is m and whose attributes
// include key=value (as text); nil when there is none yet.
func (r *records) find(m, key, value string) *slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.list {
		rec := &r.list[i]
		if rec.Message != m {
			continue
		}
		found := false
		rec.Attrs(func(a slog.Attr) bool {
			found = a.Key == key && a.Value.String() == value
			return !found
		})
		if found {
			return rec
		}
	}
	return nil
}

func (r *records) atLeast(level slog.Level) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.list {
		if rec.Level >= level {
			out = append(out, rec.Level.String()+" "+rec.Message)
		}
	}
	return out
}

// stalledRunner is a job runner whose actions take until the request is
// abandoned: the request is in flight when the client goes away.
type stalledRunner struct{ entered chan struct{} }

func (r stalledRunner) Act(ctx context.Context, _ jobs.Actor, _ jobs.Action, _ int64) (db.Job, error) {
	close(r.entered)
	<-ctx.Done()
	return db.Job{}, fmt.Errorf("jobs: read job: %w", ctx.Err())
}

// A client that goes away before its answer is no server error: the
// request is logged below ERROR as status 499 (the client closed it), and
// /metrics counts a 499, not a 500 a 5xx alert would fire on. Over a
// real server on loopback, the client closing its connection mid-request.
func TestAClientThatGoesAwayIsNotAServerError(t *testing.T) {
	t.Parallel()
	logs := &records{}
	runner := stalledRunner{entered: make(chan struct{})}
	h := newHarness(t, func(d *Deps) { d.Jobs = runner; d.Logger = slog.New(logs) })
	h.addUser("root", "admin")
	browser := h.login("root")
	srv := httptest.NewServer(h.srv)
	t.Cleanup(srv.Close)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"_csrf": {browser.csrf}}.Encode()
	var cookies []string
	for _, ck := range browser.jar.Cookies(baseURL) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	fmt.Fprintf(conn, "POST /jobs/1/pause HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		srv.Listener.Addr(), strings.Join(cookies, "; "), len(form), form)
	<-runner.entered // the server is working on the answer
	conn.Close()

	waitFor(t, "the abandoned request's log line", func() bool {
		return logs.find("request", "path", "/jobs/1/pause") != nil
	})
	rec := logs.find("request", "path", "/jobs/1/pause")
	var status string
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "status" {
			status = a.Value.String()
		}
		return true
	})
	if status != "499" {
		t.Errorf("the abandoned request was logged with status %s, want 499", status)
	}
	if bad := logs.atLeast(slog.LevelWarn); len(bad) != 0 {
		t.Errorf("a client going away was logged as trouble: %q", bad)
	}

	admin, err := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range browser.jar.Cookies(baseURL) {
		admin.AddCookie(ck)
	}
	res, err := http.DefaultClient.Do(admin)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var pause []string
	for sc := bufio.NewScanner(res.Body); sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "jingdesk_http_requests_total{") && strings.Contains(sc.Text(), `route="/jobs/:id/pause"`) {
			pause = append(pause, sc.Text())
		}
	}
	if len(pause) != 1 || !strings.Contains(pause[0], `code="499"`) {
		t.Errorf("/metrics counts the abandoned request as %q, want one 499", pause)
	}
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(5 * time.Millisecond)
	}
}
