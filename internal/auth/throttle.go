package auth

import (
	"sync"
	"time"
)

// Throttle slows down password guessing. Each key (an account name or a
// client address) has Free attempts within Window. An attempt is counted
// when it begins, before the password is checked, so parallel guesses
// spend the same budget as sequential ones: the attempt that uses the
// last free one arms a lock (15 s, then doubling up to MaxLock for each
// attempt after it) that refuses every other attempt until it expires or
// that attempt turns out to be right. No key has more than InFlight
// password checks running at once. State is in memory: a restart forgets
// it, which is acceptable for an intranet console and keeps sign-in off
// disk.
type Throttle struct {
	Free     int
	Window   time.Duration
	BaseLock time.Duration
	MaxLock  time.Duration
	InFlight int
	Now      func() time.Time

	mu    sync.Mutex
	state map[string]*throttleState
}

type throttleState struct {
	attempts    int // begun within the window, minus those that succeeded
	first       time.Time
	lockedUntil time.Time
	inFlight    int
}

// Busy is the wait given to an attempt refused because its keys already
// have InFlight checks running: it is not counted and may retry at once.
const Busy = time.Second

// NewThrottle returns a throttle with the given free attempts per window.
func NewThrottle(free int, window time.Duration) *Throttle {
	return &Throttle{Free: free, Window: window, BaseLock: 15 * time.Second, MaxLock: 15 * time.Minute,
		InFlight: 2, Now: time.Now, state: map[string]*throttleState{}}
}

// Attempt is one sign-in attempt that Begin let through; exactly one of
// Fail and Succeed ends it (later calls do nothing).
type Attempt struct {
	t    *Throttle
	keys []string
	done bool
}

// Begin counts an attempt against every key and lets it through, or
// refuses it with how long to wait: the longest lock of its keys, or Busy
// when a key has InFlight checks running. A refused attempt is not
// counted and checks no password.
func (t *Throttle) Begin(keys ...string) (*Attempt, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	t.sweep(now)
	var wait time.Duration
	busy := false
	for _, k := range keys {
		st := t.fresh(k, now)
		if st.lockedUntil.After(now) {
			wait = max(wait, st.lockedUntil.Sub(now))
		}
		busy = busy || st.inFlight >= t.InFlight
	}
	switch {
	case wait > 0:
		return nil, wait
	case busy:
		return nil, Busy
	}
	for _, k := range keys {
		st := t.state[k]
		st.attempts++
		st.inFlight++
		if over := st.attempts - t.Free; over >= 0 {
			st.lockedUntil = now.Add(min(t.BaseLock<<min(over, 16), t.MaxLock))
		}
	}
	return &Attempt{t: t, keys: keys}, 0
}

// fresh returns k's state, starting it again when its window has passed
// and it is not locked.
func (t *Throttle) fresh(k string, now time.Time) *throttleState {
	st, ok := t.state[k]
	if !ok || now.Sub(st.first) > t.Window && !st.lockedUntil.After(now) && st.inFlight == 0 {
		st = &throttleState{first: now}
		t.state[k] = st
	}
	return st
}

// Fail ends an attempt whose password was wrong: it stays counted.
func (a *Attempt) Fail() {
	a.end(func(string, *throttleState) {})
}

// Succeed ends an attempt whose password was right. The keys in clear
// (the account) start afresh; every other key (the address, which other
// accounts share) only has this attempt taken back.
func (a *Attempt) Succeed(clear ...string) {
	a.end(func(k string, st *throttleState) {
		for _, c := range clear {
			if c == k {
				st.attempts, st.lockedUntil = 0, time.Time{}
				return
			}
		}
		st.attempts--
		if st.attempts < a.t.Free {
			st.lockedUntil = time.Time{} // the lock this attempt armed
		}
	})
}

func (a *Attempt) end(settle func(string, *throttleState)) {
	if a == nil {
		return
	}
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	if a.done {
		return
	}
	a.done = true
	for _, k := range a.keys {
		if st, ok := a.t.state[k]; ok {
			st.inFlight--
			settle(k, st)
		}
	}
}

// sweep drops stale entries so the map cannot grow without bound.
func (t *Throttle) sweep(now time.Time) {
	if len(t.state) < 10000 {
		return
	}
	for k, st := range t.state {
		if now.Sub(st.first) > t.Window && !st.lockedUntil.After(now) && st.inFlight == 0 {
			delete(t.state, k)
		}
	}
}
