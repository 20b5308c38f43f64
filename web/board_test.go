package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// boardRig is the reference data and the leads service over the embedded
// sandbox, on one job runner (the leads service registers its job kind
// before the runner starts).
type boardRig struct {
	ref refRig
	svc *leads.Service
	h   *harness
}

func withBoard(t testing.TB, rig *boardRig) harnessOption {
	return func(d *Deps) {
		withReference(t, &rig.ref, true)(d)
		svc, err := leads.New(leads.Config{Store: d.Store, Platform: d.Platform, Runner: rig.ref.runner, Logger: d.Logger, Now: d.Now})
		if err != nil {
			t.Fatal(err)
		}
		rig.svc, d.Leads = svc, svc
		rig.ref.start()
	}
}

// newBoardHarness is a server with the reference data refreshed and the
// local copy fully synced from the sandbox.
func newBoardHarness(t testing.TB, more ...func(*boardRig) harnessOption) (*harness, *boardRig) {
	t.Helper()
	var rig boardRig
	opts := []harnessOption{withBoard(t, &rig)}
	for _, m := range more {
		opts = append(opts, m(&rig))
	}
	h := newHarness(t, opts...)
	rig.h = h
	rig.ref.refresh("")
	rig.fullSync()
	return h, &rig
}

// fullSync runs a full sync of the copy and waits for its job to end.
func (r *boardRig) fullSync() {
	r.h.t.Helper()
	ctx := context.Background()
	id, err := r.svc.RequestSync(ctx, 0, true)
	if err != nil {
		r.h.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		j, err := r.h.store.Job(ctx, id)
		if err != nil {
			r.h.t.Fatal(err)
		}
		if !j.Active() {
			if j.State != db.JobDone {
				r.h.t.Fatalf("lead sync ended %s: %s", j.State, j.Error)
			}
			return
		}
		if time.Now().After(deadline) {
			r.h.t.Fatal("timed out waiting for the lead sync")
		}
		<-time.After(10 * time.Millisecond)
	}
}

// addLeads creates n leads in a status on the platform and syncs the copy.
func (r *boardRig) addLeads(bt, status string, n int) {
	r.h.t.Helper()
	for i := range n {
		in := jing.LeadInput{LeadFields: jing.LeadFields{BusinessType: bt, LeadStatus: status,
			Name: fmt.Sprintf("测试线索%02d", i), Mobile: fmt.Sprintf("1390000%04d", i), CompanyID: "翻页测试有限公司"}}
		if _, err := r.platform().CreateLead(context.Background(), in); err != nil {
			r.h.t.Fatal(err)
		}
	}
	r.fullSync()
}

func (r *boardRig) resolver() *refdata.Resolver { return r.ref.svc.Resolver() }

func (r *boardRig) platform() *jing.Client {
	c, _ := r.ref.plat.Current()
	return c
}

// platformLead is the lead as the platform has it now.
func (r *boardRig) platformLead(uuid string) jing.Lead {
	r.h.t.Helper()
	l, err := r.platform().QueryLead(context.Background(), jing.LeadKey{JingUUID: uuid})
	if err != nil {
		r.h.t.Fatal(err)
	}
	return l
}

// statusNamed is the status of bt's pipeline with a name.
func (r *boardRig) statusNamed(bt, name string) string {
	r.h.t.Helper()
	for _, st := range r.resolver().Statuses(bt) {
		if st.Name == name {
			return st.ID
		}
	}
	r.h.t.Fatalf("no status %q in %s", name, bt)
	return ""
}

// leadIn is a lead of the local copy in status (the most recently updated).
func (r *boardRig) leadIn(bt, status string) db.Lead {
	r.h.t.Helper()
	ls, _, err := r.h.store.ListLeads(context.Background(), db.LeadFilter{BusinessType: bt, Status: status, Limit: 1})
	if err != nil || len(ls) == 0 {
		r.h.t.Fatalf("no lead in %s/%s (%v)", bt, status, err)
	}
	return ls[0]
}

func (r *boardRig) localLead(uuid string) db.Lead {
	r.h.t.Helper()
	l, err := r.h.store.Lead(context.Background(), uuid)
	if err != nil {
		r.h.t.Fatal(err)
	}
	return l
}

