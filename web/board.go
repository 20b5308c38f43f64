package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/views"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The leads board: one column per status of a business type's pipeline,
// read from the local copy; moves go to the platform through the leads
// service (internal/leads), which re-reads the lead first.

const (
	// boardPage is how many cards a column shows at first and per "more"
	// (when its end scrolls into view): a full column at 1920×1080 and
	// twice one at 1366×768, so the page stays light.
	boardPage = 12
	// moveNoteMax bounds a closing note (sent as the latest remark).
	moveNoteMax = 1000
)

// boardFilter reads the filter from the query (GET) or the form (a move
// carries the board's filter, for the counts it answers with). An unknown
// business type falls back to the default one.
func boardFilter(c echo.Context, r *refdata.Resolver) leadsview.Filter {
	f := leads.ReadFilter(c.FormValue)
	if !knownBusinessType(r, f.BusinessType) {
		f.BusinessType = r.DefaultBusinessType(leadObject)
	}
	return f
}

// knownBusinessType reports whether id is a business type of leads.
func knownBusinessType(r *refdata.Resolver, id string) bool {
	return slices.ContainsFunc(r.BusinessTypes(leadObject), func(bt refdata.Item) bool { return bt.ID == id })
}

// clip is s, or "" when longer than n bytes: an overlong value from a
// form or a query is dropped rather than cut.
func clip(s string, n int) string {
	if len(s) > n {
		return ""
	}
	return s
}

// boardCtx is what shaping cards needs, built once per request.
type boardCtx struct {
	r       *refdata.Resolver
	loc     *i18n.Localizer // per language; its zone is the server's
	lang    string
	now     int64
	canMove bool
	targets map[string][]leadsview.Target
}

func (a *leadsArea) newBoardCtx(c echo.Context, r *refdata.Resolver) *boardCtx {
	loc := state(c).loc
	return &boardCtx{r: r, loc: loc, lang: loc.Lang, now: a.now().Unix(), canMove: mayMove(currentUser(c)),
		targets: map[string][]leadsview.Target{}}
}

// pipeline is a business type's statuses as targets, cached per request.
func (a *leadsArea) pipeline(bc *boardCtx, businessType string) []leadsview.Target {
	if t, ok := bc.targets[businessType]; ok {
		return t
	}
	var out []leadsview.Target
	for _, st := range bc.r.Statuses(businessType) {
		out = append(out, leadsview.Target{Status: st.ID, Name: st.DisplayName(bc.lang),
			Closing: a.leads.ClosingStatus(businessType, st.ID)})
	}
	bc.targets[businessType] = out
	return out
}

// pipelineStatuses are the statuses of a pipeline's targets, in order.
func pipelineStatuses(pipe []leadsview.Target) []string {
	out := make([]string, len(pipe))
	for i, st := range pipe {
		out[i] = st.Status
	}
	return out
}

// card shapes a lead for the board (its "Move to…" list is asked for
// when opened: showMoveMenu).
func (a *leadsArea) card(bc *boardCtx, l db.Lead) leadsview.Card {
	since, precision := leads.Stage(l)
	cd := leadsview.Card{UUID: l.UUID, BusinessType: l.BusinessType, Status: l.Status, Name: l.Name, Company: l.Company,
		UpdatedAt: l.UpdatedAt, Now: bc.now, StageSince: since, StagePrecision: string(precision), Movable: bc.canMove}
	if l.Owner != "" {
		cd.Owner = bc.r.Member(bc.lang, l.Owner)
	}
	return cd
}

