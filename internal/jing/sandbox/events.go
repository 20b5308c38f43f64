package sandbox

// eventQueue delivers webhooks to the configured URL. (Filled in by the webhooks work.)
type eventQueue struct{ s *Server }

func newEventQueue(s *Server) *eventQueue { return &eventQueue{s: s} }

// startBackground starts webhook delivery and random platform-side changes.
func (s *Server) startBackground() {}

// stopBackground stops them (and saves state when configured).
func (s *Server) stopBackground() {}
