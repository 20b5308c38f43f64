// Package testkit holds what the tests of every package share: waits that
// poll with a deadline (never a sleep that hopes the work is done), clocks
// a test moves by hand, a logger that writes nowhere, Must, and an
// in-memory listener for servers inside a testing/synctest bubble. It
// imports no package of the console, so the tests of any package (db and
// jobs included) can use it; the fixtures of the console's parts (a
// sandbox tenant, a client of it, a database, a job runner) are in
// testkit/fixture.
//
// To show that something does NOT happen, do not wait a while and look:
// run the test in a testing/synctest bubble, where synctest.Wait returns
// once every goroutine is blocked, so the absence is proven, not hoped
// (internal/platform's follow_test.go, internal/app's lifecycle_test.go).
package testkit

import (
	"fmt"
	"log/slog"
	"testing"
	"time"
	"unicode/utf8"
)

// Quiet is a logger that discards everything.
func Quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Must fails the test at once on an error.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Closed reports whether ch is closed, without waiting.
func Closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// WaitFor polls cond until it holds, failing the test with what it waited
// for after Deadline.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitWithin(t, Deadline, what, cond)
}

// WaitWithin is WaitFor with a deadline of its own.
func WaitWithin(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(limit, cond) {
		t.Fatalf("timed out after %v waiting for %s", limit, what)
	}
}

// Await polls get until ok holds for what it returns, and returns that
// value. An error from get is a state to wait past (a row not written
// yet); after Deadline the test fails with the last value and error seen.
func Await[T any](t testing.TB, what string, get func() (T, error), ok func(T) bool) T {
	t.Helper()
	var last T
	var lastErr error
	done := poll(Deadline, func() bool {
		last, lastErr = get()
		return lastErr == nil && ok(last)
	})
	if !done {
		state := fmt.Sprintf("%+v", last)
		if lastErr != nil {
			state = lastErr.Error()
		}
		t.Fatalf("timed out after %v waiting for %s; last seen: %s", Deadline, what, clip(state))
	}
	return last
}

// maxShown is how much of the last value a failed Await shows: enough to
// see a state, not a whole preview of rows.
const maxShown = 1000

// clip cuts s to at most maxShown bytes, at a character boundary.
func clip(s string) string {
	if len(s) <= maxShown {
		return s
	}
	n := maxShown
	for !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// poll checks cond at once, then at growing intervals (1 ms up to 25 ms:
// quick for work that is nearly done, cheap for work that is not) until it
// holds or limit has passed, and reports whether it held.
func poll(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause) // polling, bounded by the deadline
		pause = min(2*pause, 25*time.Millisecond)
	}
	return true
}
