package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/roles"
	"github.com/jingdesk/jingdesk/internal/scores"
	"github.com/jingdesk/jingdesk/internal/sheet"
	scoresview "github.com/jingdesk/jingdesk/templates/scores"
)

// A selection of a scores view: its panel (the figures, a preview), and
// what can be done with it: save it as a crowd, export it, clear its
// persons' activity. internal/scores checks and does each; these
// handlers read the request and show the outcome.

// typedCountShown caps the count typed that a refused clearing shows back.
const typedCountShown = 20

// selectionRequest reads the view and the selection from the query
// string (GET) or the form (POST). A selection the service cannot use is
// its refusal.
func selectionRequest(c echo.Context, form bool) (scores.View, scores.Selection, error) {
	vals := c.QueryParams()
	if form {
		f, err := c.FormParams()
		if err != nil {
			return scores.View{}, scores.Selection{}, echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
		}
		vals = f
	}
	sel, err := scores.ParseSelection(vals)
	return scores.ParseView(url.Values(vals).Get), sel, err
}

// actor is the signed-in user as the scores actions see them.
func actor(c echo.Context) scores.Actor {
	u := currentUser(c)
	return scores.Actor{ID: u.ID, Username: u.Username, Role: u.Role}
}

func (a *scoresArea) showScoreSelection(c echo.Context) error {
	v, sel, err := selectionRequest(c, false)
	if err != nil {
		return err
	}
	return a.showSelection(c, http.StatusOK, v, sel, nil)
}

// showSelection answers with the selection's panel (a fragment for htmx,
// else its page); fill, when given, adds what a refused action keeps.
func (a *scoresArea) showSelection(c echo.Context, status int, v scores.View, sel scores.Selection, fill func(*scoresview.SelectionPanel)) error {
	p, err := a.selectionPanel(c, v, sel)
	if err != nil {
		return err
	}
	if fill != nil {
		fill(&p)
	}
	if wantsFragment(c) {
		return a.renderFragment(c, status, scoresview.SelectionView(p))
	}
	return a.render(c, status, View{Title: t(c, "scores.selection.title"), Section: "scores", Body: scoresview.SelectionPage(p)})
}

// selectionPanel draws the selection: in words, its figures, a preview
// and (for those who may clear) who a clearing would touch.
func (a *scoresArea) selectionPanel(c echo.Context, v scores.View, sel scores.Selection) (scoresview.SelectionPanel, error) {
	role := currentUser(c).Role
	p := scoresview.SelectionPanel{Q: scoresview.Query(v), Sel: scoresview.Selection(sel),
		CanSave: roles.Works(role), CanExport: roles.Works(role), CanClear: scores.MayClear(role)}
	if v.Unchosen() {
		return p, nil
	}
	got, err := a.scores.Select(c.Request().Context(), v, sel, a.reader(c, v))
	if err != nil {
		return p, err
	}
	p.Describe = describeSelection(c, v.Kind, sel)
	p.Name = selectionName(c, v.Kind, a.now())
	p.Count, p.Persons = got.Count, got.Persons
	p.Preview, p.ClearWho = viewItems(got.Preview), viewItems(got.ClearWho)
	return p, nil
}

// selectionName is what a saved selection is called until its user names
// it (the crowd's name offered in the form, and the import's name in the
// history): "评分选择 · 身份 · 2026-12-07 10:30".
func selectionName(c echo.Context, kind string, at time.Time) string {
	return t(c, "scores.save.default_name", "Kind", t(c, "scores.save.kind."+kind), "At", state(c).loc.DateTime(at.Unix()))
}

// describeSelection is the selection in words: the kind, then each of
// its conditions.
func describeSelection(c echo.Context, kind string, sel scores.Selection) []string {
	out := []string{t(c, "scores.kind."+kind)}
	for _, g := range sel.Grades {
		out = append(out, t(c, "scores.selection.grade", "Grade", g))
	}
	for _, l := range sel.Levels {
		out = append(out, t(c, "scores.selection.level", "Level", bandLabel(c, l)))
	}
	for _, b := range sel.Bands {
		out = append(out, t(c, "scores.selection.band", "Band", bandLabel(c, b)))
	}
	if sel.Min != "" {
		out = append(out, t(c, "scores.selection.min", "Score", sel.Min))
	}
	if sel.Max != "" {
		out = append(out, t(c, "scores.selection.max", "Score", sel.Max))
	}
	return out
}

// inPlaceStatus is the status of a form shown again with why its action
// was refused: the refusal's kind's, or 422.
func inPlaceStatus(err error) int {
	if r, ok := msg.AsError(err); ok {
		return refusalStatus(r.Kind)
	}
	return http.StatusUnprocessableEntity
}

