package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jingdesk/jingdesk/internal/auth"
	"github.com/jingdesk/jingdesk/internal/db"
)

func userCommand(ctx context.Context, args []string, io IO) error {
	if len(args) == 0 {
		fmt.Fprint(io.Stderr, usage)
		return ErrUsage
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, args[1:], io)
	case "passwd":
		return userPasswd(ctx, args[1:], io)
	case "list":
		return userList(ctx, args[1:], io)
	}
	fmt.Fprintf(io.Stderr, "unknown user command %q\n\n%s", args[0], usage)
	return ErrUsage
}

// splitName takes the NAME argument wherever it stands among the flags.
func splitName(args []string) (string, []string) {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") && (i == 0 || !flagTakesValue(args[i-1])) {
			return a, append(append([]string{}, args[:i]...), args[i+1:]...)
		}
	}
	return "", args
}

func flagTakesValue(arg string) bool {
	name := strings.TrimLeft(arg, "-")
	return !strings.Contains(name, "=") && (name == "role" || name == "data")
}

func userAdd(ctx context.Context, args []string, io IO) error {
	name, rest := splitName(args)
	fs := newFlagSet("user add", io)
	role := fs.String("role", "", "admin, marketer or viewer")
	display := fs.String("display-name", "", "name shown in the header")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	var cfg ServeConfig
	if err := loadSettings(fs, rest, io.lookupEnv, lookup(serveSettings(&cfg), "data")); err != nil {
		return err
	}
	if name == "" || !db.ValidRole(*role) || !*fromStdin {
		fmt.Fprintln(io.Stderr, "usage: jingdesk user add NAME --role admin|marketer|viewer --password-stdin [--data DIR]")
		return ErrUsage
	}
	hash, err := readPasswordHash(io.Stdin)
	if err != nil {
		return err
	}
	d, err := openData(ctx, cfg.Data)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.store.CreateUser(ctx, db.NewUser{Username: name, DisplayName: *display, PasswordHash: hash, Role: *role})
	if errors.Is(err, db.ErrConflict) {
		return fmt.Errorf("an account named %q exists already (use \"jingdesk user passwd\" to set its password)", name)
	}
	if err != nil {
		return err
	}
	d.store.Audit(ctx, db.AuditEntry{Action: "user.create", Object: "user:" + u.Username, Username: "cli",
		Summary: msg.New("audit.summary.user_created_cli", msg.Nested("Role", msg.New("role."+u.Role))).Encode()})
	fmt.Fprintf(io.Stdout, "created %s (%s)\n", u.Username, u.Role)
	return nil
}

func userPasswd(ctx context.Context, args []string, io IO) error {
	name, rest := splitName(args)
	fs := newFlagSet("user passwd", io)
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	var cfg ServeConfig
	if err := loadSettings(fs, rest, io.lookupEnv, lookup(serveSettings(&cfg), "data")); err != nil {
		return err
	}
	if name == "" || !*fromStdin {
		fmt.Fprintln(io.Stderr, "usage: jingdesk user passwd NAME --password-stdin [--data DIR]")
		return ErrUsage
	}
	hash, err := readPasswordHash(io.Stdin)
	if err != nil {
		return err
	}
	d, err := openData(ctx, cfg.Data)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.store.UserByName(ctx, name)
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("no account named %q", name)
	}
	if err != nil {
		return err
	}
	if _, err := d.store.SetUserPassword(ctx, u.ID, hash); err != nil {
		return err
	}
	d.store.Audit(ctx, db.AuditEntry{Action: "user.password", Object: "user:" + u.Username, Username: "cli",
		Summary: msg.New("audit.summary.password_set_cli").Encode()})
	fmt.Fprintf(io.Stdout, "password of %s changed; its sessions have ended\n", u.Username)
	return nil
}

func userList(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("user list", io)
	var cfg ServeConfig
	if err := loadSettings(fs, args, io.lookupEnv, lookup(serveSettings(&cfg), "data")); err != nil {
		return err
	}
	d, err := openData(ctx, cfg.Data)
	if err != nil {
		return err
	}
	defer d.Close()
	users, err := d.store.ListUsers(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tROLE\tSTATE\tLAST SIGN-IN")
	for _, u := range users {
		st, last := "active", "never"
		if u.Disabled {
			st = "disabled"
		}
		if u.LastLoginAt > 0 {
			last = time.Unix(u.LastLoginAt, 0).Format(time.DateTime)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.Username, u.Role, st, last)
	}
	return w.Flush()
}

// readPasswordHash reads one line (so `echo pw |` and here-strings work) and hashes it.
func readPasswordHash(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	hash, err := auth.HashPassword(password)
	switch {
	case errors.Is(err, auth.ErrPasswordTooShort):
		return "", fmt.Errorf("the password must have at least %d characters", auth.MinPasswordLen)
	case errors.Is(err, auth.ErrPasswordTooLong):
		return "", fmt.Errorf("the password must be at most 72 bytes")
	}
	return hash, err
}
