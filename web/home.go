package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/home"
	"github.com/jingdesk/jingdesk/internal/roles"
	homeview "github.com/jingdesk/jingdesk/templates/home"
)

// Home (/): what needs the signed-in user today. internal/home reads it;
// the handler names the business types and renders.

// homeArea is Home's handler.
type homeArea struct {
	*kit
	home homeReader
	ref  referenceSource
}

// homeReader is what Home calls (*home.Service).
type homeReader interface {
	For(ctx context.Context, u *db.User, zone *time.Location) (home.Home, error)
}

func (a *homeArea) showHome(c echo.Context) error {
	u := currentUser(c)
	loc := state(c).loc
	h, err := a.home.For(c.Request().Context(), u, loc.Zone())
	if err != nil {
		return err
	}
	p := homeview.Page{Home: h, Now: a.now().Unix(), CanAct: roles.Works(u.Role), Admin: u.Role == roles.Admin,
		BusinessTypes: map[string]string{}}
	if r := a.ref.Resolver(); r != nil {
		for _, row := range h.Week.Rows {
			p.BusinessTypes[row.BusinessType] = r.BusinessType(loc.Lang, leadObject, row.BusinessType)
		}
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "home.title"), Section: "home", Body: homeview.HomePage(p)})
}
