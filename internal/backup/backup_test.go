package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

// dataDir makes a data directory as serve leaves it: a database with an
// account in it, and the two keys.
func dataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	store, err := db.Open(context.Background(), filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateUser(context.Background(), db.NewUser{Username: "ada", PasswordHash: "x", Role: db.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	os.WriteFile(filepath.Join(dir, "session.key"), bytes.Repeat([]byte{1}, 96), 0o600)
	os.WriteFile(filepath.Join(dir, "secret.key"), bytes.Repeat([]byte{2}, 32), 0o600)
	return dir
}

func users(t *testing.T, dir string) []db.User {
	t.Helper()
	store, err := db.Open(context.Background(), filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	us, err := store.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return us
}

// Audit finding 5: a backup held session.key, so whoever had the file
// could mint a signed-in cookie. By default it is left out, and restoring
// signs everyone out.
func TestABackupRestoresIntoAFreshDirectoryWithoutTheSessionKey(t *testing.T) {
	t.Parallel()
	src := dataDir(t)
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	m, err := CreateFile(context.Background(), src, "v1", archive, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Schema != db.SchemaVersion() || len(m.Files) != 2 || m.Files["session.key"] != "" || !m.SignsEveryoneOut() {
		t.Fatalf("manifest %+v", m)
	}
	if st, _ := os.Stat(archive); st.Mode().Perm() != 0o600 {
		t.Fatalf("archive mode %o, want 0600", st.Mode().Perm())
	}
	if names := archiveNames(t, archive); slices.Contains(names, "session.key") {
		t.Fatalf("the archive holds session.key: %v", names)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(context.Background(), archive, dst, db.SchemaVersion(), ""); err != nil {
		t.Fatal(err)
	}
	if got := users(t, dst); len(got) != 1 || got[0].Username != "ada" {
		t.Fatalf("restored users: %+v", got)
	}
	a, _ := os.ReadFile(filepath.Join(src, "secret.key"))
	b, _ := os.ReadFile(filepath.Join(dst, "secret.key"))
	if !bytes.Equal(a, b) {
		t.Fatal("secret.key differs")
	}
	if _, err := os.Stat(filepath.Join(dst, "session.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a session key after the restore: %v", err)
	}
}

// Asked for, the session key travels, and a restore keeps the sessions.
func TestABackupWithTheSessionKey(t *testing.T) {
	t.Parallel()
	src := dataDir(t)
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	m, err := CreateFile(context.Background(), src, "v1", archive, Options{WithSessionKey: true})
	if err != nil || len(m.Files) != 3 || m.SignsEveryoneOut() {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(context.Background(), archive, dst, db.SchemaVersion(), ""); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(src, "session.key"))
	b, _ := os.ReadFile(filepath.Join(dst, "session.key"))
	if !bytes.Equal(a, b) {
		t.Fatal("session.key differs")
	}
}

// An encrypted backup is unreadable without its passphrase, and a wrong
// or missing one is refused before the directory is touched.
func TestAnEncryptedBackupNeedsItsPassphrase(t *testing.T) {
	t.Parallel()
	src := dataDir(t)
	archive := filepath.Join(t.TempDir(), "b.tar.gz.age")
	if _, err := CreateFile(context.Background(), src, "v1", archive, Options{Passphrase: "short"}); !errors.Is(err, ErrPassphraseShort) {
		t.Fatalf("a short passphrase: %v", err)
	}
	const pass = "correct horse battery staple"
	if _, err := CreateFile(context.Background(), src, "v1", archive, Options{Passphrase: pass}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(archive)
	secretKey, _ := os.ReadFile(filepath.Join(src, "secret.key"))
	if enc, _ := Encrypted(archive); !enc || bytes.Contains(raw, []byte("jingdesk.db")) || bytes.Contains(raw, secretKey) {
		t.Fatal("the archive is readable without the passphrase")
	}
	dst := dataDir(t)
	before := listing(t, dst)
	for pp, want := range map[string]error{"": ErrPassphraseNeeded, "wrong passphrase here": ErrPassphraseWrong} {
		if _, err := Restore(context.Background(), archive, dst, db.SchemaVersion(), pp); !errors.Is(err, want) {
			t.Fatalf("passphrase %q: %v, want %v", pp, err, want)
		}
		if after := listing(t, dst); after != before {
			t.Fatalf("a refused restore changed the directory:\n%s\n→\n%s", before, after)
		}
	}
	if _, err := Restore(context.Background(), archive, dst, db.SchemaVersion(), pass); err != nil {
		t.Fatal(err)
	}
	if got := users(t, dst); len(got) != 1 {
		t.Fatalf("restored users: %+v", got)
	}
}

// listing is a directory's names, sizes and modification times.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			st, _ := d.Info()
			fmt.Fprintf(&b, "%s %d %d\n", p, st.Size(), st.ModTime().UnixNano())
		}
		return nil
	})
	return b.String()
}

func archiveNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			return names
		}
		names = append(names, h.Name)
	}
}

