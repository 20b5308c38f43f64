package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/views"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// Saved views of the leads board and list (internal/views owns the
// rules): a view is a named URL with an owner. Opening one redirects to
// its URL, marked with ?view=<id> so the page shows which view it is; a
// page opened without any query opens the reader's default view.

// viewsArea is the saved views' handlers.
type viewsArea struct {
	*kit
	views savedViews
}

// savedViews is what the views area and the leads pages call.
type savedViews interface {
	Visible(ctx context.Context, u *db.User, page string) ([]views.View, error)
	Open(ctx context.Context, u *db.User, id int64) (views.View, error)
	Default(ctx context.Context, u *db.User, page string) (views.View, bool, error)
	Create(ctx context.Context, u *db.User, d views.Draft) (views.View, error)
	Update(ctx context.Context, u *db.User, id int64, ch views.Change) (views.View, views.View, error)
	Delete(ctx context.Context, u *db.User, id int64) (views.View, error)
	MakeDefault(ctx context.Context, u *db.User, id int64, on bool) (views.View, error)
}

// pagePaths are the pages a view opens.
var pagePaths = map[string]string{views.Board: leadsview.BoardPath, views.List: leadsview.ListPath}

// openView redirects to a view's URL.
func (a *viewsArea) openView(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	v, err := a.views.Open(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, viewURL(v))
}

// viewURL is the view's page with its query and the view's mark.
func viewURL(v views.View) string {
	q, _ := url.ParseQuery(v.Query)
	q.Set(views.Param, strconv.FormatInt(v.ID, 10))
	return pagePaths[v.Page] + "?" + q.Encode()
}

func (a *viewsArea) createView(c echo.Context) error {
	d := views.Draft{Page: c.FormValue("page"), Name: c.FormValue("name"), Query: c.FormValue("query"),
		Shared: c.FormValue("shared") == "1", Default: c.FormValue("default") == "1"}
	v, err := a.views.Create(c.Request().Context(), currentUser(c), d)
	back := pagePaths[d.Page] + "?" + d.Query
	if err != nil {
		return a.refused(c, err, back)
	}
	a.auditView(c, "view.create", v, fmt.Sprintf("saved %s view %q (%s) as %s", v.Page, v.Name, sharing(v), v.Query))
	addFlash(c, "success", t(c, "views.flash.saved", "Name", v.Name))
	return c.Redirect(http.StatusSeeOther, viewURL(v))
}

func (a *viewsArea) updateView(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ch := views.Change{Name: c.FormValue("name"), Shared: c.FormValue("shared") == "1"}
	if c.FormValue("resave") == "1" {
		q := c.FormValue("query")
		ch.Query = &q
	}
	before, after, err := a.views.Update(c.Request().Context(), currentUser(c), id, ch)
	if err != nil {
		return a.refused(c, err, viewsBack(c))
	}
	a.auditView(c, "view.update", after, fmt.Sprintf("changed %s view %q (%s, %s) to %q (%s, %s)",
		after.Page, before.Name, sharing(before), before.Query, after.Name, sharing(after), after.Query))
	addFlash(c, "success", t(c, "views.flash.updated", "Name", after.Name))
	return c.Redirect(http.StatusSeeOther, viewURL(after))
}

func (a *viewsArea) deleteView(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	v, err := a.views.Delete(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return a.refused(c, err, viewsBack(c))
	}
	a.auditView(c, "view.delete", v, fmt.Sprintf("deleted %s view %q (%s, owner %s) of %s", v.Page, v.Name, sharing(v), v.OwnerName, v.Query))
	addFlash(c, "success", t(c, "views.flash.deleted", "Name", v.Name))
	return c.Redirect(http.StatusSeeOther, pagePaths[v.Page]+"?"+url.Values{views.Param: {views.NoDefault}}.Encode())
}

func (a *viewsArea) defaultView(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	on := c.FormValue("on") != "0"
	v, err := a.views.MakeDefault(c.Request().Context(), currentUser(c), id, on)
	if err != nil {
		return a.refused(c, err, viewsBack(c))
	}
	what := "made %s view %q the default"
	if !on {
		what = "stopped using %s view %q as the default"
	}
	a.auditView(c, "view.default", v, fmt.Sprintf(what, v.Page, v.Name))
	return c.Redirect(http.StatusSeeOther, viewURL(v))
}

// refused shows a wrong input as a flash on the page the form was on; a
// view that is not there or not the reader's, and any other error, go to
// the central handler (404, 403, …).
func (a *viewsArea) refused(c echo.Context, err error, back string) error {
	var m *msg.Error
	if !errors.As(err, &m) || m.Kind != msg.Invalid {
		return err
	}
	text, _ := userMessage(c, err)
	return redirectWithFlash(c, "error", text, back)
}

// viewsBack is where a refused edit returns: the page the form was on.
func viewsBack(c echo.Context) string {
	if ref, err := url.Parse(c.Request().Referer()); err == nil && ref.Path != "" {
		for _, p := range pagePaths {
			if ref.Path == p {
				return p + "?" + ref.RawQuery
			}
		}
	}
	return leadsview.ListPath
}

func (a *viewsArea) auditView(c echo.Context, action string, v views.View, summary string) {
	a.audit(c, db.AuditEntry{Action: action, Object: "view:" + strconv.FormatInt(v.ID, 10), Summary: summary, Outcome: db.OutcomeOK})
}

func sharing(v views.View) string {
	if v.Shared {
		return "shared"
	}
	return "private"
}

// defaultViewRedirect sends a page opened without any query to the
// reader's default view of it; ok is false when there is none to go to.
func defaultViewRedirect(c echo.Context, vs savedViews, page string) (bool, error) {
	if c.Request().URL.RawQuery != "" || isHTMX(c) {
		return false, nil
	}
	v, ok, err := vs.Default(c.Request().Context(), currentUser(c), page)
	if err != nil || !ok {
		return false, err
	}
	return true, c.Redirect(http.StatusSeeOther, viewURL(v))
}

// viewsBar is the saved views bar of page, for the reader, with query
// as what "Save view" would save.
func viewsBar(c echo.Context, vs savedViews, page string, query url.Values) (leadsview.ViewsBar, error) {
	list, err := vs.Visible(c.Request().Context(), currentUser(c), page)
	if err != nil {
		return leadsview.ViewsBar{}, err
	}
	q := url.Values{}
	for k, v := range query {
		if k != "page" && k != views.Param {
			q[k] = v
		}
	}
	b := leadsview.ViewsBar{Page: page, Query: q.Encode()}
	active, _ := strconv.ParseInt(c.QueryParam(views.Param), 10, 64)
	for _, v := range list {
		sv := leadsview.SavedView{ID: v.ID, Name: v.Name, Shared: v.Shared, Default: v.Default, Editable: v.Editable}
		if !v.Mine {
			sv.Owner = v.OwnerName
		}
		b.Views = append(b.Views, sv)
		if v.ID == active {
			b.Active = &b.Views[len(b.Views)-1]
		}
		if v.Default {
			b.NoneURL = pagePaths[page] + "?" + url.Values{views.Param: {views.NoDefault}}.Encode()
		}
	}
	if b.Active != nil {
		active := *b.Active
		b.Active = &active
	}
	return b, nil
}
