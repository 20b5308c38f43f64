package db

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func refSet(conn, key string) RefSet {
	return RefSet{Connection: conn, Key: key, Kind: "statuses", Object: "lead", Scope: "bt1"}
}

func names(items []RefItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID + "=" + it.Name
	}
	return out
}

func TestReplaceRefSetDiffsAgainstThePreviousCopy(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	clock := time.Unix(1_800_000_000, 0)
	s.SetClock(func() time.Time { return clock })
	set := refSet("sandbox", "lead.statuses.bt1")

	first := []RefItem{{ID: "a", Name: "新线索", Sort: 1}, {ID: "b", Name: "跟进中", Sort: 2}, {ID: "c", Name: "无效", Sort: 3}}
	c, err := s.ReplaceRefSet(ctx, set, first)
	if err != nil || !c.Empty() {
		t.Fatalf("first load: change %+v, %v (a first load records no change)", c, err)
	}
	clock = clock.Add(time.Hour)
	second := []RefItem{{ID: "c", Name: "无效", Sort: 1}, {ID: "a", Name: "新的线索", Sort: 2}, {ID: "d", Name: "已转化", Sort: 3}}
	c, err = s.ReplaceRefSet(ctx, set, second)
	if err != nil {
		t.Fatal(err)
	}
	want := RefChange{SetKey: set.Key, At: clock.Unix(),
		Added:   []RefItemChange{{ID: "d", After: "已转化"}},
		Renamed: []RefItemChange{{ID: "a", Before: "新线索", After: "新的线索"}},
		Removed: []RefItemChange{{ID: "b", Before: "跟进中"}}}
	if !sameChange(c, want) {
		t.Fatalf("change %+v, want %+v", c, want)
	}
	got, err := s.RefItems(ctx, "sandbox", set.Key)
	if err != nil || !slices.Equal(names(got), names(second)) {
		t.Fatalf("items %v (%v), want %v in the platform's order", names(got), err, names(second))
	}
	latest, err := s.LatestRefChanges(ctx, "sandbox")
	if err != nil || !sameChange(latest[set.Key], want) {
		t.Fatalf("latest change %+v (%v)", latest, err)
	}
	// An unchanged copy records nothing and keeps the latest change.
	clock = clock.Add(time.Hour)
	if c, err = s.ReplaceRefSet(ctx, set, second); err != nil || !c.Empty() {
		t.Fatalf("unchanged copy: %+v, %v", c, err)
	}
	if since, _ := s.RefChangesSince(ctx, "sandbox", 0); len(since) != 1 {
		t.Fatalf("%d changes recorded, want 1", len(since))
	}
	row, _ := s.RefSet(ctx, "sandbox", set.Key)
	if row.FetchedAt != clock.Unix() || row.ItemCount != 3 || row.LastError != "" {
		t.Fatalf("set row %+v", row)
	}
}

func TestAFailedReplaceKeepsTheOldCopy(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	set := refSet("sandbox", "lead.statuses.bt1")
	old := []RefItem{{ID: "a", Name: "新线索"}, {ID: "b", Name: "跟进中"}}
	if _, err := s.ReplaceRefSet(ctx, set, old); err != nil {
		t.Fatal(err)
	}
	// A repeated id breaks the primary key halfway through the inserts.
	bad := []RefItem{{ID: "x", Name: "一"}, {ID: "y", Name: "二"}, {ID: "x", Name: "三"}}
	if _, err := s.ReplaceRefSet(ctx, set, bad); err == nil {
		t.Fatal("a copy with a repeated id was accepted")
	}
	got, err := s.RefItems(ctx, "sandbox", set.Key)
	if err != nil || !slices.Equal(names(got), names(old)) {
		t.Fatalf("after a failed replace: %v (%v), want the old copy %v", names(got), err, names(old))
	}
	if since, _ := s.RefChangesSince(ctx, "sandbox", 0); len(since) != 0 {
		t.Fatalf("a failed replace recorded a change: %+v", since)
	}
}

