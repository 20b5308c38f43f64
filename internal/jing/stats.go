package jing

import (
	"context"
	"sync"
	"time"
)

// EndpointStats is what the Platform page shows per endpoint.
type EndpointStats struct {
	Endpoint      Endpoint
	CallsToday    int
	Calls         int // since start
	Errors        int // since start
	LastError     string
	LastErr       error // the error itself, for a message in the user's language
	LastErrorAt   time.Time
	LastRequestID string
	TotalDuration time.Duration
	// Unrecognised counts answers not understood (Error.Unrecognised, and
	// answers that were no platform envelope); the last one is kept whole,
	// with its HTTP status, field and excerpt.
	Unrecognised       int
	LastUnrecognised   *Error
	LastUnrecognisedAt time.Time
}

type statsBook struct {
	mu sync.Mutex
	by map[string]*EndpointStats
}

func (b *statsBook) init(cat Catalog) {
	b.by = map[string]*EndpointStats{}
	for _, e := range cat.All() {
		b.by[e.Key] = &EndpointStats{Endpoint: e}
	}
}

func (b *statsBook) record(key string, d time.Duration, requestID string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.by[key]
	s.Calls++
	s.TotalDuration += d
	if requestID != "" {
		s.LastRequestID = requestID
	}
	if err != nil {
		s.Errors++
		s.LastError = err.Error()
		s.LastErr = err
		s.LastErrorAt = time.Now()
		if e, ok := AsError(err); ok && (e.Unrecognised() || e.HTTPStatus != 0) {
			s.Unrecognised++
			s.LastUnrecognised, s.LastUnrecognisedAt = e, s.LastErrorAt
		}
	}
}

// Stats returns per-endpoint counters in catalog order, with today's call
// counts from the usage store.
func (c *Client) Stats(ctx context.Context) []EndpointStats {
	today, _ := c.usage.CallsOn(ctx, QuotaDay(c.cfg.Now()))
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	out := make([]EndpointStats, 0, len(c.stats.by))
	for _, e := range c.cfg.Catalog.All() {
		s := *c.stats.by[e.Key]
		s.CallsToday = today[e.Key]
		out = append(out, s)
	}
	return out
}
