//go:build windows

package backup

import "os"

// processAlive reports whether process pid exists: on Windows, finding a
// process opens it, which fails for one that is gone.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
