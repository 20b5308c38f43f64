package web

import (
	"context"
	"fmt"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/roles"
	"github.com/jingdesk/jingdesk/internal/scores"
	scoresview "github.com/jingdesk/jingdesk/templates/scores"
)

// The scores area (issue 8): a population's cached scores charted from
// the store's aggregates (a handful of queries whatever its size), its top
// and bottom, movers, and a selection (a heatmap cell, a band) to save as
// a crowd, export, or (administrators) clear the activity of. What a view
// and a selection take, who may do what and what an export holds are
// internal/scores' rules; these handlers parse, ask it, and draw its
// answers (scores_selection.go: the selection and its actions).
type scoresArea struct {
	*kit
	scores  scoreService
	choices scoreChoices
	ref     interface{ Resolver() *refdata.Resolver }
}

// scoreService is what the scores pages ask of internal/scores.
type scoreService interface {
	Overview(ctx context.Context, v scores.View, r scores.Reader, zone *time.Location) (scores.Overview, error)
	Movers(ctx context.Context, v scores.View, since string, r scores.Reader, zone *time.Location) (scores.Movers, error)
	FetchJob(ctx context.Context, id int64) (db.Job, error)
	Refresh(ctx context.Context, userID int64, v scores.View) (int64, error)
	FirstFetchState(ctx context.Context) (scores.FirstFetch, error)
	Select(ctx context.Context, v scores.View, sel scores.Selection, r scores.Reader) (scores.Selected, error)
	SaveAsCrowd(ctx context.Context, who scores.Actor, v scores.View, sel scores.Selection, name, description, source string) (int64, error)
	RequestClear(ctx context.Context, who scores.Actor, v scores.View, sel scores.Selection, typed string) (int64, error)
	Export(ctx context.Context, v scores.View, sel scores.Selection, r scores.Reader, w scores.RowWriter) error
	ExportName(v scores.View, ext string) string
}

// scoreChoices is what the population chooser lists of the store.
type scoreChoices interface {
	ListCrowds(ctx context.Context, f db.CrowdFilter) ([]db.Crowd, int, error)
	LeadBusinessTypes(ctx context.Context) ([]string, error)
}

// chooserCrowds caps the crowds the chooser lists.
const chooserCrowds = 500

func (a *scoresArea) showScores(c echo.Context) error {
	v := scores.ParseView(c.QueryParam)
	if c.QueryParam("part") == "job" {
		return a.showScoresJob(c, v)
	}
	r := a.reader(c, v)
	o, err := a.scores.Overview(c.Request().Context(), v, r, state(c).loc.Zone())
	if err != nil {
		return err
	}
	p, err := a.scoresPage(c, o, r)
	if err != nil {
		return err
	}
	if id, err := strconv.ParseInt(c.QueryParam("job"), 10, 64); err == nil && id > 0 {
		if j, err := a.fetchJob(c, p.Q, id); err == nil {
			p.Job = &j
		}
	}
	if err := a.firstFetch(c, &p); err != nil {
		return err
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "nav.scores"), Section: "scores", Body: scoresview.PageView(p)})
}

// reader is the signed-in user as a view's reader: their role, and the
// lead statuses in their language (for a leads view).
func (a *scoresArea) reader(c echo.Context, v scores.View) scores.Reader {
	loc := state(c).loc
	r := scores.Reader{Statuses: map[string]string{}, Level: func(code string) string { return loc.TOr("scores.level."+code, code) }}
	if u := currentUser(c); u != nil {
		r.Role = u.Role
	}
	if v.IsLeads() {
		r.Statuses = a.statusNames(c)
	}
	return r
}

// statusNames maps lead status ids to names (all business types).
func (a *scoresArea) statusNames(c echo.Context) map[string]string {
	out := map[string]string{}
	res := a.ref.Resolver()
	if res == nil {
		return out
	}
	lang := state(c).loc.Lang
	for _, bt := range res.BusinessTypes(leadObject) {
		for _, st := range res.Statuses(bt.ID) {
			if _, ok := out[st.ID]; !ok {
				out[st.ID] = st.DisplayName(lang)
			}
		}
	}
	return out
}

