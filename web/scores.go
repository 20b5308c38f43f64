package web

import "github.com/labstack/echo/v4"

// Stubs: replaced by the scores pages.
func (s *Server) showScores(c echo.Context) error          { return s.showArea("scores")(c) }
func (s *Server) showScoreMovers(c echo.Context) error     { return notYet(c) }
func (s *Server) showScoreSelection(c echo.Context) error  { return notYet(c) }
func (s *Server) fetchScores(c echo.Context) error         { return notYet(c) }
func (s *Server) saveScoresAsCrowd(c echo.Context) error   { return notYet(c) }
func (s *Server) exportScoresCSV(c echo.Context) error     { return notYet(c) }
func (s *Server) exportScoresXLSX(c echo.Context) error    { return notYet(c) }
func (s *Server) clearActivityScores(c echo.Context) error { return notYet(c) }
func (s *Server) showPerson(c echo.Context) error          { return notYet(c) }
