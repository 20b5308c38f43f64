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
	searchview "github.com/jingdesk/jingdesk/templates/search"
)

// BenchmarkSearchPage is GET /search through the real server on loopback
// (session, the five kinds, templ, layout) with 100,000 leads in the copy,
// 200 crowds, 500 sends and 200 imports, for queries from a unique lead
// to a substring every lead has. No cache is involved: every request runs
// its queries. Beside it, in the same run, a static file (app.css) over
// the same connection. It reports the median of each.
//
//	go test ./web -run '^$' -bench SearchPage -benchtime 50x
func BenchmarkSearchPage(b *testing.B) {
	h, rig := newBoardHarness(b)
	fillBoardLeads(b, h, rig, boardBenchLeads)
	ctx := context.Background()
	u := h.addUser("bench", db.RoleMarketer)
	for i := range 200 {
		if err := h.store.SaveCrowd(ctx, db.Crowd{GroupID: int64(1000 + i), Name: fmt.Sprintf("第%d批展会人群", i)}); err != nil {
			b.Fatal(err)
		}
		if _, err := h.store.CreateImport(ctx, db.NewImport{UserID: u.ID, FileName: fmt.Sprintf("展会名单%d.xlsx", i), FilePath: "x"}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 500 {
		if _, err := h.store.CreateSend(ctx, fmt.Sprintf("bench-%d", i), u.ID, db.SendDraftInput{Channel: "sms", Name: fmt.Sprintf("第%d期促销短信", i)}); err != nil {
			b.Fatal(err)
		}
	}
	srv := httptest.NewServer(h.srv)
	b.Cleanup(srv.Close)
	cookies := h.login("bench").jar.Cookies(baseURL)
	client := srv.Client()
	fetch := func(path string) time.Duration {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return d
	}
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2].Microseconds()) / 1000
	}
	queries := []struct{ name, q string }{
		{"unique-lead", "测试线索4711"}, // one lead
		{"company", "第123号科技"},      // about 20 leads
		{"mobile", "1300004"},       // 10 leads by mobile
		{"two-chars", "线索"},         // every lead (the index's terms)
		{"one-char", "测"},           // every lead (a scan)
		{"crowds", "展会"},            // no lead; crowds and imports
	}
	b.ResetTimer()
	for b.Loop() {
		var st []time.Duration
		times := make([][]time.Duration, len(queries))
		for range 20 {
			st = append(st, fetch(static.URL("app.css")))
			for j, q := range queries {
				times[j] = append(times[j], fetch(searchview.URL(q.q)))
			}
		}
		b.ReportMetric(median(st), "static-ms")
		for j, q := range queries {
			b.ReportMetric(median(times[j]), q.name+"-ms")
		}
	}
}
