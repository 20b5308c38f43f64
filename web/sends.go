package web

import (
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
)

// Stubs: replaced by the shared send steps.
func (s *Server) showSendConfirmation(c echo.Context) error { return notYet(c) }
func (s *Server) confirmSend(c echo.Context) error          { return notYet(c) }
func (s *Server) testSend(c echo.Context) error             { return notYet(c) }
func (s *Server) approveSend(c echo.Context) error          { return notYet(c) }
func (s *Server) rejectSend(c echo.Context) error           { return notYet(c) }
func (s *Server) cancelSend(c echo.Context) error           { return notYet(c) }
func (s *Server) decideSend(c echo.Context) error           { return notYet(c) }
func (s *Server) showSendStatus(c echo.Context) error       { return notYet(c) }
func (s *Server) showSendRecords(c echo.Context) error      { return notYet(c) }
func (s *Server) syncSendRecords(c echo.Context) error      { return notYet(c) }
func (s *Server) exportSendRecords(c echo.Context) error    { return notYet(c) }

// sendPanels is the lifecycle part of a send's page, the same for both
// channels: state, confirmation, approval, the decision on an unknown
// outcome, delivery and records. The channel pages put it under their own
// content (message, audience, preview).
func (s *Server) sendPanels(c echo.Context, sd db.Send) (templ.Component, error) {
	return templ.NopComponent, nil
}
