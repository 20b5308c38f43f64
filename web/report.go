package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/report"
	"github.com/jingdesk/jingdesk/internal/sheet"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	reportview "github.com/jingdesk/jingdesk/templates/report"
)

// The pipeline report (issue 20): internal/report computes it from the
// status history; here the form is read, names resolved, and the figures
// drawn (SVG bars, a table), listed per bar, or written as CSV/xlsx.
type reportArea struct {
	*kit
	reports pipelineReports
	leads   interface {
		Lead(ctx context.Context, uuid string) (db.Lead, error)
	}
	ref referenceSource
}

type pipelineReports interface {
	Pipeline(ctx context.Context, q report.Query) (report.Report, error)
}

// reportBarsMax is how many leads a bar's list shows.
const reportBarsMax = 200

// reportForm reads the query: the business type (default: the default
// one), from and to as dates in the reader's zone (default: the last 30
// days; to is inclusive), the grouping.
func (a *reportArea) reportForm(c echo.Context) (reportview.Form, report.Query, error) {
	r := a.ref.Resolver()
	f := reportview.Form{BusinessType: c.QueryParam("business_type"), From: c.QueryParam("from"), To: c.QueryParam("to"), By: c.QueryParam("by")}
	if f.BusinessType == "" {
		f.BusinessType = r.DefaultBusinessType(leadObject)
	}
	zone := state(c).loc.Zone()
	today := a.now().In(zone)
	if f.To == "" {
		f.To = today.Format(time.DateOnly)
	}
	if f.From == "" {
		f.From = today.AddDate(0, 0, -29).Format(time.DateOnly)
	}
	q := report.Query{BusinessType: f.BusinessType, By: f.By}
	for _, st := range r.Statuses(f.BusinessType) {
		q.Pipeline = append(q.Pipeline, st.ID)
	}
	from, err1 := time.ParseInLocation(time.DateOnly, f.From, zone)
	to, err2 := time.ParseInLocation(time.DateOnly, f.To, zone)
	if err1 != nil || err2 != nil {
		return f, q, report.ErrBadRange
	}
	q.From, q.To = from.Unix(), to.AddDate(0, 0, 1).Unix()
	return f, q, nil
}

func (a *reportArea) showPipeline(c echo.Context) error {
	lang, r := state(c).loc.Lang, a.ref.Resolver()
	f, q, err := a.reportForm(c)
	v := reportview.Page{Form: f}
	for _, bt := range r.BusinessTypes(leadObject) {
		v.BusinessTypes = append(v.BusinessTypes, reportview.Choice{Value: bt.ID, Label: bt.DisplayName(lang)})
	}
	var rep report.Report
	if err == nil {
		rep, err = a.reports.Pipeline(c.Request().Context(), q)
	}
	if err != nil {
		text, ok := userMessage(c, err)
		if !ok {
			return err
		}
		v.Error = text
		return a.render(c, http.StatusUnprocessableEntity, View{Title: t(c, "report.title"), Section: "reports", Body: reportview.PipelinePage(v)})
	}
	v.Ready = true
	for _, g := range rep.Groups {
		v.Groups = append(v.Groups, a.reportGroup(c, f, g))
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "report.title"), Section: "reports", Body: reportview.PipelinePage(v)})
}

// reportGroup shapes one group's figures for the page.
func (a *reportArea) reportGroup(c echo.Context, f reportview.Form, g report.Group) reportview.Group {
	lang, r := state(c).loc.Lang, a.ref.Resolver()
	out := reportview.Group{Key: g.Key, Label: a.groupLabel(c, f.By, g.Key)}
	maxEntered, maxMedian := 1, int64(1)
	for _, s := range g.Stages {
		maxEntered, maxMedian = max(maxEntered, s.Entered), max(maxMedian, s.MedianSec)
	}
	for _, s := range g.Stages {
		name, _ := r.Status(lang, f.BusinessType, s.Status)
		out.Stages = append(out.Stages, reportview.Stage{Status: s.Status, Name: name, Entered: s.Entered, Converted: s.Converted,
			Left: s.Left, Conversion: fmt.Sprintf("%.0f%%", s.Conversion()*100), Median: a.duration(c, s.MedianSec, s.Left),
			P90: a.duration(c, s.P90Sec, s.Left), Approximate: s.Approximate(), BarWidth: s.Entered * 100 / maxEntered,
			TimeWidth: int(s.MedianSec * 100 / maxMedian), LeadsURL: f.LeadsURL(s.Status, g.Key)})
	}
	return out
}