// cardLead is the pipelines and the lead of a card's request (404 when
// there are no pipelines to move in).
func (a *leadsArea) cardLead(c echo.Context) (*refdata.Resolver, db.Lead, error) {
	r, ok := a.pipelines()
	if !ok {
		return nil, db.Lead{}, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	l, err := a.targetLead(c)
	return r, l, err
}

// showMoveMenu is a card's "Move to…" list: the other statuses of its own
// pipeline (htmx asks for it when the menu is first opened; without
// script it is a page).
func (a *leadsArea) showMoveMenu(c echo.Context) error {
	r, l, err := a.cardLead(c)
	if err != nil {
		return err
	}
	bc := a.newBoardCtx(c, r)
	cd := a.card(bc, l)
	for _, t := range a.pipeline(bc, l.BusinessType) {
		if t.Status != l.Status {
			cd.Targets = append(cd.Targets, t)
		}
	}
	if wantsFragment(c) {
		return a.renderFragment(c, http.StatusOK, leadsview.MoveMenu(cd))
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "leads.move.menu"), Section: "leads", Body: leadsview.MovePage(cd)})
}

func (a *leadsArea) showLeadBoard(c echo.Context) error {
	title := t(c, "nav.leads")
	r, ok := a.pipelines()
	if !ok {
		return a.render(c, http.StatusOK, View{Title: title, Section: "leads", Body: leadsview.BoardPage(leadsview.Board{Unavailable: true})})
	}
	if gone, err := defaultViewRedirect(c, a.views, views.Board); gone || err != nil {
		return err
	}
	bc := a.newBoardCtx(c, r)
	f := boardFilter(c, r)
	bar, err := viewsBar(c, a.views, views.Board, f.Values())
	if err != nil {
		return err
	}
	// The version is read before the data, so a write racing the drawing
	// leaves the entry under a version no later request asks for.
	k := boardKey{version: a.copy.LeadsVersion(), resolver: r, lang: bc.lang, canMove: bc.canMove, filter: f}
	now := a.now()
	parts, ok := a.board.get(k, now)
	if !ok {
		if parts, err = a.board.draw(k, now, func() ([]byte, error) {
			// Not cancelled with this request: others may wait for it.
			return a.drawBoard(context.WithoutCancel(c.Request().Context()), bc, f)
		}); err != nil {
			return err
		}
	}
	// The views bar is the reader's own, so it is drawn outside the cache.
	body := templ.Join(leadsview.Views(bar, false), cachedBody(parts, csrfToken(c)))
	return a.render(c, http.StatusOK, View{Title: title, Section: "leads", Body: body})
}

