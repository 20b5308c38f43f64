package web

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/scores"
	scoresview "github.com/jingdesk/jingdesk/templates/scores"
)

// The scores page on the first day: before the lead copy is filled it says
// the first fetch will start by itself (or to press Refresh); once it has
// started it shows its progress; a viewer is told whom to ask.
func TestScoresPageOnTheFirstDay(t *testing.T) {
	t.Parallel()
	var svc *scores.Service
	var rig crowdsRig
	h := newHarness(t, withCrowds(t, &rig), func(d *Deps) {
		idle := jobs.New(d.Store, jobs.Config{Logger: d.Logger}) // never started: the first fetch stays queued
		var err error
		svc, err = scores.New(scores.Config{Store: d.Store, Platform: d.Platform, Runner: idle, Logger: d.Logger, Now: d.Now,
			RefreshEvery: 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		d.Scores = svc
	})
	rig.h = h
	rig.sync()
	h.addUser("mia", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	mia, vic := h.login("mia"), h.login("vic")
	ctx := context.Background()
	allLeads := scoresview.Query{Pop: scoresview.PopAll, Kind: db.ScoreIdentity}.URL()

	// The lead copy of this connection, filled by a first full sync.
	_, conn := h.srv.Deps.Platform.Current()
	if _, err := h.store.ResetLeads(ctx, conn); err != nil {
		t.Fatal(err)
	}
	var copied []db.Lead
	for i := range 30 {
		copied = append(copied, db.Lead{UUID: "lead-" + strconv.Itoa(i), BusinessType: "bt", Status: "new", Name: "客户" + strconv.Itoa(i)})
	}
	if err := h.store.UpsertSyncedLeads(ctx, conn, 1, copied); err != nil {
		t.Fatal(err)
	}
	p := parsePage(t, mia.get(allLeads).Body.String())
	if got := p.attr("scores-first-hint", "data-hint"); got != scoresview.HintPending {
		t.Fatalf("before the first full sync ended: hint %q, want pending", got)
	}
	if err := h.store.SaveLeadSync(ctx, db.LeadSyncState{Connection: conn, FullSyncedAt: time.Now().Unix(), LastSyncedAt: time.Now().Unix()}); err != nil {
		t.Fatal(err)
	}
	id, err := svc.StartFirstFetch(ctx)
	if err != nil || id == 0 {
		t.Fatalf("first fetch: job %d, %v", id, err)
	}
	p = parsePage(t, mia.get(allLeads).Body.String())
	if p.attr("scores-job", "data-job") != strconv.FormatInt(id, 10) || !p.has("scores-first-fetch") || p.has("scores-first-hint") {
		t.Fatalf("the first fetch's progress is not shown (job %q)", p.attr("scores-job", "data-job"))
	}
	if v := parsePage(t, vic.get(allLeads).Body.String()); v.attr("scores-job", "data-job") != strconv.FormatInt(id, 10) {
		t.Error("a viewer does not see the first fetch's progress")
	}

	// A crowd's persons are not in the first fetch: there, press Refresh (or ask).
	list, _, _ := h.store.ListCrowds(ctx, db.CrowdFilter{Limit: 1})
	if len(list) > 0 {
		crowd := crowdScoresURL(list[0].GroupID, db.ScoreIdentity)
		if got := parsePage(t, mia.get(crowd).Body.String()).attr("scores-first-hint", "data-hint"); got != scoresview.HintPress {
			t.Errorf("a crowd never fetched, for a marketer: hint %q, want press", got)
		}
		if got := parsePage(t, vic.get(crowd).Body.String()).attr("scores-first-hint", "data-hint"); got != scoresview.HintAsk {
			t.Errorf("a crowd never fetched, for a viewer: hint %q, want ask", got)
		}
	}
}
