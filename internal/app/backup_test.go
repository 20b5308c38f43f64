package app

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/backup"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

// `jingdesk backup` copies a running server's data directory; `restore`
// refuses while a server runs on the target, and otherwise puts the copy
// in place: a server started on it has the same accounts.
func TestBackupAndRestoreCommands(t *testing.T) {
	t.Parallel()
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

// signIn signs in over HTTP and returns the browser's cookie jar.
func signIn(t *testing.T, base, user, password string) http.CookieJar {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token, ok := testkit.CSRFToken(string(body))
	if !ok {
		t.Fatal("no CSRF token on the sign-in page")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"_csrf": {token}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign in: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return jar
}

// signedIn reports whether the cookies in jar open a signed-in page.
func signedIn(t *testing.T, base string, jar http.CookieJar) bool {
	t.Helper()
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/settings/account")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Audit finding 5: a backup held session.key, so a cookie made with that
// key signed in on the live console. Now a backup has no session key, a
// restore says it signs everyone out, and a cookie made with the old key
// is refused afterwards.
func TestARestoreSignsEveryoneOut(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if _, _, err := runCLI(t, "a long password\n", "user", "add", "alice", "--role", "admin", "--password-stdin", "--data", dir); err != nil {
		t.Fatal(err)
	}
	base, _, stop := startServe(t, "--data", dir)
	jar := signIn(t, base, "alice", "a long password")
	if !signedIn(t, base, jar) {
		t.Fatal("not signed in")
	}
	oldKey, _ := os.ReadFile(filepath.Join(dir, "session.key"))
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, _, err := runCLI(t, "", "backup", "--data", dir, archive); err != nil {
		t.Fatal(err)
	}
	stop()
	out, _, err := runCLI(t, "", "restore", "--data", dir, archive)
	if err != nil || !strings.Contains(out, "everyone is signed out") {
		t.Fatalf("restore: %q %v", out, err)
	}
	base, _, _ = startServe(t, "--data", dir)
	newKey, _ := os.ReadFile(filepath.Join(dir, "session.key"))
	if len(newKey) != 96 || bytes.Equal(newKey, oldKey) {
		t.Fatal("the restored console kept the old session key")
	}
	// The cookie made with the old key is still in the browser (cookies
	// do not depend on the port, and the new server has another).
	if signedIn(t, base, jar) {
		t.Fatal("a cookie made with the old session key signs in after the restore")
	}
	if !signedIn(t, base, signIn(t, base, "alice", "a long password")) {
		t.Fatal("cannot sign in again after the restore")
	}
}
