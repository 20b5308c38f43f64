package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// pidFile marks a data directory a server is running on.
const pidFile = "jingdesk.pid"

// ErrLocked refuses a second server on one data directory.
var ErrLocked = errors.New("another jingdesk is running on this data directory")

// Lock records that this process serves dataDir, refusing when another
// live process does; release removes the mark. A mark left by a process
// that died (kill -9, a crash) is taken over.
func Lock(dataDir string) (release func(), err error) {
	path := filepath.Join(dataDir, pidFile)
	if pid, inUse := InUse(dataDir); inUse {
		return nil, fmt.Errorf("%w (process %d; if no jingdesk runs there, delete %s)", ErrLocked, pid, path)
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return nil, err
	}
	return func() { os.Remove(path) }, nil
}

// InUse reports whether a live process has marked dataDir as its own.
func InUse(dataDir string) (pid int, inUse bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, pidFile))
	if err != nil {
		return 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, processAlive(pid)
}
