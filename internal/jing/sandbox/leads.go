package sandbox

import mrand "math/rand/v2"

// leadState holds the leads and accounts. (Filled in by the leads work.)
type leadState struct{}

func (t *tenant) seedLeads(rng *mrand.Rand, n int) {}

// hasLead reports whether jing_uuid names a lead (scores ask).
func (l *leadState) hasLead(uuid string) bool { return false }

// platformSideLeadChange makes one random, realistic change to a lead as
// if someone worked on the platform's own console, emitting its webhook.
// The background loop calls it with s.mu held.
func (s *Server) platformSideLeadChange() {}

func (s *Server) leadHandlers() map[string]handler { return map[string]handler{} }
