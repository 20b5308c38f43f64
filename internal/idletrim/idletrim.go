// Package idletrim hands the memory a busy spell used back to the system
// once the process has been quiet for a while (issue 18's idle RSS).
//
// Go keeps the heap it grew to (up to about twice what is live) and
// returns free pages to the system only slowly: a console that served a
// burst of 290 KB boards, or whose embedded sandbox just saved its tenant,
// stayed 20-50 MB above what it holds for minutes. Collecting and handing
// the free pages back costs one garbage collection (milliseconds for a
// 20 MB heap), so it is done once per quiet spell, never under load.
package idletrim

import (
	"runtime/debug"
	"sync/atomic"
	"time"
)

// Quiet is how long without activity makes a spell quiet.
const Quiet = 30 * time.Second

// Trimmer frees memory Quiet after the last Busy.
type Trimmer struct {
	quiet time.Duration
	free  func()
	last  atomic.Int64 // UnixNano of the last Busy
	armed atomic.Bool  // a check is scheduled
}

// New is a Trimmer that hands memory back with debug.FreeOSMemory.
func New() *Trimmer { return &Trimmer{quiet: Quiet, free: debug.FreeOSMemory} }

// NewReleasing is a Trimmer that first runs release (what the process
// keeps beyond Go's heap: SQLite's kept statements), then hands memory
// back as New's does.
func NewReleasing(release func()) *Trimmer {
	return &Trimmer{quiet: Quiet, free: func() {
		release()
		debug.FreeOSMemory()
	}}
}

// Busy notes activity now: the memory is handed back once Quiet passes
// without another. It costs an atomic store on the busy path.
func (t *Trimmer) Busy() {
	if t == nil {
		return
	}
	t.last.Store(time.Now().UnixNano())
	if t.armed.CompareAndSwap(false, true) {
		time.AfterFunc(t.quiet, t.check)
	}
}

// check frees memory when the last activity is Quiet old, or looks again
// when it will be.
func (t *Trimmer) check() {
	seen := t.last.Load()
	if wait := t.quiet - time.Since(time.Unix(0, seen)); wait > 0 {
		time.AfterFunc(wait, t.check)
		return
	}
	t.armed.Store(false)
	t.free()
	// A Busy that came while armed was still set scheduled nothing.
	if t.last.Load() != seen && t.armed.CompareAndSwap(false, true) {
		time.AfterFunc(t.quiet, t.check)
	}
}
