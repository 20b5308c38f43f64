package web

import "github.com/labstack/echo/v4"

// Stubs: replaced by the live updates and the webhook pages.
func (s *Server) showLeadChanges(c echo.Context) error      { return notYet(c) }
func (s *Server) rotateWebhookSecret(c echo.Context) error  { return notYet(c) }
func (s *Server) showWebhookEvents(c echo.Context) error    { return notYet(c) }
func (s *Server) showWebhookEvent(c echo.Context) error     { return notYet(c) }
func (s *Server) requeueWebhookEvents(c echo.Context) error { return notYet(c) }
