package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/leads"
	crowdsview "github.com/jingdesk/jingdesk/templates/crowds"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The crowds pages (issue 6): the platform's static crowds from the local
// copy, which a page view refreshes in the background when it is stale;
// one crowd with the imports that fed it and its members, fetched from the
// platform a page at a time after the page is shown. Writes go to the
// platform first (the crowds service), then the local copy, and are audited.

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
func (s *Server) crowdsList(c echo.Context, q crowdsview.Query, ask bool) (crowdsview.List, error) {
	ctx := c.Request().Context()
	v := crowdsview.List{Now: s.Now().Unix(), Query: q, CanEdit: mayMove(currentUser(c))}
	st, stale, err := s.Crowds.Freshness(ctx)
	if err != nil {
		return v, err
	}
	v.Fresh = crowdsview.Freshness{AsOf: st.SyncedAt, Stale: stale, LastError: state(c).loc.Stored(st.LastError)}
	if stale && ask {
		// A refresh already queued or running is joined, not repeated.
		if _, err := s.Crowds.RequestSync(ctx, currentUser(c).ID); err != nil {
			s.log(c).Warn("request a crowd list refresh", "error", err)
		}
	}
	pending, err := s.Store.PendingJobs(ctx, crowds.SyncJobKind)
	if err != nil {
		return v, err
	}
	v.Fresh.Syncing = len(pending) > 0
	f := db.CrowdFilter{Query: q.Q, Limit: crowdsview.PageSize, Offset: (v.CurrentPage() - 1) * crowdsview.PageSize}
	rows, total, err := s.Store.ListCrowds(ctx, f)
	if err != nil {
		return v, err
	}
	v.Pages = (total + crowdsview.PageSize - 1) / crowdsview.PageSize
	if v.CurrentPage() > v.Pages && v.Pages > 0 {
		// Past the end (the list shrank since): the last page.
		v.Query.Page = v.Pages
		f.Offset = (v.Pages - 1) * crowdsview.PageSize
		if rows, total, err = s.Store.ListCrowds(ctx, f); err != nil {
			return v, err
		}
	}
	v.Total = total
	for _, cr := range rows {
		v.Rows = append(v.Rows, crowdRow(cr))
	}
	return v, nil
}

func crowdRow(cr db.Crowd) crowdsview.Row {
	return crowdsview.Row{ID: cr.GroupID, Name: cr.Name, Description: cr.Description, Members: cr.UserCount,
		CreatedAt: cr.CreatedAt, UpdatedAt: cr.UpdatedAt, FetchedAt: cr.FetchedAt}
}

func (s *Server) showCrowds(c echo.Context) error {
	if s.Crowds == nil {
		return s.showArea("crowds")(c)
	}
	v, err := s.crowdsList(c, crowdsQuery(c.QueryParam), true)
	if err != nil {
		return err
	}
	return s.renderCrowds(c, http.StatusOK, v)
}

func (s *Server) renderCrowds(c echo.Context, status int, v crowdsview.List) error {
	return s.render(c, status, View{Title: t(c, "nav.crowds"), Section: "crowds", Body: crowdsview.ListPage(v)})
}

// showCrowdsTable is the table alone: for the search box and the page
// links (which put the list's own address in the address bar) and for
// the polling while a refresh runs (poll=1, which does not).
func (s *Server) showCrowdsTable(c echo.Context) error {
	if s.Crowds == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	v, err := s.crowdsList(c, crowdsQuery(c.QueryParam), false)
	if err != nil {
		return err
	}
	if c.QueryParam("poll") == "" && isHTMX(c) {
		c.Response().Header().Set("HX-Push-Url", v.Query.URL())
	}
	return s.renderFragment(c, http.StatusOK, crowdsview.Table(v))
}

// syncCrowds refreshes the list from the platform now (joining a refresh
// already under way).
func (s *Server) syncCrowds(c echo.Context) error {
	if s.Crowds == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	id, err := s.Crowds.RequestSync(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	s.audit(c, db.AuditEntry{Action: "crowds.sync", Object: "crowds", Summary: fmt.Sprintf("refresh requested: job %d", id)})
	q := crowdsQuery(c.FormValue)
	if isHTMX(c) && c.Request().Header.Get("HX-Boosted") != "true" {
		v, err := s.crowdsList(c, q, false)
		if err != nil {
			return err
		}
		return s.renderFragment(c, http.StatusOK, crowdsview.Table(v))
	}
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "crowds.sync_started"), q.URL())
}

