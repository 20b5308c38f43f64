package web

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	reportview "github.com/jingdesk/jingdesk/templates/report"
)

// BenchmarkPipelineReport is GET /reports/pipeline in-process with
// 100,000 leads in the copy (created over a year; about 60 % of the
// default business type), 1,000 of which moved in the last 30 days, for
// the default business type and range (the last 30 days). No cache.
//
//	go test ./web -run '^$' -bench PipelineReport -benchtime 20x
func BenchmarkPipelineReport(b *testing.B) {
	h, rig := newBoardHarness(b)
	fillBoardLeads(b, h, rig, boardBenchLeads)
	r := rig.resolver()
	bt := r.DefaultBusinessType("lead")
	pipe := r.Statuses(bt)
	ctx := context.Background()
	ls, _, err := h.store.ListLeads(ctx, db.LeadFilter{BusinessType: bt, Limit: 1000})
	if err != nil {
		b.Fatal(err)
	}
	now := h.clock.Now().Unix()
	for i, l := range ls {
		if err := h.store.RecordLeadStatusChange(ctx, l.UUID, db.LeadStatusChange{At: now - int64(i)*60, From: pipe[0].ID, To: pipe[1].ID, Origin: db.OriginSync}); err != nil {
			b.Fatal(err)
		}
	}
	h.addUser("bench", db.RoleMarketer)
	cookies := h.login("bench").jar.Cookies(baseURL)
	path := reportview.Path + "?business_type=" + bt
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
