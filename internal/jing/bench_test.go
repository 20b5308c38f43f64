package jing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
)

// Benchmarks of the client against the in-process sandbox over loopback HTTP.
//
//	go test ./internal/jing -run '^$' -bench . -benchtime 3s

// BenchmarkCallOverhead is one members.list call (JSON encode, pacing
// check, token check, HTTP round trip, envelope and data decode), with the
// limit lifted so pacing never waits.
func BenchmarkCallOverhead(b *testing.B) {
	r := newRig(b, unlimited())
	ctx := context.Background()
	if _, err := listMembers(ctx, r.client); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := listMembers(ctx, r.client); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPacedRate runs calls as fast as the client allows against an
// endpoint limited to 50/s and reports the achieved rate as a share of the
// limit ("rate/limit", want 0.95–1.00) and the platform's 20002 answers
// ("rejects", want 0: pacing never overshoots).
func BenchmarkPacedRate(b *testing.B) {
	const limit = 50.0
	r := newRig(b, fast(limit))
	ctx := context.Background()
	if _, err := listMembers(ctx, r.client); err != nil {
		b.Fatal(err)
	}
	calls := 0
	start := time.Now()
	for b.Loop() {
		if _, err := listMembers(ctx, r.client); err != nil {
			b.Fatal(err)
		}
		calls++
	}
	elapsed := time.Since(start)
	if calls < 20 {
		return // too short a run to measure a rate; -benchtime 3s gives ~150 calls
	}
	rate := float64(calls-1) / elapsed.Seconds()
	b.ReportMetric(rate/limit, "rate/limit")
	b.ReportMetric(float64(r.calls.count("/v1/member/list")-1-calls), "rejects")
}

// unlimited lifts members.list's rate and daily quota on both sides.
func unlimited() rigOption {
	return func(sc *sandbox.Config, cc *jing.Config) {
		rate, quota := 1e9, 1<<30
		cat, err := jing.DefaultCatalog().ApplyOverrides(map[string]jing.Override{
			"members.list": {RatePerSecond: &rate, DailyQuota: &quota}})
		if err != nil {
			panic(err)
		}
		sc.Catalog, cc.Catalog = cat, cat
	}
}

// BenchmarkRawRoundTrip is the same members.list request as a bare
// net/http POST with a valid token: the floor the client's overhead is
// measured against (compare ns/op with BenchmarkCallOverhead).
func BenchmarkRawRoundTrip(b *testing.B) {
	r := newRig(b, unlimited())
	ctx := context.Background()
	if _, err := listMembers(ctx, r.client); err != nil {
		b.Fatal(err)
	}
	url := r.client.BaseURL() + "/v1/member/list"
	body := []byte(`{"page":1,"perPage":5}`)
	hc := &http.Client{}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("app_id", "sandbox")
		req.Header.Set("access_token", r.tokens.tok.AccessToken)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkLeadsPageCheck is the cost of checking a page of 100 leads (as
// the sandbox answers leads.list) for the fields the console relies on,
// beside decoding it: what strict answers add to every page a sync reads.
//
//	go test ./internal/jing -run '^$' -bench LeadsPage
func BenchmarkLeadsPageCheck(b *testing.B) {
	data := leadsPageData(b)
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			var p jing.Page[jing.Lead]
			if err := json.Unmarshal(data, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			if err := jing.CheckAnswer("leads.list", data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// leadsPageData is the data block of one leads.list page of 100 leads,
// written back as the platform writes it.
func leadsPageData(b *testing.B) []byte {
	r := newRig(b, func(sc *sandbox.Config, cc *jing.Config) { sc.Leads = 150 })
	p, err := r.client.ListLeads(context.Background(), jing.LeadFilter{}, jing.PageRequest{Page: 1, PerPage: 100})
	if err != nil || len(p.Items) != 100 {
		b.Fatalf("leads page: %d leads, %v", len(p.Items), err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
