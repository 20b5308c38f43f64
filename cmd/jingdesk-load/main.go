// Command jingdesk-load measures the console's pages as a user meets
// them (issue 18): it syncs a console's copy from a sandbox of --leads
// leads (kept in a cache directory, $JINGDESK_PERF_CACHE or
// ~/.cache/jingdesk-perf, as building it takes minutes), starts the real
// jingdesk binary on it on loopback, measures every page one request at a
// time (cache misses, and the board's cache hit apart) and a mixed load
// against a static file from the same process, and prints the markdown
// tables of docs/performance.md.
//
//	go run ./cmd/jingdesk-load                  # 100,000 leads
//	go run ./cmd/jingdesk-load --leads 300000
//	go run ./cmd/jingdesk-load --leads 1000000 --scale-from 100000
//	go run ./cmd/jingdesk-load --binary ./jingdesk-old   # another build
//	go run ./cmd/jingdesk-load --only 'search \+ owner' --rounds 20 --load-for 0   # one page
//	go run ./cmd/jingdesk-load --soak 10m   # the mixed load for 10 minutes, memory sampled every 10 s
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/perf"
)

func main() {
	var o perf.Options
	flag.IntVar(&o.Leads, "leads", 100_000, "leads in the sandbox and the console's copy")
	flag.IntVar(&o.ScaleFrom, "scale-from", 0, "make the copy by repeating the synced copy of this many leads (minutes) instead of syncing --leads (an hour at 1,000,000)")
	flag.StringVar(&o.Binary, "binary", "", "the jingdesk binary to measure (default: built now from this checkout)")
	flag.IntVar(&o.Rounds, "rounds", 25, "times each page is asked, each time with filters drawn anew (the median is reported: a search's cost depends on its word, and three draws gave medians from 5 to 17 ms)")
	only := flag.String("only", "", "measure only the pages whose name matches this regular expression (profiling one page)")
	flag.IntVar(&o.Conns, "conns", 50, "connections of the mixed load")
	flag.DurationVar(&o.LoadFor, "load-for", 10*time.Second, "duration of each load phase (pages, then the static file); 0: no load run")
	flag.DurationVar(&o.Soak, "soak", 0, "instead of the pages and the load run, the mixed load for this long, the server's RSS and Go heap sampled as it runs (does it grow?)")
	flag.DurationVar(&o.SoakEvery, "soak-every", 10*time.Second, "how often a soak samples the server's memory")
	flag.StringVar(&o.SandboxAddr, "sandbox-addr", "127.0.0.1:47918", "where the sandbox listens (the cached copy belongs to this address)")
	seed := flag.Uint64("seed", 1, "seed of the random filters")
	verbose := flag.Bool("v", false, "log progress to standard error")
	flag.Parse()
	o.Seed = *seed
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fail(fmt.Errorf("--only: %w", err))
		}
		o.Only = re
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	zone, err := time.LoadLocation("Asia/Shanghai") // the console's default --timezone
	if err != nil {
		fail(err)
	}
	o.Zone = zone
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.Binary == "" {
		dir, err := os.MkdirTemp("", "jingdesk-load-bin-")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(dir)
		o.Binary = filepath.Join(dir, "jingdesk")
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", o.Binary, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fail(fmt.Errorf("building jingdesk: %w", err))
		}
	}
	rep, err := perf.Run(ctx, o)
	if err != nil {
		fail(err)
	}
	rep.Markdown(os.Stdout, "go run ./cmd/jingdesk-load "+strings.Join(os.Args[1:], " "))
	if rep.Warnings != "" {
		fmt.Fprintf(os.Stderr, "\nthe server logged:\n%s", rep.Warnings)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "jingdesk-load:", err)
	os.Exit(1)
}
