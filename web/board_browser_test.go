package web

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// boardBrowser is a marketer who reads Chinese, on the synced board.
func boardBrowser(t *testing.T) (*harness, *boardRig, *browser) {
	t.Helper()
	h, rig := newBoardHarness(t)
	u := h.addUser("mia", db.RoleMarketer)
	if err := h.store.SetUserLang(context.Background(), u.ID, i18n.Chinese); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, h)
	b.enterAs("mia")
	b.run("open the board at 1366×768",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(b.base+leadsview.BoardPath),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="board-card"]`)),
	)
	return h, rig, b
}

// boardBrowserMove is the board in the browser, with a lead of the first
// column and the next status to move it to.
func boardBrowserMove(t *testing.T) (rig *boardRig, b *browser, bt string, l db.Lead, to string) {
	t.Helper()
	_, rig, b = boardBrowser(t)
	bt = rig.resolver().DefaultBusinessType("lead")
	pipe := rig.resolver().Statuses(bt)
	return rig, b, bt, rig.leadIn(bt, pipe[0].ID), pipe[1].ID
}

// landed is JS that reports whether the card sits, no longer pending, in
// the column of status.
func landed(uuid, status string) string {
	return fmt.Sprintf(`String(!!document.querySelector("#%s > #%s:not(.board-card-pending)"))`,
		leadsview.CardsID(status), leadsview.CardID(uuid))
}

// dragJS drags a card onto a status's column: the DragEvents a mouse drag
// fires, with one DataTransfer. It reports whether the column accepted
// the drop (its dragover was cancelled).
func dragJS(uuid, status string) string {
	return fmt.Sprintf(`(() => {
		const card = document.getElementById(%s), target = document.getElementById(%s), dt = new DataTransfer();
		const fire = (el, type) => el.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt}));
		fire(card, "dragstart");
		fire(target, "dragenter");
		const accepted = !fire(target, "dragover");
		fire(target, "drop");
		fire(card, "dragend");
		return accepted;
	})()`, jsString(leadsview.CardID(uuid)), jsString(leadsview.CardsID(status)))
}

// waitPlatformStatus polls the sandbox until the lead is in status.
func (r *boardRig) waitPlatformStatus(uuid, status string) {
	r.h.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		got := r.platformLead(uuid).LeadStatus
		if got == status {
			return
		}
		if time.Now().After(deadline) {
			r.h.t.Fatalf("platform status of %s is %s, want %s", uuid, got, status)
		}
		<-time.After(20 * time.Millisecond)
	}
}

// Drag a card to the next column: it lands there and the platform has
// the new status. Headless Chromium does not run a native drag from
// synthesized mouse input, so the drag is the browser's own DragEvents
// (dragstart, dragover, drop, dragend, with a real DataTransfer)
// dispatched on the card and the column, exactly as a mouse drag fires
// them; board.js handles them like any drag.
func TestBrowserBoardDragMovesACard(t *testing.T) {
	t.Parallel()
	rig, b, bt, l, to := boardBrowserMove(t)

	for _, p := range eval[[]string](b, layoutCheck) {
		t.Errorf("layout: %s", p)
	}
	if !eval[bool](b, `document.fonts.ready.then(() => true)`) {
		t.Fatal("fonts not ready")
	}
	saveScreenshot(t, screenshotDir(t), "board-1366x768.png", get(b, "screenshot", chromedp.CaptureScreenshot()))

	drag := dragJS(l.UUID, to)
	if !eval[bool](b, drag) {
		t.Fatal("the target column did not accept the drop")
	}
	evalUntil(b, "the card to land in the target column", landed(l.UUID, to), "true")
	rig.waitPlatformStatus(l.UUID, to)
	if got := rig.localLead(l.UUID).Status; got != to {
		t.Fatalf("local copy %s, want %s", got, to)
	}
	counts := fmt.Sprintf(`document.getElementById(%s).dataset.count`, jsString(leadsview.CountID(to)))
	stored, _ := rig.h.store.CountLeadsByStatus(context.Background(), db.LeadFilter{BusinessType: bt})
	evalUntil(b, "the target column's count", counts, fmt.Sprint(stored[to]))

	// A drop on a closing column asks for the note first.
	closing := rig.statusNamed(bt, "无效")
	l2 := rig.leadIn(bt, l.Status)
	eval[bool](b, dragJS(l2.UUID, closing))
	evalUntil(b, "the note dialog", `String(document.getElementById("board-note-dialog").open)`, "true")
	shootBoard(b, "board-note-1366x768.png")
	b.run("write the note and move",
		chromedp.SendKeys(chromedp.CSS("#board-note"), "展会名片，无联系意向"),
		chromedp.Click(chromedp.CSS(`[data-testid="note-ok"]`)),
	)
	evalUntil(b, "the card to land in 无效", landed(l2.UUID, closing), "true")
	rig.waitPlatformStatus(l2.UUID, closing)
	if got := rig.platformLead(l2.UUID).LatestRemark; got != "展会名片，无联系意向" {
		t.Fatalf("latest remark %q", got)
	}
	b.assertNoProblems()
}

func shootBoard(b *browser, name string) {
	b.t.Helper()
	saveScreenshot(b.t, screenshotDir(b.t), name, get(b, "screenshot", chromedp.CaptureScreenshot()))
}

// Move a card with the keyboard only: Tab to its "Move to…", Enter to
// open it, the arrow key to the next status, Enter to move.
func TestBrowserBoardKeyboardMove(t *testing.T) {
	t.Parallel()
	rig, b, _, l, to := boardBrowserMove(t)

	summary := fmt.Sprintf(`String(document.activeElement === document.querySelector("#%s summary"))`, leadsview.CardID(l.UUID))
	for i := 0; ; i++ {
		if i == 400 {
			t.Fatal("Tab never reached the card's Move to…")
		}
		b.run("press Tab", chromedp.KeyEvent(kb.Tab))
		if eval[string](b, summary) == "true" {
			break
		}
	}
	b.run("open the menu", chromedp.KeyEvent(kb.Enter))
	evalUntil(b, "the menu to open", fmt.Sprintf(`String(document.querySelector("#%s details").open)`, leadsview.CardID(l.UUID)), "true")
	// Its statuses are asked for when it opens (the board carries none).
	b.wired(fmt.Sprintf(`#%s [data-testid="move-to"]`, leadsview.CardID(l.UUID)))
	b.run("go to the first status", chromedp.KeyEvent(kb.ArrowDown))
	focused := `(document.activeElement && document.activeElement.dataset.status) || ""`
	if got := eval[string](b, focused); got != to {
		t.Fatalf("ArrowDown focused %q, want %s", got, to)
	}
	shootBoard(b, "board-menu-1366x768.png")
	b.run("move", chromedp.KeyEvent(kb.Enter))
	evalUntil(b, "the card to land in the target column", landed(l.UUID, to), "true")
	rig.waitPlatformStatus(l.UUID, to)
	// The keyboard stays with the card.
	evalUntil(b, "focus on the moved card", fmt.Sprintf(`String(document.activeElement === document.querySelector("#%s summary"))`, leadsview.CardID(l.UUID)), "true")
	b.assertNoProblems()
}