// counts are the board's column counts by status (each column-count's id
// is count-<status>).
func counts(body string) map[string]int {
	out := map[string]int{}
	for _, c := range parseHTML(body).all("column-count") {
		n, _ := strconv.Atoi(attrOf(c, "data-count"))
		out[strings.TrimPrefix(attrOf(c, "id"), "count-")] = n
	}
	return out
}

// cardUUIDs are the leads of the board's cards, in order.
func cardUUIDs(body string) []string { return testIDAttrs(body, "board-card", "data-uuid") }

// landedCard is the lead and status of the card a move's answer puts at the
// top of status's column ("" if it puts none there).
func landedCard(body, status string) (uuid, cardStatus string) {
	for _, box := range parseHTML(body).where("", "hx-swap-oob", "afterbegin:#cards-"+status) {
		if cards := within(box, "board-card"); len(cards) == 1 {
			return attrOf(cards[0], "data-uuid"), attrOf(cards[0], "data-status")
		}
	}
	return "", ""
}

// loadsMore reports whether the board has a load-more button for the
// column page at url.
func loadsMore(body, url string) bool {
	for _, li := range parseHTML(body).all("load-more") {
		if len(under(li).where("button", "hx-get", url)) == 1 {
			return true
		}
	}
	return false
}

// boardAsMarketer is a marketer on the synced board (holding its CSRF
// token), with the default business type and its pipeline.
func boardAsMarketer(t *testing.T) (*harness, *boardRig, *client, string, []refdata.Item) {
	t.Helper()
	h, rig := newBoardHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	c.get("/leads/board")
	bt := rig.resolver().DefaultBusinessType("lead")
	return h, rig, c, bt, rig.resolver().Statuses(bt)
}

func moveForm(bt, to string, seen int64, note string) url.Values {
	v := url.Values{"business_type": {bt}, "to": {to}, "seen": {strconv.FormatInt(seen, 10)}}
	if note != "" {
		v.Set("note", note)
	}
	return v
}

// The board: columns in pipeline order with the store's counts, at most a
// page of cards each, no mobile or email on cards; /leads leads to it; a
// search narrows every column.
func TestBoardListsColumnsInPipelineOrderWithCounts(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	ctx := context.Background()

	rec := c.get("/leads")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/leads/board" {
		t.Fatalf("/leads: %d → %q, want 303 to /leads/board", rec.Code, rec.Header().Get("Location"))
	}
	rec = c.get("/leads/board")
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	if !currentNav(body, "leads", "/leads") {
		t.Error("the Leads navigation item is not current on the board")
	}
	r := rig.resolver()
	bt := r.DefaultBusinessType("lead")
	var want []string
	for _, st := range r.Statuses(bt) {
		want = append(want, st.ID)
	}
	got := testIDAttrs(body, "board-column", "data-status")
	if strings.Join(got, ",") != strings.Join(want, ",") || len(got) < 3 {
		t.Fatalf("columns %v, want the pipeline %v", got, want)
	}
	stored, err := h.store.CountLeadsByStatus(ctx, db.LeadFilter{BusinessType: bt})
	if err != nil {
		t.Fatal(err)
	}
	shown, total := counts(body), 0
	for _, st := range want {
		if shown[st] != stored[st] {
			t.Errorf("column %s counts %d, the store %d", st, shown[st], stored[st])
		}
		total += stored[st]
	}
	if total == 0 {
		t.Fatal("the synced copy has no leads on the default board")
	}
	cards := cardUUIDs(body)
	if len(cards) == 0 || len(cards) > boardPage*len(want) {
		t.Fatalf("%d cards on the board", len(cards))
	}
	for _, uuid := range cards[:min(len(cards), 20)] {
		l := rig.localLead(uuid)
		if l.Mobile != "" && appearsInBytes(body, l.Mobile) || l.Email != "" && appearsInBytes(body, l.Email) {
			t.Fatalf("card %s shows a mobile or an email", l.UUID)
		}
		if l.Owner != "" && !hasTestIDText(body, "card-owner", r.Member("zh-CN", l.Owner)) {
			t.Errorf("card %s lacks its owner's name", l.UUID)
		}
	}
	if !hasTestID(body, "move-menu") || !hasAttrOn(body, "board-card", `draggable="true"`) {
		t.Error("a marketer's board has no move controls")
	}

	// Another business type's tab shows its own pipeline.
	bts := r.BusinessTypes("lead")
	if len(bts) < 2 {
		t.Fatalf("only %d business types", len(bts))
	}
	other := bts[len(bts)-1].ID
	if other == bt {
		other = bts[0].ID
	}
	body = c.get("/leads/board?business_type=" + url.QueryEscape(other)).Body.String()
	if cols := testIDAttrs(body, "board-column", "data-status"); len(cols) == 0 || cols[0] != r.Statuses(other)[0].ID {
		t.Fatalf("business type %s: columns %v, want %s first", other, cols, r.Statuses(other)[0].ID)
	}

	// A search narrows every column, and the counts follow the store's.
	l := rig.leadIn(bt, want[0])
	q := []rune(l.Company)
	if len(q) < 3 {
		t.Skipf("company %q too short to search", l.Company)
	}
	body = c.get("/leads/board?q=" + url.QueryEscape(l.Company)).Body.String()
	narrowed, err := h.store.CountLeadsByStatus(ctx, db.LeadFilter{BusinessType: bt, Query: l.Company})
	if err != nil {
		t.Fatal(err)
	}
	shown = counts(body)
	for _, st := range want {
		if shown[st] != narrowed[st] {
			t.Errorf("searched column %s counts %d, the store %d", st, shown[st], narrowed[st])
		}
	}
	if !hasAttrOn(body, "board-card", `data-uuid="`+l.UUID+`"`) {
		t.Error("the searched-for lead is not on the board")
	}
}

