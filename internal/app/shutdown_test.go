//go:build unix

package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/backup"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// A stop that comes while a scheduled backup is being written and while
// the send follower waits on the platform waits for both: the follower
// gives its call up and returns, the backup finishes, and only then does
// the database close.
//
// The console runs in this process against a sandbox platform over real
// HTTP. The platform holds the follower's status call until the console
// gives up on it. The backup is held by the data directory itself:
// sandbox.ledger.json (unused with a configured platform, copied by every
// backup) is a named pipe, and the backup's copy of it waits until the
// test closes the pipe's other end.
func TestAStopWaitsForTheBackupAndTheSendFollowUnderWay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	platformURL, followCalled := heldPlatform(t)
	submittedSend(t, dir, platformURL)
	ledger := filepath.Join(dir, "sandbox.ledger.json")
	if err := syscall.Mkfifo(ledger, 0o600); err != nil {
		t.Fatal(err)
	}

	cfg, _, err := parseServeWith(envMap("JINGDESK_JING_APP_SECRET", "sandbox"),
		"--addr", "127.0.0.1:0", "--data", dir, "--jing-base-url", platformURL, "--jing-app-id", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	srv := newServer(cfg, IO{Stderr: stderr}, Build{Version: "test"})
	srv.backupLook = 10 * time.Millisecond // the first look takes a backup: none was ever taken
	rec := &events{}
	srv.observe = func(ev string) {
		rec.add(ev)
		if ev == "stopping database" && !backupFinished(dir) {
			rec.add("the database closes under a backup")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- srv.run(ctx) }()

	select {
	case <-followCalled:
	case err := <-ran:
		t.Fatalf("the console stopped: %v\n%s", err, stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("the send follower never asked the platform:\n%s", stderr)
	}
	writer := openWhenRead(t, ledger) // the backup is copying the ledger
	cancel()
	testkit.WaitWithin(t, 30*time.Second, "the stop to reach the scheduled backups", func() bool {
		return rec.index("stopping scheduled backups") >= 0
	})
	rec.add("the backup may finish")
	writer.Close()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the console did not stop:\n%s", strings.Join(rec.all(), "\n"))
	}

	rec.before(t, "stopping send follow", "stopped send follow", "stopping scheduled backups", "the backup may finish",
		"stopped scheduled backups", "stopping database", "stopped database")
	if rec.index("the database closes under a backup") >= 0 {
		t.Fatalf("the database closed before the backup finished:\n%s", strings.Join(rec.all(), "\n"))
	}
	if _, err := srv.data.store.CountUsers(context.Background()); err == nil {
		t.Fatal("the database is still open after the stop")
	}
}

// heldPlatform is a sandbox platform that holds every status call of an
// SMS send (what the send follower asks) until the caller gives up on it.
// followCalled is closed at the first one.
func heldPlatform(t *testing.T) (url string, followCalled <-chan struct{}) {
	t.Helper()
	sb := sandbox.New(sandbox.Config{Seed: 7, Persons: 300, Leads: 30})
	detail, _ := jing.DefaultCatalog().Get("sms.send_detail")
	called, released := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != jing.PathOnly(detail.Path) {
			sb.ServeHTTP(w, r)
			return
		}
		once.Do(func() { close(called) })
		select {
		case <-r.Context().Done():
		case <-released:
		}
	}))
	t.Cleanup(func() { close(released); srv.Close() })
	return srv.URL, called
}

// submittedSend leaves an SMS send in dir's ledger, submitted to the
// platform at url and not yet finished: the send follower asks after it.
func submittedSend(t *testing.T, dir, url string) {
	t.Helper()
	client, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: url, AppID: "sandbox", AppSecret: "sandbox"}})
	if err != nil {
		t.Fatal(err)
	}
	submitSMS(t, fixture.StoreAt(t, filepath.Join(dir, "jingdesk.db")), client, url+" sandbox")
}

// openWhenRead opens the named pipe for writing as soon as a reader has it
// open (until then, a non-blocking open fails with ENXIO).
func openWhenRead(t *testing.T, fifo string) *os.File {
	t.Helper()
	var f *os.File
	testkit.WaitWithin(t, 30*time.Second, "the backup to copy "+filepath.Base(fifo), func() bool {
		var err error
		f, err = os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil && !errors.Is(err, syscall.ENXIO) {
			t.Fatal(err)
		}
		return err == nil
	})
	return f
}

// backupFinished reports whether a scheduled backup lies complete in the
// data directory, with nothing of its work left beside it.
func backupFinished(dir string) bool {
	all, _ := backup.List(dir)
	partial, _ := filepath.Glob(filepath.Join(backup.Dir(dir), ".backup-*"))
	snapshots, _ := filepath.Glob(filepath.Join(dir, ".snapshot-*"))
	return len(all) == 1 && all[0].Scheduled && len(partial) == 0 && len(snapshots) == 0
}
