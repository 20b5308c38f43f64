package web

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
)

// A marketer opens a fetched crowd's scores, switches identity → activity
// (the chart follows), clicks a heatmap cell (the selection panel counts
// it), saves the selection as a crowd and follows the import to its end;
// the new crowd holds that many members on the platform.
func TestBrowserScoresSelectionToCrowd(t *testing.T) {
	t.Parallel()
	h, rig := newScoresHarness(t)
	h.addUser("mia", db.RoleMarketer)
	cr := scoredCrowd(t, h, rig)
	b := newBrowser(t, h)
	b.enterAs("mia")
	b.run("desktop size", chromedp.EmulateViewport(1366, 768))

	b.open(crowdScoresURL(cr.GroupID, db.ScoreIdentity))
	b.run("the chart", chromedp.WaitVisible(chromedp.CSS(`[data-testid="scores-histogram"]`)))
	if got := eval[int](b, `document.querySelectorAll('[data-testid="band-bar"][data-band="A"]').length`); got != 1 {
		t.Fatalf("identity chart has %d grade A bars", got)
	}
	b.run("the movers load", chromedp.WaitVisible(chromedp.CSS(`[data-testid="movers"]`)))
	b.shootScores("scores-page-1366x768.png")

	b.run("switch to activity",
		chromedp.SetValue(chromedp.CSS(`[data-testid="scores-kind"]`), "active"),
		chromedp.Click(chromedp.CSS(`[data-testid="scores-show"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="scores-distribution"][data-kind="active"]`)),
	)
	if got := eval[int](b, `document.querySelectorAll('[data-testid="hist-bar"]').length`); got != 11 {
		t.Fatalf("activity histogram has %d bars, want 11", got)
	}
	if !strings.Contains(b.location(), "kind=active") {
		t.Fatalf("the kind is not in the address: %s", b.location())
	}

	// The fullest heatmap cell.
	cell := eval[[]string](b, `(() => { let best = null;
		document.querySelectorAll('[data-testid="heat-cell"]').forEach(a => { if (!best || +a.dataset.count > +best.dataset.count) best = a; });
		best.id = "fullest"; return [best.dataset.grade, best.dataset.level, best.dataset.count]; })()`)
	b.run("click the cell",
		chromedp.Click(chromedp.CSS(`#fullest`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="selection-panel"]`)),
	)
	if got := eval[string](b, `document.querySelector('[data-testid="selection-panel"]').dataset.count`); got != cell[2] {
		t.Fatalf("selection counts %s, the cell %s", got, cell[2])
	}
	// The clicked cell shows it is the one selected, and only it (issue 19).
	selected := `[...document.querySelectorAll('[data-testid="heat-cell"][aria-current="true"]')].map(a => a.id || a.dataset.grade + a.dataset.level)`
	if got := eval[[]string](b, selected); !slices.Equal(got, []string{"fullest"}) {
		t.Fatalf("selected cells %v, want the clicked one", got)
	}
	if style := eval[string](b, `getComputedStyle(document.querySelector("#fullest")).outlineStyle`); style == "none" {
		t.Error("the selected cell is not drawn as selected")
	}
	if got := eval[string](b, `document.querySelector('[data-testid="save-name"]').value`); !strings.HasPrefix(got, "Score selection · activity · ") {
		t.Errorf("the crowd's name offered is %q, want a name in words", got)
	}
	persons, err := strconv.Atoi(eval[string](b, `document.querySelector('[data-testid="selection-panel"]').dataset.persons`))
	if err != nil || persons == 0 {
		t.Fatalf("persons: %v %d", err, persons)
	}
	b.run("scroll to the selection", chromedp.ScrollIntoView(chromedp.CSS(`[data-testid="selection-panel"]`)))
	b.shootScores("scores-selection-1366x768.png")

	name := "评分选择 " + cell[0] + cell[1]
	b.run("save as a crowd",
		chromedp.SetValue(chromedp.CSS(`[data-testid="save-name"]`), name),
		chromedp.Click(chromedp.CSS(`[data-testid="save-crowd"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-progress"]`)),
	)
	if !strings.Contains(b.location(), "/imports/") {
		t.Fatalf("not on the import page: %s", b.location())
	}
	evalUntil(b, "the import to end", `(document.querySelector('[data-testid="import-percent"]') || {}).textContent + ""`, "100%")

	ctx := context.Background()
	c, err := h.store.CrowdByName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := rig.plat.Current()
	var got []string
	for m, err := range client.AllCrowdUsers(ctx, c.GroupID) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.OmniUserUUID)
	}
	if len(slices.Compact(got)) != persons {
		t.Fatalf("the new crowd has %d members, the selection %d persons", len(got), persons)
	}
	b.assertNoProblems()
}

func (b *browser) shootScores(name string) {
	b.t.Helper()
	if !eval[bool](b, `document.fonts.ready.then(() => true)`) {
		b.t.Fatal("fonts not ready")
	}
	for _, p := range eval[[]string](b, layoutCheck) {
		b.t.Errorf("layout: %s", p)
	}
	saveScreenshot(b.t, screenshotDir(b.t), name, get(b, "screenshot", chromedp.CaptureScreenshot()))
}
