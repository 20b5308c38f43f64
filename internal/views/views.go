// Package views owns the saved views of the leads board and list: a
// named URL with an owner. The URL stays the source of truth: a view
// holds the page's query string as the page writes it, and opening a view
// opens that URL, so a view shows exactly what the bookmark would and a
// filter the pipeline no longer has is dropped by the page as for any old
// bookmark.
//
// Who sees what: a private view is its owner's only; a shared one is
// listed to the whole team. Only the owner (or an administrator) renames,
// re-saves, shares or deletes a view. Each user has at most one default
// per page (their own view or a shared one); opening the page without a
// query opens it.
package views

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/roles"
)

// Pages a view can be of.
const (
	Board = "board"
	List  = "list"
)

// Bounds of a view.
const (
	NameMax  = 80   // characters
	QueryMax = 2000 // bytes of the query string
)

// Refusals.
var (
	ErrNoName     = msg.Refuse(msg.Invalid, "views.error.no_name").On("name")
	ErrNameLong   = msg.Refuse(msg.Invalid, "views.error.name_long", msg.Int("Max", NameMax)).On("name")
	ErrQueryLong  = msg.Refuse(msg.Invalid, "views.error.query_long")
	ErrBadPage    = msg.Refuse(msg.Invalid, "views.error.page")
	ErrNotFound   = msg.Refuse(msg.NotFound, "views.error.not_found")
	ErrNotYours   = msg.Refuse(msg.Forbidden, "views.error.not_yours")
	errNoIdentity = errors.New("views: no user")
)

// Store is what the service keeps views in (a *db.Store).
type Store interface {
	SavedViews(ctx context.Context, userID int64, page string) ([]db.SavedView, error)
	SavedView(ctx context.Context, userID, id int64) (db.SavedView, error)
	DefaultView(ctx context.Context, userID int64, page string) (db.SavedView, error)
	CreateSavedView(ctx context.Context, v db.SavedView) (db.SavedView, error)
	UpdateSavedView(ctx context.Context, v db.SavedView) error
	DeleteSavedView(ctx context.Context, id int64) error
	SetDefaultView(ctx context.Context, userID int64, page string, id int64) error
}

// Service is the saved views' rules.
type Service struct{ store Store }

// New is the service over store.
func New(store Store) *Service { return &Service{store: store} }

// Draft is what a user asks to save.
type Draft struct {
	Page    string
	Name    string
	Query   string // the page's query string
	Shared  bool
	Default bool // also make it the user's default of its page
}

// View is a saved view as a user sees it.
type View struct {
	db.SavedView
	Mine     bool // the reader owns it
	Editable bool // the reader may rename, re-save, share or delete it
}

// URL is the view's page with its query.
func (v View) URL(path string) string {
	if v.Query == "" {
		return path
	}
	return path + "?" + v.Query
}

// Visible are the views of page u may open: their own, then those shared
// with the team.
func (s *Service) Visible(ctx context.Context, u *db.User, page string) ([]View, error) {
	if u == nil {
		return nil, errNoIdentity
	}
	if !validPage(page) {
		return nil, ErrBadPage
	}
	saved, err := s.store.SavedViews(ctx, u.ID, page)
	if err != nil {
		return nil, err
	}
	out := make([]View, len(saved))
	for i, v := range saved {
		out[i] = seenBy(u, v)
	}
	return out, nil
}

// Open is a view u may open (theirs or shared).
func (s *Service) Open(ctx context.Context, u *db.User, id int64) (View, error) {
	if u == nil {
		return View{}, errNoIdentity
	}
	v, err := s.store.SavedView(ctx, u.ID, id)
	if errors.Is(err, db.ErrNotFound) || (err == nil && v.OwnerID != u.ID && !v.Shared) {
		return View{}, ErrNotFound // a private view of someone else is not there for u
	}
	if err != nil {
		return View{}, err
	}
	return seenBy(u, v), nil
}

// Default is u's default view of page; ok is false when there is none.
func (s *Service) Default(ctx context.Context, u *db.User, page string) (View, bool, error) {
	if u == nil {
		return View{}, false, nil
	}
	v, err := s.store.DefaultView(ctx, u.ID, page)
	if errors.Is(err, db.ErrNotFound) {
		return View{}, false, nil
	}
	if err != nil {
		return View{}, false, err
	}
	return seenBy(u, v), true, nil
}

