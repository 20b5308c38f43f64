package backup

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
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

func TestABackupRestoresIntoAFreshDirectory(t *testing.T) {
	src := dataDir(t)
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	m, err := CreateFile(context.Background(), src, "v1", archive)
	if err != nil {
		t.Fatal(err)
	}
	if m.Schema != db.SchemaVersion() || len(m.Files) != 3 {
		t.Fatalf("manifest %+v", m)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(context.Background(), archive, dst, db.SchemaVersion()); err != nil {
		t.Fatal(err)
	}
	if got := users(t, dst); len(got) != 1 || got[0].Username != "ada" {
		t.Fatalf("restored users: %+v", got)
	}
	for _, k := range []string{"session.key", "secret.key"} {
		a, _ := os.ReadFile(filepath.Join(src, k))
		b, _ := os.ReadFile(filepath.Join(dst, k))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs", k)
		}
	}
}

// A restore over an existing directory keeps what it replaces.
func TestARestoreSetsTheReplacedFilesAside(t *testing.T) {
	src := dataDir(t)
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := CreateFile(context.Background(), src, "v1", archive); err != nil {
		t.Fatal(err)
	}
	dst := dataDir(t)
	if _, err := Restore(context.Background(), archive, dst, db.SchemaVersion()); err != nil {
		t.Fatal(err)
	}
	aside, _ := filepath.Glob(filepath.Join(dst, "pre-restore-*", DBFile))
	if len(aside) != 1 {
		t.Fatalf("the replaced database was not kept: %v", aside)
	}
}

func TestARestoreRefusesWhatItCannotTrust(t *testing.T) {
	src := dataDir(t)
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := CreateFile(context.Background(), src, "v1", archive); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	// Made by a newer jingdesk.
	if _, err := Restore(context.Background(), archive, dst, db.SchemaVersion()-1); !errors.Is(err, ErrNewer) {
		t.Fatalf("newer schema: %v", err)
	}
	// Damaged.
	b, _ := os.ReadFile(archive)
	b[len(b)/2] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.tar.gz")
	os.WriteFile(bad, b, 0o600)
	if _, err := Restore(context.Background(), bad, dst, db.SchemaVersion()); !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrNotFound) {
		t.Fatalf("damaged: %v", err)
	}
	// A running server.
	release, err := Lock(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(context.Background(), archive, dst, db.SchemaVersion()); !errors.Is(err, ErrInUse) {
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