// Scrolling a column to its end loads its next page.
func TestBoardColumnLoadsMore(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	ctx := context.Background()
	bt := rig.resolver().DefaultBusinessType("lead")
	stored, err := h.store.CountLeadsByStatus(ctx, db.LeadFilter{BusinessType: bt})
	if err != nil {
		t.Fatal(err)
	}
	// Enough leads in the first status for three pages.
	status := rig.resolver().Statuses(bt)[0].ID
	rig.addLeads(bt, status, 2*boardPage+5-stored[status])
	if stored, err = h.store.CountLeadsByStatus(ctx, db.LeadFilter{BusinessType: bt}); err != nil {
		t.Fatal(err)
	}
	board := c.get("/leads/board").Body.String()
	more := leadsview.ColumnURL(leadsview.Column{Status: status, More: boardPage, Filter: leadsview.Filter{BusinessType: bt}})
	if !loadsMore(board, more) {
		t.Fatalf("no load-more sentinel for %s (%s)", status, more)
	}
	rec := c.get(more, htmx())
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	next, _, err := h.store.ListLeads(ctx, db.LeadFilter{BusinessType: bt, Status: status, Sort: "updated", Limit: boardPage, Offset: boardPage})
	if err != nil {
		t.Fatal(err)
	}
	got := cardUUIDs(body)
	var want []string
	for _, l := range next {
		want = append(want, l.UUID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("next page %v, want %v", got, want)
	}
	if len(parseHTML(board).allWith("board-card", "data-uuid", want[0])) > 0 {
		t.Fatal("the second page repeats a card of the first")
	}
	hasMore := hasTestID(body, "load-more")
	if hasMore != (stored[status] > 2*boardPage) {
		t.Fatalf("sentinel after the second page: %v, with %d leads", hasMore, stored[status])
	}
	if hasTestID(body, "move-menu") {
		t.Fatal("a viewer's cards have a move menu")
	}
	if rec := c.get("/leads/board/column?status=nope&offset=0"); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown status: %d", rec.Code)
	}
}

