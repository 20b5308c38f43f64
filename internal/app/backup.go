package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jingdesk/jingdesk/internal/backup"
	"github.com/jingdesk/jingdesk/internal/db"
)

// backupCmd is `jingdesk backup FILE`: a consistent copy of the data
// directory's database (the server may be running) with secret.key, and
// session.key only when asked for; encrypted with --passphrase-file.
func backupCmd(ctx context.Context, args []string, io IO, build Build) error {
	fs := newFlagSet("backup", io)
	passFile := fs.String("passphrase-file", "", "encrypt the backup with the passphrase on this file's first line (age, scrypt)")
	withSession := fs.Bool("with-session-key", false, "also back up session.key, so a restore keeps everyone signed in (whoever holds the backup can then sign in as anyone)")
	var cfg ServeConfig
	if err := loadSettings(fs, args, io.lookupEnv, lookup(serveSettings(&cfg), "data")); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(io.Stderr, "usage: jingdesk backup [--data DIR] [--passphrase-file FILE] [--with-session-key] FILE")
		return ErrUsage
	}
	opts := backup.Options{WithSessionKey: *withSession}
	if *passFile != "" {
		pass, err := backup.ReadPassphrase(*passFile)
		if err != nil {
			return err
		}
		opts.Passphrase = pass
	}
	start := time.Now()
	m, err := backup.CreateFile(ctx, cfg.Data, build.Version, fs.Arg(0), opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "backed up %s (schema %d, %d files) to %s in %s\n", cfg.Data, m.Schema, len(m.Files), fs.Arg(0),
		time.Since(start).Round(time.Millisecond))
	if opts.Passphrase == "" {
		fmt.Fprintln(io.Stdout, "not encrypted: the file holds secret.key, which decrypts the platform secret; keep it safe or use --passphrase-file")
	}
	return nil
}

// restoreCmd is `jingdesk restore FILE`: the server must be stopped; what
// the directory held is kept in a pre-restore folder.
func restoreCmd(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("restore", io)
	passFile := fs.String("passphrase-file", "", "the passphrase of an encrypted backup, on this file's first line")
	var cfg ServeConfig
	if err := loadSettings(fs, args, io.lookupEnv, lookup(serveSettings(&cfg), "data")); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(io.Stderr, "usage: jingdesk restore [--data DIR] [--passphrase-file FILE] FILE   (with jingdesk stopped)")
		return ErrUsage
	}
	pass := ""
	if *passFile != "" {
		var err error
		if pass, err = backup.ReadPassphrase(*passFile); err != nil {
			return err
		}
	}
	m, err := backup.Restore(ctx, fs.Arg(0), cfg.Data, db.SchemaVersion(), pass)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "restored %s (made by jingdesk %s at %s, schema %d) into %s\n", fs.Arg(0), m.Version,
		m.CreatedAt.Format(time.RFC3339), m.Schema, cfg.Data)
	if m.SignsEveryoneOut() {
		fmt.Fprintln(io.Stdout, "the backup holds no session key: everyone is signed out and signs in again (a new session.key is made at the next start)")
	}
	return nil
}

// claimDataDir marks the data directory as this server's (refusing a
// second server on it) and, when this binary is newer than the database,
// backs it up before the migrations run.
func claimDataDir(ctx context.Context, dir string, build Build, logger *slog.Logger) (release func(), err error) {
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	release, err = backup.Lock(dir)
	if err != nil {
		return nil, err
	}
	path, err := backup.BeforeUpgrade(ctx, dir, build.Version, db.SchemaVersion())
	if err != nil {
		release()
		return nil, fmt.Errorf("back up before upgrading the database (nothing was changed): %w", err)
	}
	if path != "" {
		logger.Info("database backed up before its upgrade", "backup", path)
	}
	return release, nil
}

// backupSchedule reads the scheduled backups' settings, with the defaults.
func backupSchedule(ctx context.Context, store *db.Store) func() backup.Schedule {
	return func() backup.Schedule {
		return backup.ScheduleFrom(func(key string) (string, error) { return store.Setting(ctx, key) })
	}
}

// ensureDir creates the data directory (0700) if it is missing.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory %s: %w", dir, err)
	}
	return nil
}
