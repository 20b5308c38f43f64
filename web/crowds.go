package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/roles"
	crowdsview "github.com/jingdesk/jingdesk/templates/crowds"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The crowds area (issue 6): the platform's static crowds from the local
// copy, which a page view refreshes in the background when it is stale;
// one crowd with the imports that fed it and its members, fetched from the
// platform a page at a time after the page is shown. Writes go to the
// platform first (internal/crowds, which also checks them), then the local
// copy, and are audited.
type crowdsArea struct {
	*kit
	crowds crowdService
	local  crowdReader
}

// crowdService is what the crowds pages ask of the crowds service.
type crowdService interface {
	List(ctx context.Context, userID int64, query string, page, perPage int, refresh bool) (crowds.Listing, error)
	RequestSync(ctx context.Context, userID int64) (int64, error)
	Create(ctx context.Context, actor, name, description string) (db.Crowd, error)
	Update(ctx context.Context, actor string, groupID int64, name, description string) (db.Crowd, error)
	Current(ctx context.Context, cr db.Crowd) (db.Crowd, error)
	Delete(ctx context.Context, actor string, cr db.Crowd, typed string) (db.Crowd, error)
	MembersPage(ctx context.Context, groupID int64, page, perPage int) (crowds.Members, error)
}

// crowdReader is what the crowds pages read of the local copy.
type crowdReader interface {
	Crowd(ctx context.Context, groupID int64) (db.Crowd, error)
	ListImports(ctx context.Context, f db.ImportFilter) ([]db.Import, error)
}

// crowdQueryMax is the longest search the list accepts (longer is cut).
const crowdQueryMax = 100

// crowdsQuery reads the list's search and page (bad values dropped, so an
// old bookmark still opens). value is the query or the form.
func crowdsQuery(value func(string) string) crowdsview.Query {
	q := crowdsview.Query{Q: clip(strings.TrimSpace(value("q")), crowdQueryMax)}
	if p, err := strconv.Atoi(value("page")); err == nil && p > 1 {
		q.Page = p
	}
	return q
}

// crowdsList builds the list for the query: one page of the local copy
// and how fresh it is. ask, when the copy is stale, asks for a refresh.
func (a *crowdsArea) crowdsList(c echo.Context, q crowdsview.Query, ask bool) (crowdsview.List, error) {
	u := currentUser(c)
	l, err := a.crowds.List(c.Request().Context(), u.ID, q.Q, q.Page, crowdsview.PageSize, ask)
	if err != nil {
		return crowdsview.List{}, err
	}
	q.Page = l.Page
	v := crowdsview.List{Now: a.now().Unix(), Query: q, CanEdit: roles.Works(u.Role), Total: l.Total,
		Pages: (l.Total + crowdsview.PageSize - 1) / crowdsview.PageSize,
		Fresh: crowdsview.Freshness{AsOf: l.Copy.SyncedAt, Stale: l.Copy.Stale, Syncing: l.Copy.Syncing,
			LastError: state(c).loc.Stored(l.Copy.LastError)}}
	for _, cr := range l.Crowds {
		v.Rows = append(v.Rows, crowdRow(cr))
	}
	return v, nil
}

func crowdRow(cr db.Crowd) crowdsview.Row {
	return crowdsview.Row{ID: cr.GroupID, Name: cr.Name, Description: cr.Description, Members: cr.UserCount,
		CreatedAt: cr.CreatedAt, UpdatedAt: cr.UpdatedAt, FetchedAt: cr.FetchedAt}
}

func (a *crowdsArea) showCrowds(c echo.Context) error {
	v, err := a.crowdsList(c, crowdsQuery(c.QueryParam), true)
	if err != nil {
		return err
	}
	return a.renderCrowds(c, http.StatusOK, v)
}

func (a *crowdsArea) renderCrowds(c echo.Context, status int, v crowdsview.List) error {
	return a.render(c, status, View{Title: t(c, "nav.crowds"), Section: "crowds", Body: crowdsview.ListPage(v)})
}

// showCrowdsTable is the table alone: for the search box and the page
// links (which put the list's own address in the address bar) and for
// the polling while a refresh runs (poll=1, which does not).
func (a *crowdsArea) showCrowdsTable(c echo.Context) error {
	v, err := a.crowdsList(c, crowdsQuery(c.QueryParam), false)
	if err != nil {
		return err
	}
	if c.QueryParam("poll") == "" && isHTMX(c) {
		c.Response().Header().Set("HX-Push-Url", v.Query.URL())
	}
	return a.renderFragment(c, http.StatusOK, crowdsview.Table(v))
}

// syncCrowds refreshes the list from the platform now (joining a refresh
// already under way).
func (a *crowdsArea) syncCrowds(c echo.Context) error {
	id, err := a.crowds.RequestSync(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "crowds.sync", Object: "crowds", Summary: summary("crowds_sync", msg.Int("Job", id)).Encode()})
	q := crowdsQuery(c.FormValue)
	if isHTMX(c) && c.Request().Header.Get("HX-Boosted") != "true" {
		v, err := a.crowdsList(c, q, false)
		if err != nil {
			return err
		}
		return a.renderFragment(c, http.StatusOK, crowdsview.Table(v))
	}
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "crowds.sync_started"), q.URL())
}

