package web

import (
	"context"
	"net/url"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The board's body is cached; these tests check it is never stale or
// another user's.

// cardAge is the "time in stage" text of a card on a board page.
func cardAge(t *testing.T, body, uuid string) string {
	t.Helper()
	p := parsePage(t, body)
	cards := p.allWith("board-card", "data-uuid", uuid)
	if len(cards) != 1 {
		t.Fatalf("card %s on the board %d times", uuid, len(cards))
	}
	return p.in(cards[0]).text("card-age")
}

func onBoardIn(body, uuid, status string) bool {
	return len(parseHTML(body).allWith("board-card", "data-uuid", uuid, "data-status", status)) == 1
}

// A move through the handler shows on the next board at once, and once
// the TTL has passed the ages are drawn anew.
func TestBoardCacheFollowsMovesAndExpires(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	from, to := pipe[0].ID, pipe[1].ID
	l := rig.leadIn(bt, from)
	if body := c.get("/leads/board").Body.String(); !onBoardIn(body, l.UUID, from) {
		t.Fatalf("lead %s not in %s before the move", l.UUID, from)
	}
	wantStatus(t, c.post(leadsview.MovePath(l.UUID), moveForm(bt, to, l.UpdatedAt, ""), htmx()), 200)
	body := c.get("/leads/board").Body.String()
	if !onBoardIn(body, l.UUID, to) || onBoardIn(body, l.UUID, from) {
		t.Fatalf("after the move the board does not show %s in %s", l.UUID, to)
	}

	before := cardAge(t, body, l.UUID)
	h.clock.Advance(boardCacheTTL / 2)
	if again := c.get("/leads/board").Body.String(); again != body {
		t.Fatal("within the TTL the same board was drawn differently")
	}
	h.clock.Advance(3 * time.Hour)
	if after := cardAge(t, c.get("/leads/board").Body.String(), l.UUID); after == before {
		t.Fatalf("after the TTL the age is still %q", after)
	}
}

// A write to the copy that does not go through the board (a sync's
// upsert) shows at once too.
func TestBoardCacheFollowsStoreWrites(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	c.get("/leads/board")
	v := h.store.LeadsVersion()
	l.Name, l.UpdatedAt = "缓存之后改的名字", l.UpdatedAt+1000
	if err := h.store.UpsertLeads(context.Background(), []db.Lead{l}); err != nil {
		t.Fatal(err)
	}
	if h.store.LeadsVersion() == v {
		t.Fatal("an upsert did not change the leads version")
	}
	if body := c.get("/leads/board").Body.String(); !hasTestIDText(body, "card-name", l.Name) {
		t.Fatal("the board does not show the upserted name")
	}
}

// A viewer and a marketer each get their own body: the viewer's has no
// move controls, whoever asked first.
func TestBoardCacheKeepsRolesApart(t *testing.T) {
	t.Parallel()
	h, _ := newBoardHarness(t)
	h.addUser("vic", db.RoleViewer)
	h.addUser("mia", db.RoleMarketer)
	vic, mia := h.login("vic"), h.login("mia")
	for round := range 2 {
		if body := vic.get("/leads/board").Body.String(); hasTestID(body, "move-menu") {
			t.Fatalf("round %d: the viewer's board has move controls", round)
		}
		if body := mia.get("/leads/board").Body.String(); !hasTestID(body, "move-menu") {
			t.Fatalf("round %d: the marketer's board has no move controls", round)
		}
	}
}

// Every CSRF token on a cached board is the requesting session's own.
func TestBoardCacheCarriesEachSessionsToken(t *testing.T) {
	t.Parallel()
	h, _ := newBoardHarness(t)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("max", db.RoleMarketer)
	seen := map[string]bool{}
	for _, name := range []string{"mia", "max", "mia"} {
		c := h.login(name)
		body := c.get("/leads/board").Body.String()
		if appearsInBytes(body, h.srv.areas.leads.board.placeholder) {
			t.Fatal("the CSRF placeholder reached the page")
		}
		inputs := parseHTML(body).where("input", "name", "_csrf")
		if len(inputs) < 2 || c.csrf == "" {
			t.Fatalf("%s: %d CSRF inputs, meta token %q", name, len(inputs), c.csrf)
		}
		for _, in := range inputs {
			if attrOf(in, "value") != c.csrf {
				t.Fatalf("%s: a form carries %q, the session's token is %q", name, attrOf(in, "value"), c.csrf)
			}
		}
		if seen[c.csrf] {
			t.Fatal("two sessions share a CSRF token")
		}
		seen[c.csrf] = true
	}
}

// Two filters are kept apart.
func TestBoardCacheKeepsFiltersApart(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	searched := "/leads/board?q=" + url.QueryEscape(l.Company)
	want, err := h.store.CountLeadsByStatus(context.Background(), db.LeadFilter{BusinessType: bt, Query: l.Company})
	if err != nil {
		t.Fatal(err)
	}
	all, err := h.store.CountLeadsByStatus(context.Background(), db.LeadFilter{BusinessType: bt})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		for path, stored := range map[string]map[string]int{"/leads/board": all, searched: want} {
			shown := counts(c.get(path).Body.String())
			for _, st := range pipe {
				if shown[st.ID] != stored[st.ID] {
					t.Fatalf("round %d, %s: column %s counts %d, the store %d", round, path, st.ID, shown[st.ID], stored[st.ID])
				}
			}
		}
	}
	if len(h.srv.areas.leads.board.entries) < 2 {
		t.Fatalf("%d cached boards for two filters", len(h.srv.areas.leads.board.entries))
	}
}

