package crowds

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/backup"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// A backup taken while an import runs, restored into a fresh data
// directory and started there, has the same data as the moment it was
// taken, and the import resumes and finishes exactly.
func TestABackupDuringAnImportRestoresAndResumes(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	// The rig's database is the data directory's, with the keys beside it.
	os.WriteFile(filepath.Join(r.dir, "session.key"), bytes.Repeat([]byte{1}, 96), 0o600)
	os.WriteFile(filepath.Join(r.dir, "secret.key"), bytes.Repeat([]byte{2}, 32), 0o600)
	f := makeImportFile(t, r.sb, 20000)
	id := r.prepare("客户名单.csv", f.csv)
	r.sb.SetFaults(sandbox.Faults{Latency: 3 * time.Millisecond})
	if _, err := r.svc.Start(context.Background(), id, r.userID, "mia", Target{NewCrowd: "备份中导入"}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the import to get going", func() bool {
		n, _ := r.store.ImportStateCounts(context.Background(), id)
		return n[db.RowResolved]+n[db.RowUnknown] > 3000
	})
	archive := filepath.Join(t.TempDir(), "running.tar.gz")
	if _, err := backup.CreateFile(context.Background(), r.dir, "test", archive, backup.Options{}); err != nil {
		t.Fatal(err)
	}
	fixture.Stop(r.runner) // the original goes away
	restored := filepath.Join(t.TempDir(), "restored")
	if _, err := backup.Restore(context.Background(), archive, restored, db.SchemaVersion(), ""); err != nil {
		t.Fatal(err)
	}
	store := fixture.StoreAt(t, filepath.Join(restored, backup.DBFile))
	im, _ := store.Import(context.Background(), id)
	if im.Finished() || im.Counts.Valid != r.mustImport(id).Counts.Valid {
		t.Fatalf("restored import: finished %v, %d valid", im.Finished(), im.Counts.Valid)
	}
	// The job's lease belonged to the process that made the backup; once
	// it has run out the restored console takes the job over.
	store.SetClock(func() time.Time { return time.Now().Add(time.Minute) })
	runner := jobs.New(store, jobs.Config{Logger: testkit.Quiet(), Poll: 20 * time.Millisecond, Heartbeat: 50 * time.Millisecond})
	if _, err := New(Config{Store: store, Platform: fixture.Fixed{Client: r.client}, Runner: runner, DataDir: restored,
		Logger: testkit.Quiet(), RetryDelay: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	r.sb.SetFaults(sandbox.Faults{})
	fixture.Start(t, runner)
	im = testkit.Await(t, "the restored import to finish",
		func() (db.Import, error) { return store.Import(context.Background(), id) }, db.Import.Finished)
	if im.JobState != db.JobDone {
		t.Fatalf("restored import ended %s", im.JobState)
	}
	if got := r.members(im.CrowdID); !slices.Equal(got, f.want) {
		t.Fatalf("crowd holds %d, want %d", len(got), len(f.want))
	}
}

func (r *rig) mustImport(id int64) db.Import {
	im, err := r.store.Import(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return im
}
