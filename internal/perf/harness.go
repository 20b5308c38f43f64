package perf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
)

// Options of a run of the harness.
type Options struct {
	Leads int
	// ScaleFrom, when set below Leads, makes the copy by repeating the
	// synced copy of that many leads (ScaledCopy) instead of syncing Leads.
	ScaleFrom int
	Binary    string // the jingdesk binary measured
	Rounds    int    // each page is asked this many times (median reported)
	// Only, when set, keeps the pages whose name it matches (profiling
	// one page; the table is then not docs/performance.md's).
	Only    *regexp.Regexp
	Conns   int           // connections of the mixed load
	LoadFor time.Duration // each of the two load phases; 0: no load run
	// Soak, when set, replaces the pages and the load run by the mixed
	// load for this long, the server's memory sampled every SoakEvery.
	Soak, SoakEvery time.Duration
	// SandboxAddr is where the sandbox listens: fixed, because the copy
	// belongs to the connection named by its URL (a cached copy is kept
	// per address).
	SandboxAddr string
	Zone        *time.Location // the console's (--timezone); dates of the filters are in it
	Seed        uint64
	Log         *slog.Logger
}

// Measured is one page's figures.
type Measured struct {
	Case
	Times []time.Duration // one per round
	Bytes int             // the page's size
	Wire  int             // on the wire
	Err   error
}

// Median of the rounds.
func (m Measured) Median() time.Duration { return median(m.Times) }

// Slowest round.
func (m Measured) Slowest() time.Duration { return slices.Max(m.Times) }

// Load is the mixed load's and the static file's figures.
type Load struct {
	Conns                    int
	For                      time.Duration
	Pages, Static            LoadFigures
	PagesByGroup             map[string]int
	BoardHitsAvoided, Repeat int
}

// LoadFigures are one phase's.
type LoadFigures struct {
	Requests, Errors int
	PerSecond        float64
	P50, P99         time.Duration
	// ServerCPU is the processor time the server used in the phase: per
	// request, what a page costs whatever the machine's other load.
	ServerCPU time.Duration
}

// CPUPerRequest is the server's processor time per answered request.
func (f LoadFigures) CPUPerRequest() time.Duration {
	if f.Requests == 0 {
		return 0
	}
	return f.ServerCPU / time.Duration(f.Requests)
}

// Memory is the server's resident memory at points of the run, MiB.
type Memory struct {
	Idle, AfterPages, AfterLoad, Peak float64
	Quiet                             float64 // quietWait after the load
}

// Report is a run's result.
type Report struct {
	Options
	Built    bool          // the copy was built now (not taken from the cache)
	Start    time.Duration // the console's start to /healthz
	Pages    []Measured
	Load     Load
	Memory   Memory
	Soak     *Soak  // a soak run's, instead of Pages and Load
	Warnings string // what the server logged at warn or above
	// Load is the machine's load average (1 minute) as the pages were
	// measured and after the load run: other work on the same cores
	// slows every figure.
	LoadAvg [2]string
}

