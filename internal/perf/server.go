package perf

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the console's file, read-only, for the choices the filters offer
)

// Console is the real jingdesk binary serving a data directory on
// loopback, connected to a sandbox, as a user meets it.
type Console struct {
	URL string
	// MetricsURL is /metrics on the console's separate, sign-in-free
	// listener (--metrics-addr): the Go heap, read from outside.
	MetricsURL string
	cmd        *exec.Cmd
	data       string
	logs       bytes.Buffer
}

// benchUser signs in to the console the harness measures.
const (
	benchUser     = "loadbench"
	benchPassword = "load-harness-password-1"
)

// StartConsole adds a marketer to the data directory (which holds the
// copy as jingdesk.db) and starts binary serving it on a free loopback
// port, connected to the sandbox at sandboxURL, its scheduled work
// (syncs, score refreshes, the sandbox's own changes) pushed past the
// run. It returns once /healthz answers.
func StartConsole(ctx context.Context, binary, data, sandboxURL string) (*Console, error) {
	add := exec.CommandContext(ctx, binary, "user", "add", benchUser, "--role", "marketer", "--password-stdin", "--data", data)
	add.Stdin = strings.NewReader(benchPassword + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("perf: user add: %w: %s", err, out)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c := &Console{URL: "http://" + addr, MetricsURL: "http://" + metricsAddr + "/metrics", data: data}
	creds := Credentials(sandboxURL)
	c.cmd = exec.Command(binary, "serve", "--data", data, "--addr", addr, "--metrics-addr", metricsAddr, "--log-level", "warn",
		"--jing-base-url", creds.BaseURL, "--jing-app-id", creds.AppID,
		"--lead-sync-every", "24h", "--score-refresh-every", "0", "--sandbox-changes-per-minute", "0")
	c.cmd.Env = append(os.Environ(), "JINGDESK_JING_APP_SECRET="+creds.AppSecret)
	c.cmd.Stdout, c.cmd.Stderr = &c.logs, &c.logs
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf: start %s: %w", binary, err)
	}
	if err := c.waitHealthy(ctx, time.Minute); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (c *Console) waitHealthy(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(c.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("perf: the console did not answer /healthz within %s: %v\n%s", within, err, c.logs.String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// PID is the server process's id.
func (c *Console) PID() int { return c.cmd.Process.Pid }

// Stop ends the server (SIGTERM, then waits).
func (c *Console) Stop() error {
	if c.cmd.Process == nil {
		return nil
	}
	c.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		return <-done
	}
}

// Logs is what the server wrote (warnings and errors only).
func (c *Console) Logs() string { return c.logs.String() }

// Memory reads the server's resident memory now and its peak (VmRSS,
// VmHWM in /proc), in MiB.
func (c *Console) Memory() (rss, peak float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.PID()))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			rss = kb / 1024
		case "VmHWM":
			peak = kb / 1024
		}
	}
	return rss, peak, nil
}

// CPU is the processor time the server has used so far (user and
// system, from /proc/PID/stat; clock ticks of 10 ms).
func (c *Console) CPU() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.PID()))
	if err != nil {
		return 0, err
	}
	// The fields after the command (in parentheses, which may hold spaces).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("perf: /proc/%d/stat: too few fields", c.PID())
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// WaitIdle waits until the console runs no job (the sync and reference
// refresh it starts with), so they do not run under the measurements.
func (c *Console) WaitIdle(ctx context.Context, within time.Duration) error {
	ro, err := sql.Open("sqlite", "file:"+c.data+"/jingdesk.db?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer ro.Close()
	deadline := time.Now().Add(within)
	for {
		var active int
		err := ro.QueryRowContext(ctx, `SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')`).Scan(&active)
		if err == nil && active == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("perf: the console still runs %d jobs after %s (%v)", active, within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Client is one signed-in browser: its own connections (conns at most),
// cookies and CSRF token. It asks for gzip, as browsers do.
type Client struct {
	base string
	http *http.Client
}

// SignIn signs the harness's user in over at most conns connections.
func (c *Console) SignIn(ctx context.Context, conns int) (*Client, error) {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns, DisableCompression: true}
	cl := &Client{base: c.URL, http: &http.Client{Jar: jar, Transport: tr, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	body, _, err := cl.Get(ctx, "/login")
	if err != nil {
		return nil, err
	}
	m := csrfField.FindSubmatch(body)
	if m == nil {
		return nil, errors.New("perf: no CSRF token on the sign-in page")
	}
	form := url.Values{"username": {benchUser}, "password": {benchPassword}, "_csrf": {string(m[1])}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := cl.http.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("perf: sign-in answered %d", resp.StatusCode)
	}
	return cl, nil
}

var csrfField = regexp.MustCompile(`name="_csrf"[^>]*value="([^"]+)"`)

// Get requests path and reads the whole answer (decompressed when it came
// gzipped; the time includes that, as a browser's would). It reports the
// bytes on the wire. Any status but 200 is an error.
func (cl *Client) Get(ctx context.Context, path string) (body []byte, wire int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cl.base+path, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := cl.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, len(raw), fmt.Errorf("perf: GET %s answered %d", path, resp.StatusCode)
	}
	body = raw
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if body, err = gunzip(raw); err != nil {
			return nil, len(raw), fmt.Errorf("perf: GET %s: %w", path, err)
		}
	}
	return body, len(raw), nil
}