// scoresPage draws the overview: the chooser's options, the charts, the
// tables.
func (a *scoresArea) scoresPage(c echo.Context, o scores.Overview, r scores.Reader) (scoresview.Page, error) {
	q := scoresview.Query(o.View)
	p := scoresview.Page{Q: q, CanFetch: roles.Works(currentUser(c).Role), Products: o.Products, Since: o.Since,
		NoPopulation: o.View.Unchosen(), CrowdNeverListed: o.CrowdNeverListed}
	if err := a.chooser(c, &p); err != nil || p.NoPopulation {
		return p, err
	}
	sum := o.Summary
	p.Population, p.Scored = sum.Population, sum.Scored
	p.Fresh = scoresview.Freshness{Oldest: o.Fresh.Oldest, Newest: o.Fresh.Newest, Never: o.Fresh.Never, Stale: o.Fresh.Stale}
	p.Histogram = scoresview.HistogramGeometry(sum.Histogram, histogramLabels(q.Kind), scoresview.HistWidth,
		scoresview.HistTop, scoresview.HistBase)
	keys := bandKeys(c, q.Kind, sum.Bands)
	p.Bands = scoresview.BandGeometry(keys, sum.Bands, scoresview.BandBarW)
	levels := make([]scoresview.BandKey, len(scores.Levels))
	for i, l := range scores.Levels {
		levels[i] = scoresview.BandKey{Value: l, Label: bandLabel(c, l)}
	}
	p.Heatmap = scoresview.HeatmapGeometry(scores.Grades, levels, sum.Matrix)
	if q.IsLeads() {
		p.StatusBands = keys
		p.PerStatus = statusRows(keys, sum.PerStatus, r.Statuses)
	}
	p.Top, p.Bottom = viewItems(o.Top), viewItems(o.Bottom)
	return p, nil
}

// chooser fills the population chooser: the crowds, and the business
// types, statuses and owners of the reference data (or, without it, the
// business types the local copy holds).
func (a *scoresArea) chooser(c echo.Context, p *scoresview.Page) error {
	ctx := c.Request().Context()
	loc := state(c).loc
	crowds, _, err := a.choices.ListCrowds(ctx, db.CrowdFilter{Limit: chooserCrowds})
	if err != nil {
		return err
	}
	for _, cr := range crowds {
		p.Crowds = append(p.Crowds, scoresview.Choice{Value: strconv.FormatInt(cr.GroupID, 10),
			Label: t(c, "scores.pop.crowd_option", "Name", cr.Name, "Count", loc.Number(cr.UserCount))})
	}
	res := a.ref.Resolver()
	if res == nil || len(res.BusinessTypes(leadObject)) == 0 {
		bts, err := a.choices.LeadBusinessTypes(ctx)
		for _, bt := range bts {
			p.BusinessTypes = append(p.BusinessTypes, scoresview.Choice{Value: bt, Label: bt})
		}
		return err
	}
	for _, bt := range res.BusinessTypes(leadObject) {
		p.BusinessTypes = append(p.BusinessTypes, scoresview.Choice{Value: bt.ID, Label: bt.DisplayName(loc.Lang)})
		if p.Q.BusinessType != "" && p.Q.BusinessType != bt.ID {
			continue
		}
		for _, st := range res.Statuses(bt.ID) {
			p.Statuses = append(p.Statuses, scoresview.Choice{Value: st.ID, Label: bt.DisplayName(loc.Lang) + " · " + st.DisplayName(loc.Lang)})
		}
	}
	for _, m := range res.Members(false) {
		p.Owners = append(p.Owners, scoresview.Choice{Value: m.ID, Label: m.DisplayName(loc.Lang)})
	}
	return nil
}

// statusRows are the per-status stacked bars, statuses in id order.
func statusRows(keys []scoresview.BandKey, perStatus map[string]map[string]int64, names map[string]string) []scoresview.StatusRow {
	ids := make([]string, 0, len(perStatus))
	for st := range perStatus {
		ids = append(ids, st)
	}
	sort.Strings(ids)
	var out []scoresview.StatusRow
	for _, st := range ids {
		row := scoresview.StatusRow{Status: st}
		if n, ok := names[st]; ok {
			row.Status = n
		} else if st == "" {
			row.Status = "—"
		}
		row.Total, row.Parts = scoresview.StackGeometry(keys, perStatus[st], scoresview.StackWidth)
		out = append(out, row)
	}
	return out
}

// bandKeys are the kind's bands in order, with any other band seen after.
func bandKeys(c echo.Context, kind string, seen map[string]int64) []scoresview.BandKey {
	known := map[string]bool{}
	var out []scoresview.BandKey
	for _, b := range scores.Bands(kind) {
		known[b] = true
		out = append(out, scoresview.BandKey{Value: b, Label: bandLabel(c, b)})
	}
	var extra []string
	for b, n := range seen {
		if !known[b] && n > 0 {
			extra = append(extra, b)
		}
	}
	sort.Strings(extra)
	for _, b := range extra {
		out = append(out, scoresview.BandKey{Value: b, Label: bandLabel(c, b)})
	}
	return out
}

func bandLabel(c echo.Context, b string) string {
	if b == "" {
		return t(c, "scores.band_none")
	}
	return scoresview.BandName(c.Request().Context(), b)
}

