package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/static"
)

// Benchmarks of the request path, in-process (no network), so they measure
// our own cost per request. Compare a signed-in page (cookie decrypt, user
// lookup in SQLite, templ render, buffer) with serving a static asset and
// with writing the same number of bytes from memory.
//
//	go test ./web -run '^$' -bench . -benchmem

func benchHarness(b *testing.B) (*harness, []*http.Cookie) {
	h := newHarness(b)
	h.addUser("bench", db.RoleMarketer)
	c := h.login("bench")
	return h, c.jar.Cookies(baseURL)
}

func serveOnce(b *testing.B, h http.Handler, path string, cookies []*http.Cookie) int {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d", path, rec.Code)
	}
	return rec.Body.Len()
}

func BenchmarkSignedInPage(b *testing.B) {
	h, cookies := benchHarness(b)
	size := serveOnce(b, h.srv, "/leads/board", cookies)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serveOnce(b, h.srv, "/leads/board", cookies)
	}
}

func BenchmarkLoginPageAnonymous(b *testing.B) {
	h, _ := benchHarness(b)
	b.ReportAllocs()
	for b.Loop() {
		serveOnce(b, h.srv, "/login", nil)
	}
}

// BenchmarkStaticAsset is app.css through the full middleware chain.
func BenchmarkStaticAsset(b *testing.B) {
	h, cookies := benchHarness(b)
	url := static.URL("app.css")
	b.SetBytes(int64(serveOnce(b, h.srv, url, cookies)))
	b.ReportAllocs()
	for b.Loop() {
		serveOnce(b, h.srv, url, cookies)
	}
}

// BenchmarkBytesOfPageSize is the floor: the signed-in page's byte count
// written from memory by a bare handler.
func BenchmarkBytesOfPageSize(b *testing.B) {
	h, cookies := benchHarness(b)
	body := make([]byte, serveOnce(b, h.srv, "/leads/board", cookies))
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		serveOnce(b, bare, "/", nil)
	}
}

// BenchmarkSignedInPageVerified is BenchmarkSignedInPage for an
// administrator, on a console whose last verification of the platform's
// answers failed an endpoint of the page's feature: the banner and the
// feature's warning are drawn on every page (the report from memory, read
// again from SQLite at most every 5 s: see BenchmarkLastVerification in
// internal/platform). "none": the same console with no report kept.
func BenchmarkSignedInPageVerified(b *testing.B) {
	for _, failed := range []bool{false, true} {
		name := "none"
		if failed {
			name = "failed"
		}
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, withPlatform(b, nil))
			h.addUser("root", db.RoleAdmin)
			admin := h.login("root")
			if failed {
				qs := sandbox.Quirks{}
				qs.Set("no-code=leads.list")
				h.srv.Platform.SandboxServer().SetQuirks(qs)
				if rec := admin.post("/settings/platform/verify", url.Values{"confirm": {"1"}}); rec.Code != http.StatusSeeOther {
					b.Fatalf("verify: %d", rec.Code)
				}
			}
			cookies := admin.jar.Cookies(baseURL)
			size := serveOnce(b, h.srv, "/leads/board", cookies)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				serveOnce(b, h.srv, "/leads/board", cookies)
			}
		})
	}
}
