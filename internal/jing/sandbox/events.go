package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// Webhook delivery, as the platform does it: events leave in order, each
// POSTed as JSON with a timeout, retried with backoff a bounded number of
// times, and now and then delivered twice (receivers must deduplicate).
const (
	eventQueueLimit      = 10000
	webhookAttempts      = 5
	webhookTimeout       = 10 * time.Second
	webhookFirstRetry    = 500 * time.Millisecond
	webhookMaxRetry      = 10 * time.Second
	webhookDuplicateRate = 0.02
)

// webhookTimeZone is China time, in which extra_data.created_timestamp is written.
var webhookTimeZone = time.FixedZone("CST", 8*3600)

// WebhookStats counts the sandbox's webhook deliveries since it was built.
type WebhookStats struct {
	Pending    int // queued or being delivered
	Delivered  int // events a receiver accepted (2xx)
	Duplicates int // extra deliveries of accepted events, as the platform sometimes makes
	Retries    int // failed attempts that were tried again
	Failed     int // events given up after the last attempt
	Dropped    int // events dropped, oldest first, because the queue was full
}

// eventQueue holds the events waiting for delivery and runs the sandbox's
// background work (delivery, platform-side changes, periodic saves).
//
// Lock order: s.mu, then q.mu. emit runs with s.mu held and takes q.mu
// only to append; delivery takes q.mu only, and never calls out holding it.
type eventQueue struct {
	s   *Server
	log *slog.Logger

	mu       sync.Mutex
	url      string
	pending  [][]byte // encoded events, oldest first
	inFlight bool
	stats    WebhookStats
	wake     chan struct{} // a buffered doorbell: events are waiting
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	// Delivery tuning; tests shorten it.
	client     *http.Client
	attempts   int
	firstRetry time.Duration
	maxRetry   time.Duration
	dupRate    float64
	dupRNG     *mrand.Rand // used by the delivery goroutine alone

	// platformChange makes one platform-side change, with s.mu held
	// (s.platformSideChange; tests count calls instead).
	platformChange func()
}

func newEventQueue(s *Server) *eventQueue {
	return &eventQueue{
		s: s, log: s.log, url: s.cfg.WebhookURL, wake: make(chan struct{}, 1),
		client:   &http.Client{Timeout: webhookTimeout},
		attempts: webhookAttempts, firstRetry: webhookFirstRetry, maxRetry: webhookMaxRetry,
		dupRate: webhookDuplicateRate, dupRNG: rngFor(s.cfg.Seed, "webhook-duplicates"),
		platformChange: s.platformSideChange,
	}
}

// emit queues an event for delivery; call it (with s.mu held) for every
// change the sandbox makes to a lead or an account. It never blocks: it
// fills in what the caller left empty, encodes the event (a snapshot, so
// the caller may reuse its maps) and appends it to the queue.
func (s *Server) emit(ev jing.WebhookEvent) {
	s.markChanged()
	s.completeEvent(&ev)
	body, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("sandbox: webhook event not encodable", "event_type", ev.EventType, "error", err)
		return
	}
	if _, on := s.quirks[QuirkWebhookObjects]; on {
		body = webhookLikeExamples(body)
	}
	s.events.push(body)
	s.recent = append(s.recent, ev)
	if n := len(s.recent); n > recentEvents {
		s.recent = slices.Clone(s.recent[n-recentEvents:])
	}
}

// completeEvent fills in the envelope fields every event carries.
func (s *Server) completeEvent(ev *jing.WebhookEvent) {
	if ev.MID == "" {
		ev.MID = s.tenant.MID
	}
	if ev.EventCategory == "" {
		ev.EventCategory = jing.EventCategoryObject
	}
	if ev.ActionKeyword == "" {
		ev.ActionKeyword = ev.EventType
	}
	if ev.CreateTime == 0 {
		ev.CreateTime = s.cfg.Now().Unix()
	}
	if ev.ExtraData.CreatedTimestamp == "" {
		ev.ExtraData.CreatedTimestamp = time.Unix(ev.CreateTime, 0).In(webhookTimeZone).Format(time.DateTime)
	}
}

// SetWebhookURL points delivery at url from now on ("" stops sending and
// drops what waits). Delivery runs while the sandbox runs (Start … Close).
func (s *Server) SetWebhookURL(url string) {
	q := s.events
	q.mu.Lock()
	defer q.mu.Unlock()
	q.url = url
	if url == "" {
		q.pending = nil
	}
	q.ring()
}

// PendingEvents is how many events wait for delivery (or are being delivered).
func (s *Server) PendingEvents() int { return s.WebhookStats().Pending }

// DeliveredEvents is how many events receivers have accepted, not counting duplicates.
func (s *Server) DeliveredEvents() int { return s.WebhookStats().Delivered }

// WebhookStats reports the delivery counters.
func (s *Server) WebhookStats() WebhookStats {
	q := s.events
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.stats
	st.Pending = len(q.pending)
	if q.inFlight {
		st.Pending++
	}
	return st
}

