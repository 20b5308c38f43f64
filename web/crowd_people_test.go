package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
)

// A crowd's members are named through the persons behind the leads of the
// local copy: the page says how many are known of the crowd as last
// listed ("已识别 5 / N"), shows their name, mobile (masked for viewers)
// and a link to their lead.
func TestCrowdMembersNamedThroughTheLeadCopy(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	ctx := context.Background()
	list, _, err := h.store.ListCrowds(ctx, db.CrowdFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var crowd db.Crowd
	for _, cr := range list {
		if cr.UserCount >= 10 && cr.UserCount <= 50 {
			crowd = cr
			break
		}
	}
	if crowd.GroupID == 0 {
		t.Fatal("no demo crowd of 10 to 50 members")
	}
	var members []db.CrowdMemberRow
	for m, err := range rig.plat.Client().AllCrowdUsers(ctx, crowd.GroupID) {
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, db.CrowdMemberRow{UUID: m.OmniUserUUID, Joined: m.JoinedTimestamp})
	}
	if err := h.store.ReplaceCrowdMembers(ctx, crowd.GroupID, members); err != nil {
		t.Fatal(err)
	}
	// Five of them are the persons behind leads of the copy.
	var copied []db.Lead
	for i, m := range members[:5] {
		fields, _ := json.Marshal(map[string]string{"omni_user_uuid": m.UUID})
		copied = append(copied, db.Lead{UUID: "lead-" + strconv.Itoa(i), BusinessType: "bt", Status: "new",
			Name: "线索客户" + strconv.Itoa(i), Mobile: fmt.Sprintf("1380013%04d", i), Fields: fields})
	}
	if err := h.store.UpsertLeads(ctx, copied); err != nil {
		t.Fatal(err)
	}

	path := fmt.Sprintf("/crowds/%d/members", crowd.GroupID)
	p := parsePage(t, h.login("mia").get(path, htmx()).Body.String())
	if p.attr("members-known", "data-known") != "5" || p.attr("members-known", "data-listed") != strconv.Itoa(len(members)) {
		t.Fatalf("known %s / %s, want 5 / %d", p.attr("members-known", "data-known"), p.attr("members-known", "data-listed"), len(members))
	}
	rows := map[string]*pageRow{}
	for _, r := range p.all("member-row") {
		rows[attrOf(r, "data-uuid")] = &pageRow{name: nodeText(within(r, "member-name")[0]), identity: nodeText(within(r, "member-identity")[0]),
			lead: len(within(r, "member-lead")) > 0}
	}
	first := rows[members[0].UUID]
	if first == nil || !strings.Contains(first.name, "线索客户0") || !strings.Contains(first.identity, "13800130000") || !first.lead {
		t.Fatalf("the first member is not named through its lead: %+v", first)
	}
	if other := rows[members[len(members)-1].UUID]; other == nil || other.lead || strings.Contains(other.name, "线索客户") {
		t.Fatalf("an unknown member is named: %+v", other)
	}

	v := parsePage(t, h.login("vic").get(path, htmx()).Body.String())
	for _, r := range v.all("member-row") {
		if attrOf(r, "data-uuid") == members[0].UUID {
			id := nodeText(within(r, "member-identity")[0])
			if strings.Contains(id, "13800130000") || !strings.Contains(id, leads.Mask("13800130000")) {
				t.Fatalf("a viewer sees %q", id)
			}
		}
	}
}

type pageRow struct {
	name, identity string
	lead           bool
}
