package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/scores"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	scoresview "github.com/jingdesk/jingdesk/templates/scores"
)

// scoredCrowd is the sandbox's largest demo crowd with its scores fetched.
func scoredCrowd(t testing.TB, h *harness, rig *scoresRig) db.Crowd {
	t.Helper()
	ctx := context.Background()
	list, _, err := h.store.ListCrowds(ctx, db.CrowdFilter{Limit: 500})
	if err != nil || len(list) == 0 {
		t.Fatalf("crowds: %v %d", err, len(list))
	}
	best := list[0]
	for _, cr := range list {
		if cr.UserCount > best.UserCount {
			best = cr
		}
	}
	if best.UserCount < 5 {
		t.Fatalf("no crowd with members: %+v", best)
	}
	id, err := rig.scores.RequestFetch(ctx, 0, db.ScorePopulation{GroupID: best.GroupID}, scores.Kinds, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rig.waitJob(id)
	return best
}

// sumAttr adds up the number attribute key of the elements with
// data-testid id, and counts them.
func sumAttr(p page, id, key string) (sum int64, n int) {
	for _, e := range p.all(id) {
		v, err := strconv.ParseInt(attrOf(e, key), 10, 64)
		if err != nil {
			p.t.Fatalf("%s has %s=%q", id, key, attrOf(e, key))
		}
		sum += v
		n++
	}
	return sum, n
}

// attrs are the attribute key of the elements with data-testid id.
func attrs(p page, id, key string) []string {
	var out []string
	for _, e := range p.all(id) {
		out = append(out, attrOf(e, key))
	}
	return out
}

func crowdScoresURL(id int64, kind string) string {
	return scoresview.Query{Pop: scoresview.PopCrowd, Crowd: id, Kind: kind}.URL()
}

// The page of a fetched crowd: the histogram's bars and the bands sum to
// the scored count, the heatmap's cells to the matrix; switching the kind
// changes the chart; the tables link to the persons.
func TestScoresPageForACrowd(t *testing.T) {
	t.Parallel()
	h, rig := newScoresHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	cr := scoredCrowd(t, h, rig)
	ctx := context.Background()
	for _, kind := range []string{db.ScoreIdentity, db.ScoreActive} {
		sum, err := h.store.ScoreSummary(ctx, db.ScoreQuery{Pop: db.ScorePopulation{GroupID: cr.GroupID}, Kind: kind})
		if err != nil || sum.Scored == 0 {
			t.Fatalf("%s summary: %v %+v", kind, err, sum)
		}
		rec := c.get(crowdScoresURL(cr.GroupID, kind))
		wantStatus(t, rec, http.StatusOK)
		p := parsePage(t, rec.Body.String())
		bars, n := sumAttr(p, "hist-bar", "data-count")
		_, buckets := db.Buckets(kind)
		if bars != sum.Scored || n != buckets {
			t.Fatalf("%s: histogram bars sum %d over %d bars, scored %d over %d buckets", kind, bars, n, sum.Scored, buckets)
		}
		if bands, _ := sumAttr(p, "band-bar", "data-count"); bands != sum.Scored {
			t.Fatalf("%s: bands sum %d, scored %d", kind, bands, sum.Scored)
		}
		var matrix int64
		for _, v := range sum.Matrix {
			matrix += v
		}
		cells, nc := sumAttr(p, "heat-cell", "data-count")
		if cells != matrix || nc != 16 || matrix == 0 {
			t.Fatalf("%s: heatmap cells sum %d over %d cells, matrix %d", kind, cells, nc, matrix)
		}
		if p.attr("scores-distribution", "data-kind") != kind {
			t.Fatalf("%s: the distribution is not of the kind", kind)
		}
		labels := attrs(p, "hist-bar", "data-label")
		if open := labels[len(labels)-1] == "200+"; open != (kind == db.ScoreActive) {
			t.Fatalf("%s: the last bucket is %q", kind, labels[len(labels)-1])
		}
		if kind == db.ScoreIdentity && !slices.Equal(attrs(p, "band-bar", "data-band")[:4], scores.Grades) {
			t.Fatal("identity chart is not by grade")
		}
		rows := p.all("score-row")
		if p.attr("scores-scored", "data-scored") != strconv.FormatInt(sum.Scored, 10) || len(rows) == 0 ||
			attrOf(rows[0].FirstChild.FirstChild, "href") != scoresview.PersonPath(attrOf(rows[0], "data-id")) || !p.has("scores-fetch") {
			t.Fatalf("%s: the page lacks the scored count, the person links or the refresh", kind)
		}
	}
	// Sort by name, movers, and a viewer sees no refresh.
	wantStatus(t, c.get(crowdScoresURL(cr.GroupID, db.ScoreIdentity)+"&sort=name"), http.StatusOK)
	rec := c.get(scoresview.Query{Pop: scoresview.PopCrowd, Crowd: cr.GroupID, Kind: db.ScoreActive}.With(scoresview.MoversPath, "since", "2020-01-01"), htmx())
	wantStatus(t, rec, http.StatusOK)
	if !parsePage(t, rec.Body.String()).has("movers-rising") {
		t.Fatalf("movers:\n%s", rec.Body.String())
	}
	h.addUser("vic", db.RoleViewer)
	if parsePage(t, h.login("vic").get(crowdScoresURL(cr.GroupID, db.ScoreIdentity)).Body.String()).has("scores-fetch") {
		t.Fatal("a viewer can refresh")
	}
	// The refresh queues the fetch and the page follows it.
	rec = c.post(scoresview.FetchPath, url.Values{"pop": {"crowd"}, "crowd": {strconv.FormatInt(cr.GroupID, 10)}, "kind": {"identity"}}, htmx())
	wantStatus(t, rec, http.StatusOK)
	job := parsePage(t, rec.Body.String()).attr("scores-job", "data-job")
	id, err := strconv.ParseInt(job, 10, 64)
	if err != nil {
		t.Fatalf("refresh answer:\n%s", rec.Body.String())
	}
	rig.waitJob(id)
	rec = c.get(scoresview.Query{Pop: scoresview.PopCrowd, Crowd: cr.GroupID, Kind: "identity"}.With(scoresview.PagePath, "part", "job", "job", job), htmx())
	if rec.Header().Get("HX-Redirect") == "" || parsePage(t, rec.Body.String()).attr("scores-job", "data-state") != db.JobDone {
		t.Fatalf("a finished refresh does not reload the page: %v\n%s", rec.Header(), rec.Body.String())
	}
}

// A crowd never fetched: no members listed, nothing scored, said so.
func TestScoresPageEmptyPopulation(t *testing.T) {
	t.Parallel()
	h, _ := newScoresHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	list, _, _ := h.store.ListCrowds(context.Background(), db.CrowdFilter{Limit: 1})
	body := c.get(crowdScoresURL(list[0].GroupID, db.ScoreIdentity)).Body.String()
	p := parsePage(t, body)
	bars, n := sumAttr(p, "hist-bar", "data-count")
	drawn := 0
	for _, b := range p.all("hist-bar") {
		for e := b.FirstChild; e != nil; e = e.NextSibling {
			if e.Type == html.ElementNode && attrOf(e, "class") == "scores-bar" {
				drawn++
			}
		}
	}
	if bars != 0 || n != 10 || drawn != 0 || !p.has("scores-never-listed") || !p.has("scores-dist-empty") {
		t.Fatalf("empty crowd page (bars %d/%d, %d drawn):\n%s", bars, n, drawn, body)
	}
	// No crowd chosen: the empty state; all leads (none copied): zero.
	if !parsePage(t, c.get("/scores?pop=crowd&kind=identity").Body.String()).has("empty-state") {
		t.Fatal("no crowd chosen: no empty state")
	}
	rec := c.get("/scores?pop=all&kind=intention")
	wantStatus(t, rec, http.StatusOK)
	if parsePage(t, rec.Body.String()).attr("scores-scored", "data-population") != "0" {
		t.Fatal("all leads without a copy is not zero")
	}
}

// A heatmap cell's selection counts what the store counts; saved as a
// crowd, the import puts exactly the selected persons in it; the exports
// hold every row.
func TestScoresSelectionSaveAndExport(t *testing.T) {
	t.Parallel()
	h, rig := newScoresHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	cr := scoredCrowd(t, h, rig)
	ctx := context.Background()
	var grade, level string
	var most int64
	for _, cell := range parsePage(t, c.get(crowdScoresURL(cr.GroupID, db.ScoreIdentity)).Body.String()).all("heat-cell") {
		if n, _ := strconv.ParseInt(attrOf(cell, "data-count"), 10, 64); n > most {
			grade, level, most = attrOf(cell, "data-grade"), attrOf(cell, "data-level"), n
		}
	}
	q := scoresview.Query{Pop: scoresview.PopCrowd, Crowd: cr.GroupID, Kind: db.ScoreIdentity}
	sel := scoresview.Selection{Grades: []string{grade}, Levels: []string{level}}
	dq := db.ScoreQuery{Pop: db.ScorePopulation{GroupID: cr.GroupID}, Kind: db.ScoreIdentity}
	ds := db.ScoreSelection{Grades: sel.Grades, Levels: sel.Levels}
	want, err := h.store.CountScored(ctx, dq, ds)
	if err != nil || want != most {
		t.Fatalf("cell %s/%s: %d on the page, %d counted (%v)", grade, level, most, want, err)
	}
	persons, _ := h.store.SelectedPersons(ctx, dq, ds)
	rec := c.get(scoresview.SelectionURL(q, sel), htmx())
	wantStatus(t, rec, http.StatusOK)
	panel := parsePage(t, rec.Body.String())
	if panel.attr("selection-panel", "data-count") != strconv.FormatInt(want, 10) || panel.attr("selection-panel", "data-persons") != strconv.Itoa(len(persons)) ||
		panel.has("main-nav") || panel.has("clear-activity") || !panel.has("save-crowd-form") {
		t.Fatalf("selection panel (want %d, %d persons):\n%s", want, len(persons), rec.Body.String())
	}

	// CSV: BOM, header and every row.
	rec = c.get(strings.Replace(scoresview.SelectionURL(q, sel), scoresview.SelectionPath, scoresview.CSVPath, 1))
	wantStatus(t, rec, http.StatusOK)
	csvBody := rec.Body.Bytes()
	if !bytes.HasPrefix(csvBody, []byte("\xEF\xBB\xBF")) {
		t.Fatal("CSV without BOM")
	}
	if lines := strings.Count(strings.TrimSpace(string(csvBody)), "\n") + 1; int64(lines) != want+1 {
		t.Fatalf("CSV has %d lines, want %d rows + header", lines, want)
	}
	// The level (the last column) reads in the reader's language, not as its code.
	for _, line := range strings.Split(strings.TrimSpace(string(csvBody)), "\n")[1:] {
		if last := strings.TrimSpace(line[strings.LastIndex(line, ",")+1:]); level != "" && last == level {
			t.Fatalf("the export says the level as its code %q: %q", level, line)
		}
	}
	// xlsx opens and holds the rows.
	rec = c.get(strings.Replace(scoresview.SelectionURL(q, sel), scoresview.SelectionPath, scoresview.XLSXPath, 1))
	wantStatus(t, rec, http.StatusOK)
	f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || int64(len(rows)) != want+1 || rows[0][0] != "id" || !slices.Contains(persons, rows[1][0]) {
		t.Fatalf("xlsx: %v, %d rows (want %d + header)", err, len(rows), want)
	}

	// Save as a crowd: the import runs; the crowd holds exactly the persons.
	form := url.Values{"name": {"高分活跃 " + grade + level}, "description": {"from scores"}}
	for _, hf := range scoresview.HiddenFields(q, sel) {
		form.Add(hf.Name, hf.Value)
	}
	rec = c.post(scoresview.CrowdPath, form)
	wantStatus(t, rec, http.StatusSeeOther)
	loc := rec.Header().Get("Location")
	importID, err := strconv.ParseInt(strings.TrimPrefix(loc, "/imports/"), 10, 64)
	if err != nil {
		t.Fatalf("save went to %q", loc)
	}
	im, err := h.store.Import(ctx, importID)
	if err != nil || im.JobID == 0 {
		t.Fatalf("import: %v %+v", err, im)
	}
	rig.waitJob(im.JobID)
	im, _ = h.store.Import(ctx, importID)
	// The import history names it in words, in the saver's language.
	if !strings.HasPrefix(im.FileName, "评分选择 · ") || strings.Contains(im.FileName, "scores-") {
		t.Errorf("the import is called %q", im.FileName)
	}
	client, _ := rig.plat.Current()
	var got []string
	for m, err := range client.AllCrowdUsers(ctx, im.CrowdID) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.OmniUserUUID)
	}
	slices.Sort(got)
	if !slices.Equal(got, persons) {
		t.Fatalf("the new crowd holds %d, the selection %d persons", len(got), len(persons))
	}
	// A nameless save is refused with the form kept.
	form.Set("name", " ")
	rec = c.post(scoresview.CrowdPath, form)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if p := parsePage(t, rec.Body.String()); p.text("save-error") == "" || p.attr("save-description", "value") != "from scores" {
		t.Fatal("nameless save not explained, or the form not kept")
	}
}

