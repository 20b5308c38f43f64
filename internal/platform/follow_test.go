package platform

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
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

func TestFollowTicksReactsToEverySwitchAndStops(t *testing.T) {
	conn := &fakeNotifier{ch: make(chan struct{})}
	var ticks, switches atomic.Int32
	f := Follow(conn, conn.Changed(), 5*time.Millisecond,
		func(context.Context) { ticks.Add(1) }, func(context.Context) { switches.Add(1) })
	waitFor(t, "ticks", func() bool { return ticks.Load() >= 3 })
	conn.switchNow()
	waitFor(t, "the first switch", func() bool { return switches.Load() == 1 })
	conn.switchNow() // a second switch is seen too: the channel is taken anew
	waitFor(t, "the second switch", func() bool { return switches.Load() == 2 })
	f.Stop()
	f.Stop() // idempotent
	after := ticks.Load()
	conn.switchNow()
	time.Sleep(20 * time.Millisecond) // proving an absence: nothing may run after Stop
	if ticks.Load() != after || switches.Load() != 2 {
		t.Fatalf("work ran after Stop: %d ticks (was %d), %d switches", ticks.Load(), after, switches.Load())
	}
	var none *Follower
	none.Stop()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
