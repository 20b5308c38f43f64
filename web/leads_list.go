package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/views"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The leads list: one page of the local copy as a table, searched,
// filtered and sorted by GET parameters (bookmarkable). Viewers see mobile
// numbers and email addresses masked (leads.Mask).

// listFilter reads the list's filter from the query. Unknown business
// types, statuses not of the chosen business type, bad dates and sorts are
// dropped rather than refused, so an old bookmark still opens.
func listFilter(c echo.Context, r *refdata.Resolver) leadsview.ListFilter {
	f := leadsview.ListFilter{
		Filter: leads.ReadFilter(c.QueryParam),
		Status: clip(c.QueryParam("status"), boardIDMax),
		Sort:   c.QueryParam("sort"),
	}
	if !knownBusinessType(r, f.BusinessType) {
		f.BusinessType = ""
	}
	inPipeline := slices.ContainsFunc(r.Statuses(f.BusinessType), func(st refdata.Item) bool { return st.ID == f.Status })
	if f.BusinessType == "" || !inPipeline {
		f.Status = ""
	}
	if !slices.Contains(leadsview.ListSorts, f.Sort) || f.Sort == "updated" {
		f.Sort = ""
	}
	if p, err := strconv.Atoi(c.QueryParam("page")); err == nil && p > 1 {
		f.Page = p
	}
	f.Columns = leadsview.ReadColumns(c.QueryParams()["cols"])
	return f
}

// droppedFilters are the business type and status the query named that
// listFilter dropped because the pipeline no longer has them (an old
// bookmark or saved view): the list says so instead of silently
// widening.
func droppedFilters(c echo.Context, f leadsview.ListFilter) []string {
	var out []string
	for _, p := range []struct{ name, kept string }{{"business_type", f.BusinessType}, {"status", f.Status}} {
		if asked := clip(c.QueryParam(p.name), boardIDMax); asked != "" && asked != p.kept {
			out = append(out, asked)
		}
	}
	return out
}

func listStoreFilter(f leadsview.ListFilter, zone *time.Location) db.LeadFilter {
	lf := f.Filter.Select(zone)
	lf.Status, lf.Sort = f.Status, f.Sort
	lf.Limit, lf.Offset = leadsview.ListPageSize, (max(f.Page, 1)-1)*leadsview.ListPageSize
	return lf
}

func (a *leadsArea) showLeadList(c echo.Context) error {
	title := t(c, "nav.leads")
	r, ok := a.pipelines()
	if !ok {
		return a.render(c, http.StatusOK, View{Title: title, Section: "leads", Body: leadsview.ListPage(leadsview.List{Unavailable: true})})
	}
	if gone, err := defaultViewRedirect(c, a.views, views.List); gone || err != nil {
		return err
	}
	ctx := c.Request().Context()
	loc := state(c).loc
	lang := loc.Lang
	f := listFilter(c, r)
	v := leadsview.List{Now: a.now().Unix(), Filter: f, Masked: !mayMove(currentUser(c)), Dropped: droppedFilters(c, f)}
	lf := listStoreFilter(f, loc.Zone())
	page, total, err := a.copy.ListLeads(ctx, lf)
	if err != nil {
		return err
	}
	v.Total = total
	v.Pages = (total + leadsview.ListPageSize - 1) / leadsview.ListPageSize
	if f.Page > v.Pages && v.Pages > 0 {
		// Past the end (the list shrank since): the last page.
		v.Filter.Page = v.Pages
		lf.Offset = (v.Pages - 1) * leadsview.ListPageSize
		if page, total, err = a.copy.ListLeads(ctx, lf); err != nil {
			return err
		}
		v.Total = total
	}
	for _, l := range page {
		v.Rows = append(v.Rows, listRow(r, lang, l, v.Masked))
	}
	for _, st := range r.Statuses(f.BusinessType) {
		if f.BusinessType != "" {
			v.Statuses = append(v.Statuses, leadsview.Choice{Value: st.ID, Label: st.DisplayName(lang)})
		}
	}
	if !v.Masked {
		v.Bulk = a.bulkBar(r, lang)
	}
	if v.Views, err = viewsBar(c, a.views, views.List, v.Filter.Values()); err != nil {
		return err
	}
	if isHTMX(c) && c.Request().Header.Get("HX-Boosted") != "true" {
		return a.renderFragment(c, http.StatusOK, leadsview.ListAnswer(v))
	}
	if v.FilterChoices, v.AsOf, err = a.filterChoices(ctx, r, loc); err != nil {
		return err
	}
	return a.render(c, http.StatusOK, View{Title: title, Section: "leads", Body: leadsview.ListPage(v)})
}

// listRow shapes a lead for the list, its ids resolved to names.
func listRow(r *refdata.Resolver, lang string, l db.Lead, masked bool) leadsview.Row {
	row := leadsview.Row{UUID: l.UUID, Name: l.Name, Company: l.Company, Title: l.Title, Status: l.Status,
		BusinessType: r.BusinessType(lang, leadObject, l.BusinessType), Mobile: l.Mobile, Email: l.Email,
		UpdatedAt: l.UpdatedAt, CreatedAt: l.CreatedAt}
	row.StatusName, _ = r.Status(lang, l.BusinessType, l.Status)
	if l.Owner != "" {
		row.Owner = r.Member(lang, l.Owner)
	}
	if masked {
		row.Mobile, row.Email = leads.Mask(l.Mobile), leads.Mask(l.Email)
	}
	return row
}

// filterChoices are what the filter of the board and the list offers,
// and when the copy was last brought up to date (0: never). The lead
// pools are the copy's: the platform names none, so they are numbered,
// with the id's start to tell them apart.
func (a *leadsArea) filterChoices(ctx context.Context, r *refdata.Resolver, loc *i18n.Localizer) (leadsview.FilterChoices, int64, error) {
	var fc leadsview.FilterChoices
	for _, bt := range r.BusinessTypes(leadObject) {
		fc.BusinessTypes = append(fc.BusinessTypes, leadsview.Choice{Value: bt.ID, Label: bt.DisplayName(loc.Lang)})
	}
	for _, m := range r.Members(false) {
		fc.Owners = append(fc.Owners, leadsview.Choice{Value: m.ID, Label: m.DisplayName(loc.Lang)})
	}
	for _, o := range r.Options(leadObject, "source_type") {
		fc.Sources = append(fc.Sources, leadsview.Choice{Value: o.ID, Label: o.DisplayName(loc.Lang)})
	}
	pools, err := a.copy.LeadPools(ctx)
	if err != nil {
		return fc, 0, err
	}
	for i, p := range pools {
		fc.Pools = append(fc.Pools, leadsview.Choice{Value: p, Label: loc.T("leads.list.pool", "N", i+1, "ID", shortID(p))})
	}
	var asOf int64
	if st, err := a.copy.LeadSync(ctx); err == nil {
		asOf = st.LastSyncedAt
	}
	return fc, asOf, nil
}

func shortID(id string) string {
	if r := []rune(id); len(r) > 8 {
		return string(r[:8]) + "…"
	}
	return id
}
