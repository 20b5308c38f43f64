// Command jingdesk is a self-hosted web console for the Jing marketing
// platform. See README.md; `jingdesk help` lists the subcommands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/jingdesk/jingdesk/internal/app"
)

// Set at build time by scripts/release.sh:
// -ldflags "-X main.version=v1.2.3 -X main.commit=abc1234 -X main.date=2026-01-02T03:04:05Z".
var (
	version = ""
	commit  = ""
	date    = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	build := app.Build{Version: version, Commit: commit, Date: date}
	if err := app.Run(ctx, os.Args[1:], app.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv}, build); err != nil {
		fmt.Fprintln(os.Stderr, "jingdesk:", err)
		os.Exit(1)
	}
}
