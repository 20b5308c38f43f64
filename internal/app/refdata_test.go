package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
)

func TestServeLoadsReferenceDataAtStartUp(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	_, stderr, stop := startServe(t, "--data", dir, "--refdata-ttl", "2h")
	store, err := db.Open(context.Background(), filepath.Join(dir, "jingdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		set, err := store.RefSet(context.Background(), "embedded sandbox", "members")
		if err == nil && set.FetchedAt != 0 && set.ItemCount == 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the embedded sandbox's members were not loaded at start-up (%+v, %v)\n%s", set, err, stderr.String())
		}
		<-time.After(20 * time.Millisecond)
	}
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
