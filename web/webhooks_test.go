package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/internal/webhooks"
)

// withWebhooks gives the server a webhook service on its store.
func withWebhooks(t testing.TB, svc **webhooks.Service) harnessOption {
	return func(d *Deps) {
		key := make([]byte, 32)
		rand.Read(key)
		box, err := secret.NewBox(key)
		if err != nil {
			t.Fatal(err)
		}
		s, err := webhooks.New(webhooks.Config{Store: d.Store, Box: box, Logger: d.Logger})
		if err != nil {
			t.Fatal(err)
		}
		d.Webhooks, *svc = s, s
	}
}

// liveRig is the board rig with the webhook service.
type liveRig struct {
	*boardRig
	hooks *webhooks.Service
}

// newLiveHarness is the synced board with a webhook service (its worker
// not running: tests apply with ApplyPending, or Start it).
func newLiveHarness(t testing.TB) (*harness, *liveRig) {
	t.Helper()
	rig := &liveRig{boardRig: &boardRig{}}
	h := newHarness(t, withBoard(t, rig.boardRig), withWebhooks(t, &rig.hooks))
	rig.h = h
	rig.ref.refresh("")
	rig.fullSync()
	return h, rig
}

func (r *liveRig) sandbox() *sandbox.Running { return r.ref.plat.SandboxServer() }

func (r *liveRig) secret() string {
	r.h.t.Helper()
	s, err := r.hooks.Secret(context.Background())
	if err != nil {
		r.h.t.Fatal(err)
	}
	return s
}

// deliver posts a body to the receiver as the platform does.
func (r *liveRig) deliver(secret string, body []byte) *httptest.ResponseRecorder {
	r.h.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/jing/"+secret, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	return r.h.anon().do(req)
}

func (r *liveRig) apply() {
	r.h.t.Helper()
	if _, err := r.hooks.ApplyPending(context.Background()); err != nil {
		r.h.t.Fatal(err)
	}
}

func (r *liveRig) events(states ...string) []db.WebhookEventRow {
	r.h.t.Helper()
	rows, err := r.h.store.ListWebhookEvents(context.Background(), db.WebhookFilter{States: states, Limit: 500})
	if err != nil {
		r.h.t.Fatal(err)
	}
	return rows
}

// statusEvent changes a lead's status on the platform (the sandbox, not
// through the console) and returns the event the sandbox made of it.
func (r *liveRig) statusEvent(uuid, to string) []byte {
	r.h.t.Helper()
	if err := r.platform().UpdateLeadStatus(context.Background(), uuid, to); err != nil {
		r.h.t.Fatal(err)
	}
	evs := r.sandbox().RecentLeadEvents()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].EventType == jing.EventObjectUpdateStatus && evs[i].ExtraData.EntityID == uuid {
			b, err := json.Marshal(evs[i])
			if err != nil {
				r.h.t.Fatal(err)
			}
			return b
		}
	}
	r.h.t.Fatalf("the sandbox made no status event for %s", uuid)
	return nil
}

func (r *liveRig) lastSeq() int64 {
	_, last, err := r.h.store.LeadChangesAfter(context.Background(), 0, 1)
	if err != nil {
		r.h.t.Fatal(err)
	}
	return last
}

// A wrong secret is a 404, counted, and nothing is stored.
func TestWebhookWrongSecretIs404AndCounted(t *testing.T) {
	t.Parallel()
	_, rig := newLiveHarness(t)
	good := rig.secret()
	body := []byte(`{"event_type":"object_update","create_time":1,"extra_data":{"object_name":"lead","entity_id":"x"}}`)
	for _, wrong := range []string{"nope", good + "x", strings.ToUpper(good)} {
		if rec := rig.deliver(wrong, body); rec.Code != http.StatusNotFound {
			t.Fatalf("secret %q: %d, want 404", wrong, rec.Code)
		}
	}
	if got := rig.hooks.Rejected(); got != 3 {
		t.Fatalf("rejected %d, want 3", got)
	}
	if n := len(rig.events()); n != 0 {
		t.Fatalf("%d events stored after wrong secrets", n)
	}
}

