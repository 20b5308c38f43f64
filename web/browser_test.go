package web

// Browser tests: the real server (httptest, listening on 127.0.0.1 only)
// driven by headless Chromium through chromedp. They skip when no Chromium
// is installed, unless JINGDESK_REQUIRE_BROWSER=1 (CI), which makes a
// missing browser a failure.
//
// Screenshots go to a temporary directory, or to $JINGDESK_SCREENSHOT_DIR
// (relative to the repository root) when set. The README's picture is
//
//	JINGDESK_SCREENSHOT_DIR=docs go test ./web -run TestBrowserReadmeScreenshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/testkit"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// browserTestTimeout bounds each browser test as a whole: when it passes,
// the browser is stopped and the step that was waiting fails.
const browserTestTimeout = 2 * time.Minute

// stepTimeout bounds each step (an action, or polling for a condition), so
// a page that never gets where a test waits fails fast and says where.
const stepTimeout = 15 * time.Second

// browser is one headless Chromium with one tab on the harness's server. It
// records, in the order the browser reports them, every page problem
// (uncaught exceptions, console errors, CSP violations) and every request
// and response of the tab.
type browser struct {
	t    *testing.T
	h    *harness
	base string // http://127.0.0.1:port
	ctx  context.Context

	mu        sync.Mutex
	problems  []string
	requests  []*network.Request
	responses []*network.Response
}

func newBrowser(t *testing.T, h *harness) *browser {
	t.Helper()
	root := sharedChromium(t)
	ts := httptest.NewServer(h.srv) // 127.0.0.1 on a free port
	t.Cleanup(ts.Close)

	// Each test has a browser context of its own in the one Chromium
	// (cookies, storage and cache apart, like a separate profile) and one
	// tab in it; a second tab a test opens shares that context.
	ctx, cancelTimeout := context.WithTimeout(root, browserTestTimeout)
	tabCtx, cancelTab := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	// Cleanups run last-registered first: the tab and its context are
	// closed before the server goes away.
	t.Cleanup(func() {
		cancelTab()
		cancelTimeout()
	})

	b := &browser{t: t, h: h, base: ts.URL, ctx: tabCtx}
	if err := chromedp.Listen(tabCtx, b.record); err != nil {
		t.Fatalf("open a tab in Chromium: %v", err)
	}
	// chromedp enables the CSS domain for its style queries, which no test
	// uses: it makes Chromium track every stylesheet of every page for the
	// inspector, a third of what a page load costs here.
	if _, err := chromedp.Call(tabCtx, css.Disable, cdp.Empty{}); err != nil {
		t.Fatalf("turn off Chromium's stylesheet tracking: %v", err)
	}
	// The browser starts in English, whatever the machine's locale.
	if _, err := chromedp.Call(tabCtx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "en-US,en;q=0.9"},
	}); err != nil {
		t.Fatalf("set Accept-Language: %v", err)
	}
	return b
}

// record runs in the tab's event loop: it must only append, under the lock.
func (b *browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			b.problems = append(b.problems, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
		}
	case *log.EventEntryAdded:
		// CSP violations arrive here ("Refused to …", source security).
		e := ev.Entry
		if e.Level == log.EntryLevelError || strings.Contains(e.Text, "Content Security Policy") {
			b.problems = append(b.problems, fmt.Sprintf("%s %s: %s [%s]", e.Source, e.Level, e.Text, e.URL))
		}
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request)
	case *network.EventResponseReceived:
		b.responses = append(b.responses, ev.Response)
	}
}

// assertNoProblems fails the test for every recorded problem that does not
// contain one of the allowed substrings (expected 4xx responses, say).
func (b *browser) assertNoProblems(allowed ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
next:
	for _, p := range b.problems {
		for _, a := range allowed {
			if strings.Contains(p, a) {
				continue next
			}
		}
		b.t.Errorf("page problem: %s", p)
	}
}

