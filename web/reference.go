package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/roles"
	"github.com/jingdesk/jingdesk/templates/settings"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// ReferenceData is what the web layer needs of the reference-data service (internal/refdata).
type ReferenceData interface {
	Sets(ctx context.Context) ([]refdata.SetInfo, error)
	Items(ctx context.Context, key string) ([]refdata.Item, error)
	Tree(ctx context.Context, key string) ([]*refdata.TreeNode, error)
	RequestRefresh(ctx context.Context, userID int64, key string) (int64, error)
	ActiveRefresh(ctx context.Context) (int64, bool, error)
	Resolver() *refdata.Resolver
}

// Settings → Reference data: every set with its count, age and last
// change, each set's entries, and refreshing one set or all of them as a
// background job whose progress the page follows.

// refKeyMax bounds a set key from a form or a query string.
const refKeyMax = 300

// referenceArea is Settings → Reference data.
type referenceArea struct {
	*kit
	ref  ReferenceData
	jobs interface {
		Job(ctx context.Context, id int64) (db.Job, error)
	}
}

func (a *referenceArea) showReference(c echo.Context) error {
	v, err := a.referenceSets(c)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "settings.tab.reference"), Section: "settings", Body: settings.Reference(v)})
}

// showReferenceSets is what the page polls while a refresh runs.
func (a *referenceArea) showReferenceSets(c echo.Context) error {
	v, err := a.referenceSets(c)
	if err != nil {
		return err
	}
	return a.renderFragment(c, http.StatusOK, settings.ReferenceSetsTable(v))
}

// referenceSets reads the refresh job before the sets: a refresh that ends
// in between then shows its results at once, rather than the old copy
// with no timer left to fetch the new one.
func (a *referenceArea) referenceSets(c echo.Context) (settings.ReferenceSets, error) {
	ctx := c.Request().Context()
	refresh, err := a.activeRefresh(ctx)
	if err != nil {
		return settings.ReferenceSets{}, err
	}
	sets, err := a.ref.Sets(ctx)
	if err != nil {
		return settings.ReferenceSets{}, err
	}
	v := settings.ReferenceSets{Now: a.now().Unix(), Refresh: refresh, CanRefresh: roles.Works(currentUser(c).Role)}
	v.Groups = groupSets(c, sets)
	return v, nil
}

