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

// Memory is handed back once, Quiet after the last activity, and never
// while activity keeps coming.
func TestFreesOnceAfterQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, freed := counting()
		for range 10 { // busy for 10 × 20 s: never quiet for 30 s
			tr.Busy()
			time.Sleep(20 * time.Second)
			synctest.Wait()
			if n := freed.Load(); n != 0 {
				t.Fatalf("freed %d times while busy", n)
			}
		}
		time.Sleep(Quiet)
		synctest.Wait()
		if n := freed.Load(); n != 1 {
			t.Fatalf("freed %d times after a quiet spell, want 1", n)
		}
		time.Sleep(10 * Quiet)
		synctest.Wait()
		if n := freed.Load(); n != 1 {
			t.Fatalf("freed %d times while nothing happened, want still 1", n)
		}
		tr.Busy() // the next busy spell ends in a trim of its own
		time.Sleep(Quiet + time.Second)
		synctest.Wait()
		if n := freed.Load(); n != 2 {
			t.Fatalf("freed %d times after a second spell, want 2", n)
		}
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
		time.Sleep(Quiet / 2)
		synctest.Wait()
		if n := released.Load(); n != 0 {
			t.Fatalf("released %d times while busy", n)
		}
		time.Sleep(Quiet)
		synctest.Wait()
		if n := released.Load(); n != 1 {
			t.Fatalf("released %d times after a quiet spell, want 1", n)
		}
	})
}
