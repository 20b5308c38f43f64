package web

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
)

// BenchmarkScoresPage is GET /scores for all leads through the whole
// server in-process (session, the scores' aggregates, the SVG charts,
// the tables, templ, layout) with 100,000 leads in the local copy, every
// one with an identity grade and an activity level. It reports the median.
//
//	go test ./web -run '^$' -bench ScoresPage -benchtime 100x
func BenchmarkScoresPage(b *testing.B) {
	h, _ := newScoresHarness(b)
	start := time.Now()
	fillScoredLeads(b, h, 100_000)
	h.addUser("bench", db.RoleMarketer)
	cookies := h.login("bench").jar.Cookies(baseURL)
	b.Logf("100,000 scored leads added in %s", time.Since(start).Round(time.Millisecond))
	const path = "/scores?kind=identity"
	b.SetBytes(int64(serveOnce(b, h.srv, path, cookies)))
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		serveOnce(b, h.srv, path, cookies)
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}

// fillScoredLeads adds n leads over three business types and six statuses,
// with identity and activity scores.
func fillScoredLeads(b *testing.B, h *harness, n int) {
	b.Helper()
	ctx := context.Background()
	rn := rand.New(rand.NewPCG(3, 3))
	grades, levels := []string{"D", "C", "B", "A"}, []string{"inactive", "cold", "warm", "hot"}
	var leads []db.Lead
	var ids []string
	var identity, activity []db.FetchedScore
	flush := func() {
		if err := h.store.UpsertLeads(ctx, leads); err != nil {
			b.Fatal(err)
		}
		for _, k := range []struct {
			kind string
			got  []db.FetchedScore
		}{{db.ScoreIdentity, identity}, {db.ScoreActive, activity}} {
			if _, err := h.store.SaveScores(ctx, db.SubjectLead, k.kind, ids, k.got, h.clock.Now().Unix()); err != nil {
				b.Fatal(err)
			}
		}
		leads, ids, identity, activity = leads[:0], ids[:0], identity[:0], activity[:0]
	}
	for i := range n {
		id := fmt.Sprintf("scored%08d", i)
		leads = append(leads, db.Lead{UUID: id, BusinessType: fmt.Sprintf("bt%d", i%3), Status: fmt.Sprintf("st%d", rn.IntN(6)),
			Name: fmt.Sprintf("线索%d", i), Fields: []byte(`{"omni_user_uuid":"p` + id + `"}`)})
		ids = append(ids, id)
		score, points := float64(10+rn.IntN(91)), float64(rn.IntN(260))
		identity = append(identity, db.FetchedScore{ID: id, Model: "m", Score: score, Band: grades[min(int(score)/25, 3)]})
		activity = append(activity, db.FetchedScore{ID: id, Model: "m", Score: points, Band: levels[min(int(points)/40, 3)]})
		if len(leads) == 1000 {
			flush()
		}
	}
	if len(leads) > 0 {
		flush()
	}
}
