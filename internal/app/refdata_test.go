package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

func TestServeLoadsReferenceDataAtStartUp(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	_, _, stop := startServe(t, "--data", dir, "--refdata-ttl", "2h")
	store := fixture.StoreAt(t, filepath.Join(dir, "jingdesk.db"))
	testkit.Await(t, "the embedded sandbox's members to be loaded at start-up",
		func() (db.RefSet, error) { return store.RefSet(context.Background(), "embedded sandbox", "members") },
		func(set db.RefSet) bool { return set.FetchedAt != 0 && set.ItemCount == 30 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestServeRefusesATinyRefdataTTL(t *testing.T) {
	t.Parallel()
	_, _, err := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--refdata-ttl", "10s")
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "-refdata-ttl: must be a duration such as 90s, 5m or 6h, at least 1m") {
		t.Fatalf("--refdata-ttl 10s: %v", err)
	}
}
