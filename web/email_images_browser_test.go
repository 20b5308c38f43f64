package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	emailview "github.com/jingdesk/jingdesk/templates/email"
)

// Audit finding 8: the preview loaded the email's remote images (a
// tracking pixel fired when a colleague previewed a draft) and honoured
// its <base>. A loopback https server stands in for the tracker and
// counts every connection made to it: with the preview's own policy
// Chromium makes none; after "Load remote images", in that view only,
// it does.
func TestBrowserEmailPreviewBlocksRemoteImagesUntilAsked(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	// Requests, not connections, are counted: a connection may be opened
	// ahead (a preconnect) or retried after the view that caused it, and
	// the image is never cached, so a view that loads it asks again.
	var pixels atomic.Int64
	tracker := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/pixel.gif" {
			pixels.Add(1)
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "image/gif")
	}))
	tracker.StartTLS()
	defer tracker.Close()
	html := `<!doctype html><html><head><meta charset="utf-8"><base href="` + tracker.URL + `/base/"></head>
<body><p id="body-text">双十一</p><img src="` + tracker.URL + `/pixel.gif" alt="" width="1" height="1">
<img src="relative-pixel.gif" alt=""></body></html>`
	mb, _ := mailboxes(t, rig)
	form := emailForm("跟踪像素", "预览不应加载远程图片", mb.MailboxID, firstCrowd(t, h).GroupID)
	form.Set("html", html)
	id := createdEmail(t, h.login("mia").postEmail("/email", form, "", nil))

	b := newBrowser(t, h)
	b.enterAs("mia")
	// The frame's load event comes after its images were fetched or
	// refused: once it fired, a request that was going to be made was made.
	frameLoaded := func() {
		t.Helper()
		got := eval[string](b, `new Promise(r => {
			const f = document.querySelector('[data-testid="email-preview"]');
			f.addEventListener("load", () => r("loaded"), {once: true});
			setTimeout(() => r("timeout"), 5000);
			f.src = f.getAttribute("src");
		})`)
		if got != "loaded" {
			t.Fatalf("the preview frame: %s", got)
		}
	}
	b.open(emailview.SendPath(id))
	frameLoaded()
	if n := pixels.Load(); n != 0 {
		t.Fatalf("the preview fetched the remote image (%d requests)", n)
	}
	src := eval[string](b, `document.querySelector('[data-testid="email-preview"]').getAttribute("src")`)
	if strings.Contains(src, "images=remote") {
		t.Fatalf("the default view asks for remote images: %q", src)
	}

	// Asked for, in this view: the image is fetched (so the server above
	// was reachable, and the zero meant something). The frame is loaded
	// once here, by the page: loading it again (frameLoaded) could leave a
	// request of the first load on its way to the tracker, counted only
	// after the view below had begun.
	b.load("load remote images", chromedp.Click(chromedp.CSS(`[data-testid="email-load-images"]`)))
	b.waitFor("the remote image's request", func() bool { return pixels.Load() >= 1 })
	fetched := pixels.Load()
	for _, r := range b.requests {
		if strings.Contains(r.URL, "/base/") {
			t.Errorf("the email's <base> was honoured: %s", r.URL)
		}
	}
	// Back on the send page without asking, images are blocked again.
	b.open(emailview.SendPath(id))
	frameLoaded()
	if n := pixels.Load(); n != fetched {
		t.Fatalf("remote images were remembered beyond the view that asked for them (%d requests after %d)", n, fetched)
	}
}