// groupLabel names a group: all leads, an owner, a source.
func (a *reportArea) groupLabel(c echo.Context, by, key string) string {
	lang, r := state(c).loc.Lang, a.ref.Resolver()
	switch {
	case by == "" || key == "" && by == report.ByNone:
		return t(c, "report.group.all")
	case key == "":
		return t(c, "report.group.none")
	case by == report.ByOwner:
		return r.Member(lang, key)
	}
	return r.Option(lang, leadObject, "source_type", key)
}

// duration says a time in status ("—" when no lead left it).
func (a *reportArea) duration(c echo.Context, sec int64, n int) string {
	switch {
	case n == 0:
		return "—"
	case sec >= 86400:
		return t(c, "report.days", "N", strconv.FormatFloat(float64(sec)/86400, 'f', 1, 64))
	case sec >= 3600:
		return t(c, "report.hours", "N", strconv.FormatFloat(float64(sec)/3600, 'f', 1, 64))
	}
	return t(c, "report.minutes", "N", strconv.FormatInt(sec/60, 10))
}

// showPipelineLeads lists the leads behind a bar.
func (a *reportArea) showPipelineLeads(c echo.Context) error {
	f, q, err := a.reportForm(c)
	if err != nil {
		return err
	}
	rep, err := a.reports.Pipeline(c.Request().Context(), q)
	if err != nil {
		return err
	}
	status, group := c.QueryParam("status"), c.QueryParam("group")
	lang, r := state(c).loc.Lang, a.ref.Resolver()
	name, _ := r.Status(lang, f.BusinessType, status)
	v := reportview.LeadList{Title: t(c, "report.leads_title", "Status", name), Back: reportview.Path + "?" + f.Values().Encode()}
	for _, g := range rep.Groups {
		if f.By != "" && g.Key != group || f.By == "" && g.Key != "" {
			continue
		}
		for _, s := range g.Stages {
			if s.Status != status {
				continue
			}
			seen := []string{}
			for _, uuid := range s.Leads {
				if slices.Contains(seen, uuid) || len(seen) >= reportBarsMax {
					continue
				}
				seen = append(seen, uuid)
				l, err := a.leads.Lead(c.Request().Context(), uuid)
				if err != nil {
					return err
				}
				st, _ := r.Status(lang, l.BusinessType, l.Status)
				v.Leads = append(v.Leads, reportview.Lead{Name: l.Name, Path: leadsview.LeadPath(l.UUID), Status: st})
			}
		}
		break
	}
	return a.render(c, http.StatusOK, View{Title: v.Title, Section: "reports", Body: reportview.LeadsPage(v)})
}

// exportPipeline writes the figures as CSV (with BOM) or xlsx through the
// one spreadsheet writer.
func (a *reportArea) exportPipeline(c echo.Context) error {
	format := sheet.Format(c.QueryParam("format"))
	if format != sheet.CSV && format != sheet.XLSX {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	f, q, err := a.reportForm(c)
	if err != nil {
		return err
	}
	rep, err := a.reports.Pipeline(c.Request().Context(), q)
	if err != nil {
		return err
	}
	lang, r := state(c).loc.Lang, a.ref.Resolver()
	w, err := sheet.New(c.Response(), format)
	if err != nil {
		return err
	}
	defer w.Discard()
	attach := func() {
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, format.ContentType())
		h.Set(echo.HeaderContentDisposition, `attachment; filename="pipeline-`+f.From+`-`+f.To+`.`+string(format)+`"`)
		h.Set("Cache-Control", "no-store")
		c.Response().WriteHeader(http.StatusOK)
	}
	if format == sheet.CSV {
		attach()
	}
	err = w.WriteText(t(c, "report.col.group"), t(c, "report.col.status"), t(c, "report.col.entered"), t(c, "report.col.converted"),
		t(c, "report.col.conversion"), t(c, "report.col.left"), t(c, "report.col.median_hours"), t(c, "report.col.p90_hours"), t(c, "report.col.approx"))
	for _, g := range rep.Groups {
		for _, s := range g.Stages {
			if err != nil {
				break
			}
			name, _ := r.Status(lang, f.BusinessType, s.Status)
			approx := ""
			if s.Approximate() {
				approx = t(c, "report.approx_yes")
			}
			err = w.Write(a.groupLabel(c, f.By, g.Key), name, s.Entered, s.Converted, fmt.Sprintf("%.1f%%", s.Conversion()*100), s.Left,
				float64(s.MedianSec)/3600, float64(s.P90Sec)/3600, approx)
		}
	}
	if err == nil {
		if format == sheet.XLSX {
			attach()
		}
		err = w.Close()
	}
	if err != nil && !c.Response().Committed {
		return err
	}
	return nil
}
