package leads

import (
	"context"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

// ClosingStatus is remembered for pages, but never past a change of what
// it is derived from: a refresh that renames a status to 无效 makes it
// closing on the next ask, and a move checks afresh whatever is remembered.
func TestClosingStatusFollowsTheReferenceData(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	ctx := context.Background()
	r.sync(true)
	l, _ := r.openLead()
	sts, err := r.client.LeadStatuses(ctx, l.BusinessType)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]db.RefItem, len(sts))
	open := -1
	for i, st := range sts {
		items[i] = db.RefItem{ID: st.JingUUID, Name: st.Name, Sort: i}
		if open < 0 && st.Name != "无效" && st.Name != "已转化" && !r.svc.closingNow(l.BusinessType, st.JingUUID) {
			open = i
		}
	}
	if open < 0 {
		t.Fatalf("no open status in %s", l.BusinessType)
	}
	set := db.RefSet{Connection: "sandbox", Key: "statuses:" + l.BusinessType, Kind: "statuses", Object: "lead", Scope: l.BusinessType}
	if _, err := r.store.ReplaceRefSet(ctx, set, items); err != nil {
		t.Fatal(err)
	}
	status := sts[open].JingUUID
	for range 2 { // the second answer is the remembered one
		if r.svc.ClosingStatus(l.BusinessType, status) {
			t.Fatalf("%s (%s) is closing before it was renamed", sts[open].Name, status)
		}
	}
	items[open].Name = "无效"
	if _, err := r.store.ReplaceRefSet(ctx, set, items); err != nil {
		t.Fatal(err)
	}
	if !r.svc.ClosingStatus(l.BusinessType, status) {
		t.Fatal("a status renamed 无效 is still not closing: a stale answer was used")
	}
	if !r.svc.noteMissing(l.BusinessType, status, "") {
		t.Fatal("a move to it needs no note")
	}
}
