package auth

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// rusageThread is Linux's RUSAGE_THREAD: the calling thread's usage only.
const rusageThread = 1

// threadCPU is the processor time f spends on the thread it runs on
// (the goroutine is locked to it), user and system.
func threadCPU(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadUsage()
	f()
	return threadUsage() - before
}

func threadUsage() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestThreadCPUCountsOnlyThisThread(t *testing.T) {
	idle := threadCPU(func() { time.Sleep(50 * time.Millisecond) })
	if idle > 20*time.Millisecond {
		t.Fatalf("sleeping 50 ms cost %v of processor time", idle)
	}
}
