package roles

import (
	"slices"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

func TestRanking(t *testing.T) {
	t.Parallel()
	cases := []struct {
		role, min string
		want      bool
	}{
		{Admin, Admin, true}, {Admin, Marketer, true}, {Admin, Viewer, true},
		{Marketer, Admin, false}, {Marketer, Marketer, true}, {Marketer, Viewer, true},
		{Viewer, Admin, false}, {Viewer, Marketer, false}, {Viewer, Viewer, true},
		{"", Viewer, false}, {"root", Viewer, false}, {"ADMIN", Viewer, false},
		{Admin, "", false}, {Admin, "superuser", false},
	}
	for _, c := range cases {
		if got := AtLeast(c.role, c.min); got != c.want {
			t.Errorf("AtLeast(%q, %q) = %v, want %v", c.role, c.min, got, c.want)
		}
	}
	if Works(Viewer) || !Works(Marketer) || !Works(Admin) || Works("") {
		t.Error("Works is not marketer or above")
	}
}

// The store keeps the same three names: a role added to one list and not
// the other would be stored but never allowed anything, or the reverse.
func TestTheStoreKnowsTheSameRoles(t *testing.T) {
	t.Parallel()
	for _, r := range All() {
		if !db.ValidRole(r) || !Valid(r) {
			t.Errorf("%q: store %v, roles %v", r, db.ValidRole(r), Valid(r))
		}
	}
	if !slices.Equal(All(), []string{db.RoleAdmin, db.RoleMarketer, db.RoleViewer}) {
		t.Errorf("All() = %v, the store's roles are admin, marketer, viewer", All())
	}
}
