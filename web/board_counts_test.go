package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// A filter too broad to count to the end (issue 18): the board shows each
// column's count as a lower bound ("N+", said in words on hover), never
// more than the column holds, and its total as "at least", in the
// reader's language from the catalogs; a column it could count shows its
// exact count. The cards stay those of the filter.
func TestBoardShowsABoundedCountAsALowerBound(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	fillBoardLeads(t, h, rig, 300) // columns longer than a page
	// Counting stops after 5 leads (the store's limit is 10,000).
	h.store.SetBoardLimits(5, 5)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	bt := rig.resolver().DefaultBusinessType("lead")
	// Every lead created since 2000: a filter the tally does not hold.
	q := url.Values{"business_type": {bt}, "created_from": {"2000-01-01"}}
	lf := db.LeadFilter{BusinessType: bt}
	exact, err := h.store.CountLeadsByStatus(context.Background(), lf)
	if err != nil {
		t.Fatal(err)
	}
	zone, _ := time.LoadLocation("Asia/Shanghai")
	cat, err := i18n.NewCatalog(zone)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"zh-CN", "en"} {
		rec := c.get(boardPath(q), func(r *http.Request) { r.Header.Set("Accept-Language", lang) })
		wantStatus(t, rec, http.StatusOK)
		loc := cat.Localizer(cat.Match(lang))
		p := parsePage(t, rec.Body.String())
		bounded, sum := 0, 0
		for _, n := range p.all("column-count") {
			st := strings.TrimPrefix(attrOf(n, "id"), "count-")
			shown, _ := strconv.Atoi(attrOf(n, "data-count"))
			sum += shown
			if attrOf(n, "data-at-least") != "true" {
				if shown != exact[st] {
					t.Errorf("%s: column %s counts %d exactly, the store %d", lang, st, shown, exact[st])
				}
				continue
			}
			bounded++
			if shown > exact[st] || shown < 1 {
				t.Errorf("%s: column %s at least %d, the store %d", lang, st, shown, exact[st])
			}
			if got, want := nodeText(n), loc.T("leads.board.count_at_least", "Count", loc.Number(int64(shown))); got != want {
				t.Errorf("%s: column %s shows %q, want %q", lang, st, got, want)
			}
			if got, want := attrOf(n, "title"), loc.T("leads.board.count_at_least_hint", "Count", loc.Number(int64(shown))); got != want {
				t.Errorf("%s: column %s hint %q, want %q", lang, st, got, want)
			}
		}
		if bounded == 0 {
			t.Fatalf("%s: no column shows a lower bound (%d leads counted at most 5)", lang, sum)
		}
		total := p.all("board-count-total")
		if len(total) != 1 || attrOf(total[0], "data-at-least") != "true" {
			t.Fatalf("%s: the total is not marked as a lower bound", lang)
		}
		if got, want := nodeText(total[0]), loc.T("leads.board.total_at_least", "Count", loc.Number(int64(sum))); got != want {
			t.Errorf("%s: total %q, want %q", lang, got, want)
		}
		if got := len(p.all("board-card")); got == 0 {
			t.Errorf("%s: no cards under the bounded counts", lang)
		}
	}
	// A move under the filter answers with the counts as the board
	// counts them: lower bounds, marked.
	pipe := rig.resolver().Statuses(bt)
	l := rig.leadIn(bt, pipe[0].ID)
	form := moveForm(bt, pipe[1].ID, l.UpdatedAt, "")
	form.Set("created_from", "2000-01-01")
	rec := c.post(leadsview.MovePath(l.UUID), form, htmx())
	wantStatus(t, rec, http.StatusOK)
	moved := parsePage(t, rec.Body.String())
	if total := moved.all("board-count-total"); len(total) != 1 || attrOf(total[0], "data-at-least") != "true" {
		t.Error("the move's total is not marked as a lower bound")
	}
	marked := 0
	for _, n := range moved.all("column-count") {
		if attrOf(n, "data-at-least") == "true" {
			marked++
		}
	}
	if marked == 0 {
		t.Error("no column count of the move's answer is marked as a lower bound")
	}

	// Without the filter the tally counts: exact, no lower bound.
	rec = c.get(boardPath(url.Values{"business_type": {bt}}))
	p := parsePage(t, rec.Body.String())
	for _, n := range p.all("column-count") {
		if attrOf(n, "data-at-least") != "" {
			t.Errorf("column %s marked as a lower bound without a filter", attrOf(n, "id"))
		}
	}
	if total := p.all("board-count-total"); len(total) != 1 || attrOf(total[0], "data-at-least") != "" {
		t.Error("the total is marked as a lower bound without a filter")
	}
}
