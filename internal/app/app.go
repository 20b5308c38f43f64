// Package app is jingdesk's command line: it parses subcommands and
// configuration (flags, then JINGDESK_* environment variables, then
// defaults), wires storage, the platform and the web server, and runs them.
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

// IO is where a command reads and writes; tests pass buffers.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
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

// newFlagSet builds a flag set whose errors go to stderr and return ErrUsage.
func newFlagSet(name string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return ErrUsage
	}
	return nil
}

// env returns JINGDESK_<name> or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv("JINGDESK_" + name); ok && v != "" {
		return v
	}
	return def
}

// dataFlag registers --data, defaulting to $JINGDESK_DATA or ./jingdesk-data.
func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", env("DATA", "./jingdesk-data"), "data directory (env JINGDESK_DATA)")
}