// A move is sent to the platform; the answer lands the card in its new
// column and updates the counts.
func TestBoardMoveChangesThePlatform(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	from, to := pipe[0].ID, pipe[1].ID
	l := rig.leadIn(bt, from)

	rec := c.post(leadsview.MovePath(l.UUID), moveForm(bt, to, l.UpdatedAt, ""), htmx())
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	if len(parseHTML(body).where("li", "id", "card-"+l.UUID, "hx-swap-oob", "delete")) != 1 {
		t.Fatalf("the answer does not take the card out of its column:\n%s", body)
	}
	if uuid, status := landedCard(body, to); uuid != l.UUID || status != to {
		t.Fatalf("the answer lands %q (status %q) in %s, want the moved card:\n%s", uuid, status, to, body)
	}
	if len(parseHTML(body).allWith("column-count", "id", "count-"+to, "hx-swap-oob", "true")) != 1 {
		t.Fatalf("the answer does not update %s's count:\n%s", to, body)
	}
	if isFullPage(body) {
		t.Fatal("the answer is a whole page")
	}
	if got := rig.platformLead(l.UUID).LeadStatus; got != to {
		t.Fatalf("platform status %s, want %s", got, to)
	}
	if got := rig.localLead(l.UUID).Status; got != to {
		t.Fatalf("local status %s, want %s", got, to)
	}
	stored, _ := h.store.CountLeadsByStatus(context.Background(), db.LeadFilter{BusinessType: bt})
	if shown := counts(body); shown[to] != stored[to] || shown[from] != stored[from] {
		t.Fatalf("counts %v, the store %v", shown, stored)
	}
	if n := h.countAudit("lead.move", ""); n != 1 {
		t.Fatalf("%d audit entries for the move", n)
	}

	// Without htmx: back to the board with a message.
	l2 := rig.leadIn(bt, from)
	rec = c.post(leadsview.MovePath(l2.UUID), moveForm(bt, to, l2.UpdatedAt, ""))
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/leads/board") {
		t.Fatalf("plain form: %d → %s", rec.Code, rec.Header().Get("Location"))
	}
}

// The platform refuses a status of another business type: 422, the card
// back in its column with the platform's message in the user's language,
// nothing changed anywhere.
func TestBoardMoveRefusedByThePlatform(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	r := rig.resolver()
	from := pipe[0].ID
	var foreign string
	for _, other := range r.BusinessTypes("lead") {
		for _, st := range r.Statuses(other.ID) {
			if other.ID != bt && !containsStatus(r.Statuses(bt), st.ID) {
				foreign = st.ID
			}
		}
	}
	if foreign == "" {
		t.Fatal("no status outside the default pipeline")
	}
	l := rig.leadIn(bt, from)
	rec := c.post(leadsview.MovePath(l.UUID), moveForm(bt, foreign, l.UpdatedAt, ""), htmx())
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	body := rec.Body.String()
	if uuid, _ := landedCard(body, from); uuid != l.UUID || !hasTestID(body, "card-error") {
		t.Fatalf("the card does not come back to %s with an error:\n%s", from, body)
	}
	if !hasTestIDText(body, "card-error", "平台返回") || !hasTestIDText(body, "card-error", "不是该线索业务类型的线索状态") {
		t.Fatalf("the platform's message is not shown in Chinese:\n%s", body)
	}
	if appearsInBytes(body, "jing leads.") || appearsInBytes(body, "status_update:") {
		t.Fatal("Go error text shown")
	}
	if got := rig.platformLead(l.UUID).LeadStatus; got != from {
		t.Fatalf("platform status changed to %s", got)
	}
	if got := rig.localLead(l.UUID); got.Status != from || got.UpdatedAt != l.UpdatedAt {
		t.Fatalf("local copy changed: %s at %d", got.Status, got.UpdatedAt)
	}
	if n := h.countAudit("lead.move", db.OutcomeFailed); n != 1 {
		t.Fatalf("%d failed-move audit entries", n)
	}
}

func containsStatus(items []refdata.Item, id string) bool {
	for _, it := range items {
		if it.ID == id {
			return true
		}
	}
	return false
}

// Someone changed the lead on the platform after the copy was made: 409,
// the card as it now is, and the move not written.
func TestBoardMoveOfALeadChangedUpstream(t *testing.T) {
	t.Parallel()
	_, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	if err := rig.platform().UpdateLeadStatus(context.Background(), l.UUID, pipe[2].ID); err != nil {
		t.Fatal(err)
	}
	rec := c.post(leadsview.MovePath(l.UUID), moveForm(bt, pipe[1].ID, l.UpdatedAt, ""), htmx())
	wantStatus(t, rec, http.StatusConflict)
	body := rec.Body.String()
	if uuid, _ := landedCard(body, pipe[2].ID); uuid != l.UUID || !hasTestID(body, "card-notice") {
		t.Fatalf("the card is not shown in its current column with a notice:\n%s", body)
	}
	if !hasTestIDText(body, "card-notice", "平台上已有更改：现在处于“"+pipe[2].Name+"”") {
		t.Fatalf("the notice does not name the current status %s:\n%s", pipe[2].Name, body)
	}
	if got := rig.platformLead(l.UUID).LeadStatus; got != pipe[2].ID {
		t.Fatalf("platform status %s, want it left at %s", got, pipe[2].ID)
	}
	if got := rig.localLead(l.UUID).Status; got != pipe[2].ID {
		t.Fatalf("local copy %s, want the platform's %s", got, pipe[2].ID)
	}
}

