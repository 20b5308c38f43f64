package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// BenchmarkBoardShapes is GET /leads/board under each of its filters,
// alone and combined, through the whole server in-process (session,
// counts, columns, templ, gzip as a browser asks for it) at 100,000 leads
// shaped as synced ones (fillBoardLeads) with the planner's statistics,
// every request a cache miss (the
// clock moves past the cache's TTL first). It reports the median.
//
//	go test ./web -run '^$' -bench BoardShapes -benchtime 15x
func BenchmarkBoardShapes(b *testing.B) {
	h, rig := newBoardHarness(b)
	fillBoardLeads(b, h, rig, boardBenchLeads)
	// Statistics as a console gathers them after a big sync.
	if err := h.store.Optimize(context.Background()); err != nil {
		b.Fatal(err)
	}
	h.addUser("bench", db.RoleMarketer)
	cookies := h.login("bench").jar.Cookies(baseURL)
	r := rig.resolver()
	owner := r.Members(false)[0].ID
	source := r.Options("lead", "source_type")[0].ID
	zone, _ := time.LoadLocation("Asia/Shanghai")
	day := func(daysAgo int) string {
		return h.clock.Now().AddDate(0, 0, -daysAgo).In(zone).Format(time.DateOnly)
	}
	created := []string{"created_from", day(200), "created_to", day(140)}
	updated := []string{"updated_from", day(200), "updated_to", day(140)}
	shapes := []struct {
		name string
		kv   []string
	}{
		{"no filter", nil},
		{"search 3, every lead", []string{"q", "科技有"}},
		{"search 3, a few leads", []string{"q", "线索4242"}},
		{"search 2, every lead", []string{"q", "市场"}},
		{"owner", []string{"owner", owner}},
		{"source", []string{"source", source}},
		{"pool", []string{"lead_pool", "pool0"}},
		{"created between", created},
		{"updated between", updated},
		{"owner + created", append([]string{"owner", owner}, created...)},
		{"owner + source + pool", []string{"owner", owner, "source", source, "lead_pool", "pool0"}},
		{"search + owner", []string{"q", "科技有", "owner", owner}},
		{"every filter", append(append([]string{"q", "市场", "owner", owner, "source", source, "lead_pool", "pool0"}, created...), updated...)},
	}
	for _, sh := range shapes {
		v := url.Values{}
		for i := 0; i+1 < len(sh.kv); i += 2 {
			v.Set(sh.kv[i], sh.kv[i+1])
		}
		path := leadsview.BoardPath + "?" + v.Encode()
		b.Run(sh.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				h.clock.Advance(boardCacheTTL)
				t0 := time.Now()
				n := serveGzip(b, h.srv, path, cookies)
				times = append(times, time.Since(t0))
				b.SetBytes(int64(n))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
		})
	}
}

// serveGzip asks for path as a browser does (gzip accepted) and returns
// the size on the wire.
func serveGzip(b *testing.B, h http.Handler, path string, cookies []*http.Cookie) int {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d", path, rec.Code)
	}
	n, _ := strconv.Atoi(rec.Header().Get("Content-Length"))
	return max(n, rec.Body.Len())
}