// drawBoard renders the board's body for the cache: with the placeholder
// as its CSRF token and nothing else of the user's but the role in bc.
func (a *leadsArea) drawBoard(ctx context.Context, bc *boardCtx, f leadsview.Filter) ([]byte, error) {
	v, err := a.boardView(ctx, bc, f)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	pd := &ui.PageData{Section: "leads", CSRF: a.board.placeholder}
	if err := leadsview.BoardPage(v).Render(ui.WithPage(ctx, pd), &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// boardView reads what the board shows: the filter's choices, the copy's
// freshness and the first page of every column (db.Board: a broad
// filter's counts are lower bounds, shown as such).
func (a *leadsArea) boardView(ctx context.Context, bc *boardCtx, f leadsview.Filter) (leadsview.Board, error) {
	r := bc.r
	// Read before the data: a change racing the drawing is reported again.
	v := leadsview.Board{Now: bc.now, Filter: f, CanMove: bc.canMove, Seq: a.liveSeq(ctx)}
	var err error
	if v.FilterChoices, v.AsOf, err = a.filterChoices(ctx, r, bc.loc); err != nil {
		return v, err
	}
	pipe := a.pipeline(bc, f.BusinessType)
	cols, err := a.copy.Board(ctx, f.Select(bc.loc.Zone()), pipelineStatuses(pipe), boardPage)
	if err != nil {
		return v, err
	}
	for _, st := range pipe {
		c := cols[st.Status]
		col := leadsview.Column{Status: st.Status, Name: st.Name, Closing: st.Closing, Count: c.Count, AtLeast: c.AtLeast, Filter: f}
		for _, l := range c.Cards {
			col.Cards = append(col.Cards, a.card(bc, l))
		}
		if c.More {
			col.More = len(c.Cards)
		}
		v.Total += col.Count
		v.AtLeast = v.AtLeast || col.AtLeast
		v.Columns = append(v.Columns, col)
	}
	return v, nil
}

// column is a page of a status's cards from offset (a column's "more"):
// a page and one are read, so whether more follow is known without
// counting the column.
func (a *leadsArea) column(ctx context.Context, bc *boardCtx, f leadsview.Filter, st leadsview.Target, offset int) (leadsview.Column, error) {
	col := leadsview.Column{Status: st.Status, Name: st.Name, Closing: st.Closing, Filter: f}
	lf := f.Select(bc.loc.Zone())
	lf.Status, lf.Sort, lf.Limit, lf.Offset = st.Status, "updated", boardPage+1, offset
	page, err := a.copy.LeadsPage(ctx, lf)
	if err != nil {
		return col, err
	}
	if len(page) > boardPage {
		page, col.More = page[:boardPage], offset+boardPage
	}
	for _, l := range page {
		col.Cards = append(col.Cards, a.card(bc, l))
	}
	return col, nil
}

// showBoardColumn is the next page of one column (the sentinel at the
// column's end asks for it when scrolled into view).
func (a *leadsArea) showBoardColumn(c echo.Context) error {
	r, ok := a.pipelines()
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	bc := a.newBoardCtx(c, r)
	f := boardFilter(c, r)
	offset, err := strconv.Atoi(c.QueryParam("offset"))
	if err != nil || offset < 0 {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	status := c.QueryParam("status")
	for _, st := range a.pipeline(bc, f.BusinessType) {
		if st.Status == status {
			col, err := a.column(c.Request().Context(), bc, f, st, offset)
			if err != nil {
				return err
			}
			return a.renderFragment(c, http.StatusOK, leadsview.CardsPage(col))
		}
	}
	return echo.NewHTTPError(http.StatusNotFound, errNotFound)
}

// moveLead sends a card's move to the platform. htmx gets out-of-band
// swaps only (leadsview.MoveAnswer): the card lands in the column it now
// belongs to, with the counts. A plain form goes back to the board with a
// message.
//
//   - moved: 200, the card in its new column;
//   - the platform refused (*jing.Error): 422, the card back in its column
//     with the platform's message in the user's language;
//   - the lead changed on the platform since the copy the user saw: 409,
//     the card as it now is, and nothing written;
//   - a closing status without a note: 422, the card asking for the note.
func (a *leadsArea) moveLead(c echo.Context) error {
	r, l, err := a.cardLead(c)
	if err != nil {
		return err
	}
	to := strings.TrimSpace(c.FormValue("to"))
	note := strings.TrimSpace(c.FormValue("note"))
	if to == "" || len(to) > boardIDMax || len(note) > moveNoteMax {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	seen, err := strconv.ParseInt(c.FormValue("seen"), 10, 64)
	if err != nil {
		seen = l.UpdatedAt // no card time sent: the copy the board shows
	}
	bc, f := a.newBoardCtx(c, r), boardFilter(c, r)
	moved, err := a.leads.Move(c.Request().Context(), currentUser(c).Username, l.UUID, to, note, seen)
	entry := db.AuditEntry{Action: "lead.move", Object: "lead:" + l.UUID}
	fromName, _ := r.Status(bc.lang, l.BusinessType, l.Status)
	toName, _ := r.Status(bc.lang, l.BusinessType, to)
	what := summary("lead_move", msg.Str("Name", l.Name), msg.Str("From", fromName), msg.Str("To", toName))
	if err != nil {
		return a.moveNotMade(c, bc, f, l, to, err, entry, what)
	}
	entry.Summary = what.Encode()
	if note != "" {
		entry.Summary = summary("lead_move_note", msg.Nested("Move", what)).Encode()
	}
	a.audit(c, entry)
	name, _ := r.Status(bc.lang, moved.BusinessType, moved.Status)
	return a.answerMove(c, bc, f, http.StatusOK, a.card(bc, moved), ui.FlashSuccess, t(c, "leads.move.moved", "Name", moved.Name, "Status", name))
}

// moveNotMade answers a move the leads service did not make: a closing
// status without a note (the card asks for one), a lead changed on the
// platform (the card as it now is) or the platform's refusal (the card
// back in its column with the platform's sentence).
func (a *leadsArea) moveNotMade(c echo.Context, bc *boardCtx, f leadsview.Filter, l db.Lead, to string, err error, entry db.AuditEntry, what msg.Message) error {
	var changed *leads.ChangedUpstream
	switch {
	case errors.Is(err, leads.ErrNoteRequired):
		toName, _ := bc.r.Status(bc.lang, l.BusinessType, to)
		cd := a.card(bc, l)
		cd.NeedsNote = &leadsview.Target{Status: to, Name: toName, Closing: true}
		cd.Error = t(c, "leads.move.note_required", "Status", toName)
		return a.answerMove(c, bc, f, http.StatusUnprocessableEntity, cd, ui.FlashError, cd.Error)
	case errors.As(err, &changed):
		cur := changed.Current
		entry.Outcome = db.OutcomeFailed
		name, _ := bc.r.Status(bc.lang, cur.BusinessType, cur.Status)
		entry.Summary = summary("lead_move_stale", msg.Nested("Move", what), msg.Str("Now", name)).Encode()
		a.audit(c, entry)
		cd := a.card(bc, cur)
		cd.Notice = t(c, "leads.move.changed", "Status", name)
		return a.answerMove(c, bc, f, http.StatusConflict, cd, ui.FlashError, cd.Notice)
	}
	je, ok := a.auditRefusal(c, entry, what, err)
	if !ok {
		return err
	}
	if cur, err := a.copy.Lead(c.Request().Context(), l.UUID); err == nil {
		l = cur
	}
	cd := a.card(bc, l)
	cd.Error = bc.loc.Message(je.Message())
	return a.answerMove(c, bc, f, http.StatusUnprocessableEntity, cd, ui.FlashError, cd.Error)
}

// answerMove ends a move: the out-of-band swaps for htmx, otherwise back
// to the board with a message.
func (a *leadsArea) answerMove(c echo.Context, bc *boardCtx, f leadsview.Filter, status int, cd leadsview.Card, kind, msg string) error {
	if !isHTMX(c) {
		return redirectWithFlash(c, kind, msg, leadsview.BoardURL(f))
	}
	res := leadsview.MoveResult{Card: cd}
	// Counted as the board counts them (a broad filter's, lower bounds).
	pipe := a.pipeline(bc, f.BusinessType)
	cols, err := a.copy.Board(c.Request().Context(), f.Select(bc.loc.Zone()), pipelineStatuses(pipe), boardPage)
	if err != nil {
		return err
	}
	land := false
	for _, st := range pipe {
		col := cols[st.Status]
		res.Counts = append(res.Counts, leadsview.Column{Status: st.Status, Count: col.Count, AtLeast: col.AtLeast})
		res.Total += col.Count
		res.AtLeast = res.AtLeast || col.AtLeast
		land = land || (st.Status == cd.Status && cd.BusinessType == f.BusinessType)
	}
	toast := ""
	if !land {
		name, _ := bc.r.Status(bc.lang, cd.BusinessType, cd.Status)
		toast = t(c, "leads.move.left_board", "Name", cd.Name, "Status", name)
		if msg != "" && kind == ui.FlashError {
			toast = msg + " " + toast
		}
	}
	return a.renderFragment(c, status, leadsview.MoveAnswer(res, land, toast))
}

// syncLeads asks for an incremental sync of the local copy now (requests
// coalesce in the service).
func (a *leadsArea) syncLeads(c echo.Context) error {
	id, err := a.leads.RequestSync(c.Request().Context(), currentUser(c).ID, false)
	if err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "leads.sync", Object: "leads", Summary: summary("leads_sync", msg.Int("Job", id)).Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "leads.sync.started"), safeNext(c.FormValue("next")))
}
