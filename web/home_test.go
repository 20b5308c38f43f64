package web

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/refdata"
)

// homeOf is the signed-in client's Home.
func homeOf(t *testing.T, c *client) page {
	t.Helper()
	rec := c.get("/")
	wantStatus(t, rec, http.StatusOK)
	return parsePage(t, rec.Body.String())
}

func idsOf(p page, testid, attr string) []string {
	var out []string
	for _, n := range p.all(testid) {
		out = append(out, attrOf(n, attr))
	}
	return out
}

// runJob queues a job of kind for owner and claims it (running); fail
// ends it failed with why.
func runJob(t *testing.T, h *harness, kind, title string, owner int64, fail string) db.Job {
	t.Helper()
	ctx := context.Background()
	j, err := h.store.CreateJob(ctx, db.NewJob{Kind: kind, Title: title, OwnerID: owner, Total: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.ClaimJob(ctx, "test-worker", []string{kind}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if fail != "" {
		if err := h.store.FinishJob(ctx, j.ID, "test-worker", db.JobFailed, fail); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

func TestHomeBlocksForEachRole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	ann := h.addUser("ann", db.RoleMarketer)
	mia := h.addUser("mia", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	h.addUser("ada", db.RoleAdmin)

	// An SMS ann wrote and confirmed, waiting for a second person.
	sendID, err := h.store.CreateSend(ctx, "home-test-1", ann.ID, db.SendDraftInput{Channel: "sms", Name: "春季促销", Content: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.TransitionSend(ctx, sendID, db.SendTransition{From: []string{db.SendDraft}, To: db.SendAwaitingApproval,
		Set: map[string]any{"confirmed_by": ann.ID, "confirmed_at": h.clock.Now().Unix()}}); err != nil {
		t.Fatal(err)
	}
	draftID, err := h.store.CreateSend(ctx, "home-test-2", mia.ID, db.SendDraftInput{Channel: "edm", Name: "Newsletter"})
	if err != nil {
		t.Fatal(err)
	}
	// mia's import, running; the last reference refresh failed.
	importJob := runJob(t, h, crowds.ImportJobKind, "名单.xlsx", mia.ID, "")
	importID, err := h.store.CreateImport(ctx, db.NewImport{UserID: mia.ID, FileName: "名单.xlsx", FilePath: "/nowhere"})
	if err != nil {
		t.Fatal(err)
	}
	refresh := runJob(t, h, refdata.JobKind, "Reference data refresh", 0, "the platform answered 503")
	// A lead created this week and moved.
	now := h.clock.Now().Unix()
	if err := h.store.UpsertLeads(ctx, []db.Lead{{UUID: "week-1", BusinessType: "bt-1", Status: "s2", Name: "本周线索", CreatedAt: now, UpdatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	if err := h.store.RecordLeadStatusChange(ctx, "week-1", db.LeadStatusChange{At: now, From: "s1", To: "s2", Origin: db.OriginConsole}); err != nil {
		t.Fatal(err)
	}
	sid, did := strconv.FormatInt(sendID, 10), strconv.FormatInt(draftID, 10)

	t.Run("a marketer who may approve", func(t *testing.T) {
		p := homeOf(t, h.login("mia"))
		if got := idsOf(p, "home-approval", "data-send-id"); len(got) != 1 || got[0] != sid {
			t.Fatalf("mia's approvals %v, want send %s", got, sid)
		}
		if p.text("home-approval-count") != "1" || !p.has("home-approval-act") {
			t.Fatal("mia is not offered the approval")
		}
		if got := idsOf(p, "home-draft", "data-send-id"); len(got) != 1 || got[0] != did {
			t.Fatalf("mia's drafts %v, want %s", got, did)
		}
		if got := idsOf(p, "home-job-running", "data-job-id"); len(got) != 1 || got[0] != strconv.FormatInt(importJob.ID, 10) {
			t.Fatalf("mia's running jobs %v, want the import's job %d", got, importJob.ID)
		}
		if got := idsOf(p, "home-import", "data-import-id"); len(got) != 1 || got[0] != strconv.FormatInt(importID, 10) {
			t.Fatalf("mia's imports %v", got)
		}
		if p.has("home-warnings") {
			t.Fatal("a marketer sees the administrators' warnings")
		}
		if p.text("home-week-new") != "1" || p.text("home-week-moves") != "1" {
			t.Fatalf("week: %q new, %q moves; want 1 and 1", p.text("home-week-new"), p.text("home-week-moves"))
		}
		for _, id := range []string{"home-new-sms", "home-new-email", "home-new-import"} {
			if !p.has(id) {
				t.Errorf("a marketer lacks %s", id)
			}
		}
	})

	t.Run("the author waits for someone else", func(t *testing.T) {
		p := homeOf(t, h.login("ann"))
		if p.has("home-approval") || p.has("home-approval-count") {
			t.Fatal("ann may approve her own send")
		}
		if got := idsOf(p, "home-waiting", "data-send-id"); len(got) != 1 || got[0] != sid {
			t.Fatalf("ann's waiting sends %v", got)
		}
		if p.has("home-job-running") || p.has("home-draft") {
			t.Fatal("ann sees mia's jobs or drafts as hers")
		}
	})

	t.Run("a viewer sees no actions", func(t *testing.T) {
		p := homeOf(t, h.login("vic"))
		for _, id := range []string{"home-approval", "home-approval-act", "home-draft-act", "home-new-sms", "home-new-email", "home-new-import", "home-warnings"} {
			if p.has(id) {
				t.Errorf("a viewer is shown %s", id)
			}
		}
		if !p.has("home-week") || !p.has("home-quota") || !p.has("home-sends") {
			t.Fatal("a viewer lacks the reading blocks")
		}
	})

	t.Run("an administrator sees the failed refresh", func(t *testing.T) {
		p := homeOf(t, h.login("ada"))
		kinds := idsOf(p, "home-warning", "data-kind")
		if len(kinds) == 0 || kinds[0] != "refresh" {
			t.Fatalf("ada's warnings %v, want the failed refresh", kinds)
		}
		if link := p.attr("home-warning-job", "href"); link != "/jobs/"+strconv.FormatInt(refresh.ID, 10) {
			t.Fatalf("the refresh warning links %q, want the failed job", link)
		}
		if got := idsOf(p, "home-approval", "data-send-id"); len(got) != 1 || got[0] != sid {
			t.Fatalf("ada (admin) may approve: %v", got)
		}
	})
}
