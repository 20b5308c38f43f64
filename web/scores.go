package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/scores"
	"github.com/jingdesk/jingdesk/internal/sheet"
	scoresview "github.com/jingdesk/jingdesk/templates/scores"
)

// The scoring views (issue 8): a population's cached scores charted from
// the store's aggregates (a handful of queries whatever its size), its top
// and bottom, movers, and a selection (a heatmap cell, a band) to save as
// a crowd, export, or (administrators) clear the activity of.

// Limits of what the page's parameters take.
const (
	scoreSelMax   = 10 // values per selection parameter
	scoreValueMax = 64
	moversN       = 10
	exportBatch   = 500
)

// grades and levels in the order the charts draw them.
var (
	scoreGrades     = []string{"A", "B", "C", "D"}
	scoreLevels     = []string{"inactive", "cold", "warm", "hot"}
	intentionLevels = []string{"low", "medium", "high"}
)

// scoreQuery reads the population, kind and sort (bad values dropped).
func scoreQuery(value func(string) string) scoresview.Query {
	q := scoresview.Query{
		Pop:          value("pop"),
		BusinessType: clip(strings.TrimSpace(value("business_type")), boardIDMax),
		Status:       clip(strings.TrimSpace(value("status")), boardIDMax),
		Owner:        clip(strings.TrimSpace(value("owner")), boardIDMax),
		Kind:         value("kind"),
		Product:      clip(strings.TrimSpace(value("product")), scoreValueMax),
		Sort:         value("sort"),
	}
	if id, err := strconv.ParseInt(value("crowd"), 10, 64); err == nil && id > 0 {
		q.Crowd = id
	}
	switch q.Pop {
	case scoresview.PopCrowd, scoresview.PopType, scoresview.PopLeads, scoresview.PopAll:
	default:
		q.Pop = scoresview.PopAll
		if q.Crowd != 0 {
			q.Pop = scoresview.PopCrowd
		}
	}
	switch q.Kind {
	case scoresview.KindIdentity, scoresview.KindActive, scoresview.KindIntention:
	default:
		q.Kind = scoresview.KindIdentity
	}
	if q.Sort != "name" {
		q.Sort = "score"
	}
	return q
}

// storeQuery is the page's query as the store's.
func storeQuery(q scoresview.Query) db.ScoreQuery {
	var pop db.ScorePopulation
	switch q.Pop {
	case scoresview.PopCrowd:
		pop.GroupID = q.Crowd
	case scoresview.PopType:
		pop.Leads.BusinessType = q.BusinessType
	case scoresview.PopLeads:
		pop.Leads = db.LeadFilter{BusinessType: q.BusinessType, Status: q.Status, Owner: q.Owner}
	}
	dq := db.ScoreQuery{Pop: pop, Kind: q.Kind}
	if q.Kind == scoresview.KindIntention {
		dq.Product = q.Product
	}
	return dq
}

