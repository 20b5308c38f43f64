package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/leads"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The lead page's Notes card (issue 5): the lead's latest remark as the
// local copy has it, and a form marketers use to send a new one as
// latest_remark through the leads service (re-read first, like the other
// writes of the page). htmx gets the card back; a plain post goes back to
// the page with a flash, or gets the page again with the text kept.

// latestRemark is the lead's latest_remark in the local copy's fields.
func latestRemark(l db.Lead) string {
	var raw map[string]json.RawMessage
	if json.Unmarshal(l.Fields, &raw) != nil {
		return ""
	}
	return strings.Join(rawValues(raw["latest_remark"], false), ", ")
}

// leadNotes is the Notes card of a lead for the current user.
func leadNotes(c echo.Context, l db.Lead) leadsview.Notes {
	return leadsview.Notes{UUID: l.UUID, Latest: latestRemark(l), CanEdit: mayMove(currentUser(c)) && !l.Voided, Seen: l.UpdatedAt}
}

// addLeadNote sends the posted note as the lead's latest_remark (the
// leads service refuses an empty or overlong one, or one on a voided lead).
func (a *leadsArea) addLeadNote(c echo.Context) error {
	l, err := a.targetLead(c)
	if err != nil {
		return err
	}
	text := c.FormValue("note")
	entry := db.AuditEntry{Action: "lead.note", Object: "lead:" + l.UUID}
	what := summary("lead_note", msg.Str("Name", l.Name), msg.Int("Count", int64(utf8.RuneCountInString(strings.TrimSpace(text)))))
	updated, err := a.leads.AddNote(c.Request().Context(), currentUser(c).Username, l.UUID, text, seenParam(c, l))
	var changed *leads.ChangedUpstream
	switch {
	case err == nil:
		entry.Summary = what.Encode()
		a.audit(c, entry)
		if !isHTMX(c) {
			return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.page.notes.saved"), leadsview.LeadPath(l.UUID))
		}
		n := leadNotes(c, updated)
		n.Success = t(c, "leads.page.notes.saved")
		tl, err := a.timeline(c, updated, "")
		if err != nil {
			return err
		}
		// The timeline shows the new note too (swapped out of band).
		return a.renderFragment(c, http.StatusOK, templ.Join(leadsview.NotesCard(n), leadsview.TimelineOOB(tl)))
	case errors.As(err, &changed):
		entry.Outcome, entry.Summary = db.OutcomeFailed, notSentChanged(what)
		a.audit(c, entry)
		return a.noteAnswer(c, changed.Current, http.StatusConflict, text, "", t(c, "leads.page.notes.changed"))
	}
	if why, status, ok := refusedHere(c, err); ok {
		return a.noteAnswer(c, l, status, text, why, "")
	}
	je, ok := a.auditRefusal(c, entry, what, err)
	if !ok {
		return err
	}
	if cur, err := a.copy.Lead(c.Request().Context(), l.UUID); err == nil {
		l = cur
	}
	return a.noteAnswer(c, l, http.StatusUnprocessableEntity, text, t(c, "leads.page.notes.refused", "Why", state(c).loc.Message(je.Message())), "")
}

// noteAnswer answers a note that was not written, with the typed text
// kept: the Notes card for htmx, else the whole page.
func (a *leadsArea) noteAnswer(c echo.Context, l db.Lead, status int, text, msg, notice string) error {
	if isHTMX(c) {
		n := leadNotes(c, l)
		n.Text, n.Error, n.Notice = text, msg, notice
		return a.renderFragment(c, status, leadsview.NotesCard(n))
	}
	v, err := a.leadPage(c, l)
	if err != nil {
		return err
	}
	v.Notes.Text, v.Notes.Error, v.Notes.Notice = text, msg, notice
	return a.renderLead(c, status, v)
}
