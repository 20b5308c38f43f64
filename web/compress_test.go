package web

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/static"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

func acceptGzip(r *http.Request) { r.Header.Set("Accept-Encoding", "gzip, deflate, br") }

// The board goes gzipped to a browser that asks for it, with its security
// headers, and reads the same once inflated.
func TestPagesAreSentGzipped(t *testing.T) {
	t.Parallel()
	h, _ := newBoardHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	plain := c.get(leadsview.BoardPath)
	zipped := c.get(leadsview.BoardPath, acceptGzip)
	if zipped.Code != http.StatusOK || zipped.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("board with Accept-Encoding gzip: %d, Content-Encoding %q", zipped.Code, zipped.Header().Get("Content-Encoding"))
	}
	if plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("board without Accept-Encoding came as %q", plain.Header().Get("Content-Encoding"))
	}
	for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Type"} {
		if got, want := zipped.Header().Get(k), plain.Header().Get(k); got != want || want == "" {
			t.Errorf("%s gzipped %q, plain %q", k, got, want)
		}
	}
	if !strings.Contains(zipped.Header().Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary = %q", zipped.Header().Get("Vary"))
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if zipped.Body.Len()*3 > len(body) {
		t.Errorf("gzipped %d bytes of %d", zipped.Body.Len(), len(body))
	}
	if p := parsePage(t, string(body)); !p.has("board") || !p.has("board-total") {
		t.Fatal("the inflated page has no board")
	}
	// A client that refuses gzip gets it plain.
	if rec := c.get(leadsview.BoardPath, func(r *http.Request) { r.Header.Set("Accept-Encoding", "gzip;q=0") }); rec.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 answered with %q", rec.Header().Get("Content-Encoding"))
	}
}

// Static files, HEAD requests and downloads pass as they are.
func TestOnlyHTMLIsCompressed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("ana", db.RoleAdmin)
	c := h.login("ana")
	css := c.get(static.URL("app.css"), acceptGzip)
	if css.Code != http.StatusOK || css.Header().Get("Content-Encoding") != "" {
		t.Errorf("stylesheet: %d, Content-Encoding %q", css.Code, css.Header().Get("Content-Encoding"))
	}
	head := c.do(httptest.NewRequest(http.MethodHead, "/leads", nil), acceptGzip)
	if head.Header().Get("Content-Encoding") != "" {
		t.Errorf("HEAD answered with Content-Encoding %q", head.Header().Get("Content-Encoding"))
	}
}

// An answer that streams (an event stream, flushed as it is written)
// is not compressed and arrives while the handler is still writing:
// over a real connection, the first event is read before the handler
// is let go on.
func TestStreamsAreNeitherCompressedNorHeldBack(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"text/event-stream", "text/html; charset=utf-8"} {
		t.Run(ct, func(t *testing.T) {
			e := echo.New()
			e.Use(compressPages)
			release := make(chan struct{})
			e.GET("/stream", func(c echo.Context) error {
				c.Response().Header().Set("Content-Type", ct)
				c.Response().WriteHeader(http.StatusOK)
				io.WriteString(c.Response(), "data: first\n\n")
				c.Response().Flush()
				select {
				case <-release:
				case <-time.After(10 * time.Second):
					return nil
				}
				io.WriteString(c.Response(), "data: second\n\n")
				return nil
			})
			srv := httptest.NewServer(e)
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/stream", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var r io.Reader = resp.Body
			enc := resp.Header.Get("Content-Encoding")
			switch {
			case ct == "text/event-stream" && enc != "":
				t.Fatalf("event stream sent with Content-Encoding %q", enc)
			case enc == "gzip":
				// HTML may be compressed, but what was flushed must come through.
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				r = zr
			}
			line, err := bufio.NewReader(r).ReadString('\n')
			if err != nil || line != "data: first\n" {
				t.Fatalf("first line %q, %v: held back until the handler ended", line, err)
			}
			close(release)
		})
	}
}

// The encoding header is read as browsers and tools send it.
func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]bool{
		"gzip": true, "gzip, deflate, br": true, "br;q=1.0, gzip;q=0.8": true, "GZIP": true,
		"": false, "deflate": false, "gzip;q=0": false, "gzip; q=0": false, "identity": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v", h, got)
		}
	}
}
