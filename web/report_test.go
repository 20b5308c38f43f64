package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	reportview "github.com/jingdesk/jingdesk/templates/report"
)

// reportFixture records a hand-built history on 2001-03-05 (Asia/Shanghai),
// long before any lead of the sandbox was created, for two leads of the
// default business type:
//
//	L1: s0 → s1 at 09:00 (console), s1 → s2 at 10:00 (console)
//	L2: s0 → s1 at 09:30 (a sync saw it)
//
// so s1 has 2 entries, 1 moving on (50 %), one time in status of 1 h,
// approximate (a sync's entry); s2 has 1 entry.
func reportFixture(t *testing.T) (*harness, string, url.Values, []string) {
	h, rig := newBoardHarness(t)
	r := rig.resolver()
	bt := r.DefaultBusinessType("lead")
	var pipe []string
	for _, st := range r.Statuses(bt) {
		pipe = append(pipe, st.ID)
	}
	zone, _ := time.LoadLocation("Asia/Shanghai")
	at := func(hh, mm int) int64 { return time.Date(2001, 3, 5, hh, mm, 0, 0, zone).Unix() }
	ctx := context.Background()
	ls, _, err := h.store.ListLeads(ctx, db.LeadFilter{BusinessType: bt, Limit: 2})
	if err != nil || len(ls) < 2 {
		t.Fatalf("leads: %v", err)
	}
	for _, c := range []struct {
		lead     string
		at       int64
		from, to string
		origin   string
	}{
		{ls[0].UUID, at(9, 0), pipe[0], pipe[1], db.OriginConsole},
		{ls[0].UUID, at(10, 0), pipe[1], pipe[2], db.OriginConsole},
		{ls[1].UUID, at(9, 30), pipe[0], pipe[1], db.OriginSync},
	} {
		if err := h.store.RecordLeadStatusChange(ctx, c.lead, db.LeadStatusChange{At: c.at, From: c.from, To: c.to, Origin: c.origin}); err != nil {
			t.Fatal(err)
		}
	}
	q := url.Values{"business_type": {bt}, "from": {"2001-03-05"}, "to": {"2001-03-05"}}
	return h, bt, q, pipe
}

// The figures of the hand-built history, on the page, in the export.
func TestPipelineReportFigures(t *testing.T) {
	t.Parallel()
	h, _, q, pipe := reportFixture(t)
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	p := parsePage(t, c.get(reportview.Path+"?"+q.Encode()).Body.String())
	rows := map[string]page{}
	for _, r := range p.all("report-row") {
		rows[attrOf(r, "data-status")] = page{t: t, doc: r}
	}
	s1, s2 := rows[pipe[1]], rows[pipe[2]]
	if s1.doc == nil || s2.doc == nil {
		t.Fatalf("rows %v", len(rows))
	}
	if got := [4]string{s1.text("report-entered"), s1.text("report-conversion"), s1.text("report-median"), s2.text("report-entered")}; got != [4]string{"2", "50%", "1.0 小时", "1"} {
		t.Fatalf("figures %q", got)
	}
	if !s1.has("report-approx") || s2.has("report-approx") {
		t.Fatal("≈ marks the wrong statuses")
	}

	rec := c.get(reportview.Form{BusinessType: q.Get("business_type"), From: "2001-03-05", To: "2001-03-05"}.ExportURL("csv"))
	wantStatus(t, rec, http.StatusOK)
	body := strings.TrimPrefix(rec.Body.String(), "\ufeff")
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+len(pipe) || recs[2][2] != "2" || recs[2][4] != "50.0%" || recs[2][6] != "1" {
		t.Fatalf("csv %v", recs)
	}
	wantStatus(t, c.get(reportview.Path+"?business_type=x&from=2001-03-06&to=2001-03-05"), http.StatusUnprocessableEntity)
}

// Clicking a bar lists the leads that entered its status.
func TestBrowserPipelineReportBar(t *testing.T) {
	t.Parallel()
	h, _, q, pipe := reportFixture(t)
	h.addUser("mia", db.RoleMarketer)
	b := newBrowser(t, h)
	b.enterAs("mia")
	b.open(reportview.Path + "?" + q.Encode())
	bar := `[data-testid="report-bar"][data-status="` + pipe[1] + `"]`
	b.wired(bar)
	b.run("click the bar", chromedp.Click(bar+" rect"))
	b.wired(`[data-testid="report-lead"]`)
	if n := eval[int](b, `document.querySelectorAll('[data-testid="report-lead"]').length`); n != 2 {
		t.Fatalf("%d leads under the bar", n)
	}
	b.assertNoProblems()
}