// histogramLabels names the kind's buckets.
func histogramLabels(kind string) []string {
	width, count := db.Buckets(kind)
	return scoresview.BucketLabels(width, count, kind == scoresview.KindActive, width*count)
}

// viewItems are the service's items as the tables draw them.
func viewItems(items []scores.Item) []scoresview.Item {
	out := make([]scoresview.Item, len(items))
	for i, it := range items {
		out[i] = scoresview.Item(it)
	}
	return out
}

// firstFetch shows, on a leads view, the first fetch of every lead's
// scores while it runs; and where scores were never fetched and nothing
// is fetching them, what to do: wait for the first fetch, press Refresh,
// or ask someone who may.
func (a *scoresArea) firstFetch(c echo.Context, p *scoresview.Page) error {
	if p.NoPopulation || p.Job != nil {
		return nil
	}
	ff, err := a.scores.FirstFetchState(c.Request().Context())
	if err != nil {
		return err
	}
	if ff.Job != 0 && p.Q.IsLeads() {
		if j, err := a.fetchJob(c, p.Q, ff.Job); err == nil && j.Active() {
			p.Job, p.FirstFetch = &j, true
			return nil
		}
	}
	switch {
	case p.Fresh.Never == 0 && !p.CrowdNeverListed:
	case ff.Pending && ff.Job == 0 && p.Q.IsLeads():
		p.FirstHint = scoresview.HintPending
	case p.CanFetch:
		p.FirstHint = scoresview.HintPress
	default:
		p.FirstHint = scoresview.HintAsk
	}
	return nil
}

// fetchJob is a refresh's progress for the page.
func (a *scoresArea) fetchJob(c echo.Context, q scoresview.Query, id int64) (scoresview.FetchJob, error) {
	j, err := a.scores.FetchJob(c.Request().Context(), id)
	if err != nil {
		return scoresview.FetchJob{}, err
	}
	var perMinute, secondsLeft int64
	if j.State == db.JobRunning {
		perMinute, secondsLeft = pace(j, a.now().Unix())
	}
	return scoresview.FetchJob{ID: j.ID, State: j.State, Total: j.Total, Done: j.Done, Failed: j.Failed,
		PerMinute: perMinute, SecondsLeft: secondsLeft, Error: state(c).loc.Stored(j.Error),
		PollURL: q.With(scoresview.PagePath, "part", "job", "job", strconv.FormatInt(j.ID, 10))}, nil
}

// showScoresJob is the refresh's progress (polled); once it is done the
// page reloads with the new figures.
func (a *scoresArea) showScoresJob(c echo.Context, v scores.View) error {
	id, err := strconv.ParseInt(c.QueryParam("job"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	q := scoresview.Query(v)
	j, err := a.fetchJob(c, q, id)
	if err != nil {
		return err
	}
	if j.State == db.JobDone && isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", q.URL())
	}
	return a.renderFragment(c, http.StatusOK, scoresview.JobStatus(j))
}

// fetchScores refreshes the view's population's scores (the rule of what
// is refreshed is internal/scores').
func (a *scoresArea) fetchScores(c echo.Context) error {
	v := scores.ParseView(c.FormValue)
	id, err := a.scores.Refresh(c.Request().Context(), currentUser(c).ID, v)
	if err != nil {
		return err
	}
	q := scoresview.Query(v)
	a.audit(c, db.AuditEntry{Action: "scores.fetch", Object: fmt.Sprintf("job:%d", id), Summary: summary("scores_fetch", msg.Str("View", q.URL())).Encode(),
		Outcome: db.OutcomeOK})
	if wantsFragment(c) {
		j, err := a.fetchJob(c, q, id)
		if err != nil {
			return err
		}
		return a.renderFragment(c, http.StatusOK, scoresview.JobStatus(j))
	}
	return c.Redirect(http.StatusSeeOther, q.With(scoresview.PagePath, "job", strconv.FormatInt(id, 10)))
}

// showScoreMovers are the ids that rose and fell most since a day.
func (a *scoresArea) showScoreMovers(c echo.Context) error {
	v := scores.ParseView(c.QueryParam)
	m, err := a.scores.Movers(c.Request().Context(), v, c.QueryParam("since"), a.reader(c, v), state(c).loc.Zone())
	if err != nil {
		return err
	}
	page := scoresview.MoversPage{Q: scoresview.Query(v), Since: m.Since}
	for _, mv := range m.Rising {
		page.Rising = append(page.Rising, scoresview.Mover{Item: scoresview.Item(mv.Item), From: mv.From, To: mv.To})
	}
	for _, mv := range m.Falling {
		page.Falling = append(page.Falling, scoresview.Mover{Item: scoresview.Item(mv.Item), From: mv.From, To: mv.To})
	}
	return a.renderFragment(c, http.StatusOK, scoresview.MoversFragment(page))
}
