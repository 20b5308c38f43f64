package app

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// In the embedded default the sandbox delivers its webhooks to the
// console's own receiver: the changes it makes by itself arrive and are
// applied, with no configuration.
func TestTheEmbeddedSandboxDeliversItsWebhooksToTheConsole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stderr, _ := startServe(t, "--data", dir, "--sandbox-changes-per-minute", "600")
	store := fixture.StoreAt(t, filepath.Join(dir, "jingdesk.db"))
	testkit.WaitWithin(t, 20*time.Second, "a webhook from the embedded sandbox to be applied", func() bool {
		counts, err := store.WebhookCounts(context.Background())
		return err == nil && counts[db.EventApplied] > 0
	})
	// The deliveries are in the access log by their route pattern, never
	// with the URL's secret (audit finding 6). A request's line is written
	// once it is answered, which can come after the worker applied it.
	testkit.WaitWithin(t, 20*time.Second, "a delivery in the access log", func() bool {
		return strings.Contains(stderr.String(), "path=/webhooks/jing/:secret")
	})
	log := stderr.String()
	if m := regexp.MustCompile(`/webhooks/jing/[^:\s"]+`).FindString(log); m != "" {
		t.Fatalf("the log holds a webhook URL with its secret: %q", m)
	}
}