// What the scores refuse is said where the user acted, in their language,
// with what they typed kept, and nothing is done: no import for a save,
// no job for a refresh.
func TestScoresRefusalsSayWhyAndDoNothing(t *testing.T) {
	t.Parallel()
	h, rig := newScoresHarness(t)
	mia := h.addUser("mia", db.RoleMarketer)
	ctx := context.Background()
	if err := h.store.SetUserLang(ctx, mia.ID, i18n.English); err != nil {
		t.Fatal(err)
	}
	c := h.login("mia")
	cr := scoredCrowd(t, h, rig)
	q := scoresview.Query{Pop: scoresview.PopCrowd, Crowd: cr.GroupID, Kind: db.ScoreIdentity}
	save := func(q scoresview.Query, name, desc string) page {
		form := url.Values{"name": {name}, "description": {desc}}
		for _, hf := range scoresview.HiddenFields(q, scoresview.Selection{}) {
			form.Add(hf.Name, hf.Value)
		}
		rec := c.post(scoresview.CrowdPath, form)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		return parsePage(t, rec.Body.String())
	}
	// A description longer than a crowd takes is refused, not cut away.
	long := strings.Repeat("描", crowds.CrowdDescriptionMax+1)
	p := save(q, "高分客户", long)
	if got := p.text("save-error"); got != "The description is too long (200 characters at most)." {
		t.Fatalf("save error %q", got)
	}
	if p.attr("save-name", "value") != "高分客户" || p.attr("save-description", "value") != long {
		t.Fatal("the form lost what was typed")
	}
	// A crowd view without its crowd saves nobody (it once saved every lead's person).
	unchosen := scoresview.Query{Pop: scoresview.PopCrowd, Kind: db.ScoreIdentity}
	if got := save(unchosen, "所有人", "").text("save-error"); got != "Choose a crowd first: nothing was done." {
		t.Fatalf("unchosen save error %q", got)
	}
	if ims, err := h.store.ListImports(ctx, db.ImportFilter{Limit: 10}); err != nil || len(ims) != 0 {
		t.Fatalf("a refused save left %d imports (%v)", len(ims), err)
	}
	// A selection the page never makes is refused with why.
	sel := url.Values{"pop": {"crowd"}, "crowd": {strconv.FormatInt(cr.GroupID, 10)}}
	for range 11 {
		sel.Add("grade", "A")
	}
	rec := c.get(scoresview.SelectionPath + "?" + sel.Encode())
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if got := parsePage(t, rec.Body.String()).text("error-message"); !strings.HasPrefix(got, "This selection cannot be read: a selection takes at most 10 grades") {
		t.Fatalf("selection error %q", got)
	}
	// A refresh of no crowd is refused; no job is queued.
	jobsBefore, _ := h.store.ListJobs(ctx, db.JobFilter{Limit: 100})
	rec = c.post(scoresview.FetchPath, url.Values{"pop": {"crowd"}, "kind": {"identity"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if got := parsePage(t, rec.Body.String()).text("error-message"); got != "Choose a crowd first: nothing was done." {
		t.Fatalf("refresh error %q", got)
	}
	if jobsAfter, _ := h.store.ListJobs(ctx, db.JobFilter{Limit: 100}); len(jobsAfter) != len(jobsBefore) {
		t.Fatalf("a refused refresh queued a job: %d → %d", len(jobsBefore), len(jobsAfter))
	}
}

// Clearing activity: marketers are refused, a wrong count is refused, the
// right count runs the job and the selection's activity is gone.
func TestScoresClearActivity(t *testing.T) {
	t.Parallel()
	h, rig := newScoresHarness(t)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("ada", db.RoleAdmin)
	cr := scoredCrowd(t, h, rig)
	ctx := context.Background()
	q := scoresview.Query{Pop: scoresview.PopCrowd, Crowd: cr.GroupID, Kind: db.ScoreActive}
	sel := scoresview.Selection{Min: "1"}
	one := 1.0
	dq := db.ScoreQuery{Pop: db.ScorePopulation{GroupID: cr.GroupID}, Kind: db.ScoreActive}
	ds := db.ScoreSelection{MinScore: &one}
	persons, err := h.store.SelectedPersons(ctx, dq, ds)
	if err != nil || len(persons) == 0 {
		t.Fatalf("nobody active: %v", err)
	}
	form := func(count string) url.Values {
		f := url.Values{"count": {count}}
		for _, hf := range scoresview.HiddenFields(q, sel) {
			f.Add(hf.Name, hf.Value)
		}
		return f
	}
	mia := h.login("mia")
	if parsePage(t, mia.get(scoresview.SelectionURL(q, sel), htmx()).Body.String()).has("clear-activity") {
		t.Fatal("a marketer sees the clear button")
	}
	wantStatus(t, mia.post(scoresview.ClearPath, form(strconv.Itoa(len(persons)))), http.StatusForbidden)
	ada := h.login("ada")
	if p := parsePage(t, ada.get(scoresview.SelectionURL(q, sel), htmx()).Body.String()); !p.has("clear-activity") || !p.has("clear-who") {
		t.Fatal("an admin lacks the clear form with who")
	}
	rec := ada.post(scoresview.ClearPath, form(strconv.Itoa(len(persons)+1)))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if p := parsePage(t, rec.Body.String()); p.text("clear-error") == "" || p.attr("clear-count", "value") != strconv.Itoa(len(persons)+1) {
		t.Fatal("a wrong count is not explained, or not kept")
	}
	if h.countAudit("scores.clear", db.OutcomeDenied) != 1 {
		t.Fatal("the refused clearing is not audited")
	}
	rec = ada.post(scoresview.ClearPath, form(strconv.Itoa(len(persons))))
	wantStatus(t, rec, http.StatusSeeOther)
	id, err := strconv.ParseInt(strings.TrimPrefix(rec.Header().Get("Location"), "/jobs/"), 10, 64)
	if err != nil {
		t.Fatalf("clear went to %q", rec.Header().Get("Location"))
	}
	rig.waitJob(id)
	if n, err := h.store.CountScored(ctx, dq, ds); err != nil || n != 0 {
		t.Fatalf("after clearing, %d still active (%v)", n, err)
	}
	if h.countAudit("scores.clear", db.OutcomeOK) != 1 {
		t.Fatal("the clearing is not audited")
	}
}

// The person page: the crowds the person is listed in and the scores card
// with its values.
func TestPersonPage(t *testing.T) {
	t.Parallel()
	h, rig := newScoresHarness(t)
	h.addUser("vic", db.RoleViewer)
	cr := scoredCrowd(t, h, rig)
	ctx := context.Background()
	items, err := h.store.TopScored(ctx, db.ScoreQuery{Pop: db.ScorePopulation{GroupID: cr.GroupID}, Kind: db.ScoreIdentity}, db.ScoreSelection{}, 1, false)
	if err != nil || len(items) == 0 {
		t.Fatal(err)
	}
	c := h.login("vic")
	rec := c.get(scoresview.PersonPath(items[0].ID))
	wantStatus(t, rec, http.StatusOK)
	if !slices.Contains(attrs(parsePage(t, rec.Body.String()), "person-crowd", "data-id"), strconv.FormatInt(cr.GroupID, 10)) {
		t.Fatalf("person page lacks the crowd:\n%s", rec.Body.String())
	}
	rec = c.get(scoresview.PersonPath(items[0].ID)+"?part=scores", htmx())
	card := parsePage(t, rec.Body.String())
	if kinds := attrs(card, "trend", "data-kind"); len(kinds) == 0 || kinds[0] != db.ScoreIdentity || card.has("scores-card-error") {
		t.Fatalf("person scores card:\n%s", rec.Body.String())
	}
}

// newLeadScoresHarness is the synced lead copy with the score service.
func newLeadScoresHarness(t *testing.T) *harness {
	t.Helper()
	var brig boardRig
	h := newHarness(t, withBoard(t, &brig), func(d *Deps) {
		svc, err := scores.New(scores.Config{Store: d.Store, Platform: d.Platform, Runner: brig.ref.runner, Logger: d.Logger, Now: d.Now})
		if err != nil {
			t.Fatal(err)
		}
		d.Scores = svc
	})
	brig.h = h
	brig.ref.refresh("")
	brig.fullSync()
	return h
}

// The lead page's card goes through the score cache: after fetches on
// different days the history has its points, a trend line from two.
func TestLeadScoresCardTrend(t *testing.T) {
	t.Parallel()
	h := newLeadScoresHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	ls, _, err := h.store.ListLeads(context.Background(), db.LeadFilter{Limit: 40})
	if err != nil || len(ls) == 0 {
		t.Fatal(err)
	}
	l := ls[0]
	card := func() page {
		body := c.get(leadsview.LeadPath(l.UUID)+"/scores", htmx()).Body.String()
		p := parsePage(t, body)
		if p.textIn("score-identity", "badge") == "" || p.has("scores-error") {
			t.Fatalf("card:\n%s", body)
		}
		return p
	}
	if card().has("sparkline") {
		t.Fatal("a trend line from one fetch")
	}
	// The sandbox's scores move by the real day: put an older, different
	// value in the history, then fetch again an hour later.
	ctx := context.Background()
	hist, err := h.store.ScoreHistory(ctx, db.SubjectLead, l.UUID)
	if err != nil || len(hist) == 0 {
		t.Fatalf("history after one fetch: %v %d", err, len(hist))
	}
	p := hist[0]
	if _, err := h.store.SaveScores(ctx, db.SubjectLead, p.Kind, []string{l.UUID},
		[]db.FetchedScore{{ID: l.UUID, Model: p.Model, Score: p.Score + 7, Band: p.Band}}, p.At-86400); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	if p := card(); !slices.Contains(attrs(p, "sparkline", "data-points"), "3") || !slices.Contains(attrs(p, "score-trend", "data-points"), "3") {
		t.Fatalf("no trend line of 3 points: %v %v", attrs(p, "sparkline", "data-points"), attrs(p, "score-trend", "data-points"))
	}
}

// --- geometry ---

func TestHistogramGeometry(t *testing.T) {
	t.Parallel()
	if h := scoresview.HistogramGeometry([]int64{0, 0, 0}, nil, 300, 10, 110); h.Total != 0 || len(h.Buckets) != 3 || h.Buckets[1].H != 0 {
		t.Fatalf("empty: %+v", h)
	}
	h := scoresview.HistogramGeometry([]int64{0, 5, 0}, []string{"a", "b", "c"}, 300, 10, 110)
	if h.Buckets[1].H != 100 || h.Buckets[1].Y != 10 || h.Buckets[0].H != 0 || h.Buckets[1].Label != "b" {
		t.Fatalf("single value: %+v", h.Buckets)
	}
	h = scoresview.HistogramGeometry([]int64{10, 5, 1000000}, nil, 300, 10, 110)
	if h.Buckets[0].H != 1 {
		t.Fatalf("a tiny count is not 1 unit tall: %v", h.Buckets[0].H)
	}
	h = scoresview.HistogramGeometry([]int64{40, 20, 10}, nil, 300, 0, 100)
	if h.Buckets[0].H != 100 || h.Buckets[1].H != 50 || h.Buckets[2].H != 25 || h.Total != 70 {
		t.Fatalf("proportions: %+v", h.Buckets)
	}
	if h.Buckets[1].X <= h.Buckets[0].X+h.Buckets[0].W || h.Buckets[2].X+h.Buckets[2].W > 300 {
		t.Fatalf("bars overlap or overflow: %+v", h.Buckets)
	}
	if l := scoresview.BucketLabels(20, 11, true, 220); l[0] != "0–19" || l[10] != "200+" {
		t.Fatalf("activity labels %v", l)
	}
	if l := scoresview.BucketLabels(10, 10, false, 100); l[0] != "0–9" || l[9] != "90–100" {
		t.Fatalf("identity labels %v", l)
	}
}

func TestBandAndHeatmapGeometry(t *testing.T) {
	t.Parallel()
	keys := []scoresview.BandKey{{Value: "A"}, {Value: "B"}, {Value: "C"}}
	ch := scoresview.BandGeometry(keys, map[string]int64{"A": 10, "B": 5}, 200)
	if ch.Bars[0].W != 200 || ch.Bars[1].W != 100 || ch.Bars[2].W != 0 || ch.Bars[2].Count != 0 || ch.Height != 3*scoresview.BandRowH {
		t.Fatalf("bands: %+v", ch)
	}
	if ch := scoresview.BandGeometry(keys, nil, 200); ch.Bars[0].W != 0 {
		t.Fatal("empty bands drawn")
	}
	hm := scoresview.HeatmapGeometry([]string{"A", "B"}, []scoresview.BandKey{{Value: "hot"}, {Value: "cold"}},
		map[[2]string]int64{{"A", "hot"}: 100, {"B", "cold"}: 1, {"B", "hot"}: 50})
	if hm.Total != 151 || hm.Rows[0][0].Shade != 4 || hm.Rows[0][1].Shade != 0 || hm.Rows[1][1].Shade != 1 || hm.Rows[1][0].Shade != 2 {
		t.Fatalf("heatmap: %+v", hm.Rows)
	}
	if s := scoresview.Shade(0, 0); s != 0 {
		t.Fatal("empty shade")
	}
	total, parts := scoresview.StackGeometry(keys, map[string]int64{"A": 1, "C": 3}, 100)
	if total != 4 || len(parts) != 2 || parts[0].W != 25 || parts[1].X != 25 || parts[1].W != 75 {
		t.Fatalf("stack: %d %+v", total, parts)
	}
}

func TestSparkGeometry(t *testing.T) {
	t.Parallel()
	if sp := scoresview.SparkGeometry(nil, 100, 20); sp.N != 0 || sp.Points != "" {
		t.Fatalf("empty: %+v", sp)
	}
	if sp := scoresview.SparkGeometry([]float64{42}, 100, 20); sp.N != 1 || sp.Points != "" || sp.Max != 42 {
		t.Fatalf("one point: %+v", sp)
	}
	sp := scoresview.SparkGeometry([]float64{0, 10, 5}, 104, 24)
	if sp.Points != "2,22 52,2 102,12" || sp.LastX != 102 || sp.Min != 0 || sp.Max != 10 {
		t.Fatalf("line: %+v", sp)
	}
	if sp := scoresview.SparkGeometry([]float64{3, 3}, 104, 24); sp.Points != "2,12 102,12" {
		t.Fatalf("flat: %+v", sp)
	}
}
