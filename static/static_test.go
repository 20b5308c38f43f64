package static

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// The vendored htmx must be exactly the pinned release recorded beside it.
func TestVendoredHtmxMatchesRecordedSHA256(t *testing.T) {
	body, err := os.ReadFile("htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	record, _ := os.ReadFile("HTMX_VERSION")
	if !strings.Contains(string(record), hex.EncodeToString(sum[:])) {
		t.Fatalf("htmx.min.js sha256 %x is not the one recorded in HTMX_VERSION", sum)
	}
}

func TestHashedURLIsImmutableAndStaleHashIsNot(t *testing.T) {
	url := URL("app.css")
	rec := httptest.NewRecorder()
	ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("current hash: %d %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("content type %q", rec.Header().Get("Content-Type"))
	}
	rec = httptest.NewRecorder()
	ServeHTTP(rec, httptest.NewRequest("GET", "/static/000000000000/app.css", nil))
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("stale hash: %d %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	rec = httptest.NewRecorder()
	ServeHTTP(rec, httptest.NewRequest("GET", "/static/x/../static.go", nil))
	if rec.Code != 404 {
		t.Fatalf("non-asset served: %d", rec.Code)
	}
}
