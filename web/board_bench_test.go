package web

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// boardBenchLeads is the size of the local copy BenchmarkBoardPage renders from.
const boardBenchLeads = 100_000

// fillBoardLeads adds n synthetic leads to the copy, spread over the
// sandbox's real business types and pipelines (most early in the
// pipeline), owners, pools and sources, so the board resolves every
// name, each with the whole record a synced lead carries (about 700
// bytes: db.SyncedFields).
func fillBoardLeads(b testing.TB, h *harness, rig *boardRig, n int) {
	b.Helper()
	r := rig.resolver()
	bts := r.BusinessTypes("lead")
	members := r.Members(false)
	sources := r.Options("lead", "source_type")
	rn := rand.New(rand.NewPCG(7, 7))
	now := h.clock.Now().Unix()
	batch := make([]db.Lead, 0, 20_000)
	for i := range n {
		bt := bts[0].ID
		if x := rn.IntN(100); x >= 60 && len(bts) > 1 {
			bt = bts[1+rn.IntN(len(bts)-1)].ID
		}
		pipe := r.Statuses(bt)
		st := pipe[min(len(pipe)-1, rn.IntN(len(pipe))*rn.IntN(2))].ID
		l := db.Lead{
			UUID: fmt.Sprintf("benchlead%08d", i), BusinessType: bt, Status: st, LifeStatus: "mql",
			Name: fmt.Sprintf("测试线索%d", i), Company: fmt.Sprintf("第%d号科技有限公司", rn.IntN(5000)), Title: "市场经理",
			Mobile: fmt.Sprintf("13%09d", i), Email: fmt.Sprintf("lead%d@example.cn", i),
			CreatedAt: now - rn.Int64N(365*86400), StatusSince: now - rn.Int64N(90*86400),
		}
		l.UpdatedAt = l.CreatedAt + rn.Int64N(now-l.CreatedAt+1)
		if len(members) > 0 && rn.IntN(5) > 0 {
			l.Owner = members[rn.IntN(len(members))].ID
		} else if rn.IntN(3) > 0 {
			l.LeadPool = fmt.Sprintf("pool%d", rn.IntN(2)) // the unassigned sit in one of two pools, or none
		}
		if len(sources) > 0 {
			l.Source = sources[rn.IntN(len(sources))].ID
		}
		l.Fields = db.SyncedFields(rn, l)
		batch = append(batch, l)
		if len(batch) == cap(batch) || i == n-1 {
			if err := h.store.UpsertLeads(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// BenchmarkBoardPage is GET /leads/board through the whole server
// in-process (session, counts, six columns of cards, templ, layout) with
// 100,000 leads in the local copy. It reports the median time.
//
//	go test ./web -run '^$' -bench BoardPage -benchtime 200x
func BenchmarkBoardPage(b *testing.B) {
	h, rig := newBoardHarness(b)
	start := time.Now()
	fillBoardLeads(b, h, rig, boardBenchLeads)
	h.addUser("bench", db.RoleMarketer)
	cookies := h.login("bench").jar.Cookies(baseURL)
	b.Logf("%d leads added in %s", boardBenchLeads, time.Since(start).Round(time.Millisecond))
	size := serveOnce(b, h.srv, leadsview.BoardPath, cookies)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		serveOnce(b, h.srv, leadsview.BoardPath, cookies)
		times = append(times, time.Since(t0))
	}
	if len(times) > 0 {
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
	}
}

// BenchmarkBoardPageMiss is BenchmarkBoardPage with the cached body
// expired before every request (the clock moves past the TTL): the cost of
// drawing the board, paid once per TTL and key, or after any write to the
// copy.
//
//	go test ./web -run '^$' -bench BoardPageMiss -benchtime 200x
func BenchmarkBoardPageMiss(b *testing.B) {
	h, rig := newBoardHarness(b)
	fillBoardLeads(b, h, rig, boardBenchLeads)
	h.addUser("bench", db.RoleMarketer)
	cookies := h.login("bench").jar.Cookies(baseURL)
	b.SetBytes(int64(serveOnce(b, h.srv, leadsview.BoardPath, cookies)))
	b.ReportAllocs()
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		h.clock.Advance(boardCacheTTL)
		t0 := time.Now()
		serveOnce(b, h.srv, leadsview.BoardPath, cookies)
		times = append(times, time.Since(t0))
	}
	if len(times) > 0 {
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
	}
}
