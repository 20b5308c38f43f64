package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Stubs: replaced by the crowds pages.
func notYet(c echo.Context) error { return echo.NewHTTPError(http.StatusNotImplemented) }

func (s *Server) showCrowds(c echo.Context) error       { return s.showArea("crowds")(c) }
func (s *Server) showCrowdsTable(c echo.Context) error  { return notYet(c) }
func (s *Server) syncCrowds(c echo.Context) error       { return notYet(c) }
func (s *Server) createCrowd(c echo.Context) error      { return notYet(c) }
func (s *Server) showCrowd(c echo.Context) error        { return notYet(c) }
func (s *Server) showCrowdMembers(c echo.Context) error { return notYet(c) }
func (s *Server) updateCrowd(c echo.Context) error      { return notYet(c) }
func (s *Server) deleteCrowd(c echo.Context) error      { return notYet(c) }
