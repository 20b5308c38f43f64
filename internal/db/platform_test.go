package db

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
)

func TestPlatformTokenIsOneRowThatIsReplaced(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	if _, err := s.PlatformToken(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty store: %v, want ErrNotFound", err)
	}
	first := PlatformToken{Scope: "a", AccessToken: "sealed-1", RefreshToken: "sealed-r1", ExpiresAt: 100, RefreshExpiresAt: 200}
	second := PlatformToken{Scope: "b", AccessToken: "sealed-2", RefreshToken: "sealed-r2", ExpiresAt: 300, RefreshExpiresAt: 400}
	for _, tok := range []PlatformToken{first, second} {
		if err := s.SavePlatformToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PlatformToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got.UpdatedAt = 0
	if got != second {
		t.Fatalf("got %+v, want %+v", got, second)
	}
	var rows int
	s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM platform_token`).Scan(&rows)
	if rows != 1 {
		t.Fatalf("%d token rows, want 1", rows)
	}
	if err := s.DeletePlatformToken(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PlatformToken(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestPlatformUsageSurvivesReopening(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "usage.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if n, err := s.CountPlatformCall(ctx, "2026-11-21", "leads.create"); err != nil || n != i {
			t.Fatalf("call %d counted as %d (%v)", i, n, err)
		}
	}
	s.CountPlatformCall(ctx, "2026-11-20", "leads.create")
	s.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.CountPlatformCall(ctx, "2026-11-21", "leads.create"); err != nil || n != 4 {
		t.Fatalf("after reopening the count went on at %d (%v), want 4", n, err)
	}
	day, err := s.PlatformCallsOn(ctx, "2026-11-21")
	if err != nil || len(day) != 1 || day["leads.create"] != 4 {
		t.Fatalf("calls on the day: %v %v", day, err)
	}
	if err := s.PrunePlatformUsage(ctx, "2026-11-21"); err != nil {
		t.Fatal(err)
	}
	if old, _ := s.PlatformCallsOn(ctx, "2026-11-20"); len(old) != 0 {
		t.Fatalf("pruned day still counted: %v", old)
	}
	if kept, _ := s.PlatformCallsOn(ctx, "2026-11-21"); kept["leads.create"] != 4 {
		t.Fatalf("prune dropped today: %v", kept)
	}
}

func TestConcurrentPlatformCallCountsAreExact(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	const workers, each = 20, 25
	var wg sync.WaitGroup
	seen := make(chan int, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				n, err := s.CountPlatformCall(ctx, "2026-11-21", "sms.send")
				if err != nil {
					t.Error(err)
					return
				}
				seen <- n
			}
		}()
	}
	wg.Wait()
	close(seen)
	// Every caller got a distinct count: no two increments read the same value.
	distinct := map[int]bool{}
	for n := range seen {
		distinct[n] = true
	}
	day, _ := s.PlatformCallsOn(ctx, "2026-11-21")
	if day["sms.send"] != workers*each || len(distinct) != workers*each {
		t.Fatalf("counted %d with %d distinct answers, want %d", day["sms.send"], len(distinct), workers*each)
	}
}

func TestDeleteSetting(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	s.SetSetting(ctx, "k", "v")
	if err := s.DeleteSetting(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Setting(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted setting still there: %v", err)
	}
	if err := s.DeleteSetting(ctx, "k"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
}
