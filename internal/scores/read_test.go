package scores

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/roles"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// cache is a service on a store filled by hand, with no platform behind
// it and a runner that never runs: what the views read and what the
// actions refuse, without fetching anything.
type cache struct {
	t        *testing.T
	store    *db.Store
	svc      *Service
	now      time.Time
	mia, ada Actor
}

// crowd is the cache's crowd: persons p01…p30, p01 scored highest.
const crowd = 7

var (
	viewer = Reader{Role: roles.Viewer}
	worker = Reader{Role: roles.Marketer}
	admin  = Reader{Role: roles.Admin}
)

func newCache(t *testing.T) *cache {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &cache{t: t, store: store, now: time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)}
	runner := jobs.New(store, jobs.Config{Logger: slog.New(slog.DiscardHandler)})
	cr, err := crowds.New(crowds.Config{Store: store, Platform: fixture.Fixed{}, Runner: runner, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c.svc, err = New(Config{Store: store, Platform: fixture.Fixed{}, Runner: runner, Crowds: cr, Now: func() time.Time { return c.now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		who  *Actor
		name string
		role string
	}{{&c.mia, "mia", roles.Marketer}, {&c.ada, "ada", roles.Admin}} {
		made, err := store.CreateUser(ctx, db.NewUser{Username: u.name, PasswordHash: "x", Role: u.role})
		if err != nil {
			t.Fatal(err)
		}
		*u.who = Actor{ID: made.ID, Username: made.Username, Role: made.Role}
	}
	var members []db.CrowdMemberRow
	var ids []string
	var grades, levels []db.FetchedScore
	for i := 1; i <= 30; i++ {
		id := fmt.Sprintf("p%02d", i)
		ids = append(ids, id)
		members = append(members, db.CrowdMemberRow{UUID: id, Joined: 1})
		grades = append(grades, db.FetchedScore{ID: id, Score: float64(100 - i), Band: Grades[(i-1)/8]})
		levels = append(levels, db.FetchedScore{ID: id, Score: float64(10 * (i % 3)), Band: Levels[i%3+1]})
	}
	if err := store.ReplaceCrowdMembers(ctx, crowd, members); err != nil {
		t.Fatal(err)
	}
	c.save(db.ScoreIdentity, ids, grades)
	c.save(db.ScoreActive, ids, levels)
	return c
}

func (c *cache) save(kind string, ids []string, got []db.FetchedScore) {
	c.t.Helper()
	if _, err := c.store.SaveScores(context.Background(), db.SubjectUser, kind, ids, got, c.now.Unix()); err != nil {
		c.t.Fatal(err)
	}
}

// identify records an import that resolved mobile (and name) to uuid.
func (c *cache) identify(uuid, mobile, name string) {
	c.t.Helper()
	ctx := context.Background()
	id, err := c.store.CreateImport(ctx, db.NewImport{UserID: c.mia.ID, FileName: "expo.csv"})
	if err != nil {
		c.t.Fatal(err)
	}
	row := db.ImportRow{Line: 2, Raw: mobile, Value: mobile, Name: name}
	if err := c.store.AddImportRows(ctx, id, 0, []db.ImportRow{row}); err != nil {
		c.t.Fatal(err)
	}
	row.State, row.UUID = "resolved", uuid
	if err := c.store.SetImportRows(ctx, id, []db.ImportRow{row}); err != nil {
		c.t.Fatal(err)
	}
}

func crowdView(kind string) View {
	return View{Pop: PopCrowd, Crowd: crowd, Kind: kind, Sort: SortScore}
}

// The overview: the figures, the top and bottom by score (or by name),
// persons named by their imported identity, masked for a viewer.
func TestOverviewOfACrowd(t *testing.T) {
	c := newCache(t)
	c.identify("p01", "13812345678", "王伟")
	ctx := context.Background()
	o, err := c.svc.Overview(ctx, crowdView(db.ScoreIdentity), viewer, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if o.Summary.Population != 30 || o.Summary.Scored != 30 || o.CrowdNeverListed || o.Fresh.Stale != 0 {
		t.Fatalf("figures: %+v fresh %+v", o.Summary, o.Fresh)
	}
	if len(o.Top) != Shown || len(o.Bottom) != Shown || o.Top[0].ID != "p01" || o.Bottom[0].ID != "p30" || !o.Top[0].IsPerson {
		t.Fatalf("top %v bottom %v", o.Top, o.Bottom)
	}
	if o.Top[0].Name != "王伟 · 138****5678" {
		t.Fatalf("a viewer reads %q", o.Top[0].Name)
	}
	if o.Since != "2026-03-13" {
		t.Fatalf("movers since %s", o.Since)
	}
	o, _ = c.svc.Overview(ctx, crowdView(db.ScoreIdentity), worker, time.UTC)
	if o.Top[0].Name != "王伟 · 13812345678" {
		t.Fatalf("a marketer reads %q", o.Top[0].Name)
	}
	byName := crowdView(db.ScoreIdentity)
	byName.Sort = SortName
	o, _ = c.svc.Overview(ctx, byName, worker, time.UTC)
	if o.Top[0].ID != "p02" || o.Top[len(o.Top)-1].Name != "王伟 · 13812345678" {
		t.Fatalf("by name: %v", o.Top)
	}
	// No crowd chosen: nothing read but the chooser's products.
	o, err = c.svc.Overview(ctx, View{Pop: PopCrowd, Kind: db.ScoreIdentity}, worker, time.UTC)
	if err != nil || o.Summary.Population != 0 || o.Top != nil {
		t.Fatalf("unchosen: %v %+v", err, o)
	}
	// Time passes: the cache is stale.
	c.now = c.now.Add(DefaultMaxAge + time.Minute)
	if o, _ = c.svc.Overview(ctx, crowdView(db.ScoreIdentity), worker, time.UTC); o.Fresh.Stale != 30 {
		t.Fatalf("stale %d", o.Fresh.Stale)
	}
}

// An intention view without a product shows the population's first.
func TestIntentionTakesTheFirstProduct(t *testing.T) {
	c := newCache(t)
	c.save(db.ScoreIntention, []string{"p01", "p02"}, []db.FetchedScore{
		{ID: "p01", Model: "轿车", Score: 40, Band: "medium"}, {ID: "p02", Model: "SUV", Score: 90, Band: "high"}})
	o, err := c.svc.Overview(context.Background(), crowdView(db.ScoreIntention), worker, time.UTC)
	if err != nil || !reflect.DeepEqual(o.Products, []string{"SUV", "轿车"}) || o.View.Product != "SUV" || o.Summary.Scored != 1 {
		t.Fatalf("%v: products %v, view %+v, scored %d", err, o.Products, o.View, o.Summary.Scored)
	}
}

// A selection's figures, and who a clearing would touch: shown to an
// administrator only.
func TestSelectCountsAndPreviews(t *testing.T) {
	c := newCache(t)
	ctx := context.Background()
	sel := Selection{Grades: []string{"A", "B"}}
	got, err := c.svc.Select(ctx, crowdView(db.ScoreIdentity), sel, worker)
	if err != nil || got.Count != 16 || got.Persons != 16 || len(got.Preview) != 16 || got.Preview[0].ID != "p01" || got.ClearWho != nil {
		t.Fatalf("%v: %+v", err, got)
	}
	got, _ = c.svc.Select(ctx, crowdView(db.ScoreActive), Selection{Min: "1"}, admin)
	if got.Count != 20 || len(got.Preview) != Shown || len(got.ClearWho) != Shown || !got.ClearWho[0].IsPerson {
		t.Fatalf("activity ≥ 1: %+v", got)
	}
	if got, err := c.svc.Select(ctx, View{Pop: PopCrowd, Kind: db.ScoreIdentity}, sel, admin); err != nil || got.Count != 0 {
		t.Fatalf("unchosen: %v %+v", err, got)
	}
}

type rows [][]any

func (r *rows) Write(cells ...any) error { *r = append(*r, cells); return nil }

// An export holds every row of the selection, in ExportColumns' order,
// the score to two decimals, persons masked for a viewer.
func TestExportHoldsEveryRow(t *testing.T) {
	c := newCache(t)
	c.identify("p03", "someone@example.cn", "")
	c.save(db.ScoreIdentity, []string{"p03"}, []db.FetchedScore{{ID: "p03", Score: 97.456, Band: "A"}})
	var got rows
	if err := c.svc.Export(context.Background(), crowdView(db.ScoreIdentity), Selection{}, viewer, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 30 || len(got[0]) != len(ExportColumns) {
		t.Fatalf("%d rows of %d cells", len(got), len(got[0]))
	}
	i := slices.IndexFunc(got, func(r []any) bool { return r[0] == "p03" })
	if want := []any{"p03", "s***@example.cn", "", 97.46, "A", "A", "cold"}; i < 0 || !reflect.DeepEqual(got[i], want) {
		t.Fatalf("p03's row %v", got[i])
	}
	if name := c.svc.ExportName(crowdView(db.ScoreActive), "xlsx"); name != "scores-active-20260320-1200.xlsx" {
		t.Fatalf("name %q", name)
	}
}

// Movers compare with the end of the day asked for, or of a week ago.
func TestMoversSinceTheEndOfADay(t *testing.T) {
	c := newCache(t)
	ctx := context.Background()
	c.now = c.now.Add(3 * 24 * time.Hour)
	c.save(db.ScoreActive, []string{"p01", "p02"}, []db.FetchedScore{{ID: "p01", Score: 99, Band: "hot"}, {ID: "p02", Score: 0, Band: "inactive"}})
	m, err := c.svc.Movers(ctx, crowdView(db.ScoreActive), "2026-03-20", worker, time.UTC)
	if err != nil || m.Since != "2026-03-20" || len(m.Rising) != 1 || m.Rising[0].ID != "p01" || m.Rising[0].From != 10 || m.Rising[0].To != 99 ||
		len(m.Falling) != 1 || m.Falling[0].ID != "p02" {
		t.Fatalf("%v: %+v", err, m)
	}
	// The day before the first fetch: nothing to compare with.
	if m, _ = c.svc.Movers(ctx, crowdView(db.ScoreActive), "2026-03-19", worker, time.UTC); len(m.Rising)+len(m.Falling) != 0 {
		t.Fatalf("before any score: %+v", m)
	}
	if m, _ = c.svc.Movers(ctx, crowdView(db.ScoreActive), "last tuesday", worker, time.UTC); m.Since != "2026-03-16" {
		t.Fatalf("default since %s", m.Since)
	}
}

// The actions refuse, each with its own sentence, before doing anything.
func TestActionsRefuse(t *testing.T) {
	c := newCache(t)
	ctx := context.Background()
	mia, ada := c.mia, c.ada
	view, all := crowdView(db.ScoreIdentity), Selection{}
	long := func(n int) string { return string(slices.Repeat([]rune("名"), n)) }
	for name, c := range map[string]struct {
		err  error
		want *msg.Error
	}{
		"no name":            {errOf(c.svc.SaveAsCrowd(ctx, mia, view, all, "  ", "")), ErrNoName},
		"a long name":        {errOf(c.svc.SaveAsCrowd(ctx, mia, view, all, long(crowds.CrowdNameMax+1), "")), ErrNameTooLong},
		"a long description": {errOf(c.svc.SaveAsCrowd(ctx, mia, view, all, "名", long(crowds.CrowdDescriptionMax+1))), ErrDescTooLong},
		"nobody selected":    {errOf(c.svc.SaveAsCrowd(ctx, mia, view, Selection{Grades: []string{"Z"}}, "名", "")), ErrEmptySelection},
		"no crowd chosen":    {errOf(c.svc.SaveAsCrowd(ctx, mia, View{Pop: PopCrowd}, all, "名", "")), ErrNoCrowdChosen},
		"a marketer clears":  {errOf(c.svc.RequestClear(ctx, mia, view, all, "30")), ErrNotAdmin},
		"a wrong count":      {errOf(c.svc.RequestClear(ctx, ada, view, all, "29")), ErrCountMismatch},
		"clearing nobody":    {errOf(c.svc.RequestClear(ctx, ada, view, Selection{Grades: []string{"Z"}}, "0")), ErrEmptySelection},
		"refreshing nothing": {errOf(c.svc.Refresh(ctx, mia.ID, View{Pop: PopCrowd})), ErrNoCrowdChosen},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", name, c.err, c.want)
		}
	}
	if kinds := []msg.Kind{ErrNotAdmin.Kind, ErrCountMismatch.Kind, ErrNoCrowds.Kind}; !slices.Equal(kinds, []msg.Kind{msg.Forbidden, msg.Invalid, msg.Unavailable}) {
		t.Errorf("kinds %v", kinds)
	}
	// The count may be typed with separators; the job is queued, not run.
	id, err := c.svc.RequestClear(ctx, ada, view, all, " 30 ")
	if err != nil {
		t.Fatal(err)
	}
	if j, err := c.store.Job(ctx, id); err != nil || j.Kind != ClearJobKind || j.Total != 30 || j.OwnerID != ada.ID {
		t.Fatalf("clear job: %v %+v", err, j)
	}
	if _, err := c.svc.FetchJob(ctx, id); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("a clearing read as a refresh: %v", err)
	}
	fetch, err := c.svc.Refresh(ctx, mia.ID, view)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.svc.Refresh(ctx, mia.ID, view); again != fetch {
		t.Fatal("a second refresh of the same view did not join the first")
	}
	if j, err := c.svc.FetchJob(ctx, fetch); err != nil || j.ID != fetch {
		t.Fatalf("refresh job: %v", err)
	}
}

func errOf(_ int64, err error) error { return err }

// A person's page: their identities once each (masked for a viewer),
// named, the imports that held them and the crowds that list them.
func TestPerson(t *testing.T) {
	c := newCache(t)
	c.identify("p05", "13912345678", "")
	c.identify("p05", "13912345678", "李娜")
	ctx := context.Background()
	p, err := c.svc.Person(ctx, "p05", viewer)
	if err != nil {
		t.Fatal(err)
	}
	want := []Identity{{Value: "139****5678", Name: "李娜"}}
	if !p.Masked || !reflect.DeepEqual(p.Identities, want) || len(p.Imports) != 2 || p.Imports[0].Value != "139****5678" ||
		len(p.Crowds) != 1 || p.Crowds[0].GroupID != crowd {
		t.Fatalf("%+v", p)
	}
	if p, _ = c.svc.Person(ctx, "p05", worker); p.Masked || p.Identities[0].Value != "13912345678" {
		t.Fatalf("a marketer's %+v", p)
	}
}

// A job asked for on one platform connection does not run on another:
// it fails saying so, in the reader's language.
func TestAJobStopsWhenTheConnectionChanged(t *testing.T) {
	c := newCache(t)
	if _, err := c.svc.clientFor("sandbox"); err != nil {
		t.Fatal(err)
	}
	_, err := c.svc.clientFor("https://platform.example")
	if !errors.Is(err, ErrConnectionChanged) {
		t.Fatalf("another connection: %v", err)
	}
	if m, ok := msg.Decode(msg.ErrorText(err)); !ok || m.ID != "scores.error.connection_changed" {
		t.Fatalf("stored as %q", msg.ErrorText(err))
	}
}
