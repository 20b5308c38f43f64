package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/auth"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

// TestMain lets the test binary act as jingdesk itself, so a test can start
// it as a child process and send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("JINGDESK_TEST_AS_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := Run(ctx, os.Args[1:], IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, Build{Version: "test"})
		stop()
		if err != nil {
			os.Stderr.WriteString("jingdesk: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	auth.SetCostForTests()
	os.Exit(m.Run())
}

// syncBuffer is written by the server goroutine and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runCLI runs a command line in an empty environment.
func runCLI(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	return runCLIEnv(t, envMap(), stdin, args...)
}

// runCLIEnv runs a command line in the environment env.
func runCLIEnv(t *testing.T, env func(string) (string, bool), stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), args, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, LookupEnv: env}, Build{Version: "test"})
	return out.String(), errOut.String(), err
}

// childEnv is this process's environment without its JINGDESK_ settings,
// plus extra: a console started as a child reads only what its test gives.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JINGDESK_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func TestUserCommands(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	out, _, err := runCLI(t, "a long password\n", "user", "add", "alice", "--role", "marketer", "--password-stdin", "--data", dir)
	if err != nil || !strings.Contains(out, "created alice (marketer)") {
		t.Fatalf("user add: %q %v", out, err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Fatalf("data directory mode %v", st.Mode().Perm())
	}
	if _, _, err := runCLI(t, "a long password\n", "user", "add", "alice", "--role", "viewer", "--password-stdin", "--data", dir); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("duplicate: %v", err)
	}
	if _, _, err := runCLI(t, "short\n", "user", "add", "bob", "--role", "viewer", "--password-stdin", "--data", dir); err == nil || !strings.Contains(err.Error(), "10 characters") {
		t.Fatalf("short password: %v", err)
	}
	if _, _, err := runCLI(t, "a long password\n", "user", "add", "bob", "--role", "owner", "--password-stdin", "--data", dir); !errors.Is(err, ErrUsage) {
		t.Fatalf("bad role: %v", err)
	}
	if _, _, err := runCLI(t, "a long password\n", "user", "add", "bob", "--role", "viewer", "--data", dir); !errors.Is(err, ErrUsage) {
		t.Fatalf("no --password-stdin: %v", err)
	}
	// NAME may also come after the flags.
	if _, _, err := runCLI(t, "another password\n", "user", "add", "--data", dir, "--role=admin", "--password-stdin", "carol"); err != nil {
		t.Fatalf("name after flags: %v", err)
	}

	out, _, err = runCLI(t, "a newer password\r\n", "user", "passwd", "alice", "--password-stdin", "--data", dir)
	if err != nil || !strings.Contains(out, "sessions have ended") {
		t.Fatalf("passwd: %q %v", out, err)
	}
	if _, _, err := runCLI(t, "a newer password\n", "user", "passwd", "nobody", "--password-stdin", "--data", dir); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Fatalf("passwd unknown: %v", err)
	}
	store, err := db.Open(context.Background(), filepath.Join(dir, "jingdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := store.UserByName(context.Background(), "alice")
	entries, _ := store.ListAudit(context.Background(), db.AuditFilter{Action: "user."})
	store.Close()
	if !auth.VerifyPassword(u.PasswordHash, "a newer password") || u.SessionEpoch != 2 {
		t.Fatalf("passwd did not set the password (CR stripped) and bump the epoch: epoch %d", u.SessionEpoch)
	}
	if len(entries) != 3 {
		t.Fatalf("%d audit entries for CLI user changes, want 3", len(entries))
	}

	out, _, err = runCLI(t, "", "user", "list", "--data", dir)
	if err != nil || !strings.Contains(out, "alice") || !strings.Contains(out, "carol") || !strings.Contains(out, "admin") {
		t.Fatalf("list: %q %v", out, err)
	}
}

func TestEnvironmentSetsTheDataDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "from-env")
	if _, _, err := runCLIEnv(t, envMap("JINGDESK_DATA", dir), "a long password\n", "user", "add", "dana", "--role", "viewer", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "jingdesk.db")); err != nil {
		t.Fatalf("JINGDESK_DATA ignored: %v", err)
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	t.Parallel()
	if out, _, err := runCLI(t, "", "version"); err != nil || !strings.HasPrefix(out, "jingdesk test (commit ") ||
		!strings.HasSuffix(strings.TrimSpace(out), ", "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+")") {
		t.Fatalf("version: %q %v", out, err)
	}
	if _, errOut, err := runCLI(t, "", "frobnicate"); !errors.Is(err, ErrUsage) || !strings.Contains(errOut, "Usage:") {
		t.Fatalf("unknown command: %v %q", err, errOut)
	}
	dir := filepath.Join(t.TempDir(), "data")
	if _, errOut, err := runCLI(t, "", "serve", "-h", "--data", dir); err != nil || !strings.Contains(errOut, "-addr") {
		t.Fatalf("serve -h: %v %q", err, errOut)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("serve -h went on to start the server")
	}
	if _, _, err := runCLI(t, "", "serve", "--tls-cert", "x.pem"); err == nil {
		t.Fatal("--tls-cert without --tls-key accepted")
	}
}

