package db

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrationsApplyOnceAndAreRecorded(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "test.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var n, max int
	s.read.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max)
	if n != SchemaVersion() || max != SchemaVersion() || n == 0 {
		t.Fatalf("recorded %d migrations up to %d, want %d", n, max, SchemaVersion())
	}
	s.Close()
	// Reopening applies nothing again (a second CREATE TABLE would fail).
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
	if n != SchemaVersion() {
		t.Fatalf("reopen recorded %d migrations", n)
	}
	s.Close()
}

func TestPragmasAreSet(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	var mode string
	var fk, busy int
	s.read.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
	s.read.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk)
	s.read.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy)
	if mode != "wal" || fk != 1 || busy < 5000 {
		t.Fatalf("journal_mode=%s foreign_keys=%d busy_timeout=%d", mode, fk, busy)
	}
}

func TestRefusesADatabaseFromANewerVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "test.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.write.ExecContext(ctx, `INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, 'future.sql', 0)`, SchemaVersion()+5)
	s.Close()
	_, err = Open(ctx, path)
	var tooNew ErrTooNew
	if !errors.As(err, &tooNew) || tooNew.Found != SchemaVersion()+5 || tooNew.Known != SchemaVersion() {
		t.Fatalf("opening a newer database: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "newer jingdesk") {
		t.Fatalf("message does not say what happened: %q", msg)
	}
}

func TestUsersCreateFindAndConflict(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, NewUser{Username: "Alice", PasswordHash: "h", Role: RoleMarketer})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.SessionEpoch != 1 || u.Disabled || u.CreatedAt == 0 {
		t.Fatalf("created %+v", u)
	}
	got, err := s.UserByName(ctx, "alice")
	if err != nil || got.ID != u.ID {
		t.Fatalf("lookup is not case-insensitive: %+v %v", got, err)
	}
	if _, err := s.CreateUser(ctx, NewUser{Username: "ALICE", PasswordHash: "h", Role: RoleViewer}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := s.CreateUser(ctx, NewUser{Username: "bob", PasswordHash: "h", Role: "owner"}); err == nil {
		t.Fatal("invalid role accepted")
	}
	if _, err := s.User(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
	if _, err := s.UserByName(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing name: %v", err)
	}
}

func TestPasswordChangeAndDisableBumpTheSessionEpoch(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	s.CreateUser(ctx, NewUser{Username: "root", PasswordHash: "h", Role: RoleAdmin})
	u, _ := s.CreateUser(ctx, NewUser{Username: "alice", PasswordHash: "h", Role: RoleViewer})
	epoch, err := s.SetUserPassword(ctx, u.ID, "h2")
	if err != nil || epoch != u.SessionEpoch+1 {
		t.Fatalf("epoch after password change %d, %v", epoch, err)
	}
	if err := s.SetUserDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	got, _ := s.User(ctx, u.ID)
	if !got.Disabled || got.SessionEpoch != epoch+1 || got.PasswordHash != "h2" {
		t.Fatalf("after disable %+v", got)
	}
	if err := s.SetUserDisabled(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx, u.ID); got.Disabled {
		t.Fatal("re-enable did not stick")
	}
}

func TestTheLastActiveAdminCannotBeDemotedOrDisabled(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	root, _ := s.CreateUser(ctx, NewUser{Username: "root", PasswordHash: "h", Role: RoleAdmin})
	if err := s.SetUserRole(ctx, root.ID, RoleViewer); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if err := s.SetUserDisabled(ctx, root.ID, true); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("disabling the last admin: %v", err)
	}
	second, _ := s.CreateUser(ctx, NewUser{Username: "second", PasswordHash: "h", Role: RoleAdmin})
	s.SetUserDisabled(ctx, second.ID, true)
	if err := s.SetUserRole(ctx, root.ID, RoleViewer); !errors.Is(err, ErrLastAdmin) {
		t.Fatal("a disabled admin counted as another admin")
	}
	s.SetUserDisabled(ctx, second.ID, false)
	if err := s.SetUserRole(ctx, root.ID, RoleViewer); err != nil {
		t.Fatalf("demoting with another active admin: %v", err)
	}
	if err := s.SetUserRole(ctx, 999, RoleViewer); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestCreateFirstAdminOnlyWhenEmptyEvenWhenRacing(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := s.CreateFirstAdmin(ctx, NewUser{Username: fmt.Sprintf("a%d", i), PasswordHash: "h"}); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, ErrConflict) {
				t.Errorf("racing setup: %v", err)
			}
		}(i)
	}
	wg.Wait()
	if n, _ := s.CountUsers(ctx); ok != 1 || n != 1 {
		t.Fatalf("%d succeeded, %d users", ok, n)
	}
}

func TestAuditFiltersAndPaging(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		s.Audit(ctx, AuditEntry{Action: "auth.login", Username: "alice", Outcome: OutcomeFailed, Summary: fmt.Sprint(i)})
	}
	s.Audit(ctx, AuditEntry{Action: "user.role", Username: "root", Object: "user:alice"})
	s.Audit(ctx, AuditEntry{Action: "auth_login_lookalike", Username: "x"})
	all, _ := s.ListAudit(ctx, AuditFilter{})
	if len(all) != 9 || all[0].Action != "auth_login_lookalike" || all[0].Outcome != OutcomeOK {
		t.Fatalf("newest first with default outcome: %+v", all[0])
	}
	logins, _ := s.ListAudit(ctx, AuditFilter{Action: "auth."})
	if len(logins) != 7 {
		t.Fatalf("prefix filter (with _ and . literal): %d", len(logins))
	}
	page1, _ := s.ListAudit(ctx, AuditFilter{Username: "ALICE", Limit: 4})
	page2, _ := s.ListAudit(ctx, AuditFilter{Username: "alice", Limit: 4, BeforeID: page1[3].ID})
	if len(page1) != 4 || len(page2) != 3 || page2[0].ID >= page1[3].ID {
		t.Fatalf("paging: %d then %d", len(page1), len(page2))
	}
	failed, _ := s.ListAudit(ctx, AuditFilter{Outcome: OutcomeFailed})
	if len(failed) != 7 {
		t.Fatalf("outcome filter: %d", len(failed))
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	if _, err := s.Setting(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing setting: %v", err)
	}
	s.SetSetting(ctx, "k", "v1")
	s.SetSetting(ctx, "k", "v2")
	if v, _ := s.Setting(ctx, "k"); v != "v2" {
		t.Fatalf("setting = %q", v)
	}
}
