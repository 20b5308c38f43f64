package scores

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
)

// What the views read of the cache: a view's overview, its movers, a
// selection's figures. Each reads a handful of aggregate queries whatever
// the population's size, and names the ids it shows in one query.

// dateLayout is how a day is written in a view's address.
const dateLayout = "2006-01-02"

// moversShown is how many ids rose (and fell) the movers list.
const moversShown = 10

// Item is one scored id as a view shows it: a lead with its name and
// status (by name), or a person named by the identity an import resolved
// to them (masked for viewers).
type Item struct {
	ID       string
	Name     string
	Status   string
	Score    float64
	Band     string
	Grade    string
	Level    string
	IsPerson bool
}

// Overview is a view's page: the population's figures, how fresh its
// cache is, its top and bottom.
type Overview struct {
	// View is the view as shown: an intention view without a product shows
	// the population's first.
	View View
	// Products are the intention products scored in the population.
	Products []string
	// CrowdNeverListed: the crowd's members were never listed here (the
	// first refresh lists them).
	CrowdNeverListed bool
	Summary          db.ScoreSummary
	Fresh            db.ScoreFreshness
	Top, Bottom      []Item
	// Since is the day the movers compare with unless another is asked
	// for: a week ago, in the reader's zone (YYYY-MM-DD).
	Since string
}

// Overview reads the view's page for the reader. A crowd view without a
// crowd has only its products and Since.
func (s *Service) Overview(ctx context.Context, v View, r Reader, zone *time.Location) (Overview, error) {
	o := Overview{Since: s.moversSince("", zone).Format(dateLayout)}
	var err error
	if o.View, o.Products, err = s.withProduct(ctx, v); err != nil || v.Unchosen() {
		return o, err
	}
	v = o.View
	q := v.query()
	if v.Pop == PopCrowd {
		at, err := s.cfg.Store.CrowdMembersFetchedAt(ctx, v.Crowd)
		if err != nil {
			return o, err
		}
		o.CrowdNeverListed = at == 0
	}
	page, err := s.cfg.Store.ScoreView(ctx, q, s.cfg.Now().Add(-DefaultMaxAge).Unix(), Shown)
	if err != nil {
		return o, err
	}
	o.Summary, o.Fresh = page.Summary, page.Fresh
	items, err := s.named(ctx, v, r, append(page.Top, page.Bottom...)) // one identity lookup for both tables
	if err != nil {
		return o, err
	}
	o.Top, o.Bottom = items[:len(page.Top)], items[len(page.Top):]
	if v.Sort == SortName {
		byName(o.Top)
		byName(o.Bottom)
	}
	return o, nil
}

// withProduct is v with its product: an intention view without one
// shows the population's first. It returns the population's products.
func (s *Service) withProduct(ctx context.Context, v View) (View, []string, error) {
	products, err := s.cfg.Store.ScoreProducts(ctx, v.population().Subject())
	if err != nil {
		return v, nil, err
	}
	if v.Kind == db.ScoreIntention && v.Product == "" && len(products) > 0 {
		v.Product = products[0]
	}
	return v, products, nil
}

func byName(items []Item) {
	sort.SliceStable(items, func(i, j int) bool { return strings.ToLower(items[i].Name) < strings.ToLower(items[j].Name) })
}

// Movers are the ids whose score rose and fell most since a day.
type Movers struct {
	Since   string // the day compared with (YYYY-MM-DD)
	Rising  []Move
	Falling []Move
}

// Move is one id's score then and now.
type Move struct {
	Item
	From, To float64
}

// Movers compares the view's scores now with their value at the end of
// the day since (YYYY-MM-DD in zone; a week ago when it is not a date):
// "since the 3rd" is the score the 3rd ended with.
func (s *Service) Movers(ctx context.Context, v View, since string, r Reader, zone *time.Location) (Movers, error) {
	day := s.moversSince(since, zone)
	m := Movers{Since: day.Format(dateLayout)}
	if v.Unchosen() {
		return m, nil
	}
	if v.Kind == db.ScoreIntention && v.Product == "" {
		var err error
		if v, _, err = s.withProduct(ctx, v); err != nil {
			return m, err
		}
	}
	rising, falling, err := s.cfg.Store.ScoreMovers(ctx, v.query(), day.AddDate(0, 0, 1).Unix()-1, moversShown)
	if err != nil {
		return m, err
	}
	var items []Item
	for _, mv := range append(rising, falling...) {
		items = append(items, Item{ID: mv.ID, Name: mv.Name, Score: mv.To, IsPerson: !v.IsLeads()})
	}
	if !v.IsLeads() {
		if err := s.namePersons(ctx, r, items); err != nil {
			return m, err
		}
	}
	for i, mv := range rising {
		m.Rising = append(m.Rising, Move{Item: items[i], From: mv.From, To: mv.To})
	}
	for i, mv := range falling {
		m.Falling = append(m.Falling, Move{Item: items[len(rising)+i], From: mv.From, To: mv.To})
	}
	return m, nil
}

