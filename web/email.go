package web

import "github.com/labstack/echo/v4"

// Stubs: replaced by the email pages.
func (s *Server) showEmail(c echo.Context) error     { return s.showArea("email")(c) }
func (s *Server) showNewEmail(c echo.Context) error  { return notYet(c) }
func (s *Server) createEmail(c echo.Context) error   { return notYet(c) }
func (s *Server) showEmailSend(c echo.Context) error { return notYet(c) }
func (s *Server) updateEmail(c echo.Context) error   { return notYet(c) }
func (s *Server) previewEmail(c echo.Context) error  { return notYet(c) }
