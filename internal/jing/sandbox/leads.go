package sandbox

import mrand "math/rand/v2"

// leadState holds the leads and accounts. (Filled in by the leads work.)
type leadState struct{}

func (t *tenant) seedLeads(rng *mrand.Rand, n int) {}

func (s *Server) leadHandlers() map[string]handler { return map[string]handler{} }
