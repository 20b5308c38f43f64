// Package app is jingdesk's command line: it parses subcommands and
// their settings (settings.go: defaults, then JINGDESK_* environment
// variables, then flags, each read the same way), and composes the server
// from its parts (serve.go), started in order and stopped in reverse
// (lifecycle.go).
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// IO is where a command reads and writes, and its environment; tests
// pass buffers and a map.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// LookupEnv reads an environment variable; nil: the process's own.
	LookupEnv func(name string) (string, bool)
}

func (io IO) lookupEnv(name string) (string, bool) {
	if io.LookupEnv == nil {
		return os.LookupEnv(name)
	}
	return io.LookupEnv(name)
}

// ErrUsage marks a mistake in the command line; the usage text was printed.
var ErrUsage = errors.New("invalid command line")

// errHelpShown means -h printed the flags: the command stops, successfully.
var errHelpShown = errors.New("help shown")

const usage = `jingdesk — a web console for the Jing marketing platform

Usage:
  jingdesk [serve] [flags]                 run the console (the default)
  jingdesk user add NAME --role ROLE --password-stdin
                                           create an account (ROLE: admin, marketer, viewer)
  jingdesk user passwd NAME --password-stdin
                                           set an account's password (ends its sessions)
  jingdesk user list                       list accounts
  jingdesk sandbox [--addr 127.0.0.1:9900] [--seed 1] [--app-id sandbox] [--app-secret sandbox]
                                           run the sandbox platform on its own, for
                                           demonstrations and tests ("jingdesk sandbox -h")
  jingdesk check [--data DIR] [--yes]      verify the platform's answers: call every read-only
                                           endpoint once, report what the console does not
                                           understand, exit non-zero on problems ("jingdesk check -h")
  jingdesk backup [--data DIR] FILE        back up the database and keys (the server may run)
  jingdesk restore [--data DIR] FILE       restore a backup (with the server stopped)
  jingdesk version                         print the version

Every subcommand that touches data takes --data DIR (env JINGDESK_DATA,
default ./jingdesk-data). Run "jingdesk serve -h" for the server's flags.
Without platform credentials (Settings → Platform, or --jing-base-url,
--jing-app-id and JINGDESK_JING_APP_SECRET), serve uses an embedded sandbox.
`

// Build is what the release build stamps into the binary (-ldflags -X
// main.version, main.commit, main.date); empty fields are filled from the
// module's build information where it has them.
type Build struct {
	Version string
	Commit  string // short commit hash
	Date    string // build time, UTC RFC 3339
}

// String is the `jingdesk version` line after "jingdesk ".
func (b Build) String() string {
	return fmt.Sprintf("%s (commit %s, built %s, %s %s/%s)", b.Version, orUnknown(b.Commit), orUnknown(b.Date),
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Run executes one command line.
func Run(ctx context.Context, args []string, io IO, build Build) error {
	build = resolveBuild(build)
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	err := runCommand(ctx, cmd, args, io, build)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

func runCommand(ctx context.Context, cmd string, args []string, io IO, build Build) error {
	switch cmd {
	case "serve":
		return serve(ctx, args, io, build)
	case "user":
		return userCommand(ctx, args, io)
	case "sandbox":
		return sandboxCommand(ctx, args, io)
	case "check":
		return checkCommand(ctx, args, io)
	case "version":
		fmt.Fprintln(io.Stdout, "jingdesk", build)
		return nil
	case "backup":
		return backupCmd(ctx, args, io, build)
	case "restore":
		return restoreCmd(ctx, args, io)
	case "help", "-h", "--help":
		fmt.Fprint(io.Stdout, usage)
		return nil
	}
	fmt.Fprintf(io.Stderr, "unknown command %q\n\n%s", cmd, usage)
	return ErrUsage
}

// resolveBuild fills the version (see resolveVersion), and the commit and
// date from the VCS stamp `go build` records, when the linker set none.
func resolveBuild(b Build) Build {
	b.Version = resolveVersion(b.Version)
	if b.Commit != "" && b.Date != "" {
		return b
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "" && len(s.Value) >= 7:
				b.Commit = s.Value[:7]
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			}
		}
	}
	return b
}

// resolveVersion prefers the linker-set version, then the module version
// recorded by `go install`, then the VCS revision.
func resolveVersion(v string) string {
	if v != "" {
		return v
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if m := info.Main.Version; m != "" && m != "(devel)" {
		return m
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}

// newFlagSet builds a flag set whose -h prints to stderr.
func newFlagSet(name string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	return fs
}

// parseFlags parses the command line. -h prints the flags; a mistake is
// an error (ErrUsage) that says what is wrong with which flag, without
// the whole list of flags around it.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
		fs.PrintDefaults()
		return errHelpShown
	case err != nil:
		return fmt.Errorf("%w: %w (\"jingdesk %s -h\" lists the flags)", ErrUsage, err, fs.Name())
	}
	return nil
}
