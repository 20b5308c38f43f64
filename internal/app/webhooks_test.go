package app

import (
	"context"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
)

// In the embedded default the sandbox delivers its webhooks to the
// console's own receiver: the changes it makes by itself arrive and are
// applied, with no configuration.
func TestTheEmbeddedSandboxDeliversItsWebhooksToTheConsole(t *testing.T) {
	dir := t.TempDir()
	startServe(t, "--data", dir, "--sandbox-changes-per-minute", "600")
	store := openStoreT(t, dir)
	waitUntil(t, 20*time.Second, "a webhook from the embedded sandbox to be applied", func() bool {
		counts, err := store.WebhookCounts(context.Background())
		return err == nil && counts[db.EventApplied] > 0
	})
}
