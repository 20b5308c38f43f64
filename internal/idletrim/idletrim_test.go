package idletrim

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func counting() (*Trimmer, *atomic.Int32) {
	var n atomic.Int32
	return &Trimmer{quiet: Quiet, free: func() { n.Add(1) }}, &n
}

// after lets d pass in the bubble, then fails t unless n is want.
func after(t *testing.T, d time.Duration, n *atomic.Int32, want int32, when string) {
	t.Helper()
	time.Sleep(d)
	synctest.Wait()
	if got := n.Load(); got != want {
		t.Fatalf("%d times %s, want %d", got, when, want)
	}
}

// Memory is handed back once, Quiet after the last activity, and never
// while activity keeps coming.
func TestFreesOnceAfterQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, freed := counting()
		for range 10 { // busy for 10 × 20 s: never quiet for 30 s
			tr.Busy()
			after(t, 20*time.Second, freed, 0, "freed while busy")
		}
		after(t, Quiet, freed, 1, "freed after a quiet spell")
		after(t, 10*Quiet, freed, 1, "freed while nothing happened")
		tr.Busy() // the next busy spell ends in a trim of its own
		after(t, Quiet+time.Second, freed, 2, "freed after a second spell")
	})
}

func TestNilTrimmerIsQuiet(t *testing.T) {
	var tr *Trimmer
	tr.Busy() // the console's tests run web without one
}

// NewReleasing runs its release with each hand-back, Quiet after the
// last activity, never while busy.
func TestReleasingRunsItsReleaseWhenQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var released atomic.Int32
		tr := NewReleasing(func() { released.Add(1) })
		tr.Busy()
		after(t, Quiet/2, &released, 0, "released while busy")
		after(t, Quiet, &released, 1, "released after a quiet spell")
	})
}
