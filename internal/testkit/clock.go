package testkit

import (
	"sync"
	"sync/atomic"
	"time"
)

// Clock is a time that stands still until the test moves it: for rules
// that depend on the date (a cache going stale, a lease running out)
// where real time must not change the outcome. Safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock is a Clock at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// OffsetClock is real time shifted by an offset the test moves, so a test
// can jump days ahead while rate windows and timeouts still see time
// pass. Its zero value is real time. Safe for concurrent use.
type OffsetClock struct{ off atomic.Int64 }

// Now is real time plus the offset.
func (c *OffsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

// Jump moves the offset on by d.
func (c *OffsetClock) Jump(d time.Duration) { c.off.Add(int64(d)) }
