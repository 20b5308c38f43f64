package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// An import whose process is killed with SIGKILL in the middle of adding
// persons to the crowd resumes as soon as the process starts again (the
// data directory's lock proves the killed one is gone: no waiting for its
// 30-second lease), and the crowd ends up with exactly the file's known
// persons.
//
// The platform is a sandbox in this test process; the console is a child
// process on a data directory the test prepared (an import validated and
// queued), killed and started again.
func TestAnImportKilledMidwayResumesAfterARestart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts, kills and restarts the console as child processes")
	}
	// Lookups fast, crowd imports slow (2 calls a second, 500 persons each):
	// the child is killed while it adds persons to the crowd.
	dir := t.TempDir()
	overrides := `{"users.identity_batch":{"rate_per_second":400},"crowds.import":{"rate_per_second":2,"max_batch":500},` +
		`"crowds.create":{"rate_per_second":400},"crowds.detail":{"rate_per_second":400}}`
	if err := os.WriteFile(filepath.Join(dir, "catalog.json"), []byte(overrides), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := jing.LoadCatalog(filepath.Join(dir, "catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	sb := fixture.Sandbox(t, sandbox.Config{Seed: 3, Persons: 6000, Leads: 5, Catalog: cat})
	want, importID := queueImport(t, dir, sb, cat)

	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--jing-base-url", sb.URL, "--jing-app-id", "sandbox"}
	child := startChild(t, args)
	store := fixture.StoreAt(t, filepath.Join(dir, "jingdesk.db"))
	testkit.WaitWithin(t, 60*time.Second, "the import to add persons", func() bool {
		b, _ := store.RecentImportBatches(context.Background(), importID, 5)
		return len(b) >= 3
	})
	child.Process.Kill()
	child.Wait()
	im, _ := store.Import(context.Background(), importID)
	if im.Finished() {
		t.Fatal("the import finished before the kill; the test proves nothing")
	}
	before, _ := store.Job(context.Background(), im.JobID)
	restarted := time.Now()
	child = startChild(t, args)
	defer func() { child.Process.Kill(); child.Wait() }()
	// The killed process's lease has up to 30 s to run: the job must be
	// taken again well before it ends.
	testkit.WaitWithin(t, 15*time.Second, "the import to resume", func() bool {
		j, _ := store.Job(context.Background(), im.JobID)
		return j.Attempts > before.Attempts
	})
	t.Logf("resumed %v after the restart (lease until %v after it)", time.Since(restarted).Round(time.Millisecond),
		time.Unix(before.LeaseUntil, 0).Sub(restarted).Round(time.Second))
	testkit.WaitWithin(t, 90*time.Second, "the import to finish", func() bool {
		im, _ = store.Import(context.Background(), importID)
		return im.Finished()
	})
	if im.JobState != db.JobDone {
		j, _ := store.Job(context.Background(), im.JobID)
		t.Fatalf("import ended %s: %s", im.JobState, j.Error)
	}
	var got []string
	client := fixture.Client(t, sb.URL, cat)
	for m, err := range client.AllCrowdUsers(context.Background(), im.CrowdID) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.OmniUserUUID)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("crowd holds %d members, want exactly the file's %d known persons", len(got), len(want))
	}
	n, _ := store.ImportStateCounts(context.Background(), importID)
	if n[db.RowImported] != int64(len(want)) || len(n) != 1 {
		t.Fatalf("row states after the restart: %v", n)
	}
}

// queueImport prepares dir as a console would leave it: a user, an
// uploaded and validated file of 5,000 of the sandbox's persons, and the
// import queued as a job (no runner runs here). It returns the uuids the
// crowd must hold and the import's id.
func queueImport(t *testing.T, dir string, sb *sandbox.Running, cat jing.Catalog) ([]string, int64) {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(dir, "jingdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u, err := store.CreateUser(ctx, db.NewUser{Username: "mia", PasswordHash: "x", Role: "marketer"})
	if err != nil {
		t.Fatal(err)
	}
	client := fixture.Client(t, sb.URL, cat)
	svc, err := crowds.New(crowds.Config{Store: store, Platform: namedPlatform{client, sb.URL + " sandbox"},
		Runner: jobs.New(store, jobs.Config{}), DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	file.WriteString("姓名,手机号\n")
	var want []string
	for _, p := range sb.SamplePersons(6000) {
		if p.Mobile != "" && len(want) < 5000 {
			fmt.Fprintf(&file, "%s,%s\n", p.Name, p.Mobile)
			want = append(want, p.OmniUserUUID)
		}
	}
	slices.Sort(want)
	id, err := svc.Upload(ctx, u.ID, "名单.csv", &file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Validate(ctx, id, u.ID, []string{"name", "mobile"}, "mobile"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Start(ctx, id, u.ID, "mia", crowds.Target{NewCrowd: "断电测试"}); err != nil {
		t.Fatal(err)
	}
	return want, id
}

// namedPlatform is a live connection named as the console names it.
type namedPlatform struct {
	client *jing.Client
	name   string
}

func (p namedPlatform) Current() (*jing.Client, string) { return p.client, p.name }

func startChild(t *testing.T, args []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = childEnv("JINGDESK_TEST_AS_MAIN=1", "JINGDESK_JING_APP_SECRET=sandbox")
	cmd.Stderr = &syncBuffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}