// saveScoresAsCrowd imports the selection's persons into a new crowd
// through the crowd import job, and goes to the import's page. A refusal
// shows the panel again with the name and description kept.
func (a *scoresArea) saveScoresAsCrowd(c echo.Context) error {
	v, sel, err := selectionRequest(c, true)
	if err != nil {
		return err
	}
	name, desc := c.FormValue("name"), c.FormValue("description")
	id, err := a.scores.SaveAsCrowd(c.Request().Context(), actor(c), v, sel, name, desc, selectionName(c, v.Kind, a.now()))
	if err != nil {
		why, ok := userMessage(c, err)
		if !ok {
			// Nothing the user can correct: the form is kept to try again.
			a.log(c).Warn("save scores selection as a crowd", "error", err)
			why = t(c, "scores.err.save_failed")
		}
		return a.showSelection(c, inPlaceStatus(err), v, sel, func(p *scoresview.SelectionPanel) {
			p.Name, p.Description, p.SaveError = name, desc, why
		})
	}
	a.audit(c, db.AuditEntry{Action: "scores.crowd", Object: fmt.Sprintf("import:%d", id),
		Summary: summary("scores_crowd", msg.Nested("Kind", msg.New("scores.kind."+string(v.Kind))), msg.Str("Name", name)).Encode(),
		Outcome: db.OutcomeOK})
	to := fmt.Sprintf("/imports/%d", id)
	if wantsFragment(c) {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// clearActivityScores queues the clearing of the selection's persons'
// activity scores (administrators, with the persons' count typed) and
// goes to the job. A refusal is audited and shown on the panel.
func (a *scoresArea) clearActivityScores(c echo.Context) error {
	v, sel, err := selectionRequest(c, true)
	if err != nil {
		return err
	}
	typed := c.FormValue("count")
	id, err := a.scores.RequestClear(c.Request().Context(), actor(c), v, sel, typed)
	if err != nil {
		why, ok := userMessage(c, err)
		if !ok {
			return err
		}
		a.audit(c, db.AuditEntry{Action: "scores.clear", Object: "scores", Summary: summary("scores_clear_refused", msg.Nested("Error", msg.FromError(err))).Encode(),
			Outcome: db.OutcomeDenied})
		return a.showSelection(c, inPlaceStatus(err), v, sel, func(p *scoresview.SelectionPanel) {
			p.Typed, p.ClearError = clip(typed, typedCountShown), why
		})
	}
	a.audit(c, db.AuditEntry{Action: "scores.clear", Object: fmt.Sprintf("job:%d", id),
		Summary: summary("scores_clear", msg.Str("Selection", scoresview.SelectionURL(scoresview.Query(v), scoresview.Selection(sel)))).Encode(),
		Outcome: db.OutcomeOK})
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/jobs/%d", id))
}

func (a *scoresArea) exportScoresCSV(c echo.Context) error { return a.exportScores(c, sheet.CSV) }

func (a *scoresArea) exportScoresXLSX(c echo.Context) error { return a.exportScores(c, sheet.XLSX) }

// exportScores streams the selection through the sheet writer: CSV with a
// UTF-8 BOM as it is read, or a workbook whose rows wait in a temporary
// file, not memory, sent whole once complete (so a failure is still an
// error page). The rows are the service's.
func (a *scoresArea) exportScores(c echo.Context, format sheet.Format) error {
	v, sel, err := selectionRequest(c, false)
	if err != nil {
		return err
	}
	attach := func() {
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, format.ContentType())
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+a.scores.ExportName(v, string(format))+`"`)
		h.Set("Cache-Control", "no-store")
		c.Response().WriteHeader(http.StatusOK)
	}
	if format == sheet.CSV {
		attach()
	}
	w, err := sheet.New(c.Response(), format)
	if err != nil {
		return err
	}
	defer w.Discard()
	err = w.WriteText(exportHeader(c)...)
	if err == nil {
		err = a.scores.Export(c.Request().Context(), v, sel, a.reader(c, v), w)
	}
	if err == nil {
		if format == sheet.XLSX {
			attach()
		}
		err = w.Close()
	}
	if err != nil {
		a.log(c).Error("export scores", "format", format, "error", err)
		if !c.Response().Committed {
			return err
		}
	}
	return nil
}

// exportHeader names the export's columns in the reader's language.
func exportHeader(c echo.Context) []string {
	out := make([]string, len(scores.ExportColumns))
	for i, col := range scores.ExportColumns {
		out[i] = t(c, "scores.export."+col)
	}
	return out
}