// waitFor polls a condition on what the browser reported, until a deadline.
func (b *browser) waitFor(what string, cond func() bool) {
	b.t.Helper()
	testkit.WaitWithin(b.t, stepTimeout, what, func() bool {
		if err := b.ctx.Err(); err != nil {
			b.t.Fatalf("waiting for %s: %v", what, err)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		return cond()
	})
}

// response returns the last response seen for path (the caller holds b.mu).
func (b *browser) response(path string) *network.Response {
	for i := len(b.responses) - 1; i >= 0; i-- {
		if r := b.responses[i]; r.URL == b.base+path {
			return r
		}
	}
	return nil
}

// step is the context for one step. The browser is running already, so its
// deadline ends the step, not the browser.
func (b *browser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

// get runs one action within a step's time and returns its value.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			logServerGoroutines(b.t)
		}
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// logServerGoroutines logs what the console's goroutines in this test
// binary are doing: a step that ran out of time was waiting either on
// Chromium or on the server, and a rare hang is diagnosed from one run.
func logServerGoroutines(t testing.TB) {
	var all strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&all, 1)
	for _, g := range strings.Split(all.String(), "\n\n") {
		if strings.Contains(g, "jingdesk/internal") || strings.Contains(g, "jingdesk/web.(") {
			t.Log(g)
		}
	}
}

func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	get(b, what, chromedp.Steps(steps...))
}

// load runs steps that make the tab load a new page and waits until it has.
func (b *browser) load(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path))
}

// eval runs JavaScript in the page and decodes its result (awaiting a promise).
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	return get(b, "evaluate "+js, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// wired waits until the element css is shown and htmx has processed it:
// the swap that brought it in has settled, so its hx-* attributes, and a
// boosted form's submit, are wired. htmx wires swapped-in content only as
// the swap settles (20 ms after it by default, much later on a loaded
// machine): a change dispatched on content that is visible but not yet
// settled does nothing, and a click submits the form without htmx. Until
// then htmx keeps its documented classes on the new content (htmx-added)
// and on the swap's target (htmx-swapping, then htmx-settling), and it
// removes them in the same task that wires the content.
func (b *browser) wired(css string) {
	b.t.Helper()
	b.run("wait until htmx has wired "+css,
		chromedp.WaitVisible(chromedp.CSS(css)),
		chromedp.PollFunction[chromedp.Void](`(css) => {
			const el = document.querySelector(css);
			return el !== null && document.readyState === "complete" &&
				el.closest(".htmx-added, .htmx-swapping, .htmx-settling") === null;
		}`, chromedp.WithPollingArgs(css)),
	)
}

func (b *browser) text(css string) string {
	b.t.Helper()
	return strings.TrimSpace(get(b, "text of "+css, chromedp.Text(chromedp.CSS(css))))
}

// location is the tab's path and query.
func (b *browser) location() string {
	b.t.Helper()
	u, err := url.Parse(get(b, "location", chromedp.Location()))
	if err != nil {
		b.t.Fatal(err)
	}
	return u.RequestURI()
}

func (b *browser) wantLocation(want string) {
	b.t.Helper()
	if got := b.location(); got != want {
		b.t.Fatalf("at %s, want %s", got, want)
	}
}

func (b *browser) wantText(css string, want ...string) {
	b.t.Helper()
	got := b.text(css)
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.t.Errorf("%s shows %q, want it to contain %q", css, got, w)
		}
	}
}

// fillSignIn fills and submits the sign-in form of the page the tab is on.
func (b *browser) fillSignIn(username, pw string) {
	b.t.Helper()
	b.run("fill the sign-in form",
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), pw),
	)
	b.load("sign in", chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)))
	b.wantSignedIn(username)
}

func (b *browser) signIn(username, pw string) {
	b.t.Helper()
	b.open("/login")
	b.fillSignIn(username, pw)
}

// enterAs gives the tab the session of name (an account addUser made),
// signed in by the harness as the form signs in (POST /login), without
// loading a page: a test about another page opens it first, not the
// sign-in page and Home (a third of a second of Chromium's time). The
// form itself is tested in Chromium by the tests that call signIn.
func (b *browser) enterAs(name string) {
	b.t.Helper()
	for _, ck := range b.h.login(name).jar.Cookies(baseURL) {
		if _, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{Name: ck.Name, Value: ck.Value, URL: b.base + "/"}); err != nil {
			b.t.Fatalf("give the tab %s's session: %v", name, err)
		}
	}
}

func (b *browser) wantSignedIn(name string) {
	b.t.Helper()
	b.run("wait for the signed-in header", chromedp.WaitVisible(chromedp.CSS(`[data-testid="user-name"]`)))
	if got := b.text(`[data-testid="user-name"]`); got != name {
		b.t.Fatalf("header shows user %q, want %q", got, name)
	}
}

