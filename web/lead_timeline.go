package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/refdata"
	emailview "github.com/jingdesk/jingdesk/templates/email"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	smsview "github.com/jingdesk/jingdesk/templates/sms"
)

// The lead page's timeline (issue 20): the leads service gives a page of
// entries (internal/leads Timeline); here they become sentences, names
// resolved through the reference data. The first page is drawn with the
// lead page; "more" asks GET /leads/:uuid/timeline?after=cursor.

// showLeadTimeline answers "more": the next page's entries for htmx (they
// replace the "more" item), else the page as a card of its own.
func (a *leadsArea) showLeadTimeline(c echo.Context) error {
	l, err := a.targetLead(c)
	if err != nil {
		return err
	}
	tl, err := a.timeline(c, l, c.QueryParam("after"))
	if err != nil {
		return err
	}
	if isHTMX(c) {
		return a.renderFragment(c, http.StatusOK, leadsview.TimelineRows(tl))
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "leads.timeline.title"), Section: "leads", Body: leadsview.TimelineCard(tl)})
}

// timeline is the page of l's timeline after cursor, as the reader reads it.
func (a *leadsArea) timeline(c echo.Context, l db.Lead, cursor string) (leadsview.Timeline, error) {
	entries, next, err := a.leads.Timeline(c.Request().Context(), l, cursor)
	if err != nil {
		return leadsview.Timeline{}, err
	}
	tl := leadsview.Timeline{UUID: l.UUID, Next: next}
	w := timelineWords{c: c, r: a.ref.Resolver(), lang: state(c).loc.Lang, bt: l.BusinessType}
	for _, e := range entries {
		tl.Rows = append(tl.Rows, w.row(e))
	}
	return tl, nil
}

// timelineWords turns entries into sentences in one reader's language.
type timelineWords struct {
	c    echo.Context
	r    *refdata.Resolver
	lang string
	bt   string // the lead's business type, for its status names
}

func (w timelineWords) row(e db.TimelineEntry) leadsview.TimelineRow {
	row := leadsview.TimelineRow{At: e.At, Kind: e.Kind, By: w.by(e)}
	switch e.Kind {
	case db.TimelineStatus:
		to, _ := w.r.Status(w.lang, w.bt, e.B)
		row.Title = "→ " + to
		if e.A != "" {
			from, _ := w.r.Status(w.lang, w.bt, e.A)
			row.Title = from + " → " + to
		}
	case db.LeadEventNote:
		row.Title, row.Body = t(w.c, "leads.timeline.note"), e.B
	case db.LeadEventOwner:
		row.Title = t(w.c, "leads.timeline.owner", "From", w.member(e.A), "To", w.member(e.B))
	case db.LeadEventCollaborators:
		row.Title = w.collaborators(e.A, e.B)
	case db.TimelineSend:
		id, _ := strconv.ParseInt(e.Ref, 10, 64)
		row.Title = t(w.c, "leads.timeline.send."+e.A, "Name", e.B, "Status", t(w.c, "leads.timeline.reached."+e.C))
		row.Link = sendPage(e.A, id)
	case db.TimelineScore:
		kind := t(w.c, "scores.kind."+e.A)
		if e.C == "" {
			row.Title = t(w.c, "leads.timeline.score_first", "Kind", kind, "Score", e.B)
		} else {
			row.Title = t(w.c, "leads.timeline.score", "Kind", kind, "From", e.C, "To", e.B)
		}
	default:
		row.Title = e.Kind
	}
	return row
}

// by says who made the change and where the console learnt of it.
func (w timelineWords) by(e db.TimelineEntry) string {
	var parts []string
	if e.Actor != "" {
		parts = append(parts, e.Actor)
	}
	switch e.Origin {
	case db.OriginConsole, db.OriginSync, db.OriginWebhook:
		parts = append(parts, t(w.c, "leads.timeline.origin."+e.Origin))
	}
	return strings.Join(parts, " · ")
}

// member is a member's name, or "—" for none.
func (w timelineWords) member(id string) string {
	if id == "" {
		return "—"
	}
	return w.r.Member(w.lang, id)
}

// collaborators says who joined and who left the lead's collaborators.
func (w timelineWords) collaborators(before, after string) string {
	var b, a []string
	_ = json.Unmarshal([]byte(before), &b)
	_ = json.Unmarshal([]byte(after), &a)
	var added, removed []string
	for _, id := range a {
		if !slices.Contains(b, id) {
			added = append(added, w.member(id))
		}
	}
	for _, id := range b {
		if !slices.Contains(a, id) {
			removed = append(removed, w.member(id))
		}
	}
	var parts []string
	if len(added) > 0 {
		parts = append(parts, t(w.c, "leads.timeline.collaborators_added", "Names", strings.Join(added, t(w.c, "leads.timeline.list_sep"))))
	}
	if len(removed) > 0 {
		parts = append(parts, t(w.c, "leads.timeline.collaborators_removed", "Names", strings.Join(removed, t(w.c, "leads.timeline.list_sep"))))
	}
	return strings.Join(parts, t(w.c, "leads.timeline.clause_sep"))
}

// sendPage is a send's page by its channel.
func sendPage(channel string, id int64) string {
	if channel == "edm" {
		return emailview.SendPath(id)
	}
	return smsview.SendPath(id)
}