// Scrolling a column to its end loads its next cards, until all are there.
func TestBrowserBoardLoadsMoreOnScroll(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	bt := rig.resolver().DefaultBusinessType("lead")
	status := rig.resolver().Statuses(bt)[0].ID
	rig.addLeads(bt, status, 2*boardPage+5)
	counts, err := h.store.CountLeadsByStatus(context.Background(), db.LeadFilter{BusinessType: bt})
	if err != nil {
		t.Fatal(err)
	}
	h.addUser("vic", db.RoleViewer)
	b := newBrowser(t, h)
	b.enterAs("vic")
	b.open(leadsview.BoardPath)
	list := fmt.Sprintf(`document.getElementById(%s)`, jsString(leadsview.CardsID(status)))
	cards := list + `.querySelectorAll('[data-testid="board-card"]').length`
	if got := eval[int](b, cards); got != boardPage {
		t.Fatalf("%d cards at first, want %d", got, boardPage)
	}
	for i := 0; eval[int](b, cards) < counts[status]; i++ {
		if i == 20 {
			t.Fatalf("%d of %d cards after scrolling", eval[int](b, cards), counts[status])
		}
		shown := eval[int](b, cards)
		eval[bool](b, list+`.scrollTop = 1e6; true`)
		evalUntil(b, "more cards", fmt.Sprintf(`String(%s > %d)`, cards, shown), "true")
	}
	if got := eval[int](b, cards); got != counts[status] {
		t.Fatalf("%d cards, want %d", got, counts[status])
	}
	evalUntil(b, "the sentinel to go", fmt.Sprintf(`String(%s.querySelector('[data-testid="load-more"]') === null)`, list), "true")
	b.assertNoProblems()
}

// A card whose lead changed on the platform meanwhile: the drop is not
// written; the card goes to the column the platform has it in, saying so.
func TestBrowserBoardMoveOfALeadChangedUpstream(t *testing.T) {
	t.Parallel()
	rig, b, bt, l, to := boardBrowserMove(t)
	now := rig.resolver().Statuses(bt)[2]
	if err := rig.platform().UpdateLeadStatus(context.Background(), l.UUID, now.ID); err != nil {
		t.Fatal(err)
	}
	if !eval[bool](b, dragJS(l.UUID, to)) {
		t.Fatal("the target column did not accept the drop")
	}
	evalUntil(b, "the card to go to the platform's column", landed(l.UUID, now.ID), "true")
	b.wantText("#"+leadsview.CardID(l.UUID)+` [data-testid="card-notice"]`, "平台上已有更改：现在处于“"+now.Name+"”")
	if got := rig.platformLead(l.UUID).LeadStatus; got != now.ID {
		t.Fatalf("platform status %s, want %s", got, now.ID)
	}
	b.assertNoProblems("status of 409", "Response Status Error Code 409")
}