var listenURL = regexp.MustCompile(`jingdesk listening\W+url\W+(https?://[^"\s]+)`)

// startServe runs `serve` in the background, in an empty environment,
// and returns its base URL.
func startServe(t *testing.T, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	return startServeEnv(t, envMap(), args...)
}

// startServeEnv runs `serve` in the environment env.
func startServeEnv(t *testing.T, env func(string) (string, bool), args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...),
			IO{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: stderr, LookupEnv: env}, Build{Version: "test"})
	}()
	t.Cleanup(cancel)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serve's log:\n%s", stderr.String())
		}
	})
	url := awaitOutput(t, "serve to listen", stderr, listenURL, done)
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(10 * time.Second):
				stopErr = errors.New("serve did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	return url, stderr, stop
}

// awaitOutput waits until re matches what a command wrote to out, and
// returns its first group. The command ending first (a value on exited;
// nil for none) fails the test at once; a failure shows the output.
func awaitOutput(t *testing.T, what string, out *syncBuffer, re *regexp.Regexp, exited <-chan error) string {
	t.Helper()
	var m []string
	defer func() {
		if m == nil { // the test is failing: Goexit runs this
			t.Logf("the output so far:\n%s", out.String())
		}
	}()
	testkit.WaitWithin(t, 10*time.Second, what, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("exited before %s: %v", what, err)
		default:
		}
		m = re.FindStringSubmatch(out.String())
		return m != nil
	})
	return m[1]
}

func TestServeStartsPrivatelyAndPrintsTheSetupLink(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	base, stderr, stop := startServe(t, "--data", dir)
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}
	m := regexp.MustCompile(`(http://[^"\s]+/setup\?token=[A-Za-z0-9_-]+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no setup link printed:\n%s", stderr.String())
	}
	resp, err = http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("setup link: %d", resp.StatusCode)
	}
	// A request's line is logged once it is answered: it may follow the answer.
	testkit.WaitWithin(t, 10*time.Second, "a request log line with its request id", func() bool {
		return strings.Contains(stderr.String(), "request_id=")
	})
	for name, want := range map[string]os.FileMode{".": 0o700, "jingdesk.db": 0o600, "session.key": 0o600, "secret.key": 0o600} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", name, st.Mode().Perm(), want, err)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !strings.Contains(stderr.String(), "msg=stopped") {
		t.Fatal("no clean stop logged")
	}
}

func TestServeWithUsersPrintsNoSetupLinkAndLogsJSON(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if _, _, err := runCLI(t, "a long password\n", "user", "add", "root", "--role", "admin", "--password-stdin", "--data", dir); err != nil {
		t.Fatal(err)
	}
	_, stderr, stop := startServe(t, "--data", dir, "--log-format", "json")
	stop()
	if strings.Contains(stderr.String(), "setup?token=") {
		t.Fatal("setup link printed although an account exists")
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Fatalf("not JSON logs:\n%s", stderr.String())
	}
}

func TestServeRefusesADatabaseFromANewerVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store, err := db.Open(context.Background(), filepath.Join(dir, "jingdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	if err := bumpSchema(filepath.Join(dir, "jingdesk.db")); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data", dir)
	if err == nil || !strings.Contains(err.Error(), "newer jingdesk") {
		t.Fatalf("newer database: %v", err)
	}
}

func TestServeTLSMarksCookiesSecure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := selfSignedCert(t, dir)
	base, _, _ := startServe(t, "--data", filepath.Join(dir, "data"), "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base URL %q", base)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if len(cookies) == 0 || !cookies[0].Secure || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie over TLS: %+v", cookies)
	}
}

func TestSIGTERMStopsTheProcessCleanly(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	cmd.Env = childEnv("JINGDESK_TEST_AS_MAIN=1")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() }) // if it never starts or never stops
	awaitOutput(t, "the child to listen", stderr, listenURL, nil)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("SIGTERM did not stop the process")
	}
	if !strings.Contains(stderr.String(), "msg=stopped") {
		t.Fatalf("no clean stop:\n%s", stderr.String())
	}
}

// bumpSchema records a migration this build does not know, as a newer jingdesk would.
func bumpSchema(path string) error {
	conn, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Exec(`INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, 'future.sql', 0)`, db.SchemaVersion()+1)
	return err
}

func selfSignedCert(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certPath, keyPath
}