// crowdForm reads a crowd's name and description as typed (the crowds
// service checks them).
func crowdForm(c echo.Context) crowdsview.Form {
	return crowdsview.Form{Name: strings.TrimSpace(c.FormValue("name")), Description: strings.TrimSpace(c.FormValue("description")), Open: true}
}

// createCrowd creates a crowd on the platform, then keeps it locally; a
// refusal (ours or the platform's) shows the list with the form as typed.
func (a *crowdsArea) createCrowd(c echo.Context) error {
	f := crowdForm(c)
	what := summary("crowd_create", msg.Str("Name", f.Name))
	cr, err := a.crowds.Create(c.Request().Context(), currentUser(c).Username, f.Name, f.Description)
	if err != nil {
		a.auditRefusal(c, db.AuditEntry{Action: "crowd.create", Object: "crowd:new"}, what, err)
		text, ok := userMessage(c, err)
		if !ok {
			return err
		}
		v, err := a.crowdsList(c, crowdsview.Query{}, false)
		if err != nil {
			return err
		}
		f.Error = text
		v.Form = f
		return a.renderCrowds(c, http.StatusUnprocessableEntity, v)
	}
	a.audit(c, db.AuditEntry{Action: "crowd.create", Object: crowdObject(cr.GroupID),
		Summary: summary("crowd_created", msg.Nested("What", what), msg.Str("Description", f.Description), msg.Int("Group", cr.GroupID)).Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "crowds.created_flash", "Name", cr.Name), crowdsview.CrowdPath(cr.GroupID))
}

func crowdObject(id int64) string { return "crowd:" + strconv.FormatInt(id, 10) }

// crowdFromParam is the crowd of the route's :id in the local copy; an
// unknown or malformed id is a 404.
func (a *crowdsArea) crowdFromParam(c echo.Context) (db.Crowd, error) {
	id, err := pathID(c)
	if err != nil {
		return db.Crowd{}, err
	}
	return a.local.Crowd(c.Request().Context(), id)
}

func (a *crowdsArea) showCrowd(c echo.Context) error {
	cr, err := a.crowdFromParam(c)
	if err != nil {
		return err
	}
	v, err := a.crowdPage(c, cr)
	if err != nil {
		return err
	}
	return a.renderCrowd(c, http.StatusOK, v)
}

func (a *crowdsArea) renderCrowd(c echo.Context, status int, v crowdsview.Page) error {
	return a.render(c, status, View{Title: v.Crowd.Name, Section: "crowds", Body: crowdsview.CrowdPage(v)})
}

// crowdPage shapes a crowd of the local copy and the imports into it.
func (a *crowdsArea) crowdPage(c echo.Context, cr db.Crowd) (crowdsview.Page, error) {
	v := crowdsview.Page{Now: a.now().Unix(), Crowd: crowdRow(cr), CanEdit: roles.Works(currentUser(c).Role),
		Form: crowdsview.Form{Name: cr.Name, Description: cr.Description}}
	ims, err := a.local.ListImports(c.Request().Context(), db.ImportFilter{CrowdID: cr.GroupID})
	if err != nil {
		return v, err
	}
	for _, im := range ims {
		v.Imports = append(v.Imports, crowdsview.Import{ID: im.ID, FileName: im.FileName, User: im.UserName,
			CreatedAt: im.CreatedAt, StartedAt: im.StartedAt, Total: im.Counts.Total, Valid: im.Counts.Valid,
			Invalid: im.Counts.Invalid, Duplicate: im.Counts.Duplicate, Stage: im.Stage, JobState: im.JobState})
	}
	return v, nil
}

// updateCrowd renames a crowd and sets its description; a refusal shows
// the crowd as it now is with the form as typed.
func (a *crowdsArea) updateCrowd(c echo.Context) error {
	cr, err := a.crowdFromParam(c)
	if err != nil {
		return err
	}
	f := crowdForm(c)
	ctx := c.Request().Context()
	entry := db.AuditEntry{Action: "crowd.update", Object: crowdObject(cr.GroupID)}
	what := summary("crowd_update", msg.Str("Name", cr.Name), msg.Str("NewName", f.Name), msg.Str("Description", f.Description))
	updated, err := a.crowds.Update(ctx, currentUser(c).Username, cr.GroupID, f.Name, f.Description)
	if err != nil {
		a.auditRefusal(c, entry, what, err)
		text, ok := userMessage(c, err)
		if !ok {
			return err
		}
		if cur, err := a.local.Crowd(ctx, cr.GroupID); err == nil {
			cr = cur
		}
		v, err := a.crowdPage(c, cr)
		if err != nil {
			return err
		}
		f.Error = text
		v.Form = f
		return a.renderCrowd(c, http.StatusUnprocessableEntity, v)
	}
	entry.Summary = what.Encode()
	a.audit(c, entry)
	if updated.GroupID == 0 {
		// Saved, then found gone from the platform when read back.
		return redirectWithFlash(c, ui.FlashInfo, t(c, "crowds.gone", "Name", f.Name), crowdsview.ListPath)
	}
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "crowds.saved_flash", "Name", updated.Name), crowdsview.CrowdPath(cr.GroupID))
}

