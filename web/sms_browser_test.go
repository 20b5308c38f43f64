package web

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/sends"
)

// An SMS send to a crowd in Chromium: the draft, a test send, the
// confirmation with the typed count, and the delivery counts rising.
func TestBrowserSMSSendToACrowd(t *testing.T) {
	t.Parallel()
	// The sandbox delivers ten times faster than the platform: the send is
	// followed to its end (a slow carrier receipt comes up to ~28 s after
	// the start on the platform) in seconds.
	h, rig := newSendsHarness(t, func(c *platform.Config) { c.Sandbox.SendSpeed = 10 })
	h.addUser("mia", db.RoleMarketer)
	if _, err := rig.sends.SaveSettings(context.Background(), sends.Settings{TestMobiles: sampleMobiles(rig, 1), ConfirmTypeAbove: 1}); err != nil {
		t.Fatal(err)
	}
	crowds, _, _ := h.store.ListCrowds(context.Background(), db.CrowdFilter{Limit: 500})
	var crowd db.Crowd
	for _, cr := range crowds {
		if cr.UserCount > 0 && (crowd.GroupID == 0 || cr.UserCount < crowd.UserCount) {
			crowd = cr
		}
	}
	if crowd.GroupID == 0 {
		t.Fatal("no crowd with members")
	}
	msg := rig.sandbox().SMSMessageIDs("approved")[0]
	b := newBrowser(t, h)
	b.enterAs("mia")

	b.open("/sms/new")
	b.run("fill the draft",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sms-name"]`), "十二月试驾邀约"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="sms-message-select"]`), msg),
	)
	eval[bool](b, `document.querySelector('[data-testid="sms-message-select"]').dispatchEvent(new Event("change", {bubbles: true}))`)
	if !eval[bool](b, `!document.querySelector('[data-sms-preview="`+msg+`"]').hidden && document.querySelector('[data-sms-preview="`+msg+`"]').textContent.includes("张伟")`) {
		t.Error("the preview does not follow the chosen message")
	}
	b.run("choose the crowd and save",
		chromedp.Click(chromedp.CSS(`[data-testid="sms-crowd"][value="`+strconv.FormatInt(crowd.GroupID, 10)+`"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="sms-save"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-panels"]`)),
	)
	draft := b.location()
	if got := eval[string](b, `document.querySelector('[data-testid="sms-size"]').dataset.size`); got != strconv.FormatInt(crowd.UserCount, 10) {
		t.Errorf("audience size %q, want %d", got, crowd.UserCount)
	}
	b.shootImports("sms-draft-1366x768.png")

	b.run("test send",
		chromedp.Click(chromedp.CSS(`[data-testid="send-test"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-notice-link"]`)),
	)
	b.open(eval[string](b, `document.querySelector('[data-testid="send-notice-link"]').getAttribute("href")`))
	if st := eval[string](b, `document.querySelector('[data-testid="send-panels"]').dataset.state`); st != "submitted" && st != "done" {
		t.Errorf("the test send is %q", st)
	}
	b.open(strings.TrimPrefix(draft, "http://"+strings.Split(strings.TrimPrefix(draft, "http://"), "/")[0]))
	b.run("review",
		chromedp.Click(chromedp.CSS(`[data-testid="send-review"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-typed"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="confirm-typed"]`), strconv.FormatInt(crowd.UserCount, 10)),
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-delivery"]`)),
	)
	deadline := time.Now().Add(60 * time.Second)
	for {
		d := eval[string](b, `(() => { const e = document.querySelector('[data-testid="send-delivery"]'); return e ? e.dataset.delivered + "|" + e.dataset.state : "0|" })()`)
		n, _ := strconv.Atoi(strings.Split(d, "|")[0])
		if n > 0 || strings.HasSuffix(d, "|done") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery counts did not rise: %s", d)
		}
		<-time.After(200 * time.Millisecond)
	}
	eval[bool](b, `(document.querySelector('[data-testid="send-delivery"]').scrollIntoView(), true)`)
	b.shootImports("sms-delivery-1366x768.png")

	// The page follows the delivery to its end without a reload: the
	// state (head and panel) says done and the recipients load.
	eval[bool](b, `(window.followMark = "same page", true)`)
	deadline = time.Now().Add(90 * time.Second)
	for {
		st := eval[string](b, `(() => {
			const p = document.querySelector('[data-testid="send-panels"]'), r = document.querySelector('[data-testid="send-records"]');
			return (p ? p.dataset.state : "") + "|" + (r ? r.dataset.total : "") })()`)
		if st == "done|"+strconv.FormatInt(crowd.UserCount, 10) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not follow the send to done with its recipients: %s", st)
		}
		<-time.After(250 * time.Millisecond)
	}
	if got := eval[string](b, `window.followMark || ""`); got != "same page" {
		t.Error("the page was reloaded to follow the send")
	}
	if got := eval[string](b, `document.querySelector('.page-head [data-testid="send-state"]').dataset.state`); got != "done" {
		t.Errorf("the page head says %q, want done", got)
	}
	if rig.sandbox().CallsToday("sms.send") != 2 {
		t.Errorf("sms.send called %d times, want 2 (test + send)", rig.sandbox().CallsToday("sms.send"))
	}
	b.assertNoProblems()
}
