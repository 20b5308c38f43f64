// Package report draws the pipeline report (issue 20).
package report

import (
	"net/url"
	"strconv"
)

// Path is the report page; LeadsPath lists a bar's leads; ExportPath the
// figures as a file (?format=csv|xlsx).
const (
	Path       = "/reports/pipeline"
	LeadsPath  = "/reports/pipeline/leads"
	ExportPath = "/reports/pipeline/export"
)

// Choice is one option of a select.
type Choice struct{ Value, Label string }

// Form is the report's query as typed.
type Form struct {
	BusinessType, From, To, By string
}

// Values are the form as query parameters.
func (f Form) Values() url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"business_type": f.BusinessType, "from": f.From, "to": f.To, "by": f.By} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// Page is the report page.
type Page struct {
	Form          Form
	BusinessTypes []Choice
	Error         string
	Ready         bool // a report was computed
	Groups        []Group
	Approximate   bool // some figure rests on partial history
}

// Group is one owner's or source's pipeline (Label "" for all leads).
type Group struct {
	Key, Label string
	Stages     []Stage
}

// Stage is one status's figures, as shown.
type Stage struct {
	Status, Name             string
	Entered, Converted, Left int
	Conversion, Median, P90  string
	Approximate              bool
	BarWidth, TimeWidth      int // of 100
	LeadsURL                 string
}

// ExportURL is the export of the form's report in format.
func (f Form) ExportURL(format string) string {
	v := f.Values()
	v.Set("format", format)
	return ExportPath + "?" + v.Encode()
}

// LeadsURL lists the leads that entered status (in group key, with by).
func (f Form) LeadsURL(status, group string) string {
	v := f.Values()
	v.Set("status", status)
	if f.By != "" {
		v.Set("group", group)
	}
	return LeadsPath + "?" + v.Encode()
}

// LeadList is a bar's leads.
type LeadList struct {
	Title, Back string
	Leads       []Lead
}

// Lead is one lead of a bar.
type Lead struct{ Name, Path, Status string }

func itoa(n int) string { return strconv.Itoa(n) }

// barY is the y of the i-th bar.
func barY(i int) string { return strconv.Itoa(i * 28) }

// chartHeight fits n bars.
func chartHeight(n int) string { return strconv.Itoa(n*28 + 4) }
