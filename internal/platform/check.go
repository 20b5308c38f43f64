package platform

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// probeWorkers is how many probes run at once: the client paces each
// endpoint anyway, and a few at a time keeps the check short without
// crowding the platform.
const probeWorkers = 4

// CheckEndpoints probes every catalog entry and returns the results in
// catalog order.
func (m *Manager) CheckEndpoints(ctx context.Context) []jing.ProbeResult {
	client := m.Client()
	entries := client.Catalog().All()
	out := make([]jing.ProbeResult, len(entries))
	next := make(chan int)
	var wg sync.WaitGroup
	for range probeWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = client.Probe(ctx, entries[i].Key)
			}
		}()
	}
	for i := range entries {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// ConnectionTest is what "Test connection" found.
type ConnectionTest struct {
	// Members is the tenant's member count from the harmless read (-1 when it was skipped).
	Members   int
	RequestID string
}

// TestConnection obtains a fresh token, then makes a harmless read (the
// first member), proving the address, the credentials and a business call.
func (m *Manager) TestConnection(ctx context.Context) (ConnectionTest, error) {
	client := m.Client()
	if err := client.TestConnection(ctx); err != nil {
		return ConnectionTest{}, err
	}
	if ep, ok := client.Catalog().Get("members.list"); !ok || ep.Disabled {
		return ConnectionTest{Members: -1}, nil
	}
	var page jing.Page[json.RawMessage]
	if err := client.Call(ctx, "members.list", jing.PageRequest{Page: 1, PerPage: 1}, &page); err != nil {
		return ConnectionTest{}, err
	}
	if !page.Meta.Known() { // the count is not known without _meta, not 0
		return ConnectionTest{Members: -1}, nil
	}
	return ConnectionTest{Members: page.Meta.TotalCount}, nil
}

// Overridden lists, per catalog entry that catalog.json changed, the
// fields that differ from the built-in catalog ("path", "method", "rate_per_second",
// "daily_quota", "max_batch", "disabled").
func (m *Manager) Overridden() map[string][]string {
	return CatalogDifferences(m.cfg.Catalog)
}

// CatalogDifferences compares cat with the built-in catalog.
func CatalogDifferences(cat jing.Catalog) map[string][]string {
	def := jing.DefaultCatalog()
	out := map[string][]string{}
	for _, e := range cat.All() {
		d, ok := def.Get(e.Key)
		if !ok {
			continue
		}
		var fields []string
		for _, f := range []struct {
			name    string
			differs bool
		}{
			{"path", e.Path != d.Path},
			{"method", e.Method != d.Method},
			{"rate_per_second", e.RatePerSecond != d.RatePerSecond},
			{"daily_quota", e.DailyQuota != d.DailyQuota},
			{"max_batch", e.MaxBatch != d.MaxBatch},
			{"disabled", e.Disabled != d.Disabled},
		} {
			if f.differs {
				fields = append(fields, f.name)
			}
		}
		if len(fields) > 0 {
			out[e.Key] = fields
		}
	}
	return out
}

// Today is the platform day (China time) the "calls today" counts belong to.
func (m *Manager) Today() string { return jing.QuotaDay(m.cfg.Now()) }

// Stats are the current client's per-endpoint counters, in catalog order.
func (m *Manager) Stats(ctx context.Context) []jing.EndpointStats {
	return m.Client().Stats(ctx)
}
