package jobs

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/roles"
)

func TestWhoMayActOnWhichJob(t *testing.T) {
	t.Parallel()
	mine := db.Job{ID: 1, OwnerID: 7, State: db.JobRunning}
	theirs := db.Job{ID: 2, OwnerID: 8, State: db.JobRunning}
	cases := []struct {
		actor        Actor
		mine, theirs bool
	}{
		{Actor{ID: 7, Role: roles.Viewer}, false, false}, // viewers only look, even at their own
		{Actor{ID: 7, Role: roles.Marketer}, true, false},
		{Actor{ID: 7, Role: roles.Admin}, true, true},
		{Actor{ID: 7, Role: ""}, false, false},
	}
	for _, c := range cases {
		if got := c.actor.MayActOn(mine); got != c.mine {
			t.Errorf("%s on their own job: %v", c.actor.Role, got)
		}
		if got := c.actor.MayActOn(theirs); got != c.theirs {
			t.Errorf("%s on someone else's job: %v", c.actor.Role, got)
		}
		if (Offered(c.actor, theirs) != Offer{}) != c.theirs {
			t.Errorf("%s is offered actions on someone else's job", c.actor.Role)
		}
	}
}

func TestWhatEachStateOffers(t *testing.T) {
	t.Parallel()
	admin := Actor{ID: 1, Role: roles.Admin}
	cases := []struct {
		state, requested string
		want             Offer
	}{
		{db.JobQueued, "", Offer{Pause: true, Cancel: true}},
		{db.JobRunning, "", Offer{Pause: true, Cancel: true}},
		{db.JobRunning, db.JobPaused, Offer{Resume: true, Cancel: true}},
		{db.JobRunning, db.JobCancelled, Offer{}},
		{db.JobPaused, "", Offer{Resume: true, Cancel: true}},
		{db.JobDone, "", Offer{}},
		{db.JobFailed, "", Offer{}},
		{db.JobCancelled, "", Offer{}},
	}
	for _, c := range cases {
		if got := Offered(admin, db.Job{State: c.state, RequestedState: c.requested}); got != c.want {
			t.Errorf("%s (requested %q): %+v, want %+v", c.state, c.requested, got, c.want)
		}
	}
}

func TestActChecksTheRulesAndSaysWhyItRefused(t *testing.T) {
	t.Parallel()
	store := openStore(t, filepath.Join(t.TempDir(), "jobs.db"))
	ctx := context.Background()
	r := New(store, testConfig())
	owner, err := store.CreateUser(ctx, db.NewUser{Username: "mia", PasswordHash: "x", Role: roles.Marketer})
	if err != nil {
		t.Fatal(err)
	}
	j, err := store.CreateJob(ctx, db.NewJob{Kind: "test.act", Title: "act", OwnerID: owner.ID})
	if err != nil {
		t.Fatal(err)
	}
	mia := Actor{ID: owner.ID, Role: roles.Marketer}

	if _, err := r.Act(ctx, Actor{ID: owner.ID + 1, Role: roles.Marketer}, Pause, j.ID); !errors.Is(err, ErrNotYours) {
		t.Fatalf("another marketer paused it: %v", err)
	}
	if _, err := r.Act(ctx, Actor{ID: owner.ID, Role: roles.Viewer}, Pause, j.ID); !errors.Is(err, ErrNotYours) {
		t.Fatalf("a viewer paused it: %v", err)
	}
	if got, err := r.Act(ctx, mia, Pause, j.ID); err != nil || got.State != db.JobPaused {
		t.Fatalf("pause: %v, state %s", err, got.State)
	}
	if got, err := r.Act(ctx, mia, Cancel, j.ID); err != nil || got.State != db.JobCancelled {
		t.Fatalf("cancel: %v, state %s", err, got.State)
	}
	got, err := r.Act(ctx, mia, Resume, j.ID)
	refusal, ok := msg.AsError(err)
	if !errors.Is(err, db.ErrJobState) || !ok || refusal.Kind != msg.Conflict || got.State != db.JobCancelled {
		t.Fatalf("resuming a cancelled job: %v, state %s", err, got.State)
	}
	if st := refusal.Msg.Args[0].Msg; st == nil || st.ID != "jobs.state.cancelled" {
		t.Fatalf("the refusal does not say the state: %+v", refusal.Msg)
	}
	if _, err := r.Act(ctx, mia, Action("restart"), j.ID); err == nil {
		t.Fatal("an unknown action was accepted")
	}
	if _, err := r.Act(ctx, mia, Pause, j.ID+100); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("a missing job: %v", err)
	}
}
