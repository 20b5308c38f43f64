package platform

import (
	"context"
	"time"
)

// Notifier tells when the live connection is replaced (a *Manager).
type Notifier interface {
	Changed() <-chan struct{}
}

// Follower runs the upkeep of a copy of platform data (reference data,
// leads): scheduled work every interval, and a reaction each time the live
// connection is replaced, until Stop.
type Follower struct {
	stop context.CancelFunc
	done chan struct{}
}

// Follow starts the upkeep. changed must be taken from conn.Changed()
// before the caller's own first work, so a switch during it is not missed.
// onTick and onSwitch run one at a time, on the follower's goroutine.
func Follow(conn Notifier, changed <-chan struct{}, every time.Duration, onTick, onSwitch func(context.Context)) *Follower {
	ctx, stop := context.WithCancel(context.Background())
	f := &Follower{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				changed = conn.Changed()
				onSwitch(ctx)
			case <-tick.C:
				onTick(ctx)
			}
		}
	}()
	return f
}

// Stop ends the upkeep and waits for work under way; stopping twice, or a
// nil Follower, does nothing.
func (f *Follower) Stop() {
	if f == nil {
		return
	}
	f.stop()
	<-f.done
}
