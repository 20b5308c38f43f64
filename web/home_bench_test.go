package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/static"
)

// BenchmarkHomePage is GET / (Home) through the real server on loopback,
// for an administrator (every block, the warnings included), with 100,000
// leads in the copy, 5,000 status changes this week, 2,000 finished jobs
// of the system and 300 sends in the ledger. Home keeps no cache: every
// request reads the store. It reports the median and, measured in the
// same run, the median of a static file through the same server.
//
//	go test ./web -run '^$' -bench HomePage -benchtime 200x
func BenchmarkHomePage(b *testing.B) {
	h, rig := newBoardHarness(b, func(*boardRig) harnessOption { return func(d *Deps) { d.DataDir = b.TempDir() } })
	fillBoardLeads(b, h, rig, boardBenchLeads)
	author := h.addUser("author", db.RoleMarketer)
	fillHomeHistory(b, h, author.ID, 5_000, 2_000, 300)
	h.addUser("bench", db.RoleAdmin)
	cookies := h.login("bench").jar.Cookies(baseURL)
	srv := httptest.NewServer(h.srv) // the real server on loopback
	defer srv.Close()
	client := srv.Client()
	get := func(path string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		n, _ := io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return int(n)
	}
	size := get("/")
	b.SetBytes(int64(size))
	b.ReportAllocs()
	median := func(path string, n int) time.Duration {
		var times []time.Duration
		for range n {
			t0 := time.Now()
			get(path)
			times = append(times, time.Since(t0))
		}
		slices.Sort(times)
		return times[len(times)/2]
	}
	staticMedian := median(static.URL("app.css"), 200)
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		get("/")
		times = append(times, time.Since(t0))
	}
	b.StopTimer()
	if len(times) > 0 {
		slices.Sort(times)
		med := times[len(times)/2]
		b.ReportMetric(float64(med.Microseconds())/1000, "median-ms")
		b.ReportMetric(float64(staticMedian.Microseconds())/1000, "static-median-ms")
		b.ReportMetric(float64(med)/float64(staticMedian), "home/static")
		b.ReportMetric(float64(size)/1024, "page-KB")
	}
}

// fillHomeHistory adds what Home reads besides the leads: status changes
// this week, finished system jobs (the scheduled syncs that pile up) and
// sends.
func fillHomeHistory(b *testing.B, h *harness, author int64, moves, jobs, sends int) {
	b.Helper()
	ctx := context.Background()
	now := h.clock.Now().Unix()
	for i := range moves {
		uuid := fmt.Sprintf("benchlead%08d", i*7)
		if err := h.store.RecordLeadStatusChange(ctx, uuid, db.LeadStatusChange{At: now - int64(i%(5*86400)), From: "a", To: "b", Origin: db.OriginSync}); err != nil {
			b.Fatal(err)
		}
	}
	for range jobs {
		j, err := h.store.CreateJob(ctx, db.NewJob{Kind: "bench.scheduled", Title: "Lead sync"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.store.ClaimJob(ctx, "bench", []string{"bench.scheduled"}, time.Minute); err != nil {
			b.Fatal(err)
		}
		if err := h.store.FinishJob(ctx, j.ID, "bench", db.JobDone, ""); err != nil {
			b.Fatal(err)
		}
	}
	for i := range sends {
		if _, err := h.store.CreateSend(ctx, fmt.Sprintf("bench-send-%d", i), author, db.SendDraftInput{Channel: "sms", Name: fmt.Sprintf("群发 %d", i)}); err != nil {
			b.Fatal(err)
		}
	}
}
