// Package scores renders the scoring views (issue 8): a population's
// scores as server-side SVG charts (histogram, bands, the grade × level
// heatmap), its top and bottom, movers, the selection panel with its
// actions, and the person page with the scores card and trend lines.
package scores

import (
	"context"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/jingdesk/jingdesk/internal/scores"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// Paths.
const (
	PagePath      = "/scores"
	MoversPath    = "/scores/movers"
	SelectionPath = "/scores/selection"
	FetchPath     = "/scores/fetch"
	CrowdPath     = "/scores/crowd"
	CSVPath       = "/scores/export.csv"
	XLSXPath      = "/scores/export.xlsx"
	ClearPath     = "/scores/clear"
)

// PersonPath is a person's page.
func PersonPath(uuid string) string { return "/persons/" + url.PathEscape(uuid) }

// LeadPath is a lead's page.
func LeadPath(uuid string) string { return "/leads/" + url.PathEscape(uuid) }

// Populations the chooser offers (internal/scores says what each holds).
const (
	PopCrowd = scores.PopCrowd
	PopType  = scores.PopType
	PopLeads = scores.PopLeads
	PopAll   = scores.PopAll
)

// Kinds, as the platform names them.
const (
	KindIdentity  = "identity"
	KindActive    = "active"
	KindIntention = "intention"
)

// Kinds in the order the page offers them.
var Kinds = []string{KindIdentity, KindActive, KindIntention}

// TopN is how many rows the top and bottom tables hold.
const TopN = scores.Shown

// Query is the page's view (internal/scores reads and checks it) with
// its address: the population, the kind and the tables' sort.
type Query scores.View

// Values is the query as URL values (empty ones left out).
func (q Query) Values() url.Values {
	v := url.Values{}
	v.Set("pop", q.Pop)
	switch q.Pop {
	case PopCrowd:
		if q.Crowd != 0 {
			v.Set("crowd", strconv.FormatInt(q.Crowd, 10))
		}
	case PopType:
		if q.BusinessType != "" {
			v.Set("business_type", q.BusinessType)
		}
	case PopLeads:
		for k, val := range map[string]string{"business_type": q.BusinessType, "status": q.Status, "owner": q.Owner} {
			if val != "" {
				v.Set(k, val)
			}
		}
	}
	v.Set("kind", q.Kind)
	if q.Kind == KindIntention && q.Product != "" {
		v.Set("product", q.Product)
	}
	return v
}

// URL is the page for the query.
func (q Query) URL() string { return PagePath + "?" + q.Values().Encode() }

// With is the page's address with more parameters (a selection, a sort).
func (q Query) With(path string, kv ...string) string {
	v := q.Values()
	if q.Sort != "" && q.Sort != "score" {
		v.Set("sort", q.Sort)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return path + "?" + v.Encode()
}

// IsLeads reports whether the population is leads (not a crowd).
func (q Query) IsLeads() bool { return scores.View(q).IsLeads() }

// Choice is one option of a select.
type Choice struct {
	Value, Label string
}

// Selection is the part of a view a user picked (internal/scores reads
// and checks it), with its address.
type Selection scores.Selection

// Empty reports whether nothing narrows it.
func (s Selection) Empty() bool {
	return len(s.Grades) == 0 && len(s.Levels) == 0 && len(s.Bands) == 0 && s.Min == "" && s.Max == ""
}

// Values is the selection as URL values.
func (s Selection) Values() url.Values {
	v := url.Values{}
	for _, g := range s.Grades {
		v.Add("grade", g)
	}
	for _, l := range s.Levels {
		v.Add("level", l)
	}
	for _, b := range s.Bands {
		v.Add("band", b)
	}
	if s.Min != "" {
		v.Set("min", s.Min)
	}
	if s.Max != "" {
		v.Set("max", s.Max)
	}
	return v
}

// SelectionURL is the selection panel's address for q and sel.
func SelectionURL(q Query, sel Selection) string {
	v := q.Values()
	for k, vals := range sel.Values() {
		v[k] = vals
	}
	return SelectionPath + "?" + v.Encode()
}

// Hidden is one hidden form field.
type Hidden struct{ Name, Value string }

// HiddenFields are q and sel as hidden fields, in a stable order.
func HiddenFields(q Query, sel Selection) []Hidden {
	v := q.Values()
	for k, vals := range sel.Values() {
		v[k] = vals
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Hidden
	for _, k := range keys {
		for _, val := range v[k] {
			out = append(out, Hidden{k, val})
		}
	}
	return out
}

// Item is one scored id in a table: a lead with its name and status, or
// a person named by the identity an import resolved (masked for viewers).
type Item scores.Item

// Href is the item's page.
func (it Item) Href() string {
	if it.IsPerson {
		return PersonPath(it.ID)
	}
	return LeadPath(it.ID)
}

// Mover is one id whose score rose or fell.
type Mover struct {
	Item
	From, To float64
}

// Freshness says how fresh the view's cache is.
type Freshness struct {
	Oldest, Newest int64
	Never, Stale   int64
}

// FetchJob is the refresh under way (or just ended).
type FetchJob struct {
	ID          int64
	State       string
	Total, Done int64
	Failed      int64
	PerMinute   int64
	SecondsLeft int64
	Error       string
	PollURL     string
}

// Active reports whether the job is unfinished.
func (j FetchJob) Active() bool {
	return j.State == "queued" || j.State == "running" || j.State == "paused"
}

// StatusRow is one pipeline status's band counts (leads only).
type StatusRow struct {
	Status string // the name
	Total  int64
	Parts  []Segment
}

// Segment is one band's part of a stacked bar.
type Segment struct {
	Band  string
	Label string
	Count int64
	X, W  float64
	Class string
}

// Page is the scores page.
type Page struct {
	Q             Query
	Crowds        []Choice
	BusinessTypes []Choice
	Statuses      []Choice
	Owners        []Choice
	Products      []string
	// CrowdNeverListed: the crowd's members were never listed here; the
	// first refresh lists them.
	CrowdNeverListed bool
	// NoPopulation: a crowd population without a crowd chosen.
	NoPopulation bool
	Population   int64
	Scored       int64
	Fresh        Freshness
	Histogram    Histogram
	Bands        BandChart
	Heatmap      Heatmap
	Top, Bottom  []Item
	PerStatus    []StatusRow
	StatusBands  []BandKey // the legend of PerStatus
	Since        string    // the movers' default date (YYYY-MM-DD)
	CanFetch     bool
	Job          *FetchJob
	Notice       string
	Error        string
}

// Unscored is the population's ids without a score of the kind.
func (p Page) Unscored() int64 { return max(p.Population-p.Scored, 0) }

// MoversPage is the movers fragment.
type MoversPage struct {
	Q       Query
	Since   string
	Rising  []Mover
	Falling []Mover
	Error   string
}

// SelectionPanel is the selection fragment (and page).
type SelectionPanel struct {
	Q         Query
	Sel       Selection
	Describe  []string // the selection in words
	Count     int64    // scored ids of the selection
	Persons   int      // distinct persons
	Preview   []Item
	CanSave   bool // marketers and administrators
	CanExport bool
	CanClear  bool // administrators, for persons' activity
	// Save and clear forms kept on an error.
	Name, Description, Typed string
	SaveError, ClearError    string
	ClearWho                 []Item // the first persons of the clearing
}

// --- geometry ---

// Chart sizes (SVG user units).
const (
	HistWidth   = 560
	HistHeight  = 180
	HistBase    = 150 // the bars' baseline; labels below
	HistTop     = 16  // room for the count above the tallest bar
	BandLabelW  = 80
	BandBarW    = 300
	BandRowH    = 26
	SparkWidth  = 120
	SparkHeight = 28
	StackWidth  = 240
)

// Bucket is one bar of the histogram as drawn.
type Bucket struct {
	Label      string
	Count      int64
	X, Y, W, H float64
}

// Histogram is the distribution chart.
type Histogram struct {
	Buckets []Bucket
	Total   int64
}

// BucketLabels names the histogram's buckets: "0–9", "10–19", …; the last
// one open ("200+") when last is open, else closed at top.
func BucketLabels(width, count int, open bool, top int) []string {
	out := make([]string, count)
	for i := range out {
		lo, hi := i*width, (i+1)*width-1
		switch {
		case i == count-1 && open:
			out[i] = strconv.Itoa(lo) + "+"
		case i == count-1:
			out[i] = strconv.Itoa(lo) + "–" + strconv.Itoa(max(top, hi))
		default:
			out[i] = strconv.Itoa(lo) + "–" + strconv.Itoa(hi)
		}
	}
	return out
}

// HistogramGeometry lays counts out as vertical bars in width × the area
// between top and base: equal widths with a gap, heights proportional to
// the largest count (a non-zero count at least 1 unit tall).
func HistogramGeometry(counts []int64, labels []string, width, top, base float64) Histogram {
	h := Histogram{}
	if len(counts) == 0 {
		return h
	}
	var most int64
	for _, c := range counts {
		most = max(most, c)
		h.Total += c
	}
	slot := width / float64(len(counts))
	gap := math.Min(4, slot/5)
	for i, c := range counts {
		b := Bucket{Count: c, X: float64(i)*slot + gap/2, W: slot - gap}
		if i < len(labels) {
			b.Label = labels[i]
		}
		if most > 0 && c > 0 {
			b.H = math.Max(float64(c)/float64(most)*(base-top), 1)
		}
		b.Y = base - b.H
		h.Buckets = append(h.Buckets, b)
	}
	return h
}

// BandKey is one band of a kind: its value and its label.
type BandKey struct{ Value, Label string }

// BandBar is one horizontal bar of the bands chart.
type BandBar struct {
	BandKey
	Count int64
	W     float64
	Y     int
	Class string
}

// BandChart is the bar chart of bands.
type BandChart struct {
	Bars   []BandBar
	Height int
}

// BandGeometry lays the bands out as horizontal bars as long as their
// share of the largest (a non-zero count at least 1 unit long).
func BandGeometry(keys []BandKey, counts map[string]int64, width float64) BandChart {
	var most int64
	for _, k := range keys {
		most = max(most, counts[k.Value])
	}
	ch := BandChart{Height: max(len(keys), 1) * BandRowH}
	for i, k := range keys {
		b := BandBar{BandKey: k, Count: counts[k.Value], Y: i * BandRowH, Class: "band-" + cssToken(k.Value)}
		if most > 0 && b.Count > 0 {
			b.W = math.Max(float64(b.Count)/float64(most)*width, 1)
		}
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

// HeatCell is one cell of the grade × level matrix.
type HeatCell struct {
	Grade, Level string
	Count        int64
	Shade        int // 0 (none) … 4 (the most)
}

// Heatmap is the matrix, rows by grade, columns by level.
type Heatmap struct {
	Grades []string
	Levels []BandKey
	Rows   [][]HeatCell
	Total  int64
}

// Shade is count's shade of 0 (nothing) to 4 (the largest cell): a
// non-zero count is at least 1.
func Shade(count, most int64) int {
	if count <= 0 || most <= 0 {
		return 0
	}
	return min(4, max(1, int(math.Ceil(float64(count)/float64(most)*4))))
}

// HeatmapGeometry shades the matrix's cells by count.
func HeatmapGeometry(grades []string, levels []BandKey, matrix map[[2]string]int64) Heatmap {
	hm := Heatmap{Grades: grades, Levels: levels}
	var most int64
	for _, g := range grades {
		for _, l := range levels {
			most = max(most, matrix[[2]string{g, l.Value}])
		}
	}
	for _, g := range grades {
		var row []HeatCell
		for _, l := range levels {
			n := matrix[[2]string{g, l.Value}]
			hm.Total += n
			row = append(row, HeatCell{Grade: g, Level: l.Value, Count: n, Shade: Shade(n, most)})
		}
		hm.Rows = append(hm.Rows, row)
	}
	return hm
}

// StackGeometry lays a status's band counts out as one stacked bar of width.
func StackGeometry(keys []BandKey, counts map[string]int64, width float64) (total int64, parts []Segment) {
	for _, k := range keys {
		total += counts[k.Value]
	}
	x := 0.0
	for _, k := range keys {
		n := counts[k.Value]
		if n <= 0 || total <= 0 {
			continue
		}
		w := float64(n) / float64(total) * width
		parts = append(parts, Segment{Band: k.Value, Label: k.Label, Count: n, X: x, W: w, Class: "band-" + cssToken(k.Value)})
		x += w
	}
	return total, parts
}

// Spark is a trend line: the polyline's points, and the last point.
type Spark struct {
	Points       string
	LastX, LastY float64
	Min, Max     float64
	N            int
}

// SparkGeometry draws values (oldest first) as a polyline in w × h with a
// 2-unit margin; equal values draw a flat line across the middle. Fewer
// than two values draw nothing (N says how many there were).
func SparkGeometry(values []float64, w, h float64) Spark {
	sp := Spark{N: len(values)}
	if len(values) == 0 {
		return sp
	}
	sp.Min, sp.Max = values[0], values[0]
	for _, v := range values {
		sp.Min, sp.Max = math.Min(sp.Min, v), math.Max(sp.Max, v)
	}
	if len(values) < 2 {
		return sp
	}
	const m = 2.0
	var b strings.Builder
	for i, v := range values {
		x := m + float64(i)/float64(len(values)-1)*(w-2*m)
		y := h / 2
		if sp.Max > sp.Min {
			y = m + (sp.Max-v)/(sp.Max-sp.Min)*(h-2*m)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f1(x) + "," + f1(y))
		sp.LastX, sp.LastY = x, y
	}
	sp.Points = b.String()
	return sp
}

// Trend is one kind and model's current score with its history.
type Trend struct {
	Kind, Model string
	Score       float64
	Band        string
	At          int64
	Values      []float64
	Spark       Spark
}

// Card is a scores card with trends (a person's page, a lead's card).
type Card struct {
	Trends []Trend
	Error  string
}

// --- small helpers ---

func f1(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func itoa(n int) string { return strconv.Itoa(n) }

// FmtScore writes a score without needless decimals.
func FmtScore(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }

// cssToken keeps letters, digits and '-' of a band for a class name.
func cssToken(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "other"
	}
	return b.String()
}

// KindName is a kind in words.
func KindName(ctx context.Context, kind string) string { return ui.T(ctx, "scores.kind."+kind) }

// BandName is a grade or level in words (an unknown one as the platform wrote it).
func BandName(ctx context.Context, band string) string {
	switch band {
	case "hot", "warm", "cold", "inactive", "high", "medium", "low":
		return ui.T(ctx, "scores.level."+band)
	case "":
		return "—"
	}
	return band
}

func moverDelta(m Mover) string {
	d := m.To - m.From
	if d > 0 {
		return "+" + FmtScore(d)
	}
	return FmtScore(d)
}

func sortLink(q Query, key string) string { return q.With(PagePath, "sort", key) + "#scores-tables" }

func ariaSort(on bool) string {
	if on {
		return "descending"
	}
	return "none"
}

func withSel(path string, s SelectionPanel) string {
	v := s.Q.Values()
	for k, vals := range s.Sel.Values() {
		v[k] = vals
	}
	return path + "?" + v.Encode()
}

func stackTitle(ctx context.Context, r StatusRow) string {
	var parts []string
	for _, s := range r.Parts {
		parts = append(parts, s.Label+" "+ui.Num(ctx, s.Count))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " · ")
}

// PersonPage is a person's page: what the console knows of them.
type PersonPage struct {
	UUID       string
	Identities []PersonIdentity
	Masked     bool
	Crowds     []PersonCrowd
	Imports    []PersonImport
	CardURL    string
}

// PersonIdentity is an identity an import resolved to the person.
type PersonIdentity struct {
	Value, Kind, Name string
}

// PersonCrowd is a local crowd the person is listed in.
type PersonCrowd struct {
	ID     int64
	Name   string
	Joined int64
}

// PersonImport is an import that held the person.
type PersonImport struct {
	ID              int64
	FileName, Crowd string
	Value, Kind     string
	Created         bool
	At              int64
}

func identityKind(ctx context.Context, kind string) string {
	switch kind {
	case "mobile", "email", "omni_user_uuid", "wechat_openid", "wechat_unionid":
		return ui.T(ctx, "scores.person.kind."+kind)
	}
	return kind
}
