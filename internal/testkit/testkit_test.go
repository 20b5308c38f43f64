package testkit

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// recorder is a testing.TB whose Fatalf is kept, not reported, and ends
// the goroutine as the real one does.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.Fatal(fmt.Sprintf(format, args...)) }

func (r *recorder) Fatal(args ...any) {
	r.mu.Lock()
	r.failed = fmt.Sprint(args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// run calls f with a recorder on a goroutine of its own (Fatalf ends it)
// and returns what it failed with, "" when it did not.
func run(t *testing.T, f func(tb testing.TB)) string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var ready atomic.Bool
		time.AfterFunc(3*time.Second, func() { ready.Store(true) })
		start := time.Now()
		if failed := run(t, func(tb testing.TB) { WaitFor(tb, "ready", ready.Load) }); failed != "" {
			t.Fatal(failed)
		}
		if waited := time.Since(start); waited < 3*time.Second || waited > 3*time.Second+25*time.Millisecond {
			t.Fatalf("returned %v after the start; the condition held after 3 s", waited)
		}
	})
}

func TestWaitWithinFailsAtItsDeadlineNamingTheWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		failed := run(t, func(tb testing.TB) { WaitWithin(tb, time.Minute, "the moon", func() bool { return false }) })
		if !strings.Contains(failed, "waiting for the moon") {
			t.Fatalf("failure %q does not name the wait", failed)
		}
		if waited := time.Since(start); waited < time.Minute || waited > time.Minute+25*time.Millisecond {
			t.Fatalf("failed %v after the start, want at the 1-minute deadline", waited)
		}
	})
}

func TestAwaitReturnsTheValueAndReportsTheLastSeen(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int64
		get := func() (int64, error) {
			v := n.Add(1)
			if v < 3 {
				return 0, errors.New("no row yet")
			}
			return v, nil
		}
		var got int64
		if failed := run(t, func(tb testing.TB) { got = Await(tb, "five", get, func(v int64) bool { return v >= 5 }) }); failed != "" {
			t.Fatal(failed)
		}
		if got != 5 {
			t.Fatalf("Await returned %d, want the first value that held (5)", got)
		}

		failed := run(t, func(tb testing.TB) {
			Await(tb, "a row", func() (int, error) { return 0, errors.New("no such row") }, func(int) bool { return true })
		})
		if !strings.Contains(failed, "waiting for a row") || !strings.Contains(failed, "no such row") {
			t.Fatalf("failure %q does not say what was awaited and the last error", failed)
		}
		failed = run(t, func(tb testing.TB) {
			Await(tb, "seven", func() (int, error) { return 6, nil }, func(v int) bool { return v == 7 })
		})
		if !strings.Contains(failed, "last seen: 6") {
			t.Fatalf("failure %q does not show the last value", failed)
		}
	})
}

func TestMustStopsOnAnError(t *testing.T) {
	t.Parallel()
	if failed := run(t, func(tb testing.TB) { Must(tb, nil) }); failed != "" {
		t.Fatalf("Must failed on nil: %s", failed)
	}
	reached := false
	failed := run(t, func(tb testing.TB) {
		Must(tb, errors.New("boom"))
		reached = true
	})
	if failed != "boom" || reached {
		t.Fatalf("Must on an error: failed with %q, went on %v", failed, reached)
	}
}

func TestClockStandsStillUntilAdvanced(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_800_000_000, 0)
	c := NewClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("a new clock reads %v, want %v", c.Now(), start)
	}
	c.Advance(90 * time.Minute)
	if got := c.Now().Sub(start); got != 90*time.Minute {
		t.Fatalf("advanced by %v, want 90m", got)
	}
}

func TestOffsetClockRunsAheadByItsJumps(t *testing.T) {
	t.Parallel()
	var c OffsetClock
	c.Jump(48 * time.Hour)
	ahead := time.Until(c.Now())
	if ahead < 47*time.Hour || ahead > 48*time.Hour {
		t.Fatalf("%v ahead of real time, want 48h", ahead)
	}
}
