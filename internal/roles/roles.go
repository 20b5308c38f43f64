// Package roles names the console's three roles and ranks them: the one
// place that says what "marketer or above" means. The route table's access
// levels (web), the templates that show or hide a control, and the services
// that refuse an action all ask here. It depends on nothing, so any layer
// may use it; internal/db stores the same names (db imports no internal
// package, so it keeps its own constants, and a test here keeps the two
// lists equal).
package roles

// The roles, least privileged first.
const (
	Viewer   = "viewer"   // looks at everything, changes nothing
	Marketer = "marketer" // works: moves leads, imports, sends, refreshes
	Admin    = "admin"    // also manages accounts, the platform and the system
)

// All is every role, most privileged first (the order role pickers list them).
func All() []string { return []string{Admin, Marketer, Viewer} }

// Valid reports whether role is one of the three.
func Valid(role string) bool { return Rank(role) > 0 }

// Rank orders the roles: viewer 1, marketer 2, admin 3; anything else 0,
// below every role, so an unknown role is never enough.
func Rank(role string) int {
	switch role {
	case Admin:
		return 3
	case Marketer:
		return 2
	case Viewer:
		return 1
	}
	return 0
}

// AtLeast reports whether role reaches min: AtLeast(r, Marketer) is
// "marketer or above". An unknown min is reached by no role.
func AtLeast(role, min string) bool { return Valid(min) && Rank(role) >= Rank(min) }

// Works reports whether role may change things (marketer or above):
// viewers only look.
func Works(role string) bool { return AtLeast(role, Marketer) }