// crowdForm reads a crowd's name and description as typed, and checks
// what the platform would refuse anyway ("" when fine).
func crowdForm(c echo.Context) (crowdsview.Form, string) {
	f := crowdsview.Form{Name: strings.TrimSpace(c.FormValue("name")), Description: strings.TrimSpace(c.FormValue("description")), Open: true}
	switch {
	case f.Name == "":
		return f, t(c, "crowds.error.name_required")
	case utf8.RuneCountInString(f.Name) > crowdsview.NameMax:
		return f, t(c, "crowds.error.name_long", "Max", crowdsview.NameMax)
	case utf8.RuneCountInString(f.Description) > crowdsview.DescriptionMax:
		return f, t(c, "crowds.error.description_long", "Max", crowdsview.DescriptionMax)
	}
	return f, ""
}

// createCrowd creates a crowd on the platform, then keeps it locally.
func (s *Server) createCrowd(c echo.Context) error {
	if s.Crowds == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	f, problem := crowdForm(c)
	refuse := func(msg string) error {
		v, err := s.crowdsList(c, crowdsview.Query{}, false)
		if err != nil {
			return err
		}
		f.Error = msg
		v.Form = f
		return s.renderCrowds(c, http.StatusUnprocessableEntity, v)
	}
	if problem != "" {
		return refuse(problem)
	}
	u := currentUser(c)
	what := fmt.Sprintf("create crowd %q", f.Name)
	cr, err := s.Crowds.Create(c.Request().Context(), u.Username, f.Name, f.Description)
	if err != nil {
		je, ok := s.auditRefusal(c, db.AuditEntry{Action: "crowd.create", Object: "crowd:new"}, what, err)
		if !ok {
			return err
		}
		return refuse(state(c).loc.Message(je.Message()))
	}
	s.audit(c, db.AuditEntry{Action: "crowd.create", Object: crowdObject(cr.GroupID),
		Summary: fmt.Sprintf("%s (description %q): group_id %d", what, f.Description, cr.GroupID)})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "crowds.created_flash", "Name", cr.Name), crowdsview.CrowdPath(cr.GroupID))
}

func crowdObject(id int64) string { return "crowd:" + strconv.FormatInt(id, 10) }

// crowdFromParam is the crowd of the route's :id in the local copy; an
// unknown or malformed id is a 404.
func (s *Server) crowdFromParam(c echo.Context) (db.Crowd, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if s.Crowds == nil || err != nil || id <= 0 {
		return db.Crowd{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return s.Store.Crowd(c.Request().Context(), id)
}

func (s *Server) showCrowd(c echo.Context) error {
	cr, err := s.crowdFromParam(c)
	if err != nil {
		return err
	}
	v, err := s.crowdPage(c, cr)
	if err != nil {
		return err
	}
	return s.renderCrowd(c, http.StatusOK, v)
}

func (s *Server) renderCrowd(c echo.Context, status int, v crowdsview.Page) error {
	return s.render(c, status, View{Title: v.Crowd.Name, Section: "crowds", Body: crowdsview.CrowdPage(v)})
}

// crowdPage shapes a crowd of the local copy and the imports into it.
func (s *Server) crowdPage(c echo.Context, cr db.Crowd) (crowdsview.Page, error) {
	v := crowdsview.Page{Now: s.Now().Unix(), Crowd: crowdRow(cr), CanEdit: mayMove(currentUser(c)),
		Form: crowdsview.Form{Name: cr.Name, Description: cr.Description}}
	ims, err := s.Store.ListImports(c.Request().Context(), db.ImportFilter{CrowdID: cr.GroupID})
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

// updateCrowd renames a crowd and sets its description.
func (s *Server) updateCrowd(c echo.Context) error {
	cr, err := s.crowdFromParam(c)
	if err != nil {
		return err
	}
	f, problem := crowdForm(c)
	refuse := func(msg string) error {
		if cur, err := s.Store.Crowd(c.Request().Context(), cr.GroupID); err == nil {
			cr = cur
		}
		v, err := s.crowdPage(c, cr)
		if err != nil {
			return err
		}
		f.Error = msg
		v.Form = f
		return s.renderCrowd(c, http.StatusUnprocessableEntity, v)
	}
	if problem != "" {
		return refuse(problem)
	}
	entry := db.AuditEntry{Action: "crowd.update", Object: crowdObject(cr.GroupID)}
	what := fmt.Sprintf("crowd %q renamed to %q, description %q", cr.Name, f.Name, f.Description)
	updated, err := s.Crowds.Update(c.Request().Context(), currentUser(c).Username, cr.GroupID, f.Name, f.Description)
	if err != nil {
		je, ok := s.auditRefusal(c, entry, what, err)
		if !ok {
			return err
		}
		return refuse(state(c).loc.Message(je.Message()))
	}
	entry.Summary = what
	s.audit(c, entry)
	if updated.GroupID == 0 {
		// Saved, then found gone from the platform when read back.
		return redirectWithFlash(c, ui.FlashInfo, t(c, "crowds.gone", "Name", f.Name), crowdsview.ListPath)
	}
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "crowds.saved_flash", "Name", updated.Name), crowdsview.CrowdPath(cr.GroupID))
}

// deleteCrowd deletes a crowd once its exact member count is typed: the
// first post (no confirm) answers the confirmation, with the count read
// again from the platform; a count that no longer matches asks again.
func (s *Server) deleteCrowd(c echo.Context) error {
	cr, err := s.crowdFromParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// The member count the user confirms must be the platform's own now.
	if fresh, err := s.Crowds.Refresh(ctx, cr.GroupID, cr); err != nil {
		return err
	} else if fresh.GroupID == 0 {
		return redirectWithFlash(c, ui.FlashInfo, t(c, "crowds.gone", "Name", cr.Name), crowdsview.ListPath)
	} else {
		cr = fresh
	}
	d := crowdsview.Delete{ID: cr.GroupID, Name: cr.Name, Members: cr.UserCount}
	if err := c.Request().ParseForm(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	typed, asked := c.Request().PostForm["confirm"]
	if !asked {
		return s.answerDelete(c, cr, d, http.StatusOK)
	}
	d.Typed = strings.TrimSpace(strings.Join(typed, ""))
	if n, err := strconv.ParseInt(strings.ReplaceAll(strings.ReplaceAll(d.Typed, ",", ""), " ", ""), 10, 64); err != nil || n != cr.UserCount {
		d.Error = t(c, "crowds.delete.wrong_count", "Count", strconv.FormatInt(cr.UserCount, 10))
		return s.answerDelete(c, cr, d, http.StatusUnprocessableEntity)
	}
	entry := db.AuditEntry{Action: "crowd.delete", Object: crowdObject(cr.GroupID)}
	what := fmt.Sprintf("delete crowd %q with %d members", cr.Name, cr.UserCount)
	if err := s.Crowds.Delete(ctx, currentUser(c).Username, cr.GroupID); err != nil {
		je, ok := s.auditRefusal(c, entry, what, err)
		if !ok {
			return err
		}
		d.Error = state(c).loc.Message(je.Message())
		return s.answerDelete(c, cr, d, http.StatusUnprocessableEntity)
	}
	entry.Summary = what
	s.audit(c, entry)
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "crowds.deleted_flash", "Name", cr.Name, "Count", strconv.FormatInt(cr.UserCount, 10)),
		crowdsview.ListPath)
}