// signOut presses the header's sign-out button.
func (b *browser) signOut() {
	b.t.Helper()
	b.load("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button[type=submit]`)))
	b.run("wait for the sign-in form", chromedp.WaitVisible(chromedp.CSS(`form[action="/login"] #password`)))
	b.wantLocation("/login")
}

// switchLang picks a language in the header's select, as a user does: the
// browser fires "change", and app.js submits the form.
func (b *browser) switchLang(code string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => {
		const s = document.querySelector('[data-testid="lang-select"]');
		s.value = %s;
		s.dispatchEvent(new Event("change", {bubbles: true}));
	})()`, jsString(code))
	b.load("switch the language to "+code, chromedp.Evaluate[chromedp.Void](js))
}

func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// navLabels are the sidebar's labels in each language, in order.
var navLabels = map[string][]string{
	i18n.English: {"Home", "Leads", "Crowds", "Imports", "SMS", "Email", "Scores", "Settings"},
	i18n.Chinese: {"首页", "线索", "人群", "导入", "短信", "邮件", "评分", "设置"},
}

// wantNav checks the page is in lang: its <html lang> and the sidebar's labels.
func (b *browser) wantNav(lang string) {
	b.t.Helper()
	if got := eval[string](b, `document.documentElement.lang`); got != lang {
		b.t.Errorf("<html lang=%q>, want %q", got, lang)
	}
	b.wantText(".sidebar nav", navLabels[lang]...)
}

// a) First run: setup, sign out, sign in, switch language, sign out.
func TestBrowserFirstRunSignInAndLanguage(t *testing.T) {
	t.Parallel()
	const token = "first-run-token-0123456789"
	h := newHarness(t, withSetupToken(token))
	b := newBrowser(t, h)
	const name, pw = "admin", "a-long-enough-secret"

	b.open("/setup?token=" + token)
	b.wantText("h1", "Create the first administrator")
	b.run("fill the setup form",
		chromedp.SendKeys(chromedp.CSS("#username"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.SendKeys(chromedp.CSS("#password_confirm"), pw),
	)
	b.load("create the administrator", chromedp.Click(chromedp.CSS(`form[action="/setup"] button[type=submit]`)))
	b.wantSignedIn(name)
	b.wantLocation("/") // Home
	b.wantText(".flash-success", "Welcome, admin")
	b.wantNav(i18n.English)

	b.signOut()
	b.wantText("h1", "Sign in")
	b.wantText(".flash-info", "You have signed out.")

	b.signIn(name, pw)
	b.wantLocation("/")
	b.wantNav(i18n.English)

	b.switchLang(i18n.Chinese)
	b.wantLocation("/") // the switch comes back to the same page
	b.wantNav(i18n.Chinese)
	b.wantText("h1", "今日")

	b.signOut()
	b.wantText("h1", "登录") // the choice outlives the sign-in
	b.wantText(".flash-info", "您已退出登录。")
	if got := eval[string](b, `document.documentElement.lang`); got != i18n.Chinese {
		t.Errorf("sign-in page <html lang=%q> after switching, want %q", got, i18n.Chinese)
	}
	b.assertNoProblems()
}

// screenshotDir is $JINGDESK_SCREENSHOT_DIR (relative paths from the
// repository root, since go test runs in web/), or a temporary directory.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("JINGDESK_SCREENSHOT_DIR")
	if dir == "" {
		return t.TempDir()
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// layoutCheck lists what looks broken on a console page: the stylesheet not
// applied, the sidebar overlapping the content, a horizontal scrollbar,
// header or navigation text cut off.
const layoutCheck = `(() => {
	const out = [];
	const css = (sel, prop) => { const el = document.querySelector(sel); return el ? getComputedStyle(el)[prop] : "(no " + sel + ")"; };
	const rect = sel => document.querySelector(sel).getBoundingClientRect();
	if (css(".sidebar", "backgroundColor") !== "rgb(15, 28, 51)") out.push(".sidebar background is " + css(".sidebar", "backgroundColor"));
	if (!css("body", "fontFamily").includes("PingFang SC")) out.push("body font-family is " + css("body", "fontFamily"));
	if (rect(".sidebar").right > rect("main").left + 0.5) out.push("the sidebar overlaps the main content");
	if (rect(".topbar").left < rect(".sidebar").right - 0.5) out.push("the sidebar overlaps the header");
	if (document.documentElement.scrollWidth > innerWidth) out.push("horizontal scrollbar: page is " + document.documentElement.scrollWidth + "px wide");
	for (const el of document.querySelectorAll(".sidebar a, .topbar .user-menu > *, .topbar .crumbs li, h1, .btn")) {
		if (el.getClientRects().length === 0) continue; // hidden on purpose
		if (el.scrollWidth > el.clientWidth + 1) out.push("text cut off: " + el.textContent.trim());
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.right > innerWidth) out.push("not fully on screen: " + el.textContent.trim());
	}
	return out;
})()`

// shootLeads shows the Leads page at a window size, checks the layout and
// returns a PNG of the viewport.
func (b *browser) shootLeads(width, height int) []byte {
	b.t.Helper()
	b.run(fmt.Sprintf("show /leads at %d×%d", width, height),
		chromedp.EmulateViewport(int64(width), int64(height)),
		chromedp.Navigate(b.base+"/leads"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="main-nav"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="empty-state"]`)),
	)
	// The screenshot waits for web fonts so text is drawn, not blank.
	if !eval[bool](b, `document.fonts.ready.then(() => true)`) {
		b.t.Fatal("fonts not ready")
	}
	for _, p := range eval[[]string](b, layoutCheck) {
		b.t.Errorf("layout at %d×%d: %s", width, height, p)
	}
	shot := get(b, "screenshot", chromedp.CaptureScreenshot())
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		b.t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got.X != width || got.Y != height {
		b.t.Errorf("screenshot is %d×%d, want %d×%d", got.X, got.Y, width, height)
	}
	return shot
}