// A body over 1 MB is a 413 and nothing is stored.
func TestWebhookOversizedBodyIs413(t *testing.T) {
	t.Parallel()
	_, rig := newLiveHarness(t)
	big := `{"event_type":"object_update","pad":"` + strings.Repeat("a", webhooks.MaxBody) + `"}`
	rec := rig.deliver(rig.secret(), []byte(big))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d, want 413", rec.Code)
	}
	if n := len(rig.events()); n != 0 {
		t.Fatalf("%d events stored from an oversized body", n)
	}
}

// Malformed JSON is a 400, kept as failed for inspection, and changes no lead.
func TestWebhookMalformedJSONIsKeptAsFailed(t *testing.T) {
	t.Parallel()
	_, rig := newLiveHarness(t)
	before := rig.lastSeq()
	for _, body := range []string{`{"event_type": "object_update", `, `not json at all`, `{"extra_data":{}}`, `[]`, ``} {
		rec := rig.deliver(rig.secret(), []byte(body))
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("body %q: %d, want 400 (never 500)", body, rec.Code)
		}
	}
	rig.apply()
	failed := rig.events(db.EventFailed)
	if len(failed) != 5 || len(rig.events()) != 5 {
		t.Fatalf("%d failed of %d stored, want 5 of 5", len(failed), len(rig.events()))
	}
	if failed[0].Reason == "" {
		t.Fatal("a failed event has no reason")
	}
	if after := rig.lastSeq(); after != before {
		t.Fatalf("a malformed event changed leads (seq %d → %d)", before, after)
	}
}

// A lead's status event from the platform: answered at once, applied by
// the worker, the copy follows, and /leads/changes reports it.
func TestWebhookLeadStatusEventIsApplied(t *testing.T) {
	h, rig := newLiveHarness(t)
	bt := rig.resolver().DefaultBusinessType("lead")
	pipe := rig.resolver().Statuses(bt)
	l := rig.leadIn(bt, pipe[0].ID)
	to := pipe[1].ID
	seq := rig.lastSeq()
	body := rig.statusEvent(l.UUID, to)

	start := time.Now()
	rec := rig.deliver(rig.secret(), body)
	took := time.Since(start)
	if rec.Code != http.StatusOK {
		t.Fatalf("deliver: %d %s", rec.Code, rec.Body)
	}
	if took > 500*time.Millisecond {
		t.Fatalf("the receiver took %v", took)
	}
	if got := rig.localLead(l.UUID).Status; got != pipe[0].ID {
		t.Fatalf("applied before the worker ran: %s", got)
	}
	// The same event again is stored once, as a duplicate.
	if rec := rig.deliver(rig.secret(), body); rec.Code != http.StatusOK {
		t.Fatalf("duplicate: %d", rec.Code)
	}
	rig.apply()
	if got := rig.localLead(l.UUID).Status; got != to {
		t.Fatalf("local status %s, want %s", got, to)
	}
	evs := rig.events()
	if len(evs) != 1 || evs[0].State != db.EventApplied || evs[0].Duplicates != 1 || evs[0].EntityID != l.UUID {
		t.Fatalf("stored events: %+v", evs)
	}

	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	ans := changesJSON(t, c, "/leads/changes?after="+itoa64(seq))
	found := false
	for _, x := range ans.Leads {
		if x.UUID == l.UUID {
			found = x.Status == to && x.BusinessType == bt && !x.Voided && x.Seq > seq
		}
	}
	if !found || ans.Last <= seq {
		t.Fatalf("changes after %d: %+v", seq, ans)
	}
}

func changesJSON(t *testing.T, c *client, path string) liveAnswer {
	t.Helper()
	rec := c.get(path)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Header().Get("Content-Type"))
	}
	var ans liveAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	return ans
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
