package platform

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

type fakeNotifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (f *fakeNotifier) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ch
}

// switchNow closes the current channel, as the Manager does on a switch.
func (f *fakeNotifier) switchNow() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.ch)
	f.ch = make(chan struct{})
}

// In a synctest bubble time is the bubble's own: it moves only when every
// goroutine waits, so "ticks every 5 ms" is counted exactly, and an hour
// after Stop passes at once and proves that nothing runs any more.
func TestFollowTicksReactsToEverySwitchAndStops(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		conn := &fakeNotifier{ch: make(chan struct{})}
		var ticks, switches atomic.Int32
		f := Follow(conn, conn.Changed(), 5*time.Millisecond,
			func(context.Context) { ticks.Add(1) }, func(context.Context) { switches.Add(1) })
		time.Sleep(12 * time.Millisecond)
		synctest.Wait()
		if n := ticks.Load(); n != 2 {
			t.Fatalf("%d ticks in 12 ms at one every 5 ms, want 2", n)
		}
		conn.switchNow()
		synctest.Wait()
		if n := switches.Load(); n != 1 {
			t.Fatalf("%d switches seen after the first, want 1", n)
		}
		conn.switchNow() // a second switch is seen too: the channel is taken anew
		synctest.Wait()
		if n := switches.Load(); n != 2 {
			t.Fatalf("%d switches seen after the second, want 2", n)
		}
		f.Stop()
		f.Stop() // idempotent
		after := ticks.Load()
		conn.switchNow()
		time.Sleep(time.Hour) // 720,000 intervals, in the bubble's time
		synctest.Wait()
		if ticks.Load() != after || switches.Load() != 2 {
			t.Fatalf("work ran after Stop: %d ticks (was %d), %d switches", ticks.Load(), after, switches.Load())
		}
		var none *Follower
		none.Stop()
	})
}
