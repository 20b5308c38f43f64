package scores

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/roles"
)

func parseView(query string) View {
	vals, _ := url.ParseQuery(query)
	return ParseView(vals.Get)
}

// A view's parameters give way to the defaults: an old or edited link
// still opens a page, never an error.
func TestParseViewFallsBackToTheDefaults(t *testing.T) {
	long := strings.Repeat("x", idMax+1)
	cases := []struct {
		query string
		want  View
	}{
		{"", View{Pop: PopAll, Kind: db.ScoreIdentity, Sort: SortScore}},
		{"pop=bogus&kind=bogus&sort=bogus", View{Pop: PopAll, Kind: db.ScoreIdentity, Sort: SortScore}},
		// A crowd named without a population is the crowd's view.
		{"crowd=42&kind=active", View{Pop: PopCrowd, Crowd: 42, Kind: db.ScoreActive, Sort: SortScore}},
		{"pop=type&crowd=42", View{Pop: PopType, Crowd: 42, Kind: db.ScoreIdentity, Sort: SortScore}},
		{"pop=crowd&crowd=-3", View{Pop: PopCrowd, Kind: db.ScoreIdentity, Sort: SortScore}},
		{"pop=leads&business_type=+bt1+&status=s1&owner=" + long + "&kind=intention&product=SUV&sort=name",
			View{Pop: PopLeads, BusinessType: "bt1", Status: "s1", Kind: db.ScoreIntention, Product: "SUV", Sort: SortName}},
		{"kind=intention&product=" + strings.Repeat("p", valueMax+1),
			View{Pop: PopAll, Kind: db.ScoreIntention, Sort: SortScore}},
	}
	for _, c := range cases {
		if got := parseView(c.query); got != c.want {
			t.Errorf("%q:\n got %+v\nwant %+v", c.query, got, c.want)
		}
	}
	if !parseView("pop=crowd").Unchosen() || parseView("pop=crowd&crowd=1").Unchosen() || parseView("").Unchosen() {
		t.Error("Unchosen is not a crowd view without its crowd")
	}
	if parseView("crowd=1").IsLeads() || !parseView("pop=type").IsLeads() {
		t.Error("IsLeads")
	}
}

// Only the chosen population's filters narrow it; a product only
// narrows intention.
func TestAViewQueriesOnlyItsPopulation(t *testing.T) {
	base := View{Crowd: 9, BusinessType: "bt", Status: "st", Owner: "ow", Kind: db.ScoreIdentity, Product: "SUV"}
	cases := map[string]db.ScorePopulation{
		PopCrowd: {GroupID: 9},
		PopType:  {Leads: db.LeadFilter{BusinessType: "bt"}},
		PopLeads: {Leads: db.LeadFilter{BusinessType: "bt", Status: "st", Owner: "ow"}},
		PopAll:   {},
	}
	for pop, want := range cases {
		v := base
		v.Pop = pop
		if got := v.query(); !reflect.DeepEqual(got, db.ScoreQuery{Pop: want, Kind: db.ScoreIdentity}) {
			t.Errorf("%s: %+v", pop, got)
		}
	}
	base.Pop, base.Kind = PopAll, db.ScoreIntention
	if q := base.query(); q.Product != "SUV" {
		t.Errorf("intention lost its product: %+v", q)
	}
}

// A selection is acted on, so a wrong one is refused, naming the
// parameter, rather than quietly narrowed.
func TestParseSelectionRefusesWhatItCannotUse(t *testing.T) {
	sel, err := ParseSelection(url.Values{"grade": {"A", " ", "B"}, "level": {"hot"}, "band": {"warm"}, "min": {" 1.5 "}, "max": {""}})
	if err != nil {
		t.Fatal(err)
	}
	want := Selection{Grades: []string{"A", "B"}, Levels: []string{"hot"}, Bands: []string{"warm"}, Min: "1.5"}
	if !reflect.DeepEqual(sel, want) {
		t.Fatalf("selection %+v", sel)
	}
	ds, err := sel.query()
	if err != nil || ds.MinScore == nil || *ds.MinScore != 1.5 || ds.MaxScore != nil || !reflect.DeepEqual(ds.Grades, want.Grades) {
		t.Fatalf("as the store's: %+v %v", ds, err)
	}
	eleven := make([]string, selectionItems+1)
	for i := range eleven {
		eleven[i] = "A"
	}
	for name, c := range map[string]struct {
		vals url.Values
		want error
	}{
		"too many values":              {url.Values{"level": eleven}, ErrSelectionTooBig},
		"too long a value":             {url.Values{"band": {strings.Repeat("b", valueMax+1)}}, ErrSelectionTooBig},
		"a bound that is not a number": {url.Values{"max": {"ten"}}, ErrNotAScore},
	} {
		_, err := ParseSelection(c.vals)
		if r, ok := msg.AsError(err); !errors.Is(err, c.want) || !ok || r.Kind != msg.Invalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := (Selection{Min: "x"}).query(); !errors.Is(err, ErrNotAScore) {
		t.Errorf("a selection made by hand with a wrong bound reached the store: %v", err)
	}
}

func TestBandsAndWhoMayClear(t *testing.T) {
	if !reflect.DeepEqual(Bands(db.ScoreIdentity), Grades) || !reflect.DeepEqual(Bands(db.ScoreActive), Levels) ||
		!reflect.DeepEqual(Bands(db.ScoreIntention), IntentionLevels) {
		t.Error("bands by kind")
	}
	if !MayClear(roles.Admin) || MayClear(roles.Marketer) || MayClear(roles.Viewer) || MayClear("") {
		t.Error("only administrators clear activity")
	}
	if (Reader{Role: roles.Viewer}).masked() != true || (Reader{Role: roles.Marketer}).masked() || (Reader{}).masked() != true {
		t.Error("viewers (and the unknown) read identities masked")
	}
}

// A card's trends: one per kind and model, in the kinds' order, each
// with its history's values oldest first.
func TestCardTrends(t *testing.T) {
	card := Card{
		History: []db.ScorePoint{
			{Kind: db.ScoreIntention, Model: "SUV", Score: 10, At: 1}, {Kind: db.ScoreActive, Score: 5, At: 1},
			{Kind: db.ScoreIdentity, Score: 70, Band: "B", At: 1}, {Kind: db.ScoreIntention, Model: "SUV", Score: 30, At: 2},
			{Kind: db.ScoreIdentity, Score: 80, Band: "A", At: 2}, {Kind: db.ScoreIntention, Model: "MPV", Score: 50, At: 2},
		},
	}
	card.Current = []db.ScorePoint{card.History[3], card.History[1], card.History[4], card.History[5]}
	got := card.Trends()
	var seen []string
	for _, tr := range got {
		seen = append(seen, tr.Kind+"/"+tr.Model)
	}
	if !reflect.DeepEqual(seen, []string{"identity/", "active/", "intention/SUV", "intention/MPV"}) {
		t.Fatalf("order %v", seen)
	}
	if !reflect.DeepEqual(got[0].Values, []float64{70, 80}) || got[0].Score != 80 || got[0].Band != "A" ||
		!reflect.DeepEqual(got[2].Values, []float64{10, 30}) || len(got[3].Values) != 1 {
		t.Fatalf("values %+v", got)
	}
}
