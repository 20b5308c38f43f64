package sandbox

import "github.com/jingdesk/jingdesk/internal/jing"

// eventQueue delivers webhooks to the configured URL. (Filled in by the webhooks work.)
type eventQueue struct{ s *Server }

func newEventQueue(s *Server) *eventQueue { return &eventQueue{s: s} }

// emit queues an event for delivery; call it (with s.mu held) for every
// change the sandbox makes to a lead or an account. It never blocks.
func (s *Server) emit(ev jing.WebhookEvent) {}

// startBackground starts webhook delivery and random platform-side changes.
func (s *Server) startBackground() {}

// stopBackground stops them (and saves state when configured).
func (s *Server) stopBackground() {}
