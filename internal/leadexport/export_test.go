package leadexport

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/sheet"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

func service(t *testing.T, names func() *refdata.Resolver) (*Service, *db.Store, string) {
	t.Helper()
	store := fixture.Store(t)
	catalog, err := i18n.NewCatalog(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, err := New(Config{Store: store, Runner: jobs.New(store, jobs.Config{}), Catalog: catalog, Names: names, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s, store, dir
}

func user(t *testing.T, store *db.Store, name, role string) *db.User {
	t.Helper()
	u, err := store.CreateUser(context.Background(), db.NewUser{Username: name, PasswordHash: "x", Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return &u
}

// A large export's file goes to its owner or an administrator, once the
// job is done and while the file is kept.
func TestFileIsTheOwnersOnceDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, store, _ := service(t, func() *refdata.Resolver { return nil })
	mia, max, ada := user(t, store, "mia", db.RoleMarketer), user(t, store, "max", db.RoleMarketer), user(t, store, "ada", db.RoleAdmin)
	j, err := store.CreateJob(ctx, db.NewJob{Kind: JobKind, OwnerID: mia.ID, Params: `{"Format":"csv","Lang":"en"}`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.File(ctx, mia, j.ID); !errors.Is(err, ErrNotReady) {
		t.Fatalf("a queued export: %v, want not ready", err)
	}
	if _, err := store.ClaimJob(ctx, "w", []string{JobKind}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := store.FinishJob(ctx, j.ID, "w", db.JobDone, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.File(ctx, mia, j.ID); !errors.Is(err, ErrGone) {
		t.Fatalf("a done export without its file: %v, want gone", err)
	}
	if err := os.WriteFile(s.path(j.ID, sheet.CSV), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*db.User{mia, ada} {
		d, err := s.File(ctx, u, j.ID)
		if err != nil || d.Format != sheet.CSV || d.Path != s.path(j.ID, sheet.CSV) {
			t.Fatalf("%s: %+v %v", u.Username, d, err)
		}
	}
	if _, err := s.File(ctx, max, j.ID); !errors.Is(err, ErrNotYours) {
		t.Fatalf("another marketer: %v, want not yours", err)
	}
	other, _ := store.CreateJob(ctx, db.NewJob{Kind: "leads.sync", OwnerID: mia.ID})
	if _, err := s.File(ctx, mia, other.ID); !errors.Is(err, ErrNotExport) {
		t.Fatalf("another kind of job: %v, want not an export", err)
	}
	if _, err := s.Begin(ctx, mia, Request{Format: sheet.CSV}); !errors.Is(err, ErrNoReference) {
		t.Fatalf("an export without reference data: %v", err)
	}
	if _, err := s.Begin(ctx, mia, Request{Format: "pdf"}); !errors.Is(err, ErrFormat) {
		t.Fatalf("an unknown format: %v", err)
	}
}
