package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/static"
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

func (a *siteArea) showSettings(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/settings/account")
}

func itoa(n int) string { return strconv.Itoa(n) }
