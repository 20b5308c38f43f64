// Package memstat reads this process's resident memory from Linux's
// /proc, for the tests and benchmarks that hold memory to a limit.
package memstat

import (
	"fmt"
	"os"
	"strings"
)

// PeakRSS is the process's resident high-water mark (VmHWM) in bytes: the
// most it has held in RAM since it started (or since ResetPeak), which for
// a process started by exec counts nothing of its parent's. -1 when /proc
// cannot tell (not Linux).
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// ResetPeak starts the high-water mark again from the current resident
// size (writing 5 to /proc/self/clear_refs), so that PeakRSS measures
// what comes after.
func ResetPeak() error { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }
