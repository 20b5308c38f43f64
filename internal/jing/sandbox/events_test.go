package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

// hookReceiver is a webhook endpoint on 127.0.0.1 that records what it gets
// and answers with the statuses it is told (200 once they run out).
type hookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	statuses []int
	hang     chan struct{} // when set, requests wait for it to close (or the sender to give up)
}

func newHookReceiver(t *testing.T, statuses ...int) *hookReceiver {
	r := &hookReceiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if r.hang != nil {
		select {
		case <-r.hang:
		case <-req.Context().Done():
			return
		}
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, body)
	r.headers = append(r.headers, req.Header.Clone())
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *hookReceiver) received() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

// events decodes what arrived, in arrival order.
func (r *hookReceiver) events(t *testing.T) []jing.WebhookEvent {
	t.Helper()
	var out []jing.WebhookEvent
	for _, b := range r.received() {
		ev, err := jing.DecodeWebhook(b)
		if err != nil {
			t.Fatalf("undecodable delivery %s: %v", b, err)
		}
		out = append(out, ev)
	}
	return out
}

var webhookTestClock = time.Date(2024, 7, 11, 7, 21, 57, 0, time.UTC)

// newWebhookSandbox is a small sandbox delivering to url with fast
// retries and no duplicates, running until the test ends.
func newWebhookSandbox(t *testing.T, url string, tune func(q *eventQueue)) *Server {
	t.Helper()
	s := New(Config{Seed: 1, Persons: 50, Leads: 10, WebhookURL: url, Now: func() time.Time { return webhookTestClock }})
	q := s.events
	q.firstRetry, q.maxRetry, q.dupRate = time.Millisecond, 4*time.Millisecond, 0
	if tune != nil {
		tune(q)
	}
	s.startBackground()
	t.Cleanup(s.stopBackground)
	return s
}

func testLeadEvent(i int) jing.WebhookEvent {
	return jing.WebhookEvent{EventType: jing.EventObjectUpdate, ExtraData: jing.WebhookExtraData{
		ObjectName: jing.ObjectLead, EntityID: fmt.Sprintf("lead-%05d", i),
		MappingData:     map[string]any{"title": []any{"工程师", fmt.Sprint("经理", i)}},
		MappingDataText: map[string]any{"title": []any{"工程师", fmt.Sprint("经理", i)}},
	}}
}

// emitTestLeads emits n events as a handler would, with s.mu held.
func emitTestLeads(s *Server, from, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := from; i < from+n; i++ {
		s.emit(testLeadEvent(i))
	}
}

func eventEntityIDs(evs []jing.WebhookEvent) []string {
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ExtraData.EntityID
	}
	return ids
}

func TestWebhooksDeliveredInOrderAndComplete(t *testing.T) {
	t.Parallel()
	r := newHookReceiver(t)
	s := newWebhookSandbox(t, r.URL+"/webhooks/jing/secret", nil)
	emitTestLeads(s, 0, 50)
	testkit.WaitFor(t, "50 deliveries", func() bool { return s.DeliveredEvents() == 50 })

	evs := r.events(t)
	if len(evs) != 50 || s.PendingEvents() != 0 {
		t.Fatalf("received %d, pending %d", len(evs), s.PendingEvents())
	}
	for i, ev := range evs {
		if ev.ExtraData.EntityID != fmt.Sprintf("lead-%05d", i) {
			t.Fatalf("out of order at %d: %v", i, eventEntityIDs(evs))
		}
	}
	ev := evs[0]
	if ev.MID != "124" || ev.EventCategory != "object_v2" || ev.ActionKeyword != jing.EventObjectUpdate ||
		ev.CreateTime != webhookTestClock.Unix() || ev.ExtraData.CreatedTimestamp != "2024-07-11 15:21:57" {
		t.Errorf("envelope not completed: %+v", ev)
	}
	if c := ev.ExtraData.Changes()["title"]; c.Before != "工程师" || c.After != "经理0" {
		t.Errorf("changes = %+v", c)
	}
	if ct := r.headers[0].Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	// The platform's shape: mapping_data travels as a JSON string.
	var shape struct {
		ExtraData struct {
			MappingData string `json:"mapping_data"`
		} `json:"extra_data"`
	}
	if err := json.Unmarshal(r.received()[0], &shape); err != nil || !strings.Contains(shape.ExtraData.MappingData, `"title"`) {
		t.Errorf("mapping_data not string-encoded: %s (%v)", r.received()[0], err)
	}
}

func TestWebhookFailuresAreRetried(t *testing.T) {
	t.Parallel()
	r := newHookReceiver(t, 500, 500) // then 200
	s := newWebhookSandbox(t, r.URL, nil)
	emitTestLeads(s, 0, 2)
	testkit.WaitFor(t, "2 deliveries", func() bool { return s.DeliveredEvents() == 2 })

	got := eventEntityIDs(r.events(t))
	want := []string{"lead-00000", "lead-00000", "lead-00000", "lead-00001"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("deliveries %v, want %v", got, want)
	}
	if st := s.WebhookStats(); st.Retries != 2 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestWebhookGivenUpAfterBoundedAttempts(t *testing.T) {
	t.Parallel()
	r := newHookReceiver(t, 500, 500, 500, 500, 500, 500)
	s := newWebhookSandbox(t, r.URL, func(q *eventQueue) { q.attempts = 3 })
	emitTestLeads(s, 0, 2)
	// Given up is counted a moment before the event stops being in flight.
	testkit.WaitFor(t, "both events given up", func() bool { st := s.WebhookStats(); return st.Failed == 2 && st.Pending == 0 })

	if n := len(r.received()); n != 6 {
		t.Errorf("%d attempts, want 3 per event", n)
	}
	if st := s.WebhookStats(); st.Delivered != 0 || st.Pending != 0 || st.Retries != 4 {
		t.Errorf("stats %+v", st)
	}
}

// TestEmitNeverBlocksOnAHangingReceiver: the receiver never answers (until
// the test ends), so an emit that waited for delivery would never return;
// emit returns, the queue stays bounded (oldest dropped), and stopping
// does not wait for the receiver.
func TestEmitNeverBlocksOnAHangingReceiver(t *testing.T) {
	t.Parallel()
	r := newHookReceiver(t)
	r.hang = make(chan struct{})
	defer close(r.hang)
	s := newWebhookSandbox(t, r.URL, nil)

	emitted := make(chan struct{})
	go func() { emitTestLeads(s, 0, eventQueueLimit+500); close(emitted) }()
	testkit.WaitFor(t, "emit to return while the receiver hangs", func() bool {
		select {
		case <-emitted:
			return true
		default:
			return false
		}
	})
	st := s.WebhookStats()
	if st.Pending > eventQueueLimit+1 || st.Dropped < 499 {
		t.Errorf("queue not bounded: %+v", st)
	}

	stopped := make(chan struct{})
	go func() { s.stopBackground(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(3 * time.Second):
		t.Fatal("stopBackground waits for a hanging receiver")
	}
	// The newest events survive, oldest first; the one interrupted in flight goes back in line.
	q := s.events
	q.mu.Lock()
	defer q.mu.Unlock()
	last, _ := jing.DecodeWebhook(q.pending[len(q.pending)-1])
	if last.ExtraData.EntityID != fmt.Sprintf("lead-%05d", eventQueueLimit+499) {
		t.Errorf("newest queued event is %s", last.ExtraData.EntityID)
	}
}

// TestStopKeepsQueuedEventsForTheNextStart: events emitted while stopped
// are delivered, in order, once delivery starts again; stop is idempotent.
func TestStopKeepsQueuedEventsForTheNextStart(t *testing.T) {
	t.Parallel()
	r := newHookReceiver(t)
	s := newWebhookSandbox(t, r.URL, nil)
	emitTestLeads(s, 0, 3)
	testkit.WaitFor(t, "3 deliveries", func() bool { return s.DeliveredEvents() == 3 })
	s.stopBackground()
	s.stopBackground()

	emitTestLeads(s, 3, 3)
	if p := s.PendingEvents(); p != 3 {
		t.Fatalf("pending while stopped = %d, want 3", p)
	}
	s.startBackground()
	s.startBackground()
	testkit.WaitFor(t, "6 deliveries", func() bool { return s.DeliveredEvents() == 6 })
	if got := eventEntityIDs(r.events(t)); strings.Join(got, ",") != "lead-00000,lead-00001,lead-00002,lead-00003,lead-00004,lead-00005" {
		t.Errorf("deliveries %v", got)
	}
}

func TestSetWebhookURL(t *testing.T) {
	t.Parallel()
	r := newHookReceiver(t)
	s := newWebhookSandbox(t, "", nil)
	emitTestLeads(s, 0, 2) // no receiver yet: the platform sends nothing
	if p := s.PendingEvents(); p != 0 {
		t.Fatalf("pending without a URL = %d", p)
	}
	s.SetWebhookURL(r.URL)
	emitTestLeads(s, 2, 1)
	testkit.WaitFor(t, "1 delivery", func() bool { return s.DeliveredEvents() == 1 })
	if got := eventEntityIDs(r.events(t)); len(got) != 1 || got[0] != "lead-00002" {
		t.Errorf("deliveries %v", got)
	}
}

// duplicatedEntities delivers n events at rate and returns the entities
// that arrived twice (always back to back, with the same dedup key).
func duplicatedEntities(t *testing.T, seed int64, rate float64, n int) []string {
	r := newHookReceiver(t)
	s := New(Config{Seed: seed, Persons: 50, Leads: 10, WebhookURL: r.URL})
	s.events.dupRate = rate
	s.startBackground()
	defer s.stopBackground()
	emitTestLeads(s, 0, n)
	testkit.WaitFor(t, "all deliveries", func() bool { return s.DeliveredEvents() == n && s.PendingEvents() == 0 })

	evs := r.events(t)
	var dups []string
	for i := 1; i < len(evs); i++ {
		if evs[i].DedupKey() == evs[i-1].DedupKey() {
			dups = append(dups, evs[i].ExtraData.EntityID)
		}
	}
	if len(evs) != n+len(dups) || s.WebhookStats().Duplicates != len(dups) {
		t.Fatalf("%d deliveries of %d events with %d back-to-back duplicates (stats %+v)",
			len(evs), n, len(dups), s.WebhookStats())
	}
	return dups
}

func TestWebhookDuplicatesAtTheConfiguredRate(t *testing.T) {
	t.Parallel()
	if dups := duplicatedEntities(t, 1, 0, 300); len(dups) != 0 {
		t.Errorf("rate 0 duplicated %d events", len(dups))
	}
	first := duplicatedEntities(t, 1, 0.1, 400)
	if len(first) < 15 || len(first) > 70 { // mean 40, sd 6
		t.Errorf("rate 0.1 duplicated %d of 400 events", len(first))
	}
	again := duplicatedEntities(t, 1, 0.1, 400)
	if strings.Join(first, ",") != strings.Join(again, ",") {
		t.Errorf("duplicates are not a function of the seed:\n%v\n%v", first, again)
	}
	if webhookDuplicateRate <= 0 || webhookDuplicateRate > 0.05 {
		t.Errorf("default duplicate rate %v is not low", webhookDuplicateRate)
	}
}

// TestPlatformChangeLoop: the loop calls the change hook with s.mu held
// at about the configured rate, and not after stop.
func TestPlatformChangeLoop(t *testing.T) {
	t.Parallel()
	s := New(Config{Seed: 1, Persons: 50, Leads: 10, PlatformChangesPerMinute: 6000}) // 100/s
	var calls atomic.Int64
	var stopped atomic.Bool
	s.events.platformChange = func() {
		if s.mu.TryLock() {
			s.mu.Unlock()
			t.Error("platform change called without s.mu held")
		}
		if stopped.Load() {
			t.Error("platform change called after stop")
		}
		calls.Add(1)
	}
	start := time.Now()
	s.startBackground()
	testkit.WaitFor(t, "30 platform changes", func() bool { return calls.Load() >= 30 })
	took := time.Since(start)
	s.stopBackground()
	stopped.Store(true)
	// 30 changes at 100/s take 0.3 s on average; under 0.08 s is (by the
	// gamma distribution) far less likely than one in a million.
	if took < 80*time.Millisecond {
		t.Errorf("30 changes in %v: faster than the configured rate", took)
	}
}

// TestPlatformChangesArriveAsWebhooks runs the whole path: the background
// loop makes real platform-side lead and account changes, each arrives at
// the receiver as a decodable event of a type documented for its object,
// every one distinct.
func TestPlatformChangesArriveAsWebhooks(t *testing.T) {
	t.Parallel()
	r := newHookReceiver(t)
	s := New(Config{Seed: 5, Persons: 200, Leads: 60, WebhookURL: r.URL, PlatformChangesPerMinute: 6000})
	s.events.dupRate = 0
	s.startBackground()
	defer s.stopBackground()
	testkit.WaitFor(t, "20 platform-side events", func() bool { return s.DeliveredEvents() >= 20 })

	keys := map[string]bool{}
	for _, ev := range r.events(t) {
		x := ev.ExtraData
		if !slices.Contains(documentedEvents[x.ObjectName], ev.EventType) || x.EntityID == "" || ev.MID != "124" {
			t.Errorf("not an event documented for a %s: %+v", x.ObjectName, ev)
		}
		if keys[ev.DedupKey()] {
			t.Errorf("two distinct changes share the key %s", ev.DedupKey())
		}
		keys[ev.DedupKey()] = true
	}
}
