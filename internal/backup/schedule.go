package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Info is one backup file in a data directory's backups folder.
type Info struct {
	Path      string
	Size      int64
	At        time.Time
	Scheduled bool // a scheduled backup (pruned by retention); else taken before an upgrade
	Encrypted bool
}

// PassphraseFile, in the data directory, is the passphrase of the backups
// the console takes by itself (scheduled and before an upgrade): with it
// they are encrypted, without it they are not. It is never put in a
// backup. It sits beside secret.key, which it does not protect against:
// whoever reads the data directory reads the database too. What it
// protects is every copy of a backup taken elsewhere (another disk,
// another host), which is where backups leak. A setting sealed with
// secret.key was the alternative; it is not used because any unencrypted
// backup (which holds secret.key and the settings) would then hand out
// the passphrase of all the encrypted ones.
const PassphraseFile = "backup.passphrase"

// ReadPassphrase reads a passphrase file: its first line. On Unix the file
// must be readable by its owner only.
func ReadPassphrase(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("backup: %s is readable by others (mode %o): chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pass := strings.TrimRight(line, "\r")
	if len([]rune(pass)) < MinPassphrase {
		return "", fmt.Errorf("%w (in %s)", ErrPassphraseShort, path)
	}
	return pass, nil
}

// OwnOptions are the options of the backups the console takes by itself:
// encrypted when the data directory has a passphrase file.
func OwnOptions(dataDir string) (Options, error) {
	path := filepath.Join(dataDir, PassphraseFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return Options{}, nil
	}
	pass, err := ReadPassphrase(path)
	if err != nil {
		return Options{}, err
	}
	return Options{Passphrase: pass}, nil
}

func ext(o Options) string {
	if o.Passphrase != "" {
		return encryptedSuffix
	}
	return suffix
}

const (
	scheduledPrefix = "jingdesk-"
	upgradePrefix   = "pre-upgrade-"
	suffix          = ".tar.gz"
	encryptedSuffix = ".tar.gz.age"
	stamp           = "20060102-150405.000000"
)

// List returns the backups in dataDir's backups folder, newest first.
func List(dataDir string) ([]Info, error) {
	entries, err := os.ReadDir(Dir(dataDir))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, e := range entries {
		name := e.Name()
		sched := strings.HasPrefix(name, scheduledPrefix)
		if !strings.HasSuffix(name, suffix) && !strings.HasSuffix(name, encryptedSuffix) || !sched && !strings.HasPrefix(name, upgradePrefix) {
			continue
		}
		st, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, Info{Path: filepath.Join(Dir(dataDir), name), Size: st.Size(), At: st.ModTime(), Scheduled: sched,
			Encrypted: strings.HasSuffix(name, encryptedSuffix)})
	}
	slices.SortFunc(out, func(a, b Info) int { return b.At.Compare(a.At) })
	return out, nil
}

// Prune deletes scheduled backups beyond the newest keep; backups taken
// before upgrades are left for a person to remove.
func Prune(dataDir string, keep int) error {
	all, err := List(dataDir)
	if err != nil {
		return err
	}
	kept := 0
	for _, b := range all {
		if !b.Scheduled {
			continue
		}
		if kept < max(keep, 1) {
			kept++
			continue
		}
		if err := os.Remove(b.Path); err != nil {
			return err
		}
	}
	return nil
}

// Schedule is how often scheduled backups are taken and how many are kept.
type Schedule struct {
	Every time.Duration // 0: none
	Keep  int
}

// DefaultSchedule is a backup a day, a week of them kept.
var DefaultSchedule = Schedule{Every: 24 * time.Hour, Keep: 7}

// LookEvery is how often a running console looks whether a scheduled
// backup is due.
const LookEvery = time.Minute

// Run takes scheduled backups until ctx ends: every look (LookEvery in
// the console) it looks whether the newest scheduled backup is older than
// the interval (read again each time, so a change in the settings
// applies), takes one if so, then prunes to the retention. The first look
// is one look after start: start-up (migrations, the first sync) is not
// the moment to copy the database. When ctx ends, Run returns once a
// backup under way has ended (ctx interrupts its copy of the database)
// and cleaned up after itself.
func Run(ctx context.Context, look time.Duration, dataDir, version string, schedule func() Schedule, log *slog.Logger) {
	tick := time.NewTicker(look)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if sc := schedule(); sc.Every > 0 {
			if err := takeIfDue(ctx, dataDir, version, sc); err != nil && ctx.Err() == nil {
				log.Error("scheduled backup", "error", err)
			}
		}
	}
}

func takeIfDue(ctx context.Context, dataDir, version string, sc Schedule) error {
	all, err := List(dataDir)
	if err != nil {
		return err
	}
	for _, b := range all {
		if b.Scheduled && time.Since(b.At) < sc.Every {
			return nil
		}
	}
	opts, err := OwnOptions(dataDir)
	if err != nil {
		return err
	}
	path := filepath.Join(Dir(dataDir), scheduledPrefix+time.Now().UTC().Format(stamp)+ext(opts))
	if _, err := CreateFile(ctx, dataDir, version, path, opts); err != nil {
		return err
	}
	return Prune(dataDir, sc.Keep)
}

// BeforeUpgrade backs dataDir up when its database is older than the
// schema this binary knows (a migration is about to run), and returns the
// backup's path ("" when none was needed).
func BeforeUpgrade(ctx context.Context, dataDir, version string, knownSchema int) (string, error) {
	dbPath := filepath.Join(dataDir, DBFile)
	if _, err := os.Stat(dbPath); err != nil {
		return "", nil // a new installation
	}
	schema, err := SchemaOf(ctx, dbPath)
	if err != nil {
		return "", fmt.Errorf("backup: read the schema version: %w", err)
	}
	if schema == 0 || schema >= knownSchema {
		return "", nil
	}
	opts, err := OwnOptions(dataDir)
	if err != nil {
		return "", err
	}
	path := filepath.Join(Dir(dataDir), fmt.Sprintf("%sschema%d-to-%d-%s%s", upgradePrefix, schema, knownSchema,
		time.Now().UTC().Format(stamp), ext(opts)))
	_, err = CreateFile(ctx, dataDir, version, path, opts)
	return path, err
}

// Settings keys of the scheduled backups (Settings → System).
const (
	SettingEveryHours = "backup.every_hours"
	SettingKeep       = "backup.keep"
)

// ScheduleFrom reads the schedule from settings (get returns a setting's
// value or an error when it is not set), with the defaults.
func ScheduleFrom(get func(key string) (string, error)) Schedule {
	sc := DefaultSchedule
	if v, err := get(SettingEveryHours); err == nil {
		if h, err := strconv.Atoi(v); err == nil && h >= 0 {
			sc.Every = time.Duration(h) * time.Hour
		}
	}
	if v, err := get(SettingKeep); err == nil {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			sc.Keep = n
		}
	}
	return sc
}
