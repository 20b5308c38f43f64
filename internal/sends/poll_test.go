package sends

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
)

// fakeClock is a throttle clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// pollRig is a rig whose poll throttle runs on a clock the test moves,
// and a draft to n mobiles.
func pollRig(t *testing.T, n int) (*rig, *fakeClock, int64) {
	r := newRig(t)
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	r.svc.polls.now = clock.Now
	return r, clock, r.smsDraft(n)
}

// However often pages poll a send, the platform is asked about it at
// most once per PollEvery, and not right after the follower asked.
func TestPollingAsksThePlatformAtMostOncePerInterval(t *testing.T) {
	r, clock, id := pollRig(t, 3)
	ctx := context.Background()
	asked := func() int { return r.sb.CallsToday("sms.send_detail") }

	if _, err := r.svc.Poll(ctx, id); err != nil || asked() != 0 {
		t.Fatalf("a draft's poll: %v, %d calls", err, asked())
	}
	if _, err := r.svc.Confirm(ctx, id, r.mia, ""); err != nil {
		t.Fatal(err)
	}
	sd, err := r.svc.Poll(ctx, id)
	if err != nil || asked() != 1 || sd.CheckedAt == 0 {
		t.Fatalf("first poll: %v, %d calls, checked at %d", err, asked(), sd.CheckedAt)
	}
	for range 10 {
		if sd, err := r.svc.Poll(ctx, id); err != nil || sd.ID != id {
			t.Fatalf("throttled poll: %v %+v", err, sd)
		}
	}
	if asked() != 1 {
		t.Fatalf("ten polls within %s asked the platform %d times", PollEvery, asked()-1)
	}
	clock.Advance(PollEvery)
	if _, err := r.svc.Poll(ctx, id); err != nil || asked() != 2 {
		t.Fatalf("a poll after %s: %v, %d calls", PollEvery, err, asked())
	}
	// The follower's look counts too.
	clock.Advance(PollEvery)
	r.svc.polls.note(id)
	if _, err := r.svc.Poll(ctx, id); err != nil || asked() != 2 {
		t.Fatalf("a poll right after the follower: %v, %d calls", err, asked())
	}
}

// The throttle forgets sends not asked about for a minute.
func TestThePollThrottleStaysSmall(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	th := newPollThrottle()
	th.now = clock.Now
	for id := range int64(100) {
		th.take(id)
	}
	clock.Advance(2 * time.Minute)
	if !th.take(1000) || len(th.last) != 1 {
		t.Fatalf("after two minutes the throttle holds %d sends", len(th.last))
	}
	if th.take(1000) {
		t.Fatal("a second take at once was allowed")
	}
}

// Once the platform has finished a send, the poll that sees it done
// copies the recipients' outcomes.
func TestAPollThatSeesTheSendDoneCopiesItsRecords(t *testing.T) {
	r, clock, id := pollRig(t, 4)
	ctx := context.Background()
	if _, err := r.svc.Confirm(ctx, id, r.mia, ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for r.send(id).State != db.SendDone {
		if time.Now().After(deadline) {
			t.Fatalf("the send never finished: %+v", r.send(id))
		}
		clock.Advance(PollEvery)
		if _, err := r.svc.Poll(ctx, id); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // the sandbox delivers in real time; bounded by the deadline
	}
	if _, total, _ := r.store.SendRecords(ctx, id, db.SendRecordFilter{}); total != 4 {
		t.Fatalf("records copied: %d, want 4", total)
	}
}
