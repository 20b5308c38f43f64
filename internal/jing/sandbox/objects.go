package sandbox

import mrand "math/rand/v2"

// objectState is the CRM metadata: business types, lead status pipelines,
// option sets, source options and fields. (Filled in by the leads work.)
type objectState struct{}

func (t *tenant) seedObjects(rng *mrand.Rand) {}

func (s *Server) objectHandlers() map[string]handler { return map[string]handler{} }