// moversSince is the start of the day movers compare with: date
// (YYYY-MM-DD in zone), or the day a week ago.
func (s *Service) moversSince(date string, zone *time.Location) time.Time {
	if d, err := time.ParseInLocation(dateLayout, date, zone); err == nil {
		return d
	}
	y, mo, d := s.cfg.Now().In(zone).AddDate(0, 0, -7).Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, zone)
}

// Selected is a selection's figures: what saving, exporting or clearing
// it would act on.
type Selected struct {
	Count   int64  // scored ids
	Persons int    // distinct persons (a crowd's ids, or the leads' persons)
	Preview []Item // the first Shown ids, highest score first
	// ClearWho are the first Shown persons a clearing of their activity
	// would touch: shown to those who may clear (MayClear) only.
	ClearWho []Item
}

// errEnough ends a walk of the cache after the rows wanted.
var errEnough = errors.New("scores: enough rows")

// Select reads the selection's figures for the reader. A crowd view
// without a crowd selects nothing.
func (s *Service) Select(ctx context.Context, v View, sel Selection, r Reader) (Selected, error) {
	var out Selected
	if v.Unchosen() {
		return out, nil
	}
	q := v.query()
	ds, err := sel.query()
	if err != nil {
		return out, err
	}
	if out.Count, err = s.cfg.Store.CountScored(ctx, q, ds); err != nil {
		return out, err
	}
	persons, err := s.cfg.Store.SelectedPersons(ctx, q, ds)
	if err != nil {
		return out, err
	}
	out.Persons = len(persons)
	var first []db.ScoredItem
	err = s.cfg.Store.EachScored(ctx, q, ds, func(it db.ScoredItem) error {
		if len(first) >= Shown {
			return errEnough
		}
		first = append(first, it)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return out, err
	}
	if out.Preview, err = s.named(ctx, v, r, first); err != nil {
		return out, err
	}
	if MayClear(r.Role) {
		for _, id := range persons[:min(len(persons), Shown)] {
			out.ClearWho = append(out.ClearWho, Item{ID: id, IsPerson: true})
		}
		if err := s.namePersons(ctx, r, out.ClearWho); err != nil {
			return out, err
		}
	}
	return out, nil
}

// named shapes scored ids for the reader: a lead's status by name, a
// person named by the identity an import resolved to them (one query for
// all of them).
func (s *Service) named(ctx context.Context, v View, r Reader, got []db.ScoredItem) ([]Item, error) {
	out := make([]Item, len(got))
	for i, it := range got {
		out[i] = Item{ID: it.ID, Name: it.Name, Status: it.Status, Score: it.Score, Band: it.Band,
			Grade: it.Grade, Level: it.Level, IsPerson: !v.IsLeads()}
		if n, ok := r.Statuses[it.Status]; ok {
			out[i].Status = n
		}
	}
	if v.IsLeads() {
		return out, nil
	}
	return out, s.namePersons(ctx, r, out)
}

// namePersons names persons by the identities imports resolved to them,
// masked for a reader who may not see contact data.
func (s *Service) namePersons(ctx context.Context, r Reader, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	known, err := s.cfg.Store.ImportedIdentities(ctx, ids)
	if err != nil {
		return err
	}
	for i, it := range items {
		if row, ok := known[it.ID]; ok {
			items[i].Name = personName(row, r.masked())
		}
	}
	return nil
}

// personName is "name · identity", or whichever of the two is known.
func personName(row db.ImportRow, mask bool) string {
	v := row.Value
	if mask {
		v = leads.Mask(v)
	}
	switch {
	case row.Name != "" && v != "":
		return row.Name + " · " + v
	case row.Name != "":
		return row.Name
	}
	return v
}
