package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/internal/webhooks"
)

// BenchmarkWebhookLoad posts lead status events to the receiver over
// loopback at 500 a second for 20 seconds (10,000 events over 1,000
// leads, a tenth of them sent twice), with the worker applying them as
// they come, and reports the receiver's answer times (p50, p99) and how
// long applying took after the last answer. Every event must be stored
// once and applied.
//
//	go test ./web -run '^$' -bench WebhookLoad -benchtime 1x
func BenchmarkWebhookLoad(b *testing.B) {
	var box *secret.Box
	var svc *webhooks.Service
	h := newHarness(b, withPlatform(b, &box), func(d *Deps) {
		var err error
		if svc, err = webhooks.New(webhooks.Config{Store: d.Store, Box: box, Logger: d.Logger}); err != nil {
			b.Fatal(err)
		}
		d.Webhooks = svc
	})
	ctx := context.Background()
	key, err := svc.Secret(ctx)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h.srv)
	defer srv.Close()
	svc.Start(ctx)
	defer svc.Stop()
	const rate, seconds, distinct = 500, 20, 9_100
	bodies := loadEvents(distinct)
	for i := range rate*seconds - distinct { // the rest are repeats
		bodies = append(bodies, bodies[i*7%distinct])
	}
	url := srv.URL + "/webhooks/jing/" + key
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for b.Loop() {
		times := postAtRate(b, client, url, bodies, rate)
		sent := time.Now()
		deadline := sent.Add(60 * time.Second)
		for {
			counts, err := h.store.WebhookCounts(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if counts[db.EventPending] == 0 {
				if counts[db.EventApplied]+counts[db.EventSkipped] != distinct {
					b.Fatalf("events stored: %v, want %d applied or skipped", counts, distinct)
				}
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("events still pending: %v", counts)
			}
			time.Sleep(10 * time.Millisecond) // polling the store, bounded by the deadline
		}
		slices.Sort(times)
		b.ReportMetric(ms(times[len(times)/2]), "p50-ms")
		b.ReportMetric(ms(times[len(times)*99/100]), "p99-ms")
		b.ReportMetric(ms(times[len(times)-1]), "max-ms")
		b.ReportMetric(ms(time.Since(sent)), "drain-ms")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// postAtRate sends bodies at rate a second from 32 senders, failing on any
// answer but 200, and returns every answer's time.
func postAtRate(b *testing.B, client *http.Client, url string, bodies [][]byte, rate int) []time.Duration {
	b.Helper()
	jobs := make(chan []byte)
	var mu sync.Mutex
	var times []time.Duration
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for body := range jobs {
				start := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				took := time.Since(start)
				if err != nil {
					b.Error(err)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("answer %d", resp.StatusCode)
				}
				mu.Lock()
				times = append(times, took)
				mu.Unlock()
			}
		})
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	for _, body := range bodies {
		<-tick.C
		jobs <- body
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	return times
}

// loadEvents is n distinct lead events over 1,000 leads: a create for
// each, then status changes.
func loadEvents(n int) [][]byte {
	var out [][]byte
	at := int64(1_790_000_000)
	status := map[int]int{}
	for i := range n {
		lead := i % 1000
		typ, mapping := "object_update_status", map[string]any{"lead_status": []any{fmt.Sprintf("st%d", status[lead]), fmt.Sprintf("st%d", status[lead]+1)}}
		if i < 1000 {
			typ, mapping = "object_create", map[string]any{"name": []any{fmt.Sprintf("压测线索%d", lead)}, "lead_status": []any{"st0"}}
		} else {
			status[lead]++
		}
		body, _ := json.Marshal(map[string]any{"mid": "124", "event_category": "object_v2", "event_type": typ, "action_keyword": typ,
			"create_time": at + int64(i), "extra_data": map[string]any{"object_name": "lead", "entity_id": fmt.Sprintf("load%04d", lead),
				"object_id": fmt.Sprint(lead), "business_type": "bt1", "operator_type": 1, "operator_id": 18404,
				"mapping_data": mapping, "mapping_data_text": mapping}})
		out = append(out, body)
	}
	return out
}
