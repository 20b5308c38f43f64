package views

import (
	"context"
	"errors"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/roles"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

func newUser(t *testing.T, store *db.Store, name, role string) *db.User {
	t.Helper()
	u, err := store.CreateUser(context.Background(), db.NewUser{Username: name, PasswordHash: "x", Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return &u
}

func names(vs []View) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

func TestPrivateViewsAreTheOwnersSharedOnesTheTeams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := fixture.Store(t)
	s := New(store)
	ann, bob, admin := newUser(t, store, "ann", roles.Marketer), newUser(t, store, "bob", roles.Viewer), newUser(t, store, "root", roles.Admin)

	private, err := s.Create(ctx, ann, Draft{Page: List, Name: " Mine ", Query: "owner=o1&page=3&view=9&q="})
	if err != nil {
		t.Fatal(err)
	}
	if private.Name != "Mine" || private.Query != "owner=o1" {
		t.Fatalf("saved %q %q, want the trimmed name and the query without page, view and empty values", private.Name, private.Query)
	}
	shared, err := s.Create(ctx, ann, Draft{Page: List, Name: "Team", Query: "status=s1&business_type=bt", Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, ann, Draft{Page: Board, Name: "On the board", Shared: true}); err != nil {
		t.Fatal(err)
	}

	mine, _ := s.Visible(ctx, ann, List)
	if got := names(mine); len(got) != 2 {
		t.Fatalf("ann sees %v, want her two list views", got)
	}
	theirs, _ := s.Visible(ctx, bob, List)
	if got := names(theirs); len(got) != 1 || got[0] != "Team" || theirs[0].Editable || theirs[0].Mine {
		t.Fatalf("bob sees %+v, want only the shared view, not editable", theirs)
	}
	if _, err := s.Open(ctx, bob, private.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob opening ann's private view: %v, want not found", err)
	}
	if _, _, err := s.Update(ctx, bob, shared.ID, Change{Name: "Hijacked", Shared: true}); !errors.Is(err, ErrNotYours) {
		t.Fatalf("bob renaming ann's shared view: %v, want not yours", err)
	}
	if _, err := s.Delete(ctx, bob, shared.ID); !errors.Is(err, ErrNotYours) {
		t.Fatalf("bob deleting ann's shared view: %v, want not yours", err)
	}
	before, after, err := s.Update(ctx, admin, shared.ID, Change{Name: "Team (renamed)", Shared: false})
	if err != nil || before.Name != "Team" || after.Name != "Team (renamed)" {
		t.Fatalf("admin renaming: %v %q→%q", err, before.Name, after.Name)
	}
	if theirs, _ := s.Visible(ctx, bob, List); len(theirs) != 0 {
		t.Fatalf("after unsharing bob still sees %v", names(theirs))
	}
	if _, err := s.Create(ctx, ann, Draft{Page: List, Name: "  "}); !errors.Is(err, ErrNoName) {
		t.Fatalf("no name: %v", err)
	}
	if _, err := s.Create(ctx, ann, Draft{Page: "crowds", Name: "x"}); !errors.Is(err, ErrBadPage) {
		t.Fatalf("bad page: %v", err)
	}
}

func TestOneDefaultPerUserAndPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := fixture.Store(t)
	s := New(store)
	ann, bob := newUser(t, store, "ann", roles.Marketer), newUser(t, store, "bob", roles.Viewer)

	first, _ := s.Create(ctx, ann, Draft{Page: List, Name: "First", Query: "owner=a", Default: true})
	second, _ := s.Create(ctx, ann, Draft{Page: List, Name: "Second", Query: "owner=b", Shared: true})
	if d, ok, _ := s.Default(ctx, ann, List); !ok || d.ID != first.ID {
		t.Fatalf("ann's default %+v %v, want First", d, ok)
	}
	if _, err := s.MakeDefault(ctx, ann, second.ID, true); err != nil {
		t.Fatal(err)
	}
	vs, _ := s.Visible(ctx, ann, List)
	defaults := 0
	for _, v := range vs {
		if v.Default {
			defaults++
			if v.ID != second.ID {
				t.Fatalf("default is %q, want Second", v.Name)
			}
		}
	}
	if defaults != 1 {
		t.Fatalf("%d defaults, want one", defaults)
	}
	if _, ok, _ := s.Default(ctx, ann, Board); ok {
		t.Fatal("the board has a default nobody chose")
	}
	// Bob picks ann's shared view as his own default; ann's stays hers.
	if _, err := s.MakeDefault(ctx, bob, second.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MakeDefault(ctx, bob, first.ID, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob defaulting ann's private view: %v", err)
	}
	// Unsharing takes it away from bob's default too.
	if _, _, err := s.Update(ctx, ann, second.ID, Change{Name: "Second", Shared: false}); err != nil {
		t.Fatal(err)
	}
	if d, ok, _ := s.Default(ctx, bob, List); ok {
		t.Fatalf("bob's default is ann's now private view %q", d.Name)
	}
	// Deleting clears the default.
	if _, err := s.Delete(ctx, ann, second.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Default(ctx, ann, List); ok {
		t.Fatal("a deleted view is still the default")
	}
}
