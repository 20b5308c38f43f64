//go:build !race

package testkit

import "time"

// Deadline is how long a wait polls before it fails the test. It is
// generous because it only matters when something is wrong: a wait that
// holds returns as soon as it holds, and CI machines share two cores (a
// 20,000-row import under load, the longest wait, takes well under it).
// The race detector's build has a longer one (deadline_race.go).
const Deadline = 2 * time.Minute