// Create saves a new view of u's.
func (s *Service) Create(ctx context.Context, u *db.User, d Draft) (View, error) {
	if u == nil {
		return View{}, errNoIdentity
	}
	name, query, err := checkDraft(d)
	if err != nil {
		return View{}, err
	}
	v, err := s.store.CreateSavedView(ctx, db.SavedView{OwnerID: u.ID, OwnerName: u.Username, Page: d.Page, Name: name, Query: query, Shared: d.Shared})
	if err != nil {
		return View{}, err
	}
	if d.Default {
		if err := s.store.SetDefaultView(ctx, u.ID, d.Page, v.ID); err != nil {
			return View{}, err
		}
		v.Default = true
	}
	return seenBy(u, v), nil
}

// Change is an edit of a view: a new name, sharing, and (when Query is
// not nil) the page's current query to save in it.
type Change struct {
	Name   string
	Shared bool
	Query  *string
}

// Update renames, re-shares or re-saves a view of u's (or any, for an
// administrator). It returns the view before and after.
func (s *Service) Update(ctx context.Context, u *db.User, id int64, ch Change) (before, after View, err error) {
	before, err = s.editable(ctx, u, id)
	if err != nil {
		return View{}, View{}, err
	}
	next := before.SavedView
	d := Draft{Page: next.Page, Name: ch.Name, Query: next.Query}
	if ch.Query != nil {
		d.Query = *ch.Query
	}
	if next.Name, next.Query, err = checkDraft(d); err != nil {
		return View{}, View{}, err
	}
	next.Shared = ch.Shared
	if err := s.store.UpdateSavedView(ctx, next); err != nil {
		return View{}, View{}, notFound(err)
	}
	return before, seenBy(u, next), nil
}

// Delete deletes a view of u's (or any, for an administrator), and with
// it every user's default naming it.
func (s *Service) Delete(ctx context.Context, u *db.User, id int64) (View, error) {
	v, err := s.editable(ctx, u, id)
	if err != nil {
		return View{}, err
	}
	return v, notFound(s.store.DeleteSavedView(ctx, id))
}

// MakeDefault makes a view u may open u's default of its page; on false,
// u has no default of that page any more (if it was this one).
func (s *Service) MakeDefault(ctx context.Context, u *db.User, id int64, on bool) (View, error) {
	v, err := s.Open(ctx, u, id)
	if err != nil {
		return View{}, err
	}
	switch {
	case on:
		err = s.store.SetDefaultView(ctx, u.ID, v.Page, v.ID)
	case v.Default:
		err = s.store.SetDefaultView(ctx, u.ID, v.Page, 0)
	}
	v.Default = on
	return v, err
}

// editable is a view u may change: their own, or any for an administrator.
func (s *Service) editable(ctx context.Context, u *db.User, id int64) (View, error) {
	v, err := s.Open(ctx, u, id)
	if err != nil {
		return View{}, err
	}
	if !v.Editable {
		return View{}, ErrNotYours
	}
	return v, nil
}

func seenBy(u *db.User, v db.SavedView) View {
	mine := v.OwnerID == u.ID
	return View{SavedView: v, Mine: mine, Editable: mine || u.Role == roles.Admin}
}

func validPage(p string) bool { return p == Board || p == List }

// checkDraft is a draft's name, trimmed, and its query as stored: the
// page number and the view marker are not part of a view.
func checkDraft(d Draft) (name, query string, err error) {
	if !validPage(d.Page) {
		return "", "", ErrBadPage
	}
	name = strings.TrimSpace(d.Name)
	switch {
	case name == "":
		return "", "", ErrNoName
	case utf8.RuneCountInString(name) > NameMax:
		return "", "", ErrNameLong
	}
	q, err := url.ParseQuery(strings.TrimPrefix(d.Query, "?"))
	if err != nil {
		return "", "", ErrQueryLong
	}
	q.Del("page")
	q.Del(Param)
	for k, vs := range q {
		if len(vs) == 0 || (len(vs) == 1 && vs[0] == "") {
			q.Del(k)
		}
	}
	if query = q.Encode(); len(query) > QueryMax {
		return "", "", ErrQueryLong
	}
	return name, query, nil
}

// Param is the query parameter that names the view a page was opened
// from (and, as "none", opens the page without the user's default).
const Param = "view"

// NoDefault is Param's value that opens a page unfiltered even when the
// user has a default view.
const NoDefault = "none"

func notFound(err error) error {
	if errors.Is(err, db.ErrNotFound) {
		return ErrNotFound
	}
	return err
}