// answerDelete shows the confirmation: alone for the page's htmx button,
// else on the crowd's page.
func (s *Server) answerDelete(c echo.Context, cr db.Crowd, d crowdsview.Delete, status int) error {
	if isHTMX(c) && c.Request().Header.Get("HX-Boosted") != "true" {
		return s.renderFragment(c, status, crowdsview.DeleteConfirm(d))
	}
	v, err := s.crowdPage(c, cr)
	if err != nil {
		return err
	}
	v.Delete = &d
	return s.renderCrowd(c, status, v)
}

// showCrowdMembers is one page of a crowd's members from the platform,
// with the identities imports resolved; a platform failure is shown in
// the fragment with a retry, never as an error page.
func (s *Server) showCrowdMembers(c echo.Context) error {
	cr, err := s.crowdFromParam(c)
	if err != nil {
		return err
	}
	page := 1
	if p, err := strconv.Atoi(c.QueryParam("page")); err == nil && p > 1 {
		page = p
	}
	ctx := c.Request().Context()
	out := crowdsview.Members{CrowdID: cr.GroupID, Page: page, Masked: !mayMove(currentUser(c))}
	m, err := s.Crowds.MembersPage(ctx, cr.GroupID, page, crowdsview.PageSize)
	if err == nil && m.Pages > 0 && page > m.Pages {
		// Past the end (members left since): the last page.
		out.Page = m.Pages
		m, err = s.Crowds.MembersPage(ctx, cr.GroupID, m.Pages, crowdsview.PageSize)
	}
	if err != nil {
		if _, ok := jing.AsError(err); !ok && !errors.Is(err, errNoPlatform) {
			s.log(c).Error("crowd members", "crowd", cr.GroupID, "error", err)
		}
		out.Error = t(c, "crowds.members.failed") + " " + platformMessage(c, err)
		return s.renderFragment(c, http.StatusOK, crowdsview.MembersFragment(out))
	}
	out.Pages, out.Total = m.Pages, m.Total
	for _, it := range m.Items {
		mem := crowdsview.Member{UUID: it.UUID, Joined: it.Joined.Unix(), Identity: it.Identity, Kind: it.Kind, Name: it.Name}
		if out.Masked && (it.Kind == "mobile" || it.Kind == "email") {
			mem.Identity = leads.Mask(it.Identity)
		}
		out.Items = append(out.Items, mem)
	}
	return s.renderFragment(c, http.StatusOK, crowdsview.MembersFragment(out))
}
