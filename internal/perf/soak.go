package perf

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jingdesk/jingdesk/internal/idletrim"
)

// Sample is the server's memory at one moment of a soak, MiB.
type Sample struct {
	At        time.Duration // since the soak began
	RSS       float64
	HeapAlloc float64 // the Go heap, garbage included
	HeapLive  float64 // live after the last collection (0: the binary does not say)
	Answered  int64   // requests answered so far
}

// Soak is a soak run's figures: the mixed load for a long while, the
// server's memory sampled as it runs, then once it has been quiet.
type Soak struct {
	Conns   int
	For     time.Duration
	Load    LoadFigures
	Samples []Sample
	Quiet   Sample // quietWait after the load stopped
}

// soak runs the mixed load (mix) for o.Soak, sampling every o.SoakEvery.
func soak(ctx context.Context, con *Console, mix *mixedPaths, o Options) (*Soak, error) {
	every := o.SoakEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	s := &Soak{Conns: o.Conns, For: o.Soak}
	var answered atomic.Int64
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		var err error
		s.Load, err = loadPhase(ctx, con, o.Conns, o.Soak, mix.next, &answered)
		done <- err
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return s, err
			}
			if !waitQuiet(ctx) {
				return s, ctx.Err()
			}
			s.Quiet = con.sample(ctx, start, &answered)
			return s, nil
		case <-tick.C:
			smp := con.sample(ctx, start, &answered)
			s.Samples = append(s.Samples, smp)
			o.Log.Info("soak", "at", smp.At.Round(time.Second), "rss_mb", smp.RSS, "heap_live_mb", smp.HeapLive, "answered", smp.Answered)
		}
	}
}

// quietWait is how long the harness lets the console rest before it reads
// its idle memory: past idletrim.Quiet, after which the console hands
// back what it used.
const quietWait = idletrim.Quiet + 5*time.Second

// waitQuiet lets the console rest for quietWait; false when ctx ended.
func waitQuiet(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(quietWait):
		return true
	}
}

func (c *Console) sample(ctx context.Context, start time.Time, answered *atomic.Int64) Sample {
	s := Sample{At: time.Since(start), Answered: answered.Load()}
	s.RSS, _, _ = c.Memory()
	m, _ := c.goMemory(ctx)
	s.HeapAlloc, s.HeapLive = m["go_memstats_heap_alloc_bytes"]/(1<<20), m["go_gc_heap_live_bytes"]/(1<<20)
	return s
}

// goMemory reads the console's go_* gauges from its /metrics.
func (c *Console) goMemory(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.MetricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && strings.HasPrefix(name, "go_") {
			out[name], _ = strconv.ParseFloat(value, 64)
		}
	}
	return out, sc.Err()
}

// Growth compares the highest RSS and live heap of the soak's last minute
// with those of its second (the first is warming up: caches, pools, the
// heap finding its size). It grows when the last minute is more than 10 %
// above the second.
func (s *Soak) Growth() (second, last Sample, grows bool) {
	peak := func(from, to time.Duration) Sample {
		var p Sample
		for _, x := range s.Samples {
			if x.At >= from && x.At < to {
				p.RSS, p.HeapLive = max(p.RSS, x.RSS), max(p.HeapLive, x.HeapLive)
			}
		}
		return p
	}
	end := s.Samples[len(s.Samples)-1].At + time.Nanosecond
	second, last = peak(time.Minute, 2*time.Minute), peak(end-time.Minute, end)
	grows = last.RSS > second.RSS*1.10 || last.HeapLive > second.HeapLive*1.10
	return second, last, grows
}

// soakMarkdown writes a soak run's series and verdict.
func (rep *Report) soakMarkdown(w io.Writer, command string) {
	s := rep.Soak
	fmt.Fprintf(w, "%d leads, `%s`: the mixed load (board, list and scores pages with random filters, no cache hit) over %d connections for %s, "+
		"the server's memory sampled every %s. The machine's load average (1 min, %d cores): %s before, %s after.\n\n",
		rep.Leads, command, s.Conns, s.For, rep.sampleEvery(), runtime.NumCPU(), rep.LoadAvg[0], rep.LoadAvg[1])
	fmt.Fprintf(w, "%d requests answered (%.0f/s, p50 %s ms, p99 %s ms), %d errors.\n\n", s.Load.Requests, s.Load.PerSecond, ms(s.Load.P50), ms(s.Load.P99), s.Load.Errors)
	fmt.Fprintln(w, "| At | RSS MB | Go heap MB (with garbage) | Go heap live MB | Answered |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	row := func(at string, x Sample) {
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.1f | %d |\n", at, x.RSS, x.HeapAlloc, x.HeapLive, x.Answered)
	}
	for _, x := range s.Samples {
		row(x.At.Round(time.Second).String(), x)
	}
	row(fmt.Sprintf("%s after the load", quietWait), s.Quiet)
	if len(s.Samples) == 0 || s.Samples[len(s.Samples)-1].At < 3*time.Minute {
		fmt.Fprintln(w, "\nToo short a soak to compare minutes (3 minutes at least).")
		return
	}
	second, last, grows := s.Growth()
	verdict := "no growth"
	if grows {
		verdict = "**grows**"
	}
	fmt.Fprintf(w, "\nHighest in the second minute: RSS %.0f MB, live heap %.1f MB; in the last minute: RSS %.0f MB, live heap %.1f MB: %s "+
		"(growth: the last minute more than 10 %% above the second). Peak RSS of the whole run: %.0f MB.\n",
		second.RSS, second.HeapLive, last.RSS, last.HeapLive, verdict, rep.Memory.Peak)
}

func (rep *Report) sampleEvery() time.Duration {
	if rep.SoakEvery > 0 {
		return rep.SoakEvery
	}
	return 10 * time.Second
}