// selectionRequest is what the selection's handlers read: the view and
// the selection, from the query string (GET) or the form (POST). It is
// 404 without the scores service.
func (s *Server) selectionRequest(c echo.Context, form bool) (scoresview.Query, scoresview.Selection, db.ScoreSelection, error) {
	if s.Scores == nil {
		return scoresview.Query{}, scoresview.Selection{}, db.ScoreSelection{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	value := c.QueryParam
	if form {
		value = c.FormValue
	}
	sel, ds, err := scoreSelection(c, form)
	return scoreQuery(value), sel, ds, err
}

// scoreSelection reads the selection's parameters.
func scoreSelection(c echo.Context, form bool) (scoresview.Selection, db.ScoreSelection, error) {
	var vals map[string][]string
	if form {
		f, err := c.FormParams()
		if err != nil {
			return scoresview.Selection{}, db.ScoreSelection{}, echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
		}
		vals = f
	} else {
		vals = c.QueryParams()
	}
	list := func(key string) ([]string, error) {
		var out []string
		for _, v := range vals[key] {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if len(v) > scoreValueMax || len(out) >= scoreSelMax {
				return nil, echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
			}
			out = append(out, v)
		}
		return out, nil
	}
	var sel scoresview.Selection
	var ds db.ScoreSelection
	var err error
	if sel.Grades, err = list("grade"); err != nil {
		return sel, ds, err
	}
	if sel.Levels, err = list("level"); err != nil {
		return sel, ds, err
	}
	if sel.Bands, err = list("band"); err != nil {
		return sel, ds, err
	}
	ds.Grades, ds.Levels, ds.Bands = sel.Grades, sel.Levels, sel.Bands
	num := func(key string) (string, *float64, error) {
		v := ""
		if len(vals[key]) > 0 {
			v = strings.TrimSpace(vals[key][0])
		}
		if v == "" {
			return "", nil, nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "", nil, echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
		}
		return v, &f, nil
	}
	if sel.Min, ds.MinScore, err = num("min"); err != nil {
		return sel, ds, err
	}
	if sel.Max, ds.MaxScore, err = num("max"); err != nil {
		return sel, ds, err
	}
	return sel, ds, nil
}

// bandKeys are the kind's bands in order, with any other band seen after.
func bandKeys(c echo.Context, kind string, seen map[string]int64) []scoresview.BandKey {
	var order []string
	switch kind {
	case scoresview.KindIdentity:
		order = scoreGrades
	case scoresview.KindActive:
		order = scoreLevels
	default:
		order = intentionLevels
	}
	known := map[string]bool{}
	var out []scoresview.BandKey
	for _, b := range order {
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
	switch b {
	case "hot", "warm", "cold", "inactive", "high", "medium", "low":
		return t(c, "scores.level."+b)
	case "":
		return t(c, "scores.band_none")
	}
	return b
}

// histogramLabels names the kind's buckets.
func histogramLabels(kind string) []string {
	width, count := db.Buckets(kind)
	return scoresview.BucketLabels(width, count, kind == scoresview.KindActive, width*count)
}

// statusNames maps lead status ids to names (all business types).
func (s *Server) statusNames(c echo.Context) map[string]string {
	out := map[string]string{}
	r := s.leadResolver()
	if r == nil {
		return out
	}
	lang := state(c).loc.Lang
	for _, bt := range r.BusinessTypes(leadObject) {
		for _, st := range r.Statuses(bt.ID) {
			if _, ok := out[st.ID]; !ok {
				out[st.ID] = st.DisplayName(lang)
			}
		}
	}
	return out
}

// scoreItems shapes scored ids for a table: leads with their names and
// statuses, persons with the identity an import resolved (masked for
// viewers), one query for all of them.
func (s *Server) scoreItems(c echo.Context, q scoresview.Query, got []db.ScoredItem, statuses map[string]string) ([]scoresview.Item, error) {
	out := make([]scoresview.Item, len(got))
	for i, it := range got {
		out[i] = scoresview.Item{ID: it.ID, Name: it.Name, Status: it.Status, Score: it.Score, Band: it.Band,
			Grade: it.Grade, Level: it.Level, IsPerson: !q.IsLeads()}
		if n, ok := statuses[it.Status]; ok {
			out[i].Status = n
		}
	}
	if q.IsLeads() {
		return out, nil
	}
	return out, s.nameItems(c, out)
}

// nameItems names persons by the identities imports resolved.
func (s *Server) nameItems(c echo.Context, items []scoresview.Item) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	known, err := s.Store.ImportedIdentities(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	mask := !mayMove(currentUser(c))
	for i, it := range items {
		if r, ok := known[it.ID]; ok {
			items[i].Name = personName(r, mask)
		}
	}
	return nil
}

func personName(r db.ImportRow, mask bool) string {
	v := r.Value
	if mask {
		v = leads.Mask(v)
	}
	if r.Name != "" && v != "" {
		return r.Name + " · " + v
	}
	if r.Name != "" {
		return r.Name
	}
	return v
}

func (s *Server) showScores(c echo.Context) error {
	if s.Scores == nil {
		return s.showArea("scores")(c)
	}
	q := scoreQuery(c.QueryParam)
	if c.QueryParam("part") == "job" {
		return s.showScoresJob(c, q)
	}
	p, err := s.scoresPage(c, q)
	if err != nil {
		return err
	}
	if id, err := strconv.ParseInt(c.QueryParam("job"), 10, 64); err == nil && id > 0 {
		if j, ok := s.fetchJob(c, q, id); ok {
			p.Job = &j
		}
	}
	return s.render(c, http.StatusOK, View{Title: t(c, "nav.scores"), Section: "scores", Body: scoresview.PageView(p)})
}

// scoresPage builds the page: the chooser's options, then the view's
// aggregates (summary, freshness, top and bottom): a few queries.
func (s *Server) scoresPage(c echo.Context, q scoresview.Query) (scoresview.Page, error) {
	ctx := c.Request().Context()
	lang := state(c).loc.Lang
	p := scoresview.Page{Q: q, CanFetch: mayMove(currentUser(c))}
	crowdRows, _, err := s.Store.ListCrowds(ctx, db.CrowdFilter{Limit: 500})
	if err != nil {
		return p, err
	}
	for _, cr := range crowdRows {
		p.Crowds = append(p.Crowds, scoresview.Choice{Value: strconv.FormatInt(cr.GroupID, 10),
			Label: t(c, "scores.pop.crowd_option", "Name", cr.Name, "Count", state(c).loc.Number(cr.UserCount))})
	}
	if r := s.leadResolver(); r != nil && len(r.BusinessTypes(leadObject)) > 0 {
		for _, bt := range r.BusinessTypes(leadObject) {
			p.BusinessTypes = append(p.BusinessTypes, scoresview.Choice{Value: bt.ID, Label: bt.DisplayName(lang)})
			for _, st := range r.Statuses(bt.ID) {
				if q.BusinessType == "" || q.BusinessType == bt.ID {
					p.Statuses = append(p.Statuses, scoresview.Choice{Value: st.ID, Label: bt.DisplayName(lang) + " · " + st.DisplayName(lang)})
				}
			}
		}
		for _, m := range r.Members(false) {
			p.Owners = append(p.Owners, scoresview.Choice{Value: m.ID, Label: m.DisplayName(lang)})
		}
	} else {
		bts, err := s.Store.LeadBusinessTypes(ctx)
		if err != nil {
			return p, err
		}
		for _, bt := range bts {
			p.BusinessTypes = append(p.BusinessTypes, scoresview.Choice{Value: bt, Label: bt})
		}
	}
	dq := storeQuery(q)
	if p.Products, err = s.Store.ScoreProducts(ctx, dq.Pop.Subject()); err != nil {
		return p, err
	}
	if q.Kind == scoresview.KindIntention && q.Product == "" && len(p.Products) > 0 {
		p.Q.Product, dq.Product = p.Products[0], p.Products[0]
		q = p.Q
	}
	now := s.Now()
	p.Since = now.In(state(c).loc.Zone()).AddDate(0, 0, -7).Format("2006-01-02")
	if q.Pop == scoresview.PopCrowd {
		if q.Crowd == 0 {
			p.NoPopulation = true
			return p, nil
		}
		at, err := s.Store.CrowdMembersFetchedAt(ctx, q.Crowd)
		if err != nil {
			return p, err
		}
		p.CrowdNeverListed = at == 0
	}
	sum, err := s.Store.ScoreSummary(ctx, dq)
	if err != nil {
		return p, err
	}
	p.Population, p.Scored = sum.Population, sum.Scored
	fr, err := s.Store.ScoreFreshness(ctx, dq.Pop, q.Kind, now.Add(-scores.DefaultMaxAge).Unix())
	if err != nil {
		return p, err
	}
	p.Fresh = scoresview.Freshness{Oldest: fr.Oldest, Newest: fr.Newest, Never: fr.Never, Stale: fr.Stale}
	p.Histogram = scoresview.HistogramGeometry(sum.Histogram, histogramLabels(q.Kind), scoresview.HistWidth,
		scoresview.HistTop, scoresview.HistBase)
	keys := bandKeys(c, q.Kind, sum.Bands)
	p.Bands = scoresview.BandGeometry(keys, sum.Bands, scoresview.BandBarW)
	levels := make([]scoresview.BandKey, len(scoreLevels))
	for i, l := range scoreLevels {
		levels[i] = scoresview.BandKey{Value: l, Label: bandLabel(c, l)}
	}
	p.Heatmap = scoresview.HeatmapGeometry(scoreGrades, levels, sum.Matrix)
	statuses := map[string]string{}
	if q.IsLeads() {
		statuses = s.statusNames(c)
		p.StatusBands = keys
		var ids []string
		for st := range sum.PerStatus {
			ids = append(ids, st)
		}
		sort.Strings(ids)
		for _, st := range ids {
			row := scoresview.StatusRow{Status: st}
			if n, ok := statuses[st]; ok {
				row.Status = n
			} else if st == "" {
				row.Status = "—"
			}
			row.Total, row.Parts = scoresview.StackGeometry(keys, sum.PerStatus[st], scoresview.StackWidth)
			p.PerStatus = append(p.PerStatus, row)
		}
	}
	top, err := s.Store.TopScored(ctx, dq, db.ScoreSelection{}, scoresview.TopN, false)
	if err != nil {
		return p, err
	}
	bottom, err := s.Store.TopScored(ctx, dq, db.ScoreSelection{}, scoresview.TopN, true)
	if err != nil {
		return p, err
	}
	// One identity lookup for both tables.
	items, err := s.scoreItems(c, q, append(append([]db.ScoredItem{}, top...), bottom...), statuses)
	if err != nil {
		return p, err
	}
	p.Top, p.Bottom = items[:len(top)], items[len(top):]
	if q.Sort == "name" {
		for _, l := range [][]scoresview.Item{p.Top, p.Bottom} {
			sort.SliceStable(l, func(i, j int) bool { return strings.ToLower(l[i].Name) < strings.ToLower(l[j].Name) })
		}
	}
	return p, nil
}

// fetchJob is a score fetch job's progress for the page.
func (s *Server) fetchJob(c echo.Context, q scoresview.Query, id int64) (scoresview.FetchJob, bool) {
	j, err := s.Store.Job(c.Request().Context(), id)
	if err != nil || j.Kind != scores.FetchJobKind {
		return scoresview.FetchJob{}, false
	}
	var perMinute, secondsLeft int64
	if j.State == db.JobRunning {
		perMinute, secondsLeft = pace(j, s.Now().Unix())
	}
	return scoresview.FetchJob{ID: j.ID, State: j.State, Total: j.Total, Done: j.Done, Failed: j.Failed,
		PerMinute: perMinute, SecondsLeft: secondsLeft, Error: j.Error,
		PollURL: q.With(scoresview.PagePath, "part", "job", "job", strconv.FormatInt(j.ID, 10))}, true
}

// showScoresJob is the refresh's progress (polled); once it is done the
// page reloads with the new figures.
func (s *Server) showScoresJob(c echo.Context, q scoresview.Query) error {
	id, _ := strconv.ParseInt(c.QueryParam("job"), 10, 64)
	j, ok := s.fetchJob(c, q, id)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	if j.State == "done" && isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", q.URL())
	}
	return s.renderFragment(c, http.StatusOK, scoresview.JobStatus(j))
}

// fetchScores refreshes the view's population's scores of every kind
// older than an hour (joining the same refresh already under way).
func (s *Server) fetchScores(c echo.Context) error {
	if s.Scores == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	q := scoreQuery(c.FormValue)
	if q.Pop == scoresview.PopCrowd && q.Crowd == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	dq := storeQuery(q)
	id, err := s.Scores.RequestFetch(c.Request().Context(), currentUser(c).ID, dq.Pop, scores.Kinds, time.Hour)
	if err != nil {
		return err
	}
	s.audit(c, db.AuditEntry{Action: "scores.fetch", Object: fmt.Sprintf("job:%d", id), Summary: "refresh of " + q.URL(),
		Outcome: db.OutcomeOK})
	if isHTMX(c) && c.Request().Header.Get("HX-Boosted") != "true" {
		j, _ := s.fetchJob(c, q, id)
		return s.renderFragment(c, http.StatusOK, scoresview.JobStatus(j))
	}
	return c.Redirect(http.StatusSeeOther, q.With(scoresview.PagePath, "job", strconv.FormatInt(id, 10)))
}

// showScoreMovers are the ids that rose and fell most since a date.
func (s *Server) showScoreMovers(c echo.Context) error {
	if s.Scores == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	q := scoreQuery(c.QueryParam)
	zone := state(c).loc.Zone()
	m := scoresview.MoversPage{Q: q, Since: c.QueryParam("since")}
	since, err := time.ParseInLocation("2006-01-02", m.Since, zone)
	if err != nil {
		since = s.Now().In(zone).AddDate(0, 0, -7)
		m.Since = since.Format("2006-01-02")
	}
	if q.Pop == scoresview.PopCrowd && q.Crowd == 0 {
		return s.renderFragment(c, http.StatusOK, scoresview.MoversFragment(m))
	}
	dq := storeQuery(q)
	if dq.Kind == db.ScoreIntention && dq.Product == "" {
		if ps, err := s.Store.ScoreProducts(c.Request().Context(), dq.Pop.Subject()); err == nil && len(ps) > 0 {
			dq.Product = ps[0]
		}
	}
	// The end of the chosen day: "since the 3rd" compares with the score then.
	rising, falling, err := s.Store.ScoreMovers(c.Request().Context(), dq, since.AddDate(0, 0, 1).Unix()-1, moversN)
	if err != nil {
		return err
	}
	var items []scoresview.Item
	for _, l := range [][]db.Mover{rising, falling} {
		for _, mv := range l {
			items = append(items, scoresview.Item{ID: mv.ID, Name: mv.Name, Score: mv.To, IsPerson: !q.IsLeads()})
		}
	}
	if !q.IsLeads() {
		if err := s.nameItems(c, items); err != nil {
			return err
		}
	}
	for i, mv := range rising {
		m.Rising = append(m.Rising, scoresview.Mover{Item: items[i], From: mv.From, To: mv.To})
	}
	for i, mv := range falling {
		m.Falling = append(m.Falling, scoresview.Mover{Item: items[len(rising)+i], From: mv.From, To: mv.To})
	}
	return s.renderFragment(c, http.StatusOK, scoresview.MoversFragment(m))
}

// errStopPreview ends the preview's walk after its first rows.
var errStopPreview = errors.New("enough")

// selectionPanel builds the selection: its count, its persons, a preview.
func (s *Server) selectionPanel(c echo.Context, q scoresview.Query, sel scoresview.Selection, ds db.ScoreSelection) (scoresview.SelectionPanel, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	v := scoresview.SelectionPanel{Q: q, Sel: sel, CanSave: mayMove(u), CanExport: mayMove(u), CanClear: u != nil && u.Role == db.RoleAdmin}
	dq := storeQuery(q)
	if q.Pop == scoresview.PopCrowd && q.Crowd == 0 {
		return v, nil
	}
	v.Describe = append(v.Describe, t(c, "scores.kind."+q.Kind))
	for _, g := range sel.Grades {
		v.Describe = append(v.Describe, t(c, "scores.selection.grade", "Grade", g))
	}
	for _, l := range sel.Levels {
		v.Describe = append(v.Describe, t(c, "scores.selection.level", "Level", bandLabel(c, l)))
	}
	for _, b := range sel.Bands {
		v.Describe = append(v.Describe, t(c, "scores.selection.band", "Band", bandLabel(c, b)))
	}
	if sel.Min != "" {
		v.Describe = append(v.Describe, t(c, "scores.selection.min", "Score", sel.Min))
	}
	if sel.Max != "" {
		v.Describe = append(v.Describe, t(c, "scores.selection.max", "Score", sel.Max))
	}
	var err error
	if v.Count, err = s.Store.CountScored(ctx, dq, ds); err != nil {
		return v, err
	}
	persons, err := s.Store.SelectedPersons(ctx, dq, ds)
	if err != nil {
		return v, err
	}
	v.Persons = len(persons)
	var got []db.ScoredItem
	err = s.Store.EachScored(ctx, dq, ds, func(it db.ScoredItem) error {
		if len(got) >= scoresview.TopN {
			return errStopPreview
		}
		got = append(got, it)
		return nil
	})
	if err != nil && !errors.Is(err, errStopPreview) {
		return v, err
	}
	statuses := map[string]string{}
	if q.IsLeads() {
		statuses = s.statusNames(c)
	}
	if v.Preview, err = s.scoreItems(c, q, got, statuses); err != nil {
		return v, err
	}
	if v.CanClear {
		for _, id := range persons[:min(len(persons), scoresview.TopN)] {
			v.ClearWho = append(v.ClearWho, scoresview.Item{ID: id, IsPerson: true})
		}
		if err := s.nameItems(c, v.ClearWho); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (s *Server) showScoreSelection(c echo.Context) error {
	q, sel, ds, err := s.selectionRequest(c, false)
	if err != nil {
		return err
	}
	v, err := s.selectionPanel(c, q, sel, ds)
	if err != nil {
		return err
	}
	return s.renderSelection(c, http.StatusOK, v)
}

func (s *Server) renderSelection(c echo.Context, status int, v scoresview.SelectionPanel) error {
	if isHTMX(c) && c.Request().Header.Get("HX-Boosted") != "true" {
		return s.renderFragment(c, status, scoresview.SelectionView(v))
	}
	return s.render(c, status, View{Title: t(c, "scores.selection.title"), Section: "scores", Body: scoresview.SelectionPage(v)})
}

// saveScoresAsCrowd imports the selection's persons into a new crowd
// through the crowd import job, and goes to the import's page.
func (s *Server) saveScoresAsCrowd(c echo.Context) error {
	q, sel, ds, err := s.selectionRequest(c, true)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("name"))
	desc := clip(strings.TrimSpace(c.FormValue("description")), 200)
	u := currentUser(c)
	refuse := func(msg string) error {
		v, err := s.selectionPanel(c, q, sel, ds)
		if err != nil {
			return err
		}
		v.Name, v.Description, v.SaveError = name, desc, msg
		return s.renderSelection(c, http.StatusUnprocessableEntity, v)
	}
	if name == "" {
		return refuse(t(c, "scores.save.name_required"))
	}
	if len([]rune(name)) > 50 {
		return refuse(t(c, "scores.save.name_long"))
	}
	id, err := s.Scores.SaveAsCrowd(c.Request().Context(), u.ID, u.Username, storeQuery(q), ds, name, desc)
	switch {
	case errors.Is(err, scores.ErrEmptySelection):
		return refuse(t(c, "scores.err.empty"))
	case errors.Is(err, scores.ErrNoCrowds):
		return refuse(t(c, "scores.err.no_crowds"))
	case errors.Is(err, crowds.ErrNoTarget):
		return refuse(t(c, "scores.save.name_required"))
	case err != nil:
		s.log(c).Warn("save scores selection as a crowd", "error", err)
		return refuse(t(c, "scores.err.save_failed"))
	}
	s.audit(c, db.AuditEntry{Action: "scores.crowd", Object: fmt.Sprintf("import:%d", id),
		Summary: fmt.Sprintf("saved a %s selection as the new crowd %q", q.Kind, name), Outcome: db.OutcomeOK})
	to := fmt.Sprintf("/imports/%d", id)
	if isHTMX(c) && c.Request().Header.Get("HX-Boosted") != "true" {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// clearActivityScores clears the activity scores of the selection's
// persons (administrators; the persons count typed).
func (s *Server) clearActivityScores(c echo.Context) error {
	q, sel, ds, err := s.selectionRequest(c, true)
	if err != nil {
		return err
	}
	typed := clip(c.FormValue("count"), 20)
	id, err := s.Scores.RequestClear(c.Request().Context(), currentUser(c), storeQuery(q), ds, typed)
	if err != nil {
		var msg string
		switch {
		case errors.Is(err, scores.ErrCountMismatch):
			msg = t(c, "scores.err.count_mismatch")
		case errors.Is(err, scores.ErrNotAdmin):
			msg = t(c, "scores.err.not_admin")
		case errors.Is(err, scores.ErrEmptySelection):
			msg = t(c, "scores.err.empty")
		default:
			return err
		}
		s.audit(c, db.AuditEntry{Action: "scores.clear", Object: "scores", Summary: "refused: " + err.Error(), Outcome: db.OutcomeDenied})
		v, err := s.selectionPanel(c, q, sel, ds)
		if err != nil {
			return err
		}
		v.Typed, v.ClearError = typed, msg
		status := http.StatusUnprocessableEntity
		if errors.Is(err, scores.ErrNotAdmin) {
			status = http.StatusForbidden
		}
		return s.renderSelection(c, status, v)
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/jobs/%d", id))
}

// exportRow is one exported row: id, name, status, score, band, grade, level.
func exportRow(it scoresview.Item) []any {
	return []any{it.ID, it.Name, it.Status, math.Round(it.Score*100) / 100, it.Band, it.Grade, it.Level}
}

// eachExported streams the selection in batches, names resolved a batch at a time.
func (s *Server) eachExported(c echo.Context, q scoresview.Query, ds db.ScoreSelection, fn func(scoresview.Item) error) error {
	statuses := map[string]string{}
	if q.IsLeads() {
		statuses = s.statusNames(c)
	}
	var batch []db.ScoredItem
	flush := func() error {
		items, err := s.scoreItems(c, q, batch, statuses)
		if err != nil {
			return err
		}
		batch = batch[:0]
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		return nil
	}
	err := s.Store.EachScored(c.Request().Context(), storeQuery(q), ds, func(it db.ScoredItem) error {
		batch = append(batch, it)
		if len(batch) >= exportBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

func (s *Server) exportName(q scoresview.Query, ext string) string {
	return fmt.Sprintf("scores-%s-%s.%s", q.Kind, s.Now().Format("20060102-1504"), ext)
}

func exportHeader(c echo.Context) []string {
	return []string{"id", t(c, "scores.export.name"), t(c, "scores.export.status"), t(c, "scores.export.score"),
		t(c, "scores.export.band"), t(c, "scores.export.grade"), t(c, "scores.export.level")}
}

func (s *Server) exportScoresCSV(c echo.Context) error { return s.exportScores(c, sheet.CSV) }

func (s *Server) exportScoresXLSX(c echo.Context) error { return s.exportScores(c, sheet.XLSX) }

// exportScores streams the selection through the sheet writer: CSV with a
// UTF-8 BOM, or a workbook whose rows wait in a temporary file, not memory.
// Names and statuses are the platform's data: the writer keeps a name like
// "=HYPERLINK(…)" as text.
func (s *Server) exportScores(c echo.Context, format sheet.Format) error {
	q, _, ds, err := s.selectionRequest(c, false)
	if err != nil {
		return err
	}
	attach := func() {
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, format.ContentType())
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+s.exportName(q, string(format))+`"`)
		h.Set("Cache-Control", "no-store")
		c.Response().WriteHeader(http.StatusOK)
	}
	if format == sheet.CSV {
		attach() // CSV streams as it is read; a workbook is sent whole once complete
	}
	w, err := sheet.New(c.Response(), format)
	if err != nil {
		return err
	}
	defer w.Discard()
	if err := w.WriteText(exportHeader(c)...); err != nil {
		return err
	}
	err = s.eachExported(c, q, ds, func(it scoresview.Item) error { return w.Write(exportRow(it)...) })
	if err == nil {
		if format == sheet.XLSX {
			attach()
		}
		err = w.Close()
	}
	if err != nil {
		s.log(c).Error("export scores", "format", format, "error", err)
		if !c.Response().Committed {
			return err
		}
	}
	return nil
}
