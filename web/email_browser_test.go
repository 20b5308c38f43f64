package web

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	emailview "github.com/jingdesk/jingdesk/templates/email"
)

// An email drafted in Chromium from an uploaded .html file: the preview
// shows it in the sandboxed frame and its script never runs; scheduled,
// confirmed through the shared step, then deleted: gone on the platform.
func TestBrowserEmailUploadPreviewScheduleAndDelete(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	mb, _ := mailboxes(t, rig)
	crowd := firstCrowd(t, h)
	b := newBrowser(t, h)
	b.enterAs("mia")

	// The email's script, were it to run, would tell the parent page and
	// send its frame to a page the test watches for.
	html := `<!doctype html><html><head><meta charset="utf-8"><title>双十一</title></head>
<body><h1>双十一限时礼遇</h1><p id="body-text">尊敬的车主，您好！浏览器测试正文。</p>
<script>parent.postMessage("email-script-ran", "*"); location.href = "/email-script-ran";</script>
</body></html>`
	path := filepath.Join(t.TempDir(), "双十一.html")
	if err := os.WriteFile(path, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}

	b.open(emailview.NewPath)
	at := time.Now().Add(time.Hour).Truncate(time.Minute) // real time: the sandbox's clock
	b.run("fill the form",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="email-name-input"]`), "双十一预热邮件"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="email-subject-input"]`), "双十一 | 星辰汽车限时礼遇"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="email-mailbox-select"]`), mb.MailboxID),
		chromedp.Click(chromedp.CSS(`[data-testid="email-crowd"][value="`+strconv.FormatInt(crowd.GroupID, 10)+`"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="email-when-at"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="email-at"]`), zoneTime(h, at)),
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="email-file"]`), []string{path}),
	)
	b.load("save the draft", chromedp.Click(chromedp.CSS(`[data-testid="email-save"]`)))
	b.run("the send page", chromedp.WaitVisible(chromedp.CSS(`[data-testid="email-preview"]`)))
	m := emailLocation.FindStringSubmatch(b.location())
	if m == nil {
		t.Fatalf("after saving at %s", b.location())
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	sd, err := h.store.Send(context.Background(), id)
	if err != nil || sd.Content != html || sd.SendTime != at.Unix() {
		t.Fatalf("stored draft: %+v, %v", sd, err)
	}
	b.wantText(`[data-testid="email-fact-subject"]`, "双十一 | 星辰汽车限时礼遇")
	b.wantText(`[data-testid="email-fact-sender"]`, mb.Address)

	// The frame is sandboxed and loads the preview; reloading it with a
	// listener in place shows its script does not run.
	if sb := eval[string](b, `document.querySelector('[data-testid="email-preview"]').getAttribute("sandbox")`); sb != "" {
		t.Fatalf("iframe sandbox=%q, want empty (every restriction)", sb)
	}
	eval[bool](b, `window.emailScriptRan = false; window.addEventListener("message", () => { window.emailScriptRan = true; }); true`)
	preview := emailview.PreviewPath(id)
	countPreviews := func() int {
		n := 0
		for _, r := range b.responses {
			if strings.HasPrefix(r.URL, b.base+preview) && r.Status == 200 {
				n++
			}
		}
		return n
	}
	// The frame's document comes after the page's (its response may be
	// recorded after the page has loaded, on a loaded machine).
	b.waitFor("the preview frame to load", func() bool { return countPreviews() > 0 })
	reloaded := eval[string](b, `new Promise(r => {
		const f = document.querySelector('[data-testid="email-preview"]');
		f.addEventListener("load", () => r("loaded"), {once: true});
		setTimeout(() => r("timeout"), 5000);
		f.src = f.getAttribute("src") + "?again=1";
	})`)
	if reloaded != "loaded" {
		t.Fatalf("reloading the preview frame: %s", reloaded)
	}
	// The frame's document is its own (opaque) origin: read its text through
	// the DOM the browser exposes to the test, when Chrome keeps the frame
	// in this process.
	if nodes := get(b, "the frame", chromedp.Nodes(chromedp.CSS(`[data-testid="email-preview"]`))); len(nodes) == 1 && nodes[0].ContentDocument != nil {
		b.run("the email's text in the frame", chromedp.WaitVisible(chromedp.CSS("#body-text"), chromedp.FromNode(nodes[0])))
		if got := get(b, "frame text", chromedp.Text(chromedp.CSS("#body-text"), chromedp.FromNode(nodes[0]))); !strings.Contains(got, "浏览器测试正文") {
			t.Errorf("the frame shows %q", got)
		}
	} else {
		t.Log("the sandboxed frame runs out of process here; its text was not read")
	}
	if ran := eval[bool](b, `new Promise(r => setTimeout(() => r(window.emailScriptRan), 300))`); ran {
		t.Error("the email's script ran in the preview")
	}
	b.mu.Lock()
	for _, r := range b.requests {
		if strings.Contains(r.URL, "/email-script-ran") {
			t.Error("the email's script navigated its frame")
		}
	}
	b.mu.Unlock()
	if eval[bool](b, `[...document.querySelectorAll("h1")].some(h => h.textContent === "双十一限时礼遇")`) {
		t.Error("the page renders the email's HTML inline")
	}
	shootEmail(b, "email-draft-1366x768.png")

	// Confirm through the shared step: review, type the count if asked, send.
	b.run("review", chromedp.Click(chromedp.CSS(`[data-testid="send-review"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-confirm-form"]`)))
	if eval[bool](b, `!!document.querySelector('[data-testid="confirm-typed"]')`) {
		count := eval[string](b, `document.querySelector('[data-testid="confirm-count"]').dataset.count`)
		b.run("type the count", chromedp.SendKeys(chromedp.CSS(`[data-testid="confirm-typed"]`), count))
	}
	eval[bool](b, `window.confirm = () => true; true`)
	b.run("confirm", chromedp.Click(chromedp.CSS(`[data-testid="confirm-submit"]`)))
	evalUntil(b, "the scheduled state", `(document.querySelector('[data-testid="email-head"] [data-testid="email-state"]') || {dataset: {}}).dataset.state + ""`, "scheduled")
	sd, _ = h.store.Send(context.Background(), id)
	if sd.State != db.SendSubmitted || sd.PlatformID == "" {
		t.Fatalf("after confirming: %s %q", sd.State, sd.PlatformID)
	}
	if d, err := rig.plat.Client().EDMDetail(context.Background(), sd.PlatformID); err != nil || d.Status != "scheduled" || d.SendTime != at.Unix() {
		t.Fatalf("on the platform: %+v, %v", d, err)
	}

	// The list, with the send's funnel.
	b.open(emailview.ListPath)
	b.run("the list", chromedp.WaitVisible(chromedp.CSS(`[data-testid="email-funnel"]`)))
	b.wantText(`[data-testid="email-row"] [data-testid="email-state"]`, "Scheduled")
	shootEmail(b, "email-list-1366x768.png")

	// Delete it: the shared cancel, after the browser's confirmation.
	b.open(emailview.SendPath(id))
	eval[bool](b, `window.confirm = () => true; true`)
	b.load("delete the scheduled email", chromedp.Click(chromedp.CSS(`[data-testid="email-delete"]`)))
	evalUntil(b, "the cancelled state", `(document.querySelector('[data-testid="email-state"]') || {dataset: {}}).dataset.state + ""`, "cancelled")
	if _, err := rig.plat.Client().EDMDetail(context.Background(), sd.PlatformID); err == nil {
		t.Error("the scheduled email is still on the platform after deleting it")
	}
	if sd, _ = h.store.Send(context.Background(), id); sd.State != db.SendCancelled {
		t.Errorf("state %s, want cancelled", sd.State)
	}
	// The headless shell reports the email's blocked script: that is the
	// frame's sandbox doing its work, not a problem of the page.
	b.assertNoProblems("because the document's frame is sandboxed and the 'allow-scripts' permission is not set")
}

// shootEmail checks the layout of the page shown and saves a screenshot.
func shootEmail(b *browser, name string) {
	b.t.Helper()
	if !eval[bool](b, `document.fonts.ready.then(() => true)`) {
		b.t.Fatal("fonts not ready")
	}
	for _, p := range eval[[]string](b, layoutCheck) {
		b.t.Errorf("layout of %s: %s", name, p)
	}
	saveScreenshot(b.t, screenshotDir(b.t), name, get(b, "screenshot", chromedp.CaptureScreenshot()))
}