// The cache holds at most boardCacheMax bodies, dropping the oldest, and
// forgets expired ones.
func TestBoardCacheBoundsItsSize(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_790_000_000, 0)
	bc := newBoardCache(func() time.Time { return now })
	key := func(i int) boardKey { return boardKey{version: int64(i)} }
	for i := range boardCacheMax + 6 {
		bc.put(key(i), [][]byte{[]byte("body")}, now)
	}
	if len(bc.entries) != boardCacheMax || len(bc.order) != boardCacheMax {
		t.Fatalf("%d entries (%d in order), want %d", len(bc.entries), len(bc.order), boardCacheMax)
	}
	if _, ok := bc.get(key(0), now); ok {
		t.Fatal("the oldest body was kept beyond the bound")
	}
	if _, ok := bc.get(key(boardCacheMax+5), now); !ok {
		t.Fatal("the newest body was dropped")
	}
	later := now.Add(boardCacheTTL)
	if _, ok := bc.get(key(boardCacheMax+5), later); ok {
		t.Fatal("a body was served after its TTL")
	}
	bc.put(key(-1), nil, later)
	if len(bc.entries) != 1 {
		t.Fatalf("%d entries after all others expired, want 1", len(bc.entries))
	}
}

// A sync that lists the leads as the copy holds them, or a webhook event
// already applied, changes nothing the board shows: its cached body
// stays the one served (one entry, still valid), where before every
// synced page emptied it.
func TestBoardCacheOutlivesSyncsThatChangeNothing(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	l := rig.leadIn(bt, pipe[0].ID)
	first := c.get("/leads/board").Body.String()
	v := h.store.LeadsVersion()
	cached := len(h.srv.areas.leads.board.entries)
	if err := h.store.UpsertLeads(context.Background(), []db.Lead{l}); err != nil {
		t.Fatal(err)
	}
	if h.store.LeadsVersion() != v {
		t.Fatal("a sync of the lead as the copy holds it changed the leads version")
	}
	if again := c.get("/leads/board").Body.String(); again != first || len(h.srv.areas.leads.board.entries) != cached {
		t.Fatalf("the board was drawn again after a sync that changed nothing (%d entries, were %d)",
			len(h.srv.areas.leads.board.entries), cached)
	}
}

// The cache holds at most boardCacheBytes, dropping the oldest bodies
// (always keeping the newest), and once its bodies expired an idle
// console holds none: the sweep empties it without another request.
func TestBoardCacheBoundsItsBytesAndEmptiesWhenIdle(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		bc := newBoardCache(time.Now)
		body := make([]byte, boardCacheBytes/4+1)
		for i := range 6 {
			bc.put(boardKey{version: int64(i)}, [][]byte{body}, time.Now())
		}
		if n, size, _ := bc.held(); n != 3 || size != 3*len(body) {
			t.Fatalf("%d bodies of %d bytes kept (%d bytes), want the 3 newest within %d bytes", n, len(body), size, boardCacheBytes)
		}
		if _, ok := bc.get(boardKey{version: 5}, time.Now()); !ok {
			t.Fatal("the newest body was dropped")
		}
		time.Sleep(boardCacheTTL - time.Second)
		bc.put(boardKey{version: 9}, [][]byte{[]byte("late")}, time.Now())
		time.Sleep(time.Second)
		synctest.Wait()
		if n, size, _ := bc.held(); n != 1 || size != len("late") {
			t.Fatalf("after the first bodies expired: %d entries, %d bytes; want the late one only", n, size)
		}
		time.Sleep(boardCacheTTL)
		synctest.Wait()
		if n, size, pending := bc.held(); n != 0 || size != 0 || pending {
			t.Fatalf("idle after every body expired: %d entries, %d bytes, sweep pending %v", n, size, pending)
		}
	})
}

// held is what the cache holds: bodies, bytes, and whether a sweep is due.
func (bc *boardCache) held() (n, size int, sweepPending bool) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if len(bc.order) != len(bc.entries) {
		panic("board cache: order and entries disagree")
	}
	return len(bc.entries), bc.size, bc.sweep != nil
}
