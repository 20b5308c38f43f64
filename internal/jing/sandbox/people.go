package sandbox

import mrand "math/rand/v2"

// peopleState holds persons (users), static crowds and privacy consents.
type peopleState struct{}

func (t *tenant) seedPeople(rng *mrand.Rand, n int) {}

func (s *Server) userHandlers() map[string]handler    { return map[string]handler{} }
func (s *Server) crowdHandlers() map[string]handler   { return map[string]handler{} }
func (s *Server) privacyHandlers() map[string]handler { return map[string]handler{} }