func saveScreenshot(t *testing.T, dir, name string, shot []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d KB)", path, len(shot)/1024)
}

// signedInChinese signs in an administrator who chose Chinese.
func signedInChinese(t *testing.T, opts ...harnessOption) *browser {
	h := newHarness(t, opts...)
	u := h.addUser("lina", db.RoleAdmin)
	if err := h.store.SetUserLang(context.Background(), u.ID, i18n.Chinese); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, h)
	b.enterAs("lina")
	return b
}

// b) The layout renders at the two desktop sizes people use.
func TestBrowserLayoutAtDesktopSizes(t *testing.T) {
	t.Parallel()
	b := signedInChinese(t)
	dir := screenshotDir(t)
	for _, size := range [][2]int{{1366, 768}, {1920, 1080}} {
		shot := b.shootLeads(size[0], size[1])
		b.wantNav(i18n.Chinese)
		saveScreenshot(t, dir, fmt.Sprintf("leads-%dx%d.png", size[0], size[1]), shot)
	}
	b.assertNoProblems()
}

// The README's picture: the signed-in Leads page, 1366×768, in Chinese.
func TestBrowserReadmeScreenshot(t *testing.T) {
	t.Parallel()
	// The README shows the daily view: the pipeline board, in Chinese,
	// on the sandbox, as a marketer sees it.
	h, _, b := boardBrowser(t)
	h.srv.kit.version = "dev" // the sidebar's foot as `go run .` shows it
	b.run("reload the board", chromedp.Navigate(b.base+leadsview.BoardPath),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="board-card"]`)))
	if !eval[bool](b, `document.fonts.ready.then(() => true)`) {
		t.Fatal("fonts not ready")
	}
	shot := get(b, "screenshot", chromedp.CaptureScreenshot())
	// The page grew a search box, saved views and more sections (issue
	// 20): about 205 KB as PNG; the cap keeps an accident (a huge page,
	// a photo) out of the README.
	if len(shot) > 256<<10 {
		t.Errorf("README screenshot is %d KB, keep it under 256 KB", len(shot)>>10)
	}
	saveScreenshot(t, screenshotDir(t), "screenshot.png", shot)
	b.assertNoProblems()
}

var htmxVersion = regexp.MustCompile(`htmx\.org (\S+)`)

// c) No CSP violations or script errors on any page; htmx is loaded and
// app.js puts the CSRF token on its requests.
func TestBrowserNoCSPViolationsAndHtmxSendsCSRF(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := h.addUser("mia", db.RoleMarketer)
	b := newBrowser(t, h)

	b.open("/login")
	vendored, err := os.ReadFile("../static/HTMX_VERSION")
	if err != nil {
		t.Fatal(err)
	}
	m := htmxVersion.FindSubmatch(vendored)
	if m == nil {
		t.Fatalf("no version in static/HTMX_VERSION: %q", vendored)
	}
	if got := eval[string](b, `window.htmx ? htmx.version : "(htmx not loaded)"`); got != string(m[1]) {
		t.Fatalf("htmx version in the page %q, want the vendored %s", got, m[1])
	}
	b.signIn("mia", password("mia"))

	// Every section through the sidebar: boosted links, so htmx swaps the
	// page in place (the marker on window survives) under the CSP.
	eval[bool](b, `window.jingdeskMarker = true`)
	for _, link := range []struct{ href, lands string }{
		{"/crowds", "/crowds"}, {"/imports", "/imports"}, {"/sms", "/sms"}, {"/email", "/email"},
		{"/scores", "/scores"}, {"/jobs", "/jobs"}, {"/settings", "/settings/account"}, {"/leads", "/leads/board"},
	} {
		// Wait for htmx to settle the swap before the next click: until then
		// the new links are not yet boosted, and a click would load a page.
		eval[bool](b, `window.jingdeskSettled = false; document.addEventListener("htmx:afterSettle", function () { window.jingdeskSettled = true }, {once: true}); true`)
		b.run("go to "+link.href,
			chromedp.Click(chromedp.CSS(`.sidebar a[href="`+link.href+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`.sidebar a[href="`+link.href+`"][aria-current="page"]`)),
			chromedp.Poll[chromedp.Void](`window.jingdeskSettled === true`),
		)
		b.wantLocation(link.lands)
	}
	if !eval[bool](b, `window.jingdeskMarker === true`) {
		t.Error("sidebar links reloaded the page: hx-boost is not working")
	}
	b.open("/no-such-page")
	b.wantText("h1", "Page not found")
	b.open("/leads")

	// Without the header, a state change is refused…
	status := eval[int](b, `fetch("/lang", {method: "POST", body: new URLSearchParams({lang: "zh-CN"})}).then(r => r.status)`)
	if status != 403 {
		t.Fatalf("POST /lang without a CSRF token: %d, want 403", status)
	}
	if got, _ := h.store.User(context.Background(), u.ID); got.Lang != "" {
		t.Fatalf("refused request changed the language to %q", got.Lang)
	}
	// …and through htmx it succeeds: app.js added the page's token.
	token := eval[string](b, `document.querySelector('meta[name="csrf-token"]').content`)
	eval[chromedp.Void](b, `htmx.ajax("POST", "/lang", {target: "#toasts", swap: "none", values: {lang: "zh-CN", next: "/leads"}})`)
	b.waitFor("the htmx POST /lang", func() bool {
		for _, r := range b.requests {
			if r.Method == "POST" && r.URL == b.base+"/lang" && header(r.Headers, "HX-Request") == "true" {
				if sent := header(r.Headers, "X-CSRF-Token"); sent != token {
					t.Errorf("htmx sent X-CSRF-Token %q, want the page's %q", sent, token)
				}
				return true
			}
		}
		return false
	})
	if got, _ := h.store.User(context.Background(), u.ID); got.Lang != i18n.Chinese {
		t.Fatalf("after the htmx POST /lang the account's language is %q, want %q", got.Lang, i18n.Chinese)
	}
	b.run("reload", chromedp.Reload())
	b.wantNav(i18n.Chinese)
	b.assertNoProblems("status of 403", "status of 404")

	// The listener does see a violation: inline script is refused.
	eval[chromedp.Void](b, `document.head.appendChild(Object.assign(document.createElement("script"), {textContent: "window.inlineRan = true"}))`)
	b.waitFor("a reported CSP violation", func() bool {
		for _, p := range b.problems {
			if strings.Contains(p, "Content Security Policy") {
				return true
			}
		}
		return false
	})
	if eval[bool](b, `window.inlineRan === true`) {
		t.Error("an inline script ran despite the CSP")
	}
}

