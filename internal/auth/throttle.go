package auth

import (
	"sync"
	"time"
)

// Throttle slows down password guessing. Each key (an account name or a
// client address) may fail Free times within Window; after that every
// further failure locks the key for a doubling delay, capped at MaxLock.
// A success clears the key. State is in memory: a restart forgets it,
// which is acceptable for an intranet console and keeps sign-in off disk.
type Throttle struct {
	Free     int
	Window   time.Duration
	BaseLock time.Duration
	MaxLock  time.Duration
	Now      func() time.Time

	mu    sync.Mutex
	state map[string]*throttleState
}

type throttleState struct {
	failures    int
	first       time.Time
	lockedUntil time.Time
}

// NewThrottle returns a throttle with the given free failures per window.
func NewThrottle(free int, window time.Duration) *Throttle {
	return &Throttle{Free: free, Window: window, BaseLock: 15 * time.Second, MaxLock: 15 * time.Minute,
		Now: time.Now, state: map[string]*throttleState{}}
}

// Wait returns how long the longest-locked of keys must still wait (0: go ahead).
func (t *Throttle) Wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	var wait time.Duration
	for _, k := range keys {
		if st, ok := t.state[k]; ok && st.lockedUntil.After(now) {
			wait = max(wait, st.lockedUntil.Sub(now))
		}
	}
	return wait
}

// Fail records a failed attempt against every key.
func (t *Throttle) Fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	t.sweep(now)
	for _, k := range keys {
		st, ok := t.state[k]
		if !ok || now.Sub(st.first) > t.Window && !st.lockedUntil.After(now) {
			st = &throttleState{first: now}
			t.state[k] = st
		}
		st.failures++
		if over := st.failures - t.Free; over > 0 {
			lock := t.BaseLock << min(over-1, 16)
			st.lockedUntil = now.Add(min(lock, t.MaxLock))
		}
	}
}

// Succeed clears keys after a successful sign-in.
func (t *Throttle) Succeed(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		delete(t.state, k)
	}
}

// sweep drops stale entries so the map cannot grow without bound.
func (t *Throttle) sweep(now time.Time) {
	if len(t.state) < 10000 {
		return
	}
	for k, st := range t.state {
		if now.Sub(st.first) > t.Window && !st.lockedUntil.After(now) {
			delete(t.state, k)
		}
	}
}
