//go:build pprof

package app

import (
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
)

// A build with -tags pprof (never a release) serves the Go profiler on
// the loopback address in JINGDESK_PPROF_ADDR, such as 127.0.0.1:6060,
// without sign-in: it is how the figures of docs/performance.md, "Where
// a request's CPU goes", are taken from the real binary under load.
func init() {
	addr := os.Getenv("JINGDESK_PPROF_ADDR")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	// What the heap needs once the garbage is collected and the free
	// pages handed back: the floor of the idle RSS.
	mux.HandleFunc("/debug/free", func(w http.ResponseWriter, _ *http.Request) { debug.FreeOSMemory() })
	go http.ListenAndServe(addr, mux) //nolint:errcheck // a profiling build only
}
