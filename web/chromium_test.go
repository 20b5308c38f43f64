package web

// The one headless Chromium the browser tests share: each test gets a
// browser context and a tab of its own in it (newBrowser, browser_test.go).

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds the browser, or skips (fails under JINGDESK_REQUIRE_BROWSER=1).
//
// The headless shell comes first: it is Chromium's engine without the
// desktop browser around it (no browser UI, no window compositor), and it
// renders our pages the same way for about half the CPU: the web tests
// took 87 s of CPU with the full browser in headless mode and 51 s with the
// shell (same test binary, same quiet machine), and most of a web test's
// time is Chromium's.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium-headless-shell", "chrome-headless-shell", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no Chromium on PATH (looked for chromium, chromium-browser, google-chrome); " +
		"install it (Debian: apt-get install chromium-headless-shell) to run the browser tests"
	if os.Getenv("JINGDESK_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + "; JINGDESK_REQUIRE_BROWSER=1 makes this a failure")
	}
	t.Skip(msg)
	return ""
}

// chromium is the one headless Chromium the browser tests share: started
// by the first test that needs it, stopped by TestMain after the last.
// Starting a browser costs seconds of CPU; a browser context per test
// keeps the tests as apart as a browser each did.
var chromium struct {
	once sync.Once
	ctx  context.Context // the first tab's context: every test's tab is made from it
	err  error
	stop func()
}

// sharedChromium returns the shared browser's root context, starting it on
// first use (or skips, or fails, as chromiumPath says).
func sharedChromium(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	chromium.once.Do(func() { chromium.err = startChromium(path) })
	if chromium.err != nil {
		t.Fatalf("start Chromium (%s): %v", path, chromium.err)
	}
	return chromium.ctx
}

func startChromium(path string) error {
	profile, err := os.MkdirTemp("", "jingdesk-chromium-")
	if err != nil {
		return err
	}
	// DefaultExecAllocatorOptions has --headless, --no-first-run,
	// --disable-background-networking and --disable-sync already.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(profile),
		// A desktop window: below 900 px the sidebar folds to icons only.
		chromedp.WindowSize(1366, 768),
		// No name resolves: the only servers this browser can reach are ours.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		// Loopback test servers with httptest's certificate (a stand-in
		// for a remote image host) are reached like any https site, so a
		// test counts the requests they receive, not failed handshakes.
		chromedp.Flag("ignore-certificate-errors", true),
		// Tabs of tests running in parallel are all "in the background":
		// their timers and rendering must not be throttled.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelFirst := chromedp.NewContext(allocCtx)
	chromium.ctx = ctx
	chromium.stop = func() {
		cancelFirst() // the first context started the browser: this stops it and waits
		cancelAlloc()
		os.RemoveAll(profile)
	}
	// The first Run starts the process.
	if _, err := chromedp.Run(ctx, chromedp.Steps()); err != nil {
		chromium.stop()
		return err
	}
	return nil
}

// TestMain runs the parallel tests testsAtOnce at a time unless
// -test.parallel (go test -parallel) says otherwise, and stops the shared
// Chromium, if a test started it, after the last test has run.
func TestMain(m *testing.M) {
	flag.Parse()
	if !flagGiven("test.parallel") {
		flag.Set("test.parallel", strconv.Itoa(testsAtOnce()))
	}
	code := m.Run()
	if chromium.stop != nil {
		chromium.stop()
	}
	os.Exit(code)
}

// testsAtOnce is three tests per processor: a web test spends most of its
// time waiting (on Chromium, on the sandbox over loopback, on a job or a
// page that polls), so the default of one test per processor leaves the
// processors idle half the time; more than three only adds contention.
func testsAtOnce() int { return 3 * runtime.GOMAXPROCS(0) }

// flagGiven reports whether the command line set the flag name.
func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