// deleteCrowd deletes a crowd once its exact member count is typed: the
// first post (no confirm) answers the confirmation, with the count read
// again from the platform; a count that no longer matches asks again.
func (a *crowdsArea) deleteCrowd(c echo.Context) error {
	cr, err := a.crowdFromParam(c)
	if err != nil {
		return err
	}
	if err := c.Request().ParseForm(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	ctx := c.Request().Context()
	typed, asked := c.Request().PostForm["confirm"]
	if !asked {
		// The member count the user confirms must be the platform's own now.
		if cr, err = a.crowds.Current(ctx, cr); err != nil {
			return a.crowdGone(c, err)
		}
		return a.answerDelete(c, cr, crowdsview.Delete{ID: cr.GroupID, Name: cr.Name, Members: cr.UserCount}, http.StatusOK)
	}
	d := crowdsview.Delete{Typed: strings.TrimSpace(strings.Join(typed, ""))}
	cr, err = a.crowds.Delete(ctx, currentUser(c).Username, cr, d.Typed)
	d.ID, d.Name, d.Members = cr.GroupID, cr.Name, cr.UserCount
	entry := db.AuditEntry{Action: "crowd.delete", Object: crowdObject(cr.GroupID)}
	what := summary("crowd_delete", msg.Str("Name", cr.Name), msg.Int("Count", cr.UserCount))
	if err != nil {
		if errors.Is(err, crowds.ErrGone) {
			return a.crowdGone(c, err)
		}
		a.auditRefusal(c, entry, what, err)
		text, ok := userMessage(c, err)
		if !ok {
			return err
		}
		d.Error = text
		return a.answerDelete(c, cr, d, http.StatusUnprocessableEntity)
	}
	entry.Summary = what.Encode()
	a.audit(c, entry)
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "crowds.deleted_flash", "Name", cr.Name, "Count", strconv.FormatInt(cr.UserCount, 10)),
		crowdsview.ListPath)
}

// crowdGone ends a delete whose crowd is no longer on the platform: back
// to the list, which no longer has it, saying so. Any other error is
// returned.
func (a *crowdsArea) crowdGone(c echo.Context, err error) error {
	text, ok := userMessage(c, err)
	if !errors.Is(err, crowds.ErrGone) || !ok {
		return err
	}
	return redirectWithFlash(c, ui.FlashInfo, text, crowdsview.ListPath)
}

// answerDelete shows the confirmation: alone for the page's htmx button,
// else on the crowd's page.
func (a *crowdsArea) answerDelete(c echo.Context, cr db.Crowd, d crowdsview.Delete, status int) error {
	if isHTMX(c) && c.Request().Header.Get("HX-Boosted") != "true" {
		return a.renderFragment(c, status, crowdsview.DeleteConfirm(d))
	}
	v, err := a.crowdPage(c, cr)
	if err != nil {
		return err
	}
	v.Delete = &d
	return a.renderCrowd(c, status, v)
}

// showCrowdMembers is one page of a crowd's members from the platform,
// with the identities imports resolved; a platform failure is shown in
// the fragment with a retry, never as an error page.
func (a *crowdsArea) showCrowdMembers(c echo.Context) error {
	cr, err := a.crowdFromParam(c)
	if err != nil {
		return err
	}
	page := 1
	if p, err := strconv.Atoi(c.QueryParam("page")); err == nil && p > 1 {
		page = p
	}
	out := crowdsview.Members{CrowdID: cr.GroupID, Page: page, Masked: !roles.Works(currentUser(c).Role)}
	m, err := a.crowds.MembersPage(c.Request().Context(), cr.GroupID, page, crowdsview.PageSize)
	if err != nil {
		if _, ok := jing.AsError(err); !ok {
			a.log(c).Error("crowd members", "crowd", cr.GroupID, "error", err)
		}
		out.Error = t(c, "crowds.members.failed") + " " + platformMessage(c, err)
		return a.renderFragment(c, http.StatusOK, crowdsview.MembersFragment(out))
	}
	out.Page, out.Pages, out.Total = m.Page, m.Pages, m.Total
	out.KnownOnPage, out.KnownListedAt, out.Known, out.Listed = m.KnownOnPage, m.Known.ListedAt, m.Known.Known, m.Known.Members
	for _, it := range m.Items {
		mem := crowdsview.Member{UUID: it.UUID, Joined: it.Joined.Unix(), Identity: it.Identity, Kind: it.Kind, Name: it.Name, Lead: it.Lead}
		if out.Masked && (it.Kind == "mobile" || it.Kind == "email") {
			mem.Identity = leads.Mask(it.Identity)
		}
		out.Items = append(out.Items, mem)
	}
	return a.renderFragment(c, http.StatusOK, crowdsview.MembersFragment(out))
}