func TestRecordRefFailureKeepsItemsAndFetchTime(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	clock := time.Unix(1_800_000_000, 0)
	s.SetClock(func() time.Time { return clock })
	set := refSet("sandbox", "members")
	if _, err := s.ReplaceRefSet(ctx, set, []RefItem{{ID: "1", Name: "李雷", Email: "li@example.com", Status: "active"}}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Hour)
	set.LastError, set.LastErrorDetail = "jing members.list: transient", `{"kind":"transient"}`
	if err := s.RecordRefFailure(ctx, set); err != nil {
		t.Fatal(err)
	}
	row, _ := s.RefSet(ctx, "sandbox", "members")
	if row.FetchedAt != clock.Add(-time.Hour).Unix() || row.LastAttemptAt != clock.Unix() ||
		row.LastError != set.LastError || row.LastErrorDetail != set.LastErrorDetail || row.ItemCount != 1 {
		t.Fatalf("after a failure: %+v", row)
	}
	items, _ := s.RefItems(ctx, "sandbox", "members")
	if len(items) != 1 || items[0].Email != "li@example.com" || items[0].Status != "active" {
		t.Fatalf("items after a failure: %+v", items)
	}
	// A failure of a set never loaded creates it, empty and never fetched.
	if err := s.RecordRefFailure(ctx, RefSet{Connection: "sandbox", Key: "lead.business_types", Kind: "business_types",
		Object: "lead", LastError: "down"}); err != nil {
		t.Fatal(err)
	}
	if row, _ := s.RefSet(ctx, "sandbox", "lead.business_types"); row.FetchedAt != 0 || row.LastError != "down" {
		t.Fatalf("never-loaded set after a failure: %+v", row)
	}
	// The next success clears the error.
	if _, err := s.ReplaceRefSet(ctx, set, nil); err != nil {
		t.Fatal(err)
	}
	if row, _ := s.RefSet(ctx, "sandbox", "members"); row.LastError != "" || row.LastErrorDetail != "" || row.ItemCount != 0 {
		t.Fatalf("after a success: %+v", row)
	}
}

func TestRefSetsBelongToOneConnection(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	if _, err := s.ReplaceRefSet(ctx, refSet("sandbox", "members"), []RefItem{{ID: "1", Name: "沙盒成员"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceRefSet(ctx, refSet("https://p app", "members"), []RefItem{{ID: "9", Name: "平台成员"}}); err != nil {
		t.Fatal(err)
	}
	sets, _ := s.RefSets(ctx, "https://p app")
	items, _ := s.AllRefItems(ctx, "https://p app")
	if len(sets) != 1 || len(items["members"]) != 1 || items["members"][0].Name != "平台成员" {
		t.Fatalf("platform sets %+v, items %+v", sets, items)
	}
	if _, err := s.RefItems(ctx, "elsewhere", "members"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another connection's set: %v, want ErrNotFound", err)
	}
}

func TestDeleteRefSetsRecordsTheirEntriesAsRemoved(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	set := refSet("sandbox", "lead.statuses.bt9")
	if _, err := s.ReplaceRefSet(ctx, set, []RefItem{{ID: "a", Name: "新线索"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRefSets(ctx, "sandbox", []string{set.Key}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RefSet(ctx, "sandbox", set.Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted set: %v", err)
	}
	var items int
	s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM ref_items`).Scan(&items)
	changes, _ := s.RefChangesSince(ctx, "sandbox", 0)
	if items != 0 || len(changes) != 1 || !slices.Equal(changes[0].Removed, []RefItemChange{{ID: "a", Before: "新线索"}}) {
		t.Fatalf("%d items left, changes %+v", items, changes)
	}
}

func sameChange(a, b RefChange) bool {
	return a.SetKey == b.SetKey && a.At == b.At && slices.Equal(a.Added, b.Added) &&
		slices.Equal(a.Renamed, b.Renamed) && slices.Equal(a.Removed, b.Removed)
}
