package web

import (
	"bufio"
	"compress/gzip"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// Pages are sent gzipped to browsers that ask for it: the board at
// 100,000 leads is 289 KB of HTML and 25.7 KB gzipped. Only HTML is compressed, decided when
// the handler sets its status: downloads (CSV, workbooks), streams (an
// event stream, or any answer flushed as it is written: a compressor
// would hold back what is flushed) and the static files (small, cached
// by browsers for a year, and the yardstick of the load runs) pass as
// they are. echo's Gzip middleware compresses every type, event streams
// included, and would buffer the small ones; it is not used.

// compressLevel trades size for processor time: BestSpeed packs the
// board's 289 KB to 25.7 KB in 0.73 ms, the default level to 19.6 KB in
// 1.8 ms (fastest of 20 on these machines); on loopback or an office
// network the 6 KB saved is worth less than the millisecond.
const compressLevel = gzip.BestSpeed

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, compressLevel)
	return w
}}

// compressPages gzips HTML answers for clients that accept gzip.
func compressPages(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method == http.MethodHead || !acceptsGzip(req.Header.Get("Accept-Encoding")) {
			return next(c)
		}
		res := c.Response()
		res.Header().Add("Vary", "Accept-Encoding")
		cw := &compressWriter{ResponseWriter: res.Writer}
		res.Writer = cw
		defer func() {
			cw.close()
			res.Writer = cw.ResponseWriter
		}()
		return next(c)
	}
}

// acceptsGzip reads an Accept-Encoding header: gzip listed, and not with q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// compressWriter decides at the status line whether the answer is
// compressed: HTML without an encoding of its own.
type compressWriter struct {
	http.ResponseWriter
	decided bool
	gz      *gzip.Writer // nil: passed as it is
}

func (w *compressWriter) WriteHeader(status int) {
	if !w.decided {
		w.decided = true
		h := w.Header()
		if compressible(status, h) {
			h.Del("Content-Length")
			h.Set("Content-Encoding", "gzip")
			w.gz = gzipWriters.Get().(*gzip.Writer)
			w.gz.Reset(w.ResponseWriter)
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func compressible(status int, h http.Header) bool {
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified || h.Get("Content-Encoding") != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == "text/html"
}

func (w *compressWriter) Write(b []byte) (int, error) {
	if !w.decided {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", http.DetectContentType(b))
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.gz != nil {
		return w.gz.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what was written so far: an answer that flushes is meant
// to arrive as it is written, so the compressor (if any) is flushed too.
func (w *compressWriter) Flush() {
	if w.gz != nil {
		w.gz.Flush()
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack passes a connection upgrade through, uncompressed.
func (w *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *compressWriter) close() {
	if w.gz != nil {
		w.gz.Close()
		w.gz.Reset(io.Discard)
		gzipWriters.Put(w.gz)
		w.gz = nil
	}
}
