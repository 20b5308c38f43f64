package web

import (
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

// A person's page at 1366×768 in Chinese: no text is squeezed to one
// character per line (the crowd and import tables beside the identities).
func TestBrowserPersonPageDoesNotWrapChinesePerCharacter(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	mia := h.addUser("mia", db.RoleMarketer)
	people := rig.sandbox().SamplePersons(3)
	importPeople(t, rig, mia, people, "二〇二六年十二月上海车展到店客户名单（第二批）.csv", "上海车展到店高意向客户（十二月）")

	b := newBrowser(t, h)
	b.enterAs("mia")
	b.open("/persons/" + people[0].OmniUserUUID)
	b.wired(`[data-testid="person-identities"]`)
	// Every text of three or more characters in the page's tables and
	// lists must take fewer lines than it has characters.
	squeezed := eval[string](b, `(() => {
		const bad = [];
		for (const el of document.querySelectorAll('main td, main th, main dt, main dd, main h1, main h2, main a')) {
			for (const n of el.childNodes) {
				if (n.nodeType !== Node.TEXT_NODE) continue;
				const s = n.textContent.trim();
				if ([...s].length < 3) continue;
				const r = document.createRange(); r.selectNodeContents(n);
				const lines = new Set([...r.getClientRects()].map(x => Math.round(x.top))).size;
				if (lines >= [...s].length) bad.push(s + " (" + lines + " lines)");
			}
		}
		return bad.join("; ");
	})()`)
	if squeezed != "" {
		b.shootImports("person-squeezed-1366x768.png")
		t.Fatalf("text wrapped one character per line at 1366: %s", squeezed)
	}
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 1366 {
		t.Errorf("the person page scrolls sideways: %d px wide", w)
	}
	b.assertNoProblems()
}
