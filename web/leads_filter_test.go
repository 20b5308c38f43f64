package web

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The lead filter is one: for a table of filters over the synced copy,
// the leads live updates put on a board (/leads/changes, every lead of
// the copy changed after seq 0) are the leads the store lists for the
// filter, per status as many as the board's columns and the live answer
// count, and as many as the list finds.
func TestLeadFilterIsOneForTheBoardTheListAndLiveUpdates(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t)
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	zone := boardZone(t)
	bt := rig.resolver().DefaultBusinessType("lead")
	ls := leadsOf(t, h, bt)
	named, owned, sourced, pooled := ls[0], ls[0], ls[0], db.Lead{}
	for _, l := range ls {
		if len([]rune(l.Name)) > len([]rune(named.Name)) {
			named = l
		}
		if l.Owner != "" {
			owned = l
		}
		if l.Source != "" {
			sourced = l
		}
		if l.LeadPool != "" {
			pooled = l
		}
	}
	name := []rune(named.Name)
	if len(name) < 3 {
		t.Fatalf("no lead with a name of three characters: %q", named.Name)
	}
	day, _, _ := dayOf(ls[len(ls)/2].CreatedAt, zone)
	uday, _, _ := dayOf(ls[0].UpdatedAt, zone)
	filters := []url.Values{
		{},
		{"q": {string(name[:3])}},
		{"q": {string(name[1:3])}},
		{"q": {string(name[:1])}},
		{"q": {strings.ToUpper(string(name[:2]))}},
		{"q": {"139"}},
		{"q": {"公司"}},
		{"q": {"zzzz-no-such"}},
		{"owner": {owned.Owner}},
		{"source": {sourced.Source}},
		{"lead_pool": {pooled.LeadPool}},
		{"created_from": {day}},
		{"created_to": {day}},
		{"created_from": {day}, "created_to": {day}},
		{"updated_from": {uday}, "updated_to": {uday}},
		{"owner": {owned.Owner}, "q": {"公司"}, "created_from": {day}},
		{"source": {sourced.Source}, "q": {string(name[:1])}},
	}
	narrowed := 0 // filters that keep some of the leads, not all
	for _, q := range filters {
		q.Set("business_type", bt)
		t.Run(q.Encode(), func(t *testing.T) {
			onBoard, liveCounts := liveBoard(t, c, q)
			listed, total, err := h.store.ListLeads(context.Background(), func() db.LeadFilter {
				lf := leads.ReadFilter(q.Get).Select(zone)
				lf.Limit = db.MaxLeadLimit
				return lf
			}())
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for _, l := range listed {
				want[l.UUID] = l.Status
			}
			if !maps.Equal(onBoard, want) || total != len(want) {
				t.Fatalf("live puts %v on the board, the store lists %v", slices.Sorted(maps.Keys(onBoard)), slices.Sorted(maps.Keys(want)))
			}
			if len(want) > 0 && len(want) < len(ls) {
				narrowed++
			}
			perStatus := map[string]int{}
			for _, st := range onBoard {
				perStatus[st]++
			}
			board := parsePage(t, c.get(leadsview.BoardPath+"?"+q.Encode()).Body.String())
			for _, col := range board.all("board-column") {
				st := attrOf(col, "data-status")
				shown, _ := strconv.Atoi(attrOf(within(col, "column-count")[0], "data-count"))
				if shown != perStatus[st] || liveCounts[st] != perStatus[st] {
					t.Errorf("column %s: the board counts %d, live %d, live puts %d on it", st, shown, liveCounts[st], perStatus[st])
				}
			}
			list := parsePage(t, c.get(leadsview.ListPath+"?"+q.Encode()).Body.String())
			if got := list.attr("leads-table", "data-total"); got != strconv.Itoa(len(want)) {
				t.Errorf("the list finds %s, live puts %d on the board", got, len(want))
			}
		})
	}
	if narrowed < len(filters)/2 {
		t.Fatalf("only %d of %d filters keep some leads but not all: the table tests little", narrowed, len(filters))
	}
}

// liveBoard follows /leads/changes from seq 0 for the board with the
// filter q: the leads it puts on the board (uuid → status) and the
// columns' counts of its last answer.
func liveBoard(t *testing.T, c *client, q url.Values) (map[string]string, map[string]int) {
	t.Helper()
	onBoard := map[string]string{}
	for after := int64(0); ; {
		ans := changesJSON(t, c, fmt.Sprintf("/leads/changes?board=1&after=%d&%s", after, q.Encode()))
		for _, l := range ans.Leads {
			if l.OnBoard != (l.Card != "") {
				t.Fatalf("lead %s on the board %t with a card of %d bytes", l.UUID, l.OnBoard, len(l.Card))
			}
			if l.OnBoard {
				onBoard[l.UUID] = l.Status
			}
		}
		if !ans.More {
			if len(onBoard) > 0 && ans.Total == nil {
				t.Fatal("no counts in a board's answer")
			}
			return onBoard, ans.Counts
		}
		after = ans.Last
	}
}