// activeRefresh is the queued or running refresh job with its progress, or nil.
func (a *referenceArea) activeRefresh(ctx context.Context) (*settings.RefRefresh, error) {
	id, ok, err := a.ref.ActiveRefresh(ctx)
	if err != nil || !ok {
		return nil, err
	}
	j, err := a.jobs.Job(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if j.State != db.JobQueued && j.State != db.JobRunning {
		return nil, nil // finished (or paused) since: nothing moves
	}
	return &settings.RefRefresh{JobID: j.ID, State: j.State, Total: j.Total, Done: j.Done, Failed: j.Failed}, nil
}

// groupOrder puts leads first, then accounts, other objects, and the sets
// of no object (members) last.
func groupOrder(object string) int {
	switch object {
	case "lead":
		return 0
	case "account":
		return 1
	case "":
		return 3
	}
	return 2
}

// groupSets groups the sets by object, keeping the service's order within each.
func groupSets(c echo.Context, sets []refdata.SetInfo) []settings.RefGroup {
	var groups []settings.RefGroup
	at := map[string]int{}
	for _, si := range sets {
		i, ok := at[si.Object]
		if !ok {
			i = len(groups)
			at[si.Object] = i
			groups = append(groups, settings.RefGroup{Object: si.Object})
		}
		groups[i].Sets = append(groups[i].Sets, refSet(c, si))
	}
	slices.SortStableFunc(groups, func(a, b settings.RefGroup) int { return groupOrder(a.Object) - groupOrder(b.Object) })
	return groups
}

// refSet shapes a set for the screen; its failure is told in the user's
// language (the platform error's own sentence), never as Go error text.
func refSet(c echo.Context, si refdata.SetInfo) settings.RefSet {
	r := settings.RefSet{Key: si.Key, Kind: si.Kind, Object: si.Object, Scope: si.Scope, ScopeName: si.ScopeName,
		Count: si.Count, FetchedAt: unix(si.FetchedAt), LastAttemptAt: unix(si.LastAttemptAt), Stale: si.Stale}
	if si.LastErr != nil || si.LastError != "" {
		r.Error = t(c, "refdata.error.unknown")
		if e, ok := jing.AsError(si.LastErr); ok {
			r.Error = state(c).loc.Message(e.Message())
		}
	}
	if ch := si.LastChange; ch != nil {
		r.Change = &settings.RefChange{At: unix(ch.At), Added: itemChanges(ch.Added), Renamed: itemChanges(ch.Renamed),
			Removed: itemChanges(ch.Removed)}
	}
	return r
}

func itemChanges(in []refdata.ItemChange) []settings.RefItemChange {
	out := make([]settings.RefItemChange, len(in))
	for i, ch := range in {
		out[i] = settings.RefItemChange{ID: ch.ID, Before: ch.Before, After: ch.After}
	}
	return out
}

// unix is a time in Unix seconds, 0 for the zero time.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// findSet is the set with key, or a 404.
func findSet(ctx context.Context, rd ReferenceData, key string) (refdata.SetInfo, error) {
	if key == "" || len(key) > refKeyMax {
		return refdata.SetInfo{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	sets, err := rd.Sets(ctx)
	if err != nil {
		return refdata.SetInfo{}, err
	}
	for _, si := range sets {
		if si.Key == key {
			return si, nil
		}
	}
	return refdata.SetInfo{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
}

// showReferenceSet is one set's entries: the fields table, an option set's
// tree, or a plain list.
func (a *referenceArea) showReferenceSet(c echo.Context) error {
	ctx := c.Request().Context()
	si, err := findSet(ctx, a.ref, c.QueryParam("key"))
	if err != nil {
		return err
	}
	refresh, err := a.activeRefresh(ctx)
	if err != nil {
		return err
	}
	v := settings.ReferenceSetPage{Now: a.now().Unix(), Set: refSet(c, si), CanRefresh: roles.Works(currentUser(c).Role),
		Refreshing: refresh != nil}
	lang := state(c).loc.Lang
	if si.Kind == refdata.KindOptionTree {
		roots, err := a.ref.Tree(ctx, si.Key)
		if err != nil {
			return setError(err)
		}
		v.Tree = refNodes(roots, lang)
	} else {
		items, err := a.ref.Items(ctx, si.Key)
		if err != nil {
			return setError(err)
		}
		for _, it := range items {
			v.Items = append(v.Items, refItem(it, it.Name))
		}
	}
	return a.render(c, http.StatusOK, View{Title: settings.SetName(ctx, v.Set), Section: "settings", Body: settings.ReferenceSet(v)})
}

// setError maps a set that vanished (the connection changed) to a 404.
func setError(err error) error {
	if errors.Is(err, refdata.ErrUnknownSet) {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return err
}

func refItem(it refdata.Item, name string) settings.RefItem {
	return settings.RefItem{ID: it.ID, Name: name, NameEn: it.NameEn, Sort: it.Sort, Type: it.Type, Preset: it.Preset,
		Required: it.Required, Writable: it.Writable, Email: it.Email, Department: it.Department, Status: it.Status}
}

// refNodes converts a tree, naming each node in the user's language.
func refNodes(in []*refdata.TreeNode, lang string) []*settings.RefNode {
	out := make([]*settings.RefNode, 0, len(in))
	for _, n := range in {
		if n == nil {
			continue
		}
		out = append(out, &settings.RefNode{RefItem: refItem(n.Item, n.DisplayName(lang)), Children: refNodes(n.Children, lang)})
	}
	return out
}

// refreshReference starts a refresh of one set (form field key) or of all.
// Requests coalesce in the service: while one runs, asking again joins it.
// htmx gets the table back in its refreshing state (it then polls until
// the job ends); a plain form goes back with a message.
func (a *referenceArea) refreshReference(c echo.Context) error {
	ctx := c.Request().Context()
	key := strings.TrimSpace(c.FormValue("key"))
	if key != "" {
		if _, err := findSet(ctx, a.ref, key); err != nil {
			return err
		}
	}
	before, wasActive, err := a.ref.ActiveRefresh(ctx)
	if err != nil {
		return err
	}
	id, err := a.ref.RequestRefresh(ctx, currentUser(c).ID, key)
	if err != nil {
		return setError(err)
	}
	object, what := key, summary("refresh_set", msg.Str("Set", key))
	if key == "" {
		object, what = "all", summary("refresh_all")
	}
	said := summary("refresh", msg.Nested("What", what), msg.Int("Job", id))
	joined := wasActive && before == id
	if joined {
		said = summary("refresh_joined", msg.Nested("What", what), msg.Int("Job", id))
	}
	a.audit(c, db.AuditEntry{Action: "refdata.refresh", Object: object, Summary: said.Encode()})
	if wantsFragment(c) {
		v, err := a.referenceSets(c)
		if err != nil {
			return err
		}
		return a.renderFragment(c, http.StatusOK, settings.ReferenceSetsTable(v))
	}
	flash := t(c, "refdata.flash.started")
	if joined {
		flash = t(c, "refdata.flash.joined")
	}
	next := settings.ReferencePath
	if n := c.FormValue("next"); n != "" {
		next = safeNext(n)
	}
	return redirectWithFlash(c, ui.FlashSuccess, flash, next)
}
