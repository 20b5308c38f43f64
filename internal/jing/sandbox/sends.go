package sandbox

import mrand "math/rand/v2"

// sendState holds SMS messages and tasks, mailboxes and EDM sends, and scores.
type sendState struct{}

func (t *tenant) seedSends(rng *mrand.Rand) {}

func (s *Server) smsHandlers() map[string]handler   { return map[string]handler{} }
func (s *Server) edmHandlers() map[string]handler   { return map[string]handler{} }
func (s *Server) scoreHandlers() map[string]handler { return map[string]handler{} }
