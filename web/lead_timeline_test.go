package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The lead page's timeline: a note added through the page shows at its
// top (htmx swaps the card out of band) with who wrote it; a long history
// comes in pages, newest first, each "more" answering the next page and
// the last one without a "more".
func TestLeadTimelineOnThePage(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	ctx := context.Background()
	// 40 older status changes, one a minute, oldest first, before now
	// (the harness's clock: when the note is written).
	base := h.clock.Now().Unix() - 41*60
	for i := range 40 {
		from, to := pipe[i%2].ID, pipe[(i+1)%2].ID
		if err := h.store.RecordLeadStatusChange(ctx, l.UUID, db.LeadStatusChange{At: base + int64(i)*60, From: from, To: to,
			Origin: db.OriginSync}); err != nil {
			t.Fatal(err)
		}
	}

	rec := c.post(leadsview.NotesPath(l.UUID), noteForm("客户要求下周回电", l.UpdatedAt), htmx())
	wantStatus(t, rec, http.StatusOK)
	oob := parsePage(t, rec.Body.String())
	if attrOf(oob.one("lead-timeline"), "hx-swap-oob") != "true" {
		t.Fatal("the note's answer does not swap the timeline")
	}
	if got := oob.text("timeline-body"); got != "客户要求下周回电" {
		t.Fatalf("the timeline's newest entry is %q", got)
	}

	p := parsePage(t, c.get(leadsview.LeadPath(l.UUID)).Body.String())
	entries := p.all("timeline-entry")
	if len(entries) != leads.TimelinePage {
		t.Fatalf("%d entries on the first page, want %d", len(entries), leads.TimelinePage)
	}
	if kind := attrOf(entries[0], "data-kind"); kind != db.LeadEventNote {
		t.Fatalf("newest entry is a %s", kind)
	}
	if by := p.text("timeline-by"); !strings.Contains(by, "mia") || !strings.Contains(by, "在控制台") {
		t.Fatalf("the note says %q of who wrote it", by)
	}
	// The newest status change (the 40th) comes right after the note.
	if got, want := nodeText(entries[1]), pipe[1].Name+" → "+pipe[0].Name; !strings.Contains(got, want) {
		t.Fatalf("second entry %q, want %q", got, want)
	}
	more := p.attr("timeline-more", "hx-get")
	if more == "" {
		t.Fatal("no more link after a full page")
	}
	rec = c.get(more, htmx())
	wantStatus(t, rec, http.StatusOK)
	next := parsePage(t, rec.Body.String())
	// 41 entries (40 moves and the note) and whatever the lead had before.
	if n := len(next.all("timeline-entry")); n < 41-leads.TimelinePage {
		t.Fatalf("%d entries on the second page", n)
	}
	if isFullPage(rec.Body.String()) {
		t.Fatal("the htmx page is a whole page")
	}
	for more = next.attr("timeline-more", "hx-get"); more != ""; more = next.attr("timeline-more", "hx-get") {
		next = parsePage(t, c.get(more, htmx()).Body.String())
	}
	wantStatus(t, c.get(leadsview.TimelinePath(l.UUID, "nonsense")), http.StatusUnprocessableEntity)
}