// push appends an encoded event, dropping the oldest when the queue is full.
func (q *eventQueue) push(body []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.url == "" { // no receiver configured: the platform sends nothing
		return
	}
	if len(q.pending) >= eventQueueLimit {
		q.pending[0] = nil
		q.pending = q.pending[1:]
		q.stats.Dropped++
		if q.stats.Dropped%1000 == 1 { // first of each thousand, not a flood
			q.log.Warn("sandbox: webhook queue full, dropping the oldest events",
				"limit", eventQueueLimit, "dropped", q.stats.Dropped)
		}
	}
	q.pending = append(q.pending, body)
	q.ring()
}

// ring wakes the delivery goroutine without ever waiting (q.mu held).
func (q *eventQueue) ring() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest event; ok is false when none waits.
func (q *eventQueue) next() (body []byte, url string, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 || q.url == "" {
		return nil, "", false
	}
	body = q.pending[0]
	q.pending[0] = nil
	q.pending = q.pending[1:]
	q.inFlight = true
	return body, q.url, true
}

func (q *eventQueue) count(f func(*WebhookStats)) {
	q.mu.Lock()
	f(&q.stats)
	q.mu.Unlock()
}

// deliverLoop sends events one at a time, in order, until ctx ends.
func (q *eventQueue) deliverLoop(ctx context.Context) {
	for ctx.Err() == nil {
		body, url, ok := q.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}
		finished := q.deliver(ctx, url, body)
		q.mu.Lock()
		q.inFlight = false
		if !finished { // stopping: keep it first in line for the next start
			q.pending = append([][]byte{body}, q.pending...)
		}
		q.mu.Unlock()
	}
}

// deliver POSTs one event, retrying with doubling delays; once accepted
// it is sometimes sent again, deterministically from the seed. It reports
// false when stopped before the event was delivered or given up.
func (q *eventQueue) deliver(ctx context.Context, url string, body []byte) (finished bool) {
	delay := q.firstRetry
	for attempt := 1; ; attempt++ {
		err := q.post(ctx, url, body)
		switch {
		case err == nil:
			q.count(func(st *WebhookStats) { st.Delivered++ })
			if q.dupRate > 0 && q.dupRNG.Float64() < q.dupRate && q.post(ctx, url, body) == nil {
				q.count(func(st *WebhookStats) { st.Duplicates++ })
			}
			return true
		case ctx.Err() != nil:
			return false
		case attempt >= q.attempts:
			q.count(func(st *WebhookStats) { st.Failed++ })
			q.log.Warn("sandbox: webhook not delivered", "receiver", redactURL(url), "attempts", attempt, "error", err)
			return true
		}
		q.count(func(st *WebhookStats) { st.Retries++ })
		if !sleepCtx(ctx, delay) {
			return false
		}
		delay = min(2*delay, q.maxRetry)
	}
}

// post makes one delivery attempt; any answer but 2xx is a failure.
func (q *eventQueue) post(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "jing-sandbox-webhook/1")
	resp, err := q.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// redactURL keeps a receiver's scheme and host: its path carries a secret.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// sleepCtx waits d unless ctx ends first; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// platformChangeLoop makes platform-side lead changes at perMinute on
// average, at exponentially distributed (Poisson) intervals.
func (q *eventQueue) platformChangeLoop(ctx context.Context, perMinute float64) {
	rng := rngFor(q.s.cfg.Seed, "platform-changes")
	for {
		wait := time.Duration(rng.ExpFloat64() * float64(time.Minute) / perMinute)
		if !sleepCtx(ctx, wait) {
			return
		}
		q.s.mu.Lock()
		q.platformChange()
		q.s.mu.Unlock()
	}
}

// startBackground starts webhook delivery, random platform-side changes
// (when Config.PlatformChangesPerMinute > 0) and periodic state saves
// (when Config.StatePath is set). A second call does nothing.
func (s *Server) startBackground() {
	q := s.events
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	q.wg.Go(func() { q.deliverLoop(ctx) })
	if rate := s.cfg.PlatformChangesPerMinute; rate > 0 {
		q.wg.Go(func() { q.platformChangeLoop(ctx, rate) })
	}
	if s.state != nil {
		q.wg.Go(func() { s.saveLoop(ctx) })
	}
}

// stopBackground stops them, waits for them, and saves state when
// configured. Events still queued stay queued for a later start. It must
// be called without s.mu held.
func (s *Server) stopBackground() {
	q := s.events
	q.mu.Lock()
	cancel := q.cancel
	q.cancel = nil
	q.mu.Unlock()
	if cancel != nil {
		cancel()
		q.wg.Wait()
	}
	if err := s.saveState(); err != nil {
		s.log.Error("sandbox: saving state", "path", s.cfg.StatePath, "error", err)
	}
}