// loadAverage is the 1-minute load average, or "" where /proc has none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// Run builds (or takes from the cache) the copy of o.Leads leads, starts
// the console on it and measures.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	rep := &Report{Options: o}
	d := Dataset{Leads: o.Leads}
	scaled := o.ScaleFrom > 0 && o.ScaleFrom < o.Leads
	if scaled {
		d.Leads = o.ScaleFrom
	}
	cfg, err := d.SandboxConfig()
	if err != nil {
		return nil, err
	}
	o.Log.Info("starting the sandbox", "leads", d.Leads)
	sb, err := sandbox.Start(cfg, o.SandboxAddr)
	if err != nil {
		return nil, err
	}
	defer sb.Close(context.Background())
	data, err := os.MkdirTemp("", "jingdesk-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(data)
	if err := os.Chmod(data, 0o700); err != nil {
		return nil, err
	}
	o.Log.Info("copying the synced copy (built when not cached)")
	if scaled {
		rep.Built, err = ScaledCopy(ctx, d, o.Leads, sb.URL, filepath.Join(data, "jingdesk.db"), o.Log)
	} else {
		rep.Built, err = Copy(ctx, d, sb.URL, filepath.Join(data, "jingdesk.db"), o.Log)
	}
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	con, err := StartConsole(ctx, o.Binary, data, sb.URL)
	if err != nil {
		return nil, err
	}
	rep.Start = time.Since(t0)
	o.Log.Info("the console answers; waiting for its start-up jobs", "after", rep.Start)
	defer func() {
		con.Stop()
		rep.Warnings = con.Logs()
	}()
	if err := con.WaitIdle(ctx, 10*time.Minute); err != nil {
		return nil, err
	}
	// Idle means quiet: the console hands back what its start used once
	// no request has come for idletrim.Quiet.
	if !waitQuiet(ctx) {
		return nil, ctx.Err()
	}
	rep.Memory.Idle, _, _ = con.Memory()
	o.Log.Info("idle", "after", time.Since(t0), "rss_mb", rep.Memory.Idle)
	cl, err := con.SignIn(ctx, 1)
	if err != nil {
		return nil, err
	}
	ch, err := ReadChoices(ctx, filepath.Join(data, "jingdesk.db"), o.Zone)
	if err != nil {
		return nil, err
	}
	if err := ch.readCrowds(ctx, con, cl); err != nil {
		return nil, err
	}
	static, err := staticPath(ctx, cl)
	if err != nil {
		return nil, err
	}
	cases := ch.Cases(static)
	measured := cases
	if o.Only != nil {
		measured = slices.DeleteFunc(slices.Clone(cases), func(c Case) bool { return !o.Only.MatchString(c.Name) })
		if len(measured) == 0 {
			return nil, fmt.Errorf("perf: no page's name matches %s", o.Only)
		}
	}
	r := rand.New(rand.NewPCG(o.Seed, 18))
	asked := map[string]bool{}
	if o.Soak > 0 {
		o.Log.Info("soak: the mixed load", "connections", o.Conns, "for", o.Soak)
		rep.LoadAvg[0] = loadAverage()
		rep.Soak, err = soak(ctx, con, newMixedPaths(cases, r, asked), o)
		_, rep.Memory.Peak, _ = con.Memory()
		rep.LoadAvg[1] = loadAverage()
		return rep, err
	}
	o.Log.Info("measuring pages one at a time", "cases", len(measured), "rounds", o.Rounds)
	rep.LoadAvg[0] = loadAverage()
	for _, c := range measured {
		m := Measured{Case: c}
		for range o.Rounds {
			d, body, wire, err := measureOnce(ctx, cl, c, r, asked)
			if errors.Is(err, errNoFreshPath) && len(m.Times) > 0 {
				break // a board shape with few paths: its rounds are fewer (the report says how many)
			}
			if err != nil {
				m.Err = err
				break
			}
			m.Times, m.Bytes, m.Wire = append(m.Times, d), body, wire
		}
		rep.Pages = append(rep.Pages, m)
	}
	rep.Memory.AfterPages, _, _ = con.Memory()
	if o.LoadFor <= 0 {
		rep.LoadAvg[1] = loadAverage()
		return rep, nil
	}
	o.Log.Info("mixed load", "connections", o.Conns, "for", o.LoadFor)
	if rep.Load, err = mixedLoad(ctx, con, cases, r, asked, o); err != nil {
		return nil, err
	}
	rep.Memory.AfterLoad, rep.Memory.Peak, _ = con.Memory()
	rep.LoadAvg[1] = loadAverage()
	if !waitQuiet(ctx) {
		return nil, ctx.Err()
	}
	rep.Memory.Quiet, _, _ = con.Memory()
	return rep, nil
}

var stylesheet = regexp.MustCompile(`href="(/static/[^"]*app[^"]*\.css)"`)

// staticPath is the stylesheet's URL as pages link it.
func staticPath(ctx context.Context, cl *Client) (string, error) {
	body, _, err := cl.Get(ctx, "/crowds")
	if err != nil {
		return "", err
	}
	m := stylesheet.FindSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("perf: no stylesheet linked")
	}
	return string(m[1]), nil
}

// errNoFreshPath is measureOnce's answer when every board path of a case
// it can draw was asked already (a shape with few values, such as a
// business type alone).
var errNoFreshPath = errors.New("no path left that was not asked")

// measureOnce asks for one page of c, timed. A board's path is one never
// asked before in the run, so no cache holds it; for a cache hit, a new
// path is asked twice and the second timed.
func measureOnce(ctx context.Context, cl *Client, c Case, r *rand.Rand, asked map[string]bool) (time.Duration, int, int, error) {
	path := c.Path(r)
	if c.Group == "board" {
		// Only the board is cached: its paths are never asked twice.
		for try := 0; asked[path] && try < 100; try++ {
			path = c.Path(r)
		}
		if asked[path] {
			return 0, 0, 0, fmt.Errorf("perf: %s: %w", c.Name, errNoFreshPath)
		}
	}
	asked[path] = true
	if c.Hit {
		if _, _, err := cl.Get(ctx, path); err != nil {
			return 0, 0, 0, err
		}
	}
	t0 := time.Now()
	body, wire, err := cl.Get(ctx, path)
	return time.Since(t0), len(body), wire, err
}

// mixedLoad runs o.Conns connections of board, list and scores pages
// with random filters (a board's path is never asked twice: no cache
// hit) for o.LoadFor, then the static file over as many connections for
// as long, from the same process in the same run.
func mixedLoad(ctx context.Context, con *Console, cases []Case, r *rand.Rand, asked map[string]bool, o Options) (Load, error) {
	ld := Load{Conns: o.Conns, For: o.LoadFor, PagesByGroup: map[string]int{}}
	mix := newMixedPaths(cases, r, asked)
	var err error
	if ld.Pages, err = loadPhase(ctx, con, o.Conns, o.LoadFor, mix.next, nil); err != nil {
		return ld, err
	}
	ld.PagesByGroup, ld.Repeat = mix.byGroup, mix.repeat
	path := mix.static.Path(r)
	ld.Static, err = loadPhase(ctx, con, o.Conns, o.LoadFor, func() string { return path }, nil)
	return ld, err
}

// mixedPaths draws the mixed load's requests: a board, list or scores
// page with random filters, a board's path never asked before (no cache
// hit). Safe for concurrent use.
type mixedPaths struct {
	mu      sync.Mutex // r, asked and the counts
	r       *rand.Rand
	asked   map[string]bool
	pages   []Case
	static  Case
	byGroup map[string]int
	repeat  int
}

func newMixedPaths(cases []Case, r *rand.Rand, asked map[string]bool) *mixedPaths {
	m := &mixedPaths{r: r, asked: asked, byGroup: map[string]int{}}
	for _, c := range cases {
		switch {
		case c.Group == "static":
			m.static = c
		case !c.Hit && (c.Group == "board" || c.Group == "list" || c.Group == "scores"):
			m.pages = append(m.pages, c)
		}
	}
	return m
}

func (m *mixedPaths) next() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		c := m.pages[m.r.IntN(len(m.pages))]
		path := c.Path(m.r)
		if c.Group == "board" && m.asked[path] {
			m.repeat++
			continue
		}
		m.asked[path] = true
		m.byGroup[c.Group]++
		return path
	}
}

// loadPhase asks for next() over conns connections for d; answered, when
// not nil, counts the answers as they come.
func loadPhase(ctx context.Context, con *Console, conns int, d time.Duration, next func() string, answered *atomic.Int64) (LoadFigures, error) {
	cl, err := con.SignIn(ctx, conns)
	if err != nil {
		return LoadFigures{}, err
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		times  []time.Duration
		errors atomic.Int64
	)
	cpu0, _ := con.CPU()
	start := time.Now()
	deadline := start.Add(d)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if _, _, err := cl.Get(ctx, next()); err != nil {
					errors.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
				if answered != nil {
					answered.Add(1)
				}
			}
			mu.Lock()
			times = append(times, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	cpu1, _ := con.CPU()
	f := LoadFigures{Requests: len(times), Errors: int(errors.Load()), PerSecond: float64(len(times)) / took.Seconds(), ServerCPU: cpu1 - cpu0}
	if len(times) > 0 {
		slices.Sort(times)
		f.P50, f.P99 = times[len(times)/2], times[len(times)*99/100]
	}
	return f, ctx.Err()
}

func median(ts []time.Duration) time.Duration {
	if len(ts) == 0 {
		return 0
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[len(s)/2]
}
