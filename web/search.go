package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/search"
	accountsview "github.com/jingdesk/jingdesk/templates/accounts"
	crowdsview "github.com/jingdesk/jingdesk/templates/crowds"
	importsview "github.com/jingdesk/jingdesk/templates/imports"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	searchview "github.com/jingdesk/jingdesk/templates/search"
)

// The header's search box (issue 20): GET /search?q= asks internal/search
// once and draws its results grouped by kind, each linking to its page.
type searchArea struct {
	*kit
	search searcher
	ref    referenceSource
}

// searcher is the search service (internal/search).
type searcher interface {
	Search(ctx context.Context, q, role string) (search.Results, error)
}

func (a *searchArea) showSearch(c echo.Context) error {
	q := c.QueryParam("q")
	res, err := a.search.Search(c.Request().Context(), q, currentUser(c).Role)
	v := searchview.Results{Query: res.Query, Masked: res.Masked}
	status := http.StatusOK
	if err != nil {
		r, ok := refusalInForm(c, err)
		if !ok {
			return err
		}
		v.Query, v.Error, status = q, r.Text, r.Status
	} else {
		v.Groups = a.groups(c, res)
	}
	return a.render(c, status, View{Title: t(c, "search.title"), Section: "search", Body: searchview.Page(v)})
}

// groups are the results by kind, kinds without a match left out.
func (a *searchArea) groups(c echo.Context, res search.Results) []searchview.Group {
	lang, r := state(c).loc.Lang, a.ref.Resolver()
	dt := state(c).loc.DateTime
	var out []searchview.Group
	add := func(g searchview.Group) {
		if len(g.Items) > 0 {
			out = append(out, g)
		}
	}
	leads := searchview.Group{Kind: "leads", Title: t(c, "search.kind.leads"),
		All: leadsview.ListURL(leadsview.ListFilter{Filter: leadsview.Filter{Query: res.Query}})}
	for _, l := range res.Leads {
		status, _ := r.Status(lang, l.BusinessType, l.Status)
		it := searchview.Item{Title: l.Name, Link: leadsview.LeadPath(l.UUID), Detail: joinNonEmpty(" · ", l.Company, status, l.Mobile, l.Email)}
		if it.Title == "" {
			it.Title = l.UUID
		}
		leads.Items = append(leads.Items, it)
	}
	add(leads)
	accounts := searchview.Group{Kind: "accounts", Title: t(c, "search.kind.accounts"), Total: res.AccountTotal,
		All: accountsview.List{Query: res.Query}.PageURL(1)}
	for _, acc := range res.Accounts {
		it := searchview.Item{Title: accountName(c, acc.UUID, acc.Name), Link: accountsview.Path(acc.UUID),
			Detail: t(c, "search.account_leads", "Count", strconv.Itoa(acc.Leads))}
		accounts.Items = append(accounts.Items, it)
	}
	add(accounts)
	crowds := searchview.Group{Kind: "crowds", Title: t(c, "search.kind.crowds"), Total: res.CrowdTotal}
	for _, cr := range res.Crowds {
		crowds.Items = append(crowds.Items, searchview.Item{Title: cr.Name, Link: crowdsview.CrowdPath(cr.GroupID),
			Detail: t(c, "search.crowd_size", "Count", strconv.FormatInt(cr.UserCount, 10))})
	}
	add(crowds)
	sends := searchview.Group{Kind: "sends", Title: t(c, "search.kind.sends")}
	for _, s := range res.Sends {
		sends.Items = append(sends.Items, searchview.Item{Title: s.Name, Link: sendPage(s.Channel, s.ID),
			Detail: joinNonEmpty(" · ", t(c, "search.channel."+s.Channel), t(c, "sends.state."+s.State), dt(s.CreatedAt))})
	}
	add(sends)
	imports := searchview.Group{Kind: "imports", Title: t(c, "search.kind.imports")}
	for _, im := range res.Imports {
		imports.Items = append(imports.Items, searchview.Item{Title: im.FileName, Link: importsview.Path(im.ID, ""),
			Detail: joinNonEmpty(" · ", im.CrowdName, im.UserName, dt(im.CreatedAt))})
	}
	add(imports)
	return out
}

// joinNonEmpty joins the parts that are not empty.
func joinNonEmpty(sep string, parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += sep
		}
		out += p
	}
	return out
}
