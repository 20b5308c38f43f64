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

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, os.Args[1:], app.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, version); err != nil {
		fmt.Fprintln(os.Stderr, "jingdesk:", err)
		os.Exit(1)
	}
}
