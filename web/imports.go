package web

import (
	"github.com/labstack/echo/v4"
)

// Stubs: replaced by the import wizard.
func (s *Server) showImports(c echo.Context) error         { return s.showArea("imports")(c) }
func (s *Server) showImportsBadge(c echo.Context) error    { return notYet(c) }
func (s *Server) showNewImport(c echo.Context) error       { return notYet(c) }
func (s *Server) uploadImport(c echo.Context) error        { return notYet(c) }
func (s *Server) showImport(c echo.Context) error          { return notYet(c) }
func (s *Server) showImportProgress(c echo.Context) error  { return notYet(c) }
func (s *Server) setImportReading(c echo.Context) error    { return notYet(c) }
func (s *Server) validateImport(c echo.Context) error      { return notYet(c) }
func (s *Server) startImport(c echo.Context) error         { return notYet(c) }
func (s *Server) discardImport(c echo.Context) error       { return notYet(c) }
func (s *Server) downloadImportRows(c echo.Context) error  { return notYet(c) }
func (s *Server) actOnImport(a jobAction) echo.HandlerFunc { return notYet }
