package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/memstat"
	"github.com/jingdesk/jingdesk/static"
	importsview "github.com/jingdesk/jingdesk/templates/imports"
)

// BenchmarkValidateAMillionRowsAsAJob uploads a 1,000,000-row file (3 %
// invalid mobiles, 1 % repeated), asks for its validation over loopback
// (the request returns at once: the file is validated by a job), and
// while the job runs requests the import's page every 100 ms, as its
// progress panel polls, and the stylesheet beside it. It reports the
// validation's time, the page's latencies while it runs and when idle, and
// the process's peak resident memory (VmHWM, reset before the upload: the
// harness and the embedded sandbox before it are not counted; the whole
// test process is, so it is an upper bound). Run it alone:
//
//	go test ./web -run '^$' -bench ValidateAMillionRows -benchtime 1x
func BenchmarkValidateAMillionRowsAsAJob(b *testing.B) {
	const rows = 1_000_000
	h, rig := newCrowdsHarness(b)
	user := h.addUser("bench", db.RoleMarketer)
	c := h.login("bench")
	path := writeMillionRows(b, rows)
	srv := httptest.NewServer(h.srv)
	defer srv.Close()
	var cookie string
	for _, ck := range c.jar.Cookies(baseURL) {
		cookie += ck.Name + "=" + ck.Value + "; "
	}
	get := func(p string) time.Duration {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		req.Header.Set("Cookie", cookie)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
		return time.Since(start)
	}
	for b.Loop() {
		memstat.ResetPeak()
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		id, err := rig.svc.Upload(context.Background(), user.ID, "百万行.csv", f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		page := importsview.Path(id, "")
		var idle []time.Duration
		for range 20 {
			idle = append(idle, get(page))
		}
		form := url.Values{"col_0": {"name"}, "col_1": {"mobile"}, "identity": {"mobile"}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+importsview.Path(id, "validate"), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", cookie)
		req.Header.Set("X-CSRF-Token", c.csrf)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		answered := time.Since(start)
		if resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("validate: %d", resp.StatusCode)
		}
		var during, assets []time.Duration
		var im db.Import
		for {
			during = append(during, get(page))
			assets = append(assets, get(static.URL("app.css")))
			if im, err = h.store.Import(context.Background(), id); err != nil {
				b.Fatal(err)
			}
			if im.Stage == db.ImportValidated {
				break
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatal("the validation did not end")
			}
			time.Sleep(100 * time.Millisecond) // the progress panel's polling, roughly
		}
		took := time.Since(start)
		peak := memstat.PeakRSS()
		var summary []time.Duration // the validated import's page: the summary and the target step
		for range 10 {
			summary = append(summary, get(page))
		}
		// What the progress panel of this import will count every second
		// once it runs: its 1,000,000 rows by state and phase.
		var counts []time.Duration
		for range 5 {
			t0 := time.Now()
			if _, err := h.store.ImportPhaseCounts(context.Background(), id); err != nil {
				b.Fatal(err)
			}
			counts = append(counts, time.Since(t0))
		}
		if os.Getenv("BENCH_DEBUG") != "" {
			for i, d := range during {
				if d > 20*time.Millisecond {
					b.Logf("page request %d of %d: %v", i, len(during), d)
				}
			}
		}
		if im.Counts.Total != rows || im.Counts.Valid+im.Counts.Invalid+im.Counts.Duplicate != rows {
			b.Fatalf("counts %+v", im.Counts)
		}
		b.ReportMetric(took.Seconds(), "validate-s")
		b.ReportMetric(rows/took.Seconds(), "rows/s")
		b.ReportMetric(ms(answered), "validate-request-ms")
		b.ReportMetric(ms(pct(idle, 50)), "page-idle-p50-ms")
		b.ReportMetric(ms(pct(during, 50)), "page-p50-ms")
		b.ReportMetric(ms(pct(during, 99)), "page-p99-ms")
		b.ReportMetric(ms(pct(during, 100)), "page-max-ms")
		b.ReportMetric(ms(pct(assets, 50)), "static-p50-ms")
		b.ReportMetric(ms(pct(assets, 100)), "static-max-ms")
		b.ReportMetric(float64(len(during)), "page-requests")
		b.ReportMetric(ms(pct(summary, 50)), "summary-page-p50-ms")
		b.ReportMetric(ms(pct(counts, 50)), "progress-counts-p50-ms")
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
		if peak > 200<<20 {
			b.Errorf("peak RSS %d MB, over 200 MB", peak>>20)
		}
		if answered > time.Second {
			b.Errorf("the validate request took %v: it must return at once", answered)
		}
	}
}

func writeMillionRows(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "million.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("姓名,手机号码\n")
	for i := range rows {
		switch {
		case i%100 < 3:
			fmt.Fprintf(w, "坏号码%d,1234%d\n", i, i)
		case i%100 == 3:
			fmt.Fprintf(w, "重复%d,+86 139-%04d-%04d\n", i, (i-1)/10000, (i-1)%10000) // the row before's mobile
		default:
			fmt.Fprintf(w, "客户%d,+86 139-%04d-%04d\n", i, i/10000, i%10000)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// pct is the p-th percentile of ds (100: the maximum).
func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, len(s)*p/100)
	return s[i]
}
