package leads

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
	"github.com/jingdesk/jingdesk/internal/webhooks"
)

// timelineRig is the leads rig with the sandbox's webhooks delivered to a
// receiver on the same store, and one clock for the sandbox, the store and
// the service that moves a minute at each step, so every step has a
// second of its own.
type timelineRig struct {
	*rig
	hooks *webhooks.Service
	clock *testkit.Clock
}

func newTimelineRig(t *testing.T) *timelineRig {
	t.Helper()
	r := &rig{t: t}
	clock := testkit.NewClock(time.Now().Add(-24 * time.Hour))
	r.store = fixture.Store(t)
	r.store.SetClock(clock.Now)
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := webhooks.New(webhooks.Config{Store: r.store, Box: box, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if _, err := hooks.Receive(req.Context(), body); err != nil {
			t.Errorf("receive: %v", err)
		}
	}))
	t.Cleanup(receiver.Close)
	cat := fastCatalog(t)
	r.sb = fixture.Sandbox(t, sandbox.Config{Seed: 3, Persons: 200, Leads: 40, Catalog: cat, Now: clock.Now})
	r.client = fixture.Client(t, r.sb.URL, cat, fixture.Attempts(2))
	r.runner = jobs.New(r.store, jobs.Config{Logger: testkit.Quiet(), Poll: 50 * time.Millisecond})
	svc, err := New(Config{Store: r.store, Platform: fixture.Fixed{Client: r.client}, Runner: r.runner, Logger: testkit.Quiet(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r.svc = svc
	fixture.Start(t, r.runner)
	r.sync(true)
	// Webhooks from here on (the seeded tenant's history is the sync's).
	r.sb.SetWebhookURL(receiver.URL)
	return &timelineRig{rig: r, hooks: hooks, clock: clock}
}

// settle waits for the sandbox to deliver its events, applies them, and
// moves the clock on a minute.
func (r *timelineRig) settle() {
	r.t.Helper()
	testkit.WaitFor(r.t, "the sandbox to deliver its events", func() bool { return r.sb.PendingEvents() == 0 })
	if _, err := r.hooks.ApplyPending(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.clock.Advance(time.Minute)
}

// timeline is the whole timeline of a lead, newest first, read page by
// page (pages of TimelinePage) through the cursor.
func (r *timelineRig) timeline(uuid string) []db.TimelineEntry {
	r.t.Helper()
	l := r.local(uuid)
	var all []db.TimelineEntry
	cursor := ""
	for range 50 {
		page, next, err := r.svc.Timeline(context.Background(), l, cursor)
		if err != nil {
			r.t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
	r.t.Fatal("the timeline's pages never end")
	return nil
}

// The timeline after console writes (each echoed by the platform's
// webhooks), a note made on the platform (a webhook), and changes only a
// sync sees: every change once, newest first, with who did it.
func TestTimelineKeepsEveryChangeOnceNewestFirst(t *testing.T) {
	t.Parallel()
	r := newTimelineRig(t)
	ctx := context.Background()
	l, next := r.openLead()
	var members []string
	all, err := r.client.AllMembers(ctx)
	r.ok(err)
	for _, m := range all {
		if m.Active() && string(m.ID) != l.Owner {
			members = append(members, string(m.ID))
		}
	}
	seen := func() int64 { return r.local(l.UUID).UpdatedAt }

	// The console: a note, the owner, a collaborator, a move; each write's
	// webhooks arrive after it (the echo).
	_, err = r.svc.AddNote(ctx, "mia", l.UUID, "首次电话沟通，客户有兴趣", seen())
	r.ok(err)
	r.settle()
	_, err = r.svc.SetOwner(ctx, "mia", l.UUID, members[0], seen())
	r.ok(err)
	r.settle()
	_, err = r.svc.SetCollaborators(ctx, "mia", l.UUID, []string{members[1]}, seen())
	r.ok(err)
	r.settle()
	_, err = r.svc.Move(ctx, "mia", l.UUID, next, "", seen())
	r.ok(err)
	r.settle()
	// The same note again: the user wrote it twice, both are kept.
	_, err = r.svc.AddNote(ctx, "mia", l.UUID, "首次电话沟通，客户有兴趣", seen())
	r.ok(err)
	r.settle()

	// On the platform, told by a webhook: a note.
	r.ok(r.sb.AddLeadNote(l.UUID, "客户下周三来访"))
	r.settle()

	// On the platform while webhooks are off: a note and a new owner, which
	// only the next sync sees; the older note survives in the timeline
	// though the platform keeps only the latest.
	r.sb.SetWebhookURL("")
	r.ok(r.sb.AddLeadNote(l.UUID, "已发送报价单"))
	r.clock.Advance(time.Minute)
	r.ok(r.client.UpdateLead(ctx, l.UUID, jing.LeadInput{LeadFields: jing.LeadFields{Owner: jing.MemberID(members[2])}}))
	r.clock.Advance(time.Minute)
	r.sync(false)

	got := r.timeline(l.UUID)
	type line struct{ kind, what, actor, origin string }
	var lines []line
	for _, e := range got {
		switch e.Kind {
		case db.TimelineStatus:
			lines = append(lines, line{e.Kind, e.B, e.Actor, e.Origin})
		case db.LeadEventNote:
			lines = append(lines, line{e.Kind, e.B, e.Actor, e.Origin})
		case db.LeadEventOwner, db.LeadEventCollaborators:
			lines = append(lines, line{e.Kind, e.B, e.Actor, e.Origin})
		}
	}
	want := []line{
		{db.LeadEventOwner, members[2], "", db.OriginSync},
		{db.LeadEventNote, "已发送报价单", "", db.OriginSync},
		{db.LeadEventNote, "客户下周三来访", "", db.OriginWebhook},
		{db.LeadEventNote, "首次电话沟通，客户有兴趣", "mia", db.OriginConsole},
		{db.TimelineStatus, next, "mia", db.OriginConsole},
		{db.LeadEventCollaborators, `["` + members[1] + `"]`, "mia", db.OriginConsole},
		{db.LeadEventOwner, members[0], "mia", db.OriginConsole},
		{db.LeadEventNote, "首次电话沟通，客户有兴趣", "mia", db.OriginConsole},
	}
	// The lead's remark from before the console (its first sync) ends the list.
	if len(lines) > 0 && lines[len(lines)-1].origin == db.OriginSync && lines[len(lines)-1].kind == db.LeadEventNote {
		lines = lines[:len(lines)-1]
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("timeline:\n got %v\nwant %v", lines, want)
	}
	for i := 1; i < len(got); i++ {
		if got[i].At > got[i-1].At {
			t.Fatalf("not newest first at %d: %+v after %+v", i, got[i], got[i-1])
		}
	}
}

func (r *timelineRig) ok(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}
