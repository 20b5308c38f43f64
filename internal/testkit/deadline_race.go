//go:build race

package testkit

import "time"

// Deadline is longer under the race detector, which makes the code it
// watches several times slower (deadline.go has the usual one).
const Deadline = 10 * time.Minute
