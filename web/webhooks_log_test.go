package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

// lockedBuffer collects log output from the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// withLogTo sends the server's log to w (put it first: later options may
// hand the logger on).
func withLogTo(w *lockedBuffer) harnessOption {
	return func(d *Deps) {
		d.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// Audit finding 6: every delivery logged its path, and so the webhook
// secret. Logs and metrics now show the route pattern.
func TestTheLogsHaveNoWebhookSecretAfterDeliveries(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	rig := &liveRig{boardRig: &boardRig{}}
	h := newHarness(t, withLogTo(&logs), withBoard(t, rig.boardRig), withWebhooks(t, &rig.hooks))
	rig.h = h
	rig.ref.refresh("")
	rig.fullSync()
	good := rig.secret()
	for _, id := range []string{"a", "b", "c"} {
		body := `{"event_type":"object_update","create_time":1,"extra_data":{"object_name":"lead","entity_id":"` + id + `"}}`
		if rec := rig.deliver(good, []byte(body)); rec.Code >= 300 {
			t.Fatalf("delivery: %d", rec.Code)
		}
	}
	rig.apply()
	if n := len(rig.events()); n != 3 {
		t.Fatalf("%d deliveries taken in, want 3", n)
	}
	rig.deliver(good+"-wrong", []byte(`{}`))
	// A mistyped URL that matches no route still holds the secret.
	req := httptest.NewRequest(http.MethodPost, "/webhooks/jing/"+good+"/extra", strings.NewReader(`{}`))
	h.anon().do(req)

	h.addUser("root", db.RoleAdmin)
	metrics := h.login("root").get("/metrics").Body.String()
	for name, text := range map[string]string{"log": logs.String(), "metrics": metrics} {
		if strings.Contains(text, good) {
			t.Errorf("the webhook secret is in the %s:\n%s", name, text)
		}
	}
	if !strings.Contains(logs.String(), `path=/webhooks/jing/:secret`) {
		t.Errorf("the access log does not show the route pattern:\n%s", logs.String())
	}
}

func TestAnAdministratorSetsTheWebhookRetention(t *testing.T) {
	t.Parallel()
	h, rig := newLiveHarness(t)
	h.addUser("root", db.RoleAdmin)
	c := h.login("root")
	form := parsePage(t, c.get("/settings/platform").Body.String()).all("webhook-retention")
	if len(form) != 1 {
		t.Fatal("no retention form on the webhook card")
	}
	rec := c.post("/settings/platform/webhook/retention", url.Values{"keep_applied_days": {"7"}, "keep_failed_days": {"90"}})
	wantStatus(t, rec, http.StatusSeeOther)
	if r, _ := rig.hooks.Retention(context.Background()); r.AppliedDays != 7 || r.FailedDays != 90 {
		t.Fatalf("retention %+v", r)
	}
	c.post("/settings/platform/webhook/retention", url.Values{"keep_applied_days": {"-1"}, "keep_failed_days": {"x"}})
	if r, _ := rig.hooks.Retention(context.Background()); r.AppliedDays != 7 || r.FailedDays != 90 {
		t.Fatalf("an invalid retention changed it: %+v", r)
	}
	if h.countAudit("webhook.retention", "") != 1 {
		t.Fatal("not audited once")
	}
}
