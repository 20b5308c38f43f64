package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
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

// bulkRequest is a bulk form read and checked: the leads (of the local
// copy, in the order chosen, each once) and the change.
type bulkRequest struct {
	leads  []db.Lead
	change leads.BulkChange
}

func (a *leadsArea) readBulk(c echo.Context) (bulkRequest, error) {
	var br bulkRequest
	form, err := c.FormParams()
	if err != nil {
		return br, err
	}
	uuids := form["lead"]
	if form.Get("all_on_page") == "1" {
		uuids = append(uuids, form["page_lead"]...)
	}
	br.change = leads.BulkChange{Action: form.Get("action")}
	switch br.change.Action {
	case leads.BulkOwner:
		br.change.Owner = clip(form.Get("owner"), boardIDMax)
	case leads.BulkAddCollaborators, leads.BulkRemoveCollaborators:
		for _, m := range form["members"] {
			if m != "" && len(m) <= boardIDMax && !slices.Contains(br.change.Members, m) {
				br.change.Members = append(br.change.Members, m)
			}
		}
	case leads.BulkStatus:
		br.change.Status = clip(form.Get("status"), boardIDMax)
	}
	if err := br.change.Check(); err != nil {
		return br, errBulkChange
	}
	seen := map[string]bool{}
	ctx := c.Request().Context()
	for _, u := range uuids {
		if u == "" || len(u) > boardIDMax || seen[u] {
			continue
		}
		seen[u] = true
		if len(seen) > leads.MaxBulk {
			return br, errBulkTooMany
		}
		l, err := a.copy.Lead(ctx, u)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return br, err
		}
		br.leads = append(br.leads, l)
	}
	if len(br.leads) == 0 {
		return br, errBulkNone
	}
	return br, nil
}

var (
	errBulkChange  = errors.New("bulk: incomplete change")
	errBulkNone    = errors.New("bulk: no leads")
	errBulkTooMany = errors.New("bulk: too many leads")
)

// bulkRefusal answers a bulk form that cannot go on: back to the list
// with what to fix.
func (a *leadsArea) bulkRefusal(c echo.Context, err error) error {
	msg := map[error]string{errBulkChange: "leads.list.bulk.incomplete", errBulkNone: "leads.list.bulk.none",
		errBulkTooMany: "leads.list.bulk.too_many"}[err]
	if msg == "" {
		return err
	}
	return redirectWithFlash(c, ui.FlashError, t(c, msg, "Max", leads.MaxBulk), bulkBack(c))
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

func (a *leadsArea) previewBulk(c echo.Context) error {
	r, ok := a.pipelines()
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	br, err := a.readBulk(c)
	if err != nil {
		return a.bulkRefusal(c, err)
	}
	p := leadsview.BulkPreview{Count: len(br.leads), Change: describeBulk(c, r, br.change), Action: br.change.Action,
		Owner: br.change.Owner, Members: br.change.Members, Status: br.change.Status, Back: bulkBack(c)}
	for i, l := range br.leads {
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
	br, err := a.readBulk(c)
	if err != nil {
		return a.bulkRefusal(c, err)
	}
	u := currentUser(c)
	uuids := make([]string, len(br.leads))
	for i, l := range br.leads {
		uuids[i] = l.UUID
	}
	id, err := a.leads.RequestBulk(c.Request().Context(), u.ID, u.Username, uuids, br.change)
	if err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "leads.bulk", Object: "leads",
		Summary: fmt.Sprintf("bulk %s of %d leads requested: job %d", br.change.Action, len(uuids), id)})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.list.bulk.started", "Count", len(uuids)), fmt.Sprintf("/jobs/%d", id))
}
