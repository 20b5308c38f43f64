package web

import "github.com/labstack/echo/v4"

// Stubs: replaced by the SMS pages.
func (s *Server) showSMS(c echo.Context) error          { return s.showArea("sms")(c) }
func (s *Server) showNewSMS(c echo.Context) error       { return notYet(c) }
func (s *Server) createSMS(c echo.Context) error        { return notYet(c) }
func (s *Server) showSMSSend(c echo.Context) error      { return notYet(c) }
func (s *Server) updateSMS(c echo.Context) error        { return notYet(c) }
func (s *Server) checkSMSConsent(c echo.Context) error  { return notYet(c) }
func (s *Server) showSendSettings(c echo.Context) error { return notYet(c) }
func (s *Server) saveSendSettings(c echo.Context) error { return notYet(c) }
