package testkit

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"testing/synctest"
)

// A server on a PipeListener answers a client of it inside a bubble, and
// once closed the listener refuses new connections.
func TestPipeListenerCarriesHTTPInABubble(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ln := NewPipeListener()
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello "+r.URL.Path)
		})}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		client := ln.Client()
		resp, err := client.Get("http://anywhere/pipe")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello /pipe" {
			t.Fatalf("answer %q", body)
		}
		client.CloseIdleConnections()
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("Serve ended with %v", err)
		}
		if _, err := ln.Dial(t.Context(), "pipe", "pipe"); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("dial after close: %v", err)
		}
	})
}