// A restore over an existing directory keeps what it replaces.
func TestARestoreSetsTheReplacedFilesAside(t *testing.T) {
	t.Parallel()
	src := dataDir(t)
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := CreateFile(context.Background(), src, "v1", archive, Options{}); err != nil {
		t.Fatal(err)
	}
	dst := dataDir(t)
	if _, err := Restore(context.Background(), archive, dst, db.SchemaVersion(), ""); err != nil {
		t.Fatal(err)
	}
	aside, _ := filepath.Glob(filepath.Join(dst, "pre-restore-*", DBFile))
	if len(aside) != 1 {
		t.Fatalf("the replaced database was not kept: %v", aside)
	}
}

func TestARestoreRefusesWhatItCannotTrust(t *testing.T) {
	t.Parallel()
	src := dataDir(t)
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := CreateFile(context.Background(), src, "v1", archive, Options{}); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	// Made by a newer jingdesk.
	if _, err := Restore(context.Background(), archive, dst, db.SchemaVersion()-1, ""); !errors.Is(err, ErrNewer) {
		t.Fatalf("newer schema: %v", err)
	}
	// Damaged.
	b, _ := os.ReadFile(archive)
	b[len(b)/2] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.tar.gz")
	os.WriteFile(bad, b, 0o600)
	if _, err := Restore(context.Background(), bad, dst, db.SchemaVersion(), ""); !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrNotFound) {
		t.Fatalf("damaged: %v", err)
	}
	// A running server.
	release, err := Lock(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(context.Background(), archive, dst, db.SchemaVersion(), ""); !errors.Is(err, ErrInUse) {
		t.Fatalf("in use: %v", err)
	}
	release()
	if entries, _ := os.ReadDir(dst); len(entries) != 0 {
		t.Fatalf("a refused restore left files: %v", entries)
	}
}

// A database older than the binary is backed up before it is migrated;
// retention keeps the newest scheduled backups only.
func TestUpgradeBackupsAndRetention(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	ctx := context.Background()
	if p, err := BeforeUpgrade(ctx, dir, "v2", db.SchemaVersion()); err != nil || p != "" {
		t.Fatalf("an up-to-date database: %q %v", p, err)
	}
	p, err := BeforeUpgrade(ctx, dir, "v2", db.SchemaVersion()+1)
	if err != nil || p == "" {
		t.Fatalf("before an upgrade: %q %v", p, err)
	}
	for range 4 {
		if err := takeIfDue(ctx, dir, "v2", Schedule{Every: 1, Keep: 2}); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := List(dir)
	sched := 0
	for _, b := range all {
		if b.Scheduled {
			sched++
		}
	}
	if sched != 2 || len(all) != 3 {
		t.Fatalf("backups after retention: %d scheduled of %d", sched, len(all))
	}
}

func TestALockRefusesASecondServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if pid, inUse := InUse(dir); !inUse || pid != os.Getpid() {
		t.Fatalf("in use: %d %v", pid, inUse)
	}
	os.WriteFile(filepath.Join(dir, pidFile), []byte("999999999\n"), 0o600) // a dead process's mark
	if _, inUse := InUse(dir); inUse {
		t.Fatal("a dead process's mark counts")
	}
}

// The backups the console takes itself are encrypted when the data
// directory has a passphrase file, and not taken at all when that file
// is unusable (never silently unencrypted).
func TestScheduledBackupsFollowThePassphraseFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := dataDir(t)
	pf := filepath.Join(dir, PassphraseFile)
	os.WriteFile(pf, []byte("a passphrase for the backups\n"), 0o644)
	if err := takeIfDue(ctx, dir, "v1", Schedule{Every: 1, Keep: 5}); err == nil {
		t.Fatal("a world-readable passphrase file was used")
	}
	if all, _ := List(dir); len(all) != 0 {
		t.Fatalf("a backup was taken anyway: %+v", all)
	}
	os.Chmod(pf, 0o600)
	if err := takeIfDue(ctx, dir, "v1", Schedule{Every: 1, Keep: 5}); err != nil {
		t.Fatal(err)
	}
	all, _ := List(dir)
	if len(all) != 1 || !all[0].Encrypted || !strings.HasSuffix(all[0].Path, ".tar.gz.age") {
		t.Fatalf("backups %+v", all)
	}
	if enc, _ := Encrypted(all[0].Path); !enc {
		t.Fatal("not encrypted")
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(ctx, all[0].Path, dst, db.SchemaVersion(), "a passphrase for the backups"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, PassphraseFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the passphrase travelled in its own backup")
	}
}
