package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/sends"
	smsview "github.com/jingdesk/jingdesk/templates/sms"
)

func TestSMSParts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n, parts int
	}{{0, 0}, {1, 1}, {70, 1}, {71, 2}, {134, 2}, {135, 3}, {201, 3}, {202, 4}} {
		chars, parts := smsview.Parts(strings.Repeat("星", tc.n))
		if chars != tc.n || parts != tc.parts {
			t.Errorf("%d chars: got %d chars %d parts, want %d parts", tc.n, chars, parts, tc.parts)
		}
	}
	segs := smsview.Segments("【星辰】{name}您好，{store}见")
	if len(segs) != 5 || !segs[1].Variable || segs[1].Text != "{name}" || segs[2].Variable {
		t.Fatalf("segments %+v", segs)
	}
}

func TestSMSDraftCreateAndEdit(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	c := sendsSetup(t, h, rig, sends.DefaultSettings)
	h.addUser("vic", db.RoleViewer)
	list := c.get("/sms").Body.String()
	if !hasTestID(list, "sms-message") || len(parseHTML(list).where("mark", "class", "sms-var")) == 0 || !hasTestID(list, "sms-sends-empty") {
		t.Fatal("the SMS page lacks the messages or the empty sends")
	}
	if rec := h.login("vic").get("/sms/new"); rec.Code != http.StatusForbidden {
		t.Errorf("viewer /sms/new: %d", rec.Code)
	}
	msg := rig.sandbox().SMSMessageIDs("approved")[0]
	good := sampleMobiles(rig, 2)
	// No name, and invalid mobiles: refused, everything kept.
	rec := c.post("/sms", url.Values{"sms_id": {msg}, "audience": {"mobiles"}, "mobiles": {good[0] + "\n12x45"}})
	body := rec.Body.String()
	if rec.Code != http.StatusUnprocessableEntity || !hasTestIDText(body, "sms-mobiles", "12x45") || !hasAttrOn(body, "sms-mobiles-check", `data-invalid="1"`) || !hasAttrOn(body, "sms-mobiles-check", `data-valid="1"`) {
		t.Fatalf("invalid mobiles: %d\n%s", rec.Code, body)
	}
	rec = c.post("/sms", url.Values{"sms_id": {msg}, "audience": {"mobiles"}, "mobiles": {strings.Join(good, "\n")}})
	if rec.Code != http.StatusUnprocessableEntity || !hasTestIDText(rec.Body.String(), "sms-form-error", "请填写发送名称") || !hasTestIDText(rec.Body.String(), "sms-mobiles", good[1]) {
		t.Fatalf("no name: %d", rec.Code)
	}
	rec = c.post("/sms", url.Values{"name": {"试驾"}, "sms_id": {msg}, "audience": {"crowds"}})
	if rec.Code != http.StatusUnprocessableEntity || !hasTestIDText(rec.Body.String(), "sms-form-error", "请至少选择一个人群") {
		t.Fatalf("no audience: %d", rec.Code)
	}
	crowds, _, _ := h.store.ListCrowds(context.Background(), db.CrowdFilter{})
	var crowd db.Crowd
	for _, cr := range crowds {
		if cr.UserCount > 0 {
			crowd = cr
			break
		}
	}
	id := smsDraft(t, c, rig, url.Values{"name": {"试驾"}, "audience": {"crowds"}, "group_id": {strconv.FormatInt(crowd.GroupID, 10)}})
	sid := strconv.FormatInt(id, 10)
	page := c.get("/sms/sends/" + sid).Body.String()
	if !hasAttrOn(page, "sms-size", `data-size="`+strconv.FormatInt(crowd.UserCount, 10)+`"`) || !hasTestID(page, "sms-consent-crowds") {
		t.Fatalf("draft page lacks the size or the consent note\n%s", page)
	}
	rec = c.post("/sms/sends/"+sid, url.Values{"name": {"试驾二"}, "sms_id": {msg}, "audience": {"mobiles"}, "mobiles": {strings.Join(good, ",")}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("update: %d\n%s", rec.Code, rec.Body.String())
	}
	if sd := sendState(t, h, id); sd.Name != "试驾二" || len(sd.Mobiles) != 2 || len(sd.GroupIDs) != 0 {
		t.Fatalf("updated %+v", sd)
	}
	rec = c.post("/sms/sends/"+sid, url.Values{"name": {""}, "sms_id": {msg}, "audience": {"mobiles"}, "mobiles": {good[0]}})
	if rec.Code != http.StatusUnprocessableEntity || !hasTestID(rec.Body.String(), "sms-form-error") {
		t.Fatalf("update without a name: %d", rec.Code)
	}
	c.post("/sends/"+sid+"/confirm", url.Values{})
	rec = c.post("/sms/sends/"+sid, url.Values{"name": {"晚了"}, "sms_id": {msg}, "audience": {"mobiles"}, "mobiles": {good[0]}})
	if rec.Code != http.StatusSeeOther || sendState(t, h, id).Name != "试驾二" {
		t.Fatalf("update after confirm: %d", rec.Code)
	}
	if !hasTestID(c.get("/sms").Body.String(), "sms-send-row") {
		t.Error("the send is not listed")
	}
}
