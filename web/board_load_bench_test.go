package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// BenchmarkBoardVsStaticUnderLoad is a loopback load run: 50 connections
// request the board (100,000 leads in the local copy, signed in) for a few
// seconds, then a static file of the same size served by the same process.
// It reports both rates and their ratio ("board/static"; issue 5 asks for
// at least 0.20). The load generator shares the 2 cores with the server,
// as wrk would. Run it once:
//
//	go test ./web -run '^$' -bench BoardVsStaticUnderLoad -benchtime 1x
func BenchmarkBoardVsStaticUnderLoad(b *testing.B) {
	h, rig := newBoardHarness(b)
	fillBoardLeads(b, h, rig, boardBenchLeads)
	h.addUser("bench", db.RoleMarketer)
	cookies := h.login("bench").jar.Cookies(baseURL)
	page := make([]byte, serveOnce(b, h.srv, leadsview.BoardPath, cookies))

	mux := http.NewServeMux()
	mux.Handle("/", h.srv)
	mux.HandleFunc("/bench/static-of-page-size", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
		w.Write(page)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var cookie string
	for _, c := range cookies {
		cookie += c.Name + "=" + c.Value + "; "
	}
	for b.Loop() {
		static := loadRate(b, srv.URL+"/bench/static-of-page-size", cookie)
		board := loadRate(b, srv.URL+leadsview.BoardPath, cookie)
		b.ReportMetric(static, "static-req/s")
		b.ReportMetric(board, "board-req/s")
		b.ReportMetric(board/static, "board/static")
	}
	b.ReportMetric(float64(len(page))/1024, "page-KB")
}

// loadRate runs 50 keep-alive connections against url for a fixed time
// and returns the completed 200 responses per second.
func loadRate(b *testing.B, url, cookie string) float64 {
	const conns, span = 50, 3 * time.Second
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), span)
	defer cancel()
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				req.Header.Set("Cookie", cookie)
				resp, err := client.Do(req)
				if err != nil {
					continue // the deadline cut a request short
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds()
}
