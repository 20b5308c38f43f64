package db

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"
)

// importWithRows is an import of n rows, validated (every seventh row
// invalid), started, its rows given outcomes, with its job queued.
func importWithRows(t *testing.T, s *Store, user int64, name string, n int) (Import, Job) {
	t.Helper()
	ctx := context.Background()
	id, err := s.CreateImport(ctx, NewImport{UserID: user, FileName: name, FilePath: name, FileSize: 1, FileSHA256: name})
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]ImportRow, n)
	for i := range rows {
		rows[i] = ImportRow{Line: int64(i + 2), Raw: fmt.Sprint(13800000000 + i), Value: fmt.Sprint(13800000000 + i), State: RowPending}
		if i%7 == 0 {
			rows[i].Value, rows[i].State, rows[i].Reason = "", RowInvalid, "mobile_format"
		}
	}
	if err := s.AddImportRows(ctx, id, 0, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishValidation(ctx, id, Validation{IdentityType: "mobile", Counts: ImportCounts{Total: int64(n)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimImportStart(ctx, id); err != nil {
		t.Fatal(err)
	}
	job, err := s.QueueImportRun(ctx, id, ImportTarget{CrowdID: 7, CrowdName: "c"}, NewJob{Kind: "imports.run." + name})
	if err != nil {
		t.Fatal(err)
	}
	var done []ImportRow
	for i, r := range rows {
		if r.State == RowPending {
			r.State, r.UUID, r.Created = RowImported, fmt.Sprintf("u-%s-%d", name, i), i%3 == 0
			if i%5 == 0 {
				r.State, r.UUID, r.Created = RowNotFound, "", false
			}
			done = append(done, r)
		}
	}
	if err := s.SetImportRows(ctx, id, done); err != nil {
		t.Fatal(err)
	}
	im, err := s.Import(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return im, job
}

// importCounts are every count the import's pages and job read of its rows.
func importCounts(t *testing.T, s *Store, id int64) [3]map[string]int64 {
	t.Helper()
	ctx := context.Background()
	states, err1 := s.ImportStateCounts(ctx, id)
	phases, err2 := s.ImportPhaseCounts(ctx, id)
	reasons, err3 := s.ImportReasonCounts(ctx, id, RowInvalid)
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return [3]map[string]int64{states, phases, reasons}
}

func rowsLeft(t *testing.T, s *Store, id int64) int64 {
	t.Helper()
	n, err := s.ImportLastRow(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The row records of an import whose job ended before the cutoff are
// deleted, its counts kept exactly; an import ended since, one whose job
// still runs, and one never started keep theirs.
func TestPruneImportRowsKeepsTheCountsAndWhatJobsStillNeed(t *testing.T) {
	s, clock := openJobStore(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, NewUser{Username: "mia", PasswordHash: "x", Role: RoleMarketer})
	if err != nil {
		t.Fatal(err)
	}
	finish := func(j Job) {
		t.Helper()
		claimed := mustClaim(t, s, "w", j.Kind)
		if err := s.FinishJob(ctx, claimed.ID, "w", JobDone, ""); err != nil {
			t.Fatal(err)
		}
	}
	old, oldJob := importWithRows(t, s, u.ID, "old", 5000) // more than one chunk
	finish(oldJob)
	before := importCounts(t, s, old.ID)

	clock.Advance(100 * 24 * time.Hour)
	recent, recentJob := importWithRows(t, s, u.ID, "recent", 300)
	finish(recentJob)
	running, runningJob := importWithRows(t, s, u.ID, "running", 300)
	mustClaim(t, s, "w", runningJob.Kind)
	unstarted, err := s.CreateImport(ctx, NewImport{UserID: u.ID, FileName: "u", FilePath: "u", FileSize: 1, FileSHA256: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddImportRows(ctx, unstarted, 0, []ImportRow{{Line: 2, Raw: "1", State: RowPending}}); err != nil {
		t.Fatal(err)
	}

	cutoff := s.unixNow() - int64(30*24*time.Hour/time.Second)
	n, err := s.PruneImportRows(ctx, cutoff)
	if err != nil || n != 5000 {
		t.Fatalf("pruned %d rows (%v), want the old import's 5000", n, err)
	}
	if left := rowsLeft(t, s, old.ID); left != 0 {
		t.Fatalf("the old import still has rows up to line %d", left)
	}
	if after := importCounts(t, s, old.ID); !equalCounts(before, after) {
		t.Fatalf("the old import's counts changed:\nbefore %v\nafter  %v", before, after)
	}
	if im, _ := s.Import(ctx, old.ID); im.RowsPrunedAt != s.unixNow() {
		t.Fatalf("rows_pruned_at %d, want now", im.RowsPrunedAt)
	}
	for name, id := range map[string]int64{"recent": recent.ID, "running": running.ID, "unstarted": unstarted} {
		if rowsLeft(t, s, id) == 0 {
			t.Errorf("the %s import lost its rows", name)
		}
		if im, _ := s.Import(ctx, id); im.RowsPrunedAt != 0 {
			t.Errorf("the %s import is marked pruned", name)
		}
	}
	if n, err := s.PruneImportRows(ctx, cutoff); err != nil || n != 0 {
		t.Fatalf("a second prune deleted %d rows (%v)", n, err)
	}
}

func equalCounts(a, b [3]map[string]int64) bool {
	return maps.Equal(a[0], b[0]) && maps.Equal(a[1], b[1]) && maps.Equal(a[2], b[2])
}

// Score history older than the cutoff goes, but each score keeps its last
// value at or before the cutoff: what it was then can still be told.
func TestPruneScoreHistoryKeepsTheValueAtTheCutoff(t *testing.T) {
	s, _ := openJobStore(t)
	ctx := context.Background()
	day := int64(24 * 3600)
	for i, score := range []float64{10, 20, 30, 40, 50} { // days 0, 10, 20, 30, 40
		got := []FetchedScore{{ID: "a", Model: "m", Score: score}, {ID: "b", Model: "m", Score: 100 - score}}
		if _, err := s.SaveScores(ctx, SubjectLead, ScoreIdentity, []string{"a", "b"}, got, int64(i)*10*day); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneScoreHistory(ctx, 25*day)
	if err != nil || n != 4 {
		t.Fatalf("pruned %d rows (%v), want days 0 and 10 of both scores", n, err)
	}
	for _, id := range []string{"a", "b"} {
		h, err := s.ScoreHistory(ctx, SubjectLead, id)
		if err != nil {
			t.Fatal(err)
		}
		var days []int64
		for _, p := range h {
			days = append(days, p.At/day)
		}
		if fmt.Sprint(days) != "[20 30 40]" {
			t.Errorf("%s keeps the history of days %v, want [20 30 40] (20: its value at the cutoff)", id, days)
		}
	}
}
