//go:build !linux

package auth

import "time"

// threadCPU is f's wall time where the thread's processor time cannot be read.
func threadCPU(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
