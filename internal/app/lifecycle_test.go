package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jingdesk/jingdesk/internal/testkit"
)

// events records what the parts and the test did, in order.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

// index is where ev happened first, -1 if it did not.
func (e *events) index(ev string) int { return slices.Index(e.all(), ev) }

// before fails t unless every event happened, in the order given.
func (e *events) before(t *testing.T, order ...string) {
	t.Helper()
	last := -1
	for _, ev := range order {
		i := e.index(ev)
		if i < 0 || i < last {
			t.Fatalf("want %q in this order, got:\n%s", order, strings.Join(e.all(), "\n"))
		}
		last = i
	}
}

// recorded is a part that records its start and stop, failing its start
// with startErr.
func recorded(rec *events, name string, startErr error) component {
	return component{name: name,
		start: func(context.Context) error { rec.add("start " + name); return startErr },
		stop:  func(context.Context) error { rec.add("stop " + name); return nil }}
}

func TestPartsStartInOrderAndStopInReverseEachOnce(t *testing.T) {
	t.Parallel()
	rec := &events{}
	ctx, cancel := context.WithCancel(context.Background())
	parts := []component{recorded(rec, "database", nil), recorded(rec, "jobs", nil), {name: "pages"}, recorded(rec, "web", nil)}
	parts[3].start = func(context.Context) error { rec.add("start web"); cancel(); return nil } // a stop asked for once all run
	if err := (lifecycle{log: testkit.Quiet(), stopTimeout: time.Second}).run(ctx, parts, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"start database", "start jobs", "start web", "stop web", "stop jobs", "stop database"}
	if got := rec.all(); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestAFailedStartStopsOnlyThePartsStartedBeforeIt(t *testing.T) {
	t.Parallel()
	rec := &events{}
	broken := errors.New("no such catalog")
	parts := []component{recorded(rec, "database", nil), recorded(rec, "platform", broken), recorded(rec, "web", nil)}
	err := (lifecycle{log: testkit.Quiet(), stopTimeout: time.Second}).run(context.Background(), parts, nil)
	if !errors.Is(err, broken) {
		t.Fatalf("run: %v", err)
	}
	want := []string{"start database", "start platform", "stop database"}
	if got := rec.all(); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestAStartGivingUpOnAStopIsNoFailure(t *testing.T) {
	t.Parallel()
	rec := &events{}
	ctx, cancel := context.WithCancel(context.Background())
	slow := component{name: "reference data", start: func(ctx context.Context) error { cancel(); <-ctx.Done(); return ctx.Err() }}
	if err := (lifecycle{log: testkit.Quiet(), stopTimeout: time.Second}).run(ctx, []component{recorded(rec, "database", nil), slow}, nil); err != nil {
		t.Fatalf("a SIGTERM while starting made run fail: %v", err)
	}
	if !slices.Equal(rec.all(), []string{"start database", "stop database"}) {
		t.Fatalf("got %q", rec.all())
	}
}

func TestAPartThatCannotGoOnStopsTheOthers(t *testing.T) {
	t.Parallel()
	rec := &events{}
	failed := make(chan error, 1)
	died := errors.New("listener closed")
	web := recorded(rec, "web", nil)
	web.start = func(context.Context) error { failed <- died; return nil }
	err := (lifecycle{log: testkit.Quiet(), stopTimeout: time.Second}).run(context.Background(), []component{recorded(rec, "database", nil), web}, failed)
	if !errors.Is(err, died) {
		t.Fatalf("run: %v", err)
	}
	rec.before(t, "stop web", "stop database")
}

// The database closes only once a background goroutine, still busy for
// a while after it is told to stop, has returned; nothing stops before
// the context ends.
func TestTheDatabaseClosesOnlyAfterABackgroundPartHasReturned(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &events{}
		work := background("scheduled backups", func(ctx context.Context) {
			<-ctx.Done()
			time.Sleep(3 * time.Second) // finishing a backup
			rec.add("backup returned")
		})
		ctx, cancel := context.WithCancel(context.Background())
		l := lifecycle{log: testkit.Quiet(), stopTimeout: time.Minute, observe: rec.add}
		done := make(chan error, 1)
		go func() { done <- l.run(ctx, []component{recorded(rec, "database", nil), work}, nil) }()
		synctest.Wait()
		if got := rec.all(); !slices.Equal(got, []string{"start database", "started database", "started scheduled backups"}) {
			t.Fatalf("before the stop: %q", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		rec.before(t, "stopping scheduled backups", "backup returned", "stopped scheduled backups", "stop database")
	})
}

// A part still running when its stop's time is up is reported (the run
// fails), and the parts below it are stopped all the same.
func TestAPartThatOverrunsTheShutdownTimeoutIsReported(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &events{}
		release := make(chan struct{})
		stuck := background("send follow", func(context.Context) { <-release })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		began := time.Now()
		err := (lifecycle{log: testkit.Quiet(), stopTimeout: 20 * time.Second}).run(ctx, []component{recorded(rec, "database", nil), stuck}, nil)
		if !errors.Is(err, errStillRunning) || !strings.Contains(err.Error(), "send follow") {
			t.Fatalf("run: %v", err)
		}
		if waited := time.Since(began); waited != 20*time.Second {
			t.Fatalf("waited %v for the stuck part, want the shutdown timeout", waited)
		}
		if rec.index("stop database") < 0 {
			t.Fatal("the database was left open")
		}
		close(release)
	})
}

// A stop waits for the request in flight, and returns once it finished.
func TestTheWebServerStopWaitsForTheRequestInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		started, release := make(chan struct{}), make(chan struct{})
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-release
			w.Write([]byte("finished"))
		})
		ln := testkit.NewPipeListener()
		srv := newHTTPServer(slow, nil, testkit.Quiet())
		srv.serve(ln, func(err error) { t.Errorf("serve: %v", err) })
		transport := &http.Transport{DialContext: ln.Dial}
		defer transport.CloseIdleConnections()
		got := make(chan string, 1)
		go func() {
			resp, err := (&http.Client{Transport: transport}).Get("http://console/")
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got <- string(b)
		}()
		<-started
		stopped := make(chan error, 1)
		go func() { stopped <- srv.stop(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-stopped:
			t.Fatalf("the server stopped with a request in flight: %v", err)
		default:
		}
		close(release)
		if body := <-got; body != "finished" {
			t.Fatalf("in-flight request: %q", body)
		}
		if err := <-stopped; err != nil {
			t.Fatalf("stop: %v", err)
		}
	})
}
