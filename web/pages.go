package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/static"
	areaview "github.com/jingdesk/jingdesk/templates/areas"
)

// siteArea is what is not any area's: the health check, the assets, and
// the redirects of / and /settings.
type siteArea struct {
	*kit
	db interface {
		Ping(ctx context.Context) error
	}
}

func (a *siteArea) health(c echo.Context) error {
	if err := a.db.Ping(c.Request().Context()); err != nil {
		a.log(c).Error("health: database", "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (a *siteArea) serveStatic(c echo.Context) error {
	static.ServeHTTP(c.Response(), c.Request())
	return nil
}

func (a *siteArea) home(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/leads")
}

// comingAreas are the sections later work fills; until then each shows an
// empty state saying what it will hold.
var comingAreas = map[string]areaview.Area{
	"leads":   {Key: "leads", Icon: "leads", Points: 3},
	"crowds":  {Key: "crowds", Icon: "crowds", Points: 3},
	"imports": {Key: "imports", Icon: "imports", Points: 3},
	"sms":     {Key: "sms", Icon: "sms", Points: 3},
	"email":   {Key: "email", Icon: "email", Points: 3},
	"scores":  {Key: "scores", Icon: "scores", Points: 3},
}

func (s *Server) showArea(key string) echo.HandlerFunc {
	a := comingAreas[key]
	return func(c echo.Context) error {
		return s.render(c, http.StatusOK, View{Title: t(c, "nav."+key), Section: key, Body: areaview.Empty(a)})
	}
}

func (a *siteArea) showSettings(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/settings/account")
}

func itoa(n int) string { return strconv.Itoa(n) }
