package app

import (
	"runtime/debug"
	"testing"

	"github.com/jingdesk/jingdesk/internal/testkit"
)

// Without GOMEMLIMIT the console sets its own soft memory limit; with it,
// the operator's (which the runtime read at start) is left alone.
func TestTheConsoleSetsAMemoryLimitUnlessGOMEMLIMITDoes(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	const operators = 300 << 20
	debug.SetMemoryLimit(operators)
	limitMemory(IO{LookupEnv: func(name string) (string, bool) { return "300MiB", name == "GOMEMLIMIT" }}, testkit.Quiet())
	if got := debug.SetMemoryLimit(-1); got != operators {
		t.Fatalf("with GOMEMLIMIT set the limit became %d, want the operator's %d", got, operators)
	}
	limitMemory(IO{LookupEnv: func(string) (string, bool) { return "", false }}, testkit.Quiet())
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Fatalf("without GOMEMLIMIT the limit is %d, want %d", got, defaultMemoryLimit)
	}
}
