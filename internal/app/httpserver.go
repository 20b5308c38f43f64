package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// httpServer serves a handler on a listener until it is stopped: the
// console's pages, or the metrics listener.
type httpServer struct {
	srv    *http.Server
	served chan struct{} // closed when Serve has returned
}

// newHTTPServer makes the console's server; a certificate makes it HTTPS.
func newHTTPServer(h http.Handler, cert *tls.Certificate, logger *slog.Logger) *httpServer {
	s := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // imports upload spreadsheets
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cert != nil {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	return &httpServer{srv: s, served: make(chan struct{})}
}

// serve serves on ln in the background; an end other than a stop is
// told to failed.
func (s *httpServer) serve(ln net.Listener, failed func(error)) {
	go func() {
		defer close(s.served)
		var err error
		if s.srv.TLSConfig != nil {
			err = s.srv.ServeTLS(ln, "", "")
		} else {
			err = s.srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			failed(fmt.Errorf("serve on %s: %w", ln.Addr(), err))
		}
	}()
}

// stop stops accepting connections and waits, up to ctx, for the requests
// in flight; past that it closes their connections (which ends their
// contexts) rather than leave them running on.
func (s *httpServer) stop(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
		err = fmt.Errorf("requests still in flight were cut off: %w", err)
	}
	<-s.served
	return err
}

// metricsServer serves h (the Prometheus exposition, no sign-in) at
// /metrics on ln.
func metricsServer(h http.Handler, logger *slog.Logger) *httpServer {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return &httpServer{srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}, served: make(chan struct{})}
}