// A closing status needs a note: without one, 422 asking for it; with
// one, the note becomes the lead's latest remark on the platform.
func TestBoardMoveToAClosingStatusNeedsANote(t *testing.T) {
	t.Parallel()
	_, rig, c, bt, pipe := boardAsMarketer(t)
	board := c.get("/leads/board").Body.String()
	invalid := rig.statusNamed(bt, "无效")
	if !rig.svc.ClosingStatus(bt, invalid) {
		t.Fatal("无效 is not a closing status")
	}
	if len(parseHTML(board).allWith("board-cards", "data-status", invalid, "data-status-name", "无效", "data-closing", "true")) != 1 {
		t.Fatal("the 无效 column is not marked closing")
	}
	l := rig.leadIn(bt, pipe[0].ID)

	rec := c.post(leadsview.MovePath(l.UUID), moveForm(bt, invalid, l.UpdatedAt, "  "), htmx())
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	body := rec.Body.String()
	if !hasTestID(body, "note-form") || !hasTestIDText(body, "card-error", "“无效”会关闭线索：请先填写备注") {
		t.Fatalf("no request for a note:\n%s", body)
	}
	if uuid, _ := landedCard(body, pipe[0].ID); uuid != l.UUID {
		t.Fatal("the card does not stay in its column")
	}
	if got := rig.platformLead(l.UUID).LeadStatus; got != pipe[0].ID {
		t.Fatalf("moved without a note: %s", got)
	}

	const note = "客户确认今年没有预算"
	rec = c.post(leadsview.MovePath(l.UUID), moveForm(bt, invalid, l.UpdatedAt, note), htmx())
	wantStatus(t, rec, http.StatusOK)
	pl := rig.platformLead(l.UUID)
	if pl.LeadStatus != invalid || pl.LatestRemark != note {
		t.Fatalf("platform: status %s, latest remark %q", pl.LeadStatus, pl.LatestRemark)
	}
}

// Viewers see the board without any move control, and cannot post a move.
func TestBoardViewerCannotMove(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	body := c.get("/leads/board").Body.String()
	if !hasTestID(body, "board-card") {
		t.Fatal("a viewer sees no cards")
	}
	p := parseHTML(body)
	for _, bad := range []string{"move-menu", "board-sync"} {
		if p.has(bad) {
			t.Errorf("a viewer's board has %s", bad)
		}
	}
	if len(p.where("", "draggable", "true")) > 0 || len(p.where("", "id", "board-note-dialog")) > 0 {
		t.Error("a viewer's board has a draggable card or the note dialog")
	}
	bt := rig.resolver().DefaultBusinessType("lead")
	pipe := rig.resolver().Statuses(bt)
	l := rig.leadIn(bt, pipe[0].ID)
	rec := c.post(leadsview.MovePath(l.UUID), moveForm(bt, pipe[1].ID, l.UpdatedAt, ""), htmx())
	wantStatus(t, rec, http.StatusForbidden)
	if got := rig.platformLead(l.UUID).LeadStatus; got != pipe[0].ID {
		t.Fatalf("a viewer's move reached the platform: %s", got)
	}
}

// "Sync now" asks the leads service for a sync and comes back to the board.
func TestBoardSyncNow(t *testing.T) {
	t.Parallel()
	h, _, c, bt, _ := boardAsMarketer(t)
	body := c.get("/leads/board").Body.String()
	if !hasTestID(body, "board-sync") || !hasTestIDText(body, "board-asof", "本地副本更新于") {
		t.Fatal("no freshness or sync button for a marketer")
	}
	next := leadsview.BoardURL(leadsview.Filter{BusinessType: bt})
	rec := c.post("/leads/sync", url.Values{"next": {next}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != next {
		t.Fatalf("sync now: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	if n := h.countAudit("leads.sync", ""); n != 1 {
		t.Fatalf("%d audit entries for the sync", n)
	}
}
