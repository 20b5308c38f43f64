package app

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/backup"
)

// `jingdesk backup` copies a running server's data directory; `restore`
// refuses while a server runs on the target, and otherwise puts the copy
// in place: a server started on it has the same accounts.
func TestBackupAndRestoreCommands(t *testing.T) {
	src := filepath.Join(t.TempDir(), "data")
	if _, _, err := runCLI(t, "a long password\n", "user", "add", "alice", "--role", "admin", "--password-stdin", "--data", src); err != nil {
		t.Fatal(err)
	}
	url, _, stop := startServe(t, "--data", src)
	archive := filepath.Join(t.TempDir(), "jingdesk.tar.gz")
	out, _, err := runCLI(t, "", "backup", "--data", src, archive)
	if err != nil || !strings.Contains(out, "backed up") {
		t.Fatalf("backup of a running server: %q %v", out, err)
	}
	// A second server on the same directory is refused.
	if _, _, err := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data", src); !errors.Is(err, backup.ErrLocked) {
		t.Fatalf("a second server: %v", err)
	}
	// Restoring over the running server's directory is refused.
	if _, _, err := runCLI(t, "", "restore", "--data", src, archive); !errors.Is(err, backup.ErrInUse) {
		t.Fatalf("restore onto a running server: %v", err)
	}
	if resp, err := http.Get(url + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the running server after the refusals: %v", err)
	}
	stop()
	dst := filepath.Join(t.TempDir(), "restored")
	if out, _, err := runCLI(t, "", "restore", "--data", dst, archive); err != nil || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %q %v", out, err)
	}
	out, _, err = runCLI(t, "", "user", "list", "--data", dst)
	if err != nil || !strings.Contains(out, "alice") {
		t.Fatalf("accounts of the restored directory: %q %v", out, err)
	}
	startServe(t, "--data", dst) // starts on the restored directory
}