// header reads a request header whatever its case.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// d) A session that ended in another tab: the next htmx request gets 401
// and app.js takes the browser to the sign-in page, which leads back.
func TestBrowserExpiredSessionSendsHtmxToLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("vic", db.RoleViewer)
	b := newBrowser(t, h)
	b.signIn("vic", password("vic"))
	b.wantLocation("/")

	// A second tab shares the cookies; signing out there ends the session.
	other, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	if err := chromedp.Do(other, chromedp.Navigate(b.base+"/leads")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(other, chromedp.Click(chromedp.CSS(`form[action="/logout"] button[type=submit]`))); err != nil {
		t.Fatalf("sign out in the other tab: %v", err)
	}

	// Back in the first tab, a sidebar link is an htmx request.
	b.run("follow a link with the session gone",
		chromedp.Click(chromedp.CSS(`.sidebar a[href="/crowds"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"] #password`)),
	)
	b.wantLocation("/login?next=%2F")
	b.waitFor("the 401 answer to the htmx request", func() bool {
		r := b.response("/crowds")
		return r != nil && r.Status == 401
	})

	b.fillSignIn("vic", password("vic"))
	b.wantLocation("/")
	// Chromium logs the 401 and htmx reports it as an error: both expected.
	b.assertNoProblems("status of 401", "Response Status Error Code 401 from /crowds")
}
