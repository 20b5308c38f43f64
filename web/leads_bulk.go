package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// Bulk changes from the list: the chosen leads and the change are shown
// first (POST /leads/bulk/preview), then confirmed (POST /leads/bulk),
// which starts a leads.bulk job and goes to its page for the progress.

// bulkBar is the bulk bar's choices: members, and every pipeline's
// statuses that need no note.
func (a *leadsArea) bulkBar(r *refdata.Resolver, lang string) *leadsview.BulkBar {
	b := &leadsview.BulkBar{Actions: leads.BulkActions}
	for _, m := range r.Members(true) {
		b.Members = append(b.Members, leadsview.Choice{Value: m.ID, Label: m.DisplayName(lang)})
	}
	for _, bt := range r.BusinessTypes(leadObject) {
		g := leadsview.StatusGroup{Label: bt.DisplayName(lang)}
		for _, st := range r.Statuses(bt.ID) {
			if !a.leads.ClosingStatus(bt.ID, st.ID) {
				g.Statuses = append(g.Statuses, leadsview.Choice{Value: st.ID, Label: st.DisplayName(lang)})
			}
		}
		b.Statuses = append(b.Statuses, g)
	}
	return b
}

// bulkMatching is "all N matching" of a bulk form: the list's filter (from
// the list the form came from) and how many it matched then (Seen).
type bulkMatching struct {
	Filter db.LeadFilter
	Seen   int
}

// readBulkMatching reads "all matching" from a bulk form; nil when the
// form chose leads one by one.
func readBulkMatching(c echo.Context, r *refdata.Resolver) *bulkMatching {
	if c.FormValue("all_matching") != "1" {
		return nil
	}
	u, err := url.Parse(bulkBack(c))
	if err != nil {
		u = &url.URL{}
	}
	q := u.Query()
	f := listFilterFrom(q.Get, r)
	seen, _ := strconv.Atoi(c.FormValue("matching_seen"))
	return &bulkMatching{Filter: listStoreFilter(f, state(c).loc.Zone()), Seen: max(seen, 0)}
}

// readBulk reads a bulk form: the leads chosen (those checked, and with
// all_on_page those of the page) and the change. The leads service checks
// them (leads.PlanBulk).
func readBulk(c echo.Context) ([]string, leads.BulkChange, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, leads.BulkChange{}, echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	uuids := form["lead"]
	if form.Get("all_on_page") == "1" {
		uuids = append(uuids, form["page_lead"]...)
	}
	change := leads.BulkChange{Action: form.Get("action")}
	switch change.Action {
	case leads.BulkOwner:
		change.Owner = clip(form.Get("owner"), boardIDMax)
	case leads.BulkAddCollaborators, leads.BulkRemoveCollaborators:
		for _, m := range form["members"] {
			if m != "" && len(m) <= boardIDMax && !slices.Contains(change.Members, m) {
				change.Members = append(change.Members, m)
			}
		}
	case leads.BulkStatus:
		change.Status = clip(form.Get("status"), boardIDMax)
	}
	return uuids, change, nil
}

// bulkRefusal answers a bulk form the leads service refused: back to the
// list with what to fix. Any other error is returned.
func bulkRefusal(c echo.Context, err error) error {
	text, _, ok := refusedHere(c, err)
	if !ok {
		return err
	}
	return redirectWithFlash(c, ui.FlashError, text, bulkBack(c))
}

func bulkBack(c echo.Context) string {
	back := c.FormValue("back")
	if !strings.HasPrefix(back, leadsview.ListPath) {
		back = leadsview.ListPath
	}
	return safeNext(back)
}

// describeBulk is the change in words.
func describeBulk(c echo.Context, r *refdata.Resolver, ch leads.BulkChange) string {
	lang := state(c).loc.Lang
	switch ch.Action {
	case leads.BulkOwner:
		return t(c, "leads.list.bulk.change.owner", "Name", r.Member(lang, ch.Owner))
	case leads.BulkAddCollaborators, leads.BulkRemoveCollaborators:
		var names []string
		for _, m := range ch.Members {
			names = append(names, r.Member(lang, m))
		}
		return t(c, "leads.list.bulk.change."+ch.Action, "Names", strings.Join(names, "、"))
	}
	name, _ := r.Status(lang, "", ch.Status)
	return t(c, "leads.list.bulk.change.status", "Status", name)
}

// revisitBulkPreview answers a reload of the preview's address (a GET of
// what was a POST): the leads chosen were in the post, not in the address,
// so the list comes back with a word that nothing was changed.
func (a *leadsArea) revisitBulkPreview(c echo.Context) error {
	return redirectWithFlash(c, ui.FlashInfo, t(c, "leads.list.bulk.preview_gone"), leadsview.ListPath)
}

func (a *leadsArea) previewBulk(c echo.Context) error {
	r, ok := a.pipelines()
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	uuids, change, err := readBulk(c)
	if err != nil {
		return err
	}
	var plan leads.BulkPlan
	seen := 0
	if m := readBulkMatching(c, r); m != nil {
		seen = m.Seen
		plan, err = a.leads.PlanBulkMatching(c.Request().Context(), m.Filter, change)
	} else {
		plan, err = a.leads.PlanBulk(c.Request().Context(), uuids, change)
	}
	if err != nil {
		return bulkRefusal(c, err)
	}
	p := leadsview.BulkPreview{Count: len(plan.Leads), Change: describeBulk(c, r, change), Action: change.Action,
		Owner: change.Owner, Members: change.Members, Status: change.Status, Back: bulkBack(c), Seen: seen}
	for i, l := range plan.Leads {
		p.Leads = append(p.Leads, l.UUID)
		if i < leadsview.BulkPreviewNames {
			p.Names = append(p.Names, l.Name)
		}
	}
	p.More = p.Count - len(p.Names)
	title := t(c, "leads.list.bulk.preview_title")
	return a.render(c, http.StatusOK, View{Title: title, Section: "leads", Body: leadsview.BulkPreviewPage(p)})
}

func (a *leadsArea) runBulk(c echo.Context) error {
	if _, ok := a.pipelines(); !ok {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	uuids, change, err := readBulk(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	id, plan, err := a.leads.RequestBulk(c.Request().Context(), u.ID, u.Username, uuids, change)
	if err != nil {
		return bulkRefusal(c, err)
	}
	n := len(plan.Leads)
	a.audit(c, db.AuditEntry{Action: "leads.bulk", Object: "leads",
		Summary: summary("leads_bulk", msg.Nested("Action", msg.New("leads.list.bulk.action."+change.Action)), msg.Int("Count", int64(n)),
			msg.Int("Job", id)).Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.list.bulk.started", "Count", n), fmt.Sprintf("/jobs/%d", id))
}
