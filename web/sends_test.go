package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/sends"
)

// sendsSetup signs in a marketer, sets the rules and returns its client.
func sendsSetup(t *testing.T, h *harness, rig *sendsRig, st sends.Settings) *client {
	t.Helper()
	h.addUser("mia", db.RoleMarketer)
	if _, err := rig.sends.SaveSettings(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return h.login("mia")
}

// smsDraft creates an SMS draft through the form and returns its id.
func smsDraft(t *testing.T, c *client, rig *sendsRig, form url.Values) int64 {
	t.Helper()
	if form.Get("sms_id") == "" {
		form.Set("sms_id", rig.sandbox().SMSMessageIDs("approved")[0])
	}
	rec := c.post("/sms", form)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create draft: %d\n%s", rec.Code, rec.Body.String())
	}
	loc := rec.Header().Get("Location")
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/sms/sends/"), 10, 64)
	if err != nil {
		t.Fatalf("draft location %q", loc)
	}
	return id
}

func sampleMobiles(rig *sendsRig, n int) []string {
	var out []string
	for _, p := range rig.sandbox().SamplePersons(n) {
		out = append(out, p.Mobile)
	}
	return out
}

func mobilesDraft(t *testing.T, c *client, rig *sendsRig, n int) (int64, []string) {
	t.Helper()
	m := sampleMobiles(rig, n)
	return smsDraft(t, c, rig, url.Values{"name": {"试驾邀约"}, "audience": {"mobiles"}, "mobiles": {strings.Join(m, "\n")}}), m
}

func sendState(t *testing.T, h *harness, id int64) db.Send {
	t.Helper()
	sd, err := h.store.Send(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

func TestSendConfirmRequiresTypedCount(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	c := sendsSetup(t, h, rig, sends.Settings{ConfirmTypeAbove: 2})
	id, _ := mobilesDraft(t, c, rig, 3)
	rec := c.get("/sends/"+strconv.FormatInt(id, 10)+"/confirm", htmx())
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !hasTestID(body, "confirm-typed") || !hasAttrOn(body, "confirm-count", `data-count="3"`) {
		t.Fatalf("confirmation: %d\n%s", rec.Code, body)
	}
	if !hasAttrOn(body, "send-confirm-form", `hx-disabled-elt="find button[type=submit]"`) {
		t.Error("the confirm button does not disable itself")
	}
	path := "/sends/" + strconv.FormatInt(id, 10) + "/confirm"
	rec = c.post(path, url.Values{"typed": {"30"}}, htmx())
	if rec.Code != http.StatusUnprocessableEntity || !hasTestID(rec.Body.String(), "confirm-error") ||
		!hasAttrOn(rec.Body.String(), "confirm-typed", `value="30"`) {
		t.Fatalf("wrong count: %d\n%s", rec.Code, rec.Body.String())
	}
	if n := rig.sandbox().CallsToday("sms.send"); n != 0 || sendState(t, h, id).State != db.SendDraft {
		t.Fatalf("a wrong count sent: %d calls", n)
	}
	rec = c.post(path, url.Values{"typed": {"3"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/sms/sends/"+strconv.FormatInt(id, 10) {
		t.Fatalf("confirm: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if sd := sendState(t, h, id); sd.State != db.SendSubmitted || sd.AudienceCount != 3 {
		t.Fatalf("after confirm: %s %d", sd.State, sd.AudienceCount)
	}
	// A second confirmation lands on the send's page, not an error.
	rec = c.post(path, url.Values{"typed": {"3"}})
	if rec.Code != http.StatusSeeOther || rig.sandbox().CallsToday("sms.send") != 1 {
		t.Fatalf("second confirm: %d, %d calls", rec.Code, rig.sandbox().CallsToday("sms.send"))
	}
	page := c.get("/sms/sends/" + strconv.FormatInt(id, 10)).Body.String()
	if !hasTestID(page, "send-delivery") || !hasAttrOn(page, "send-delivery", `data-polling="true"`) {
		t.Fatalf("the page does not show the delivery\n%s", page)
	}
}

func TestSendConcurrentConfirmCallsOnce(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	c := sendsSetup(t, h, rig, sends.DefaultSettings)
	id, _ := mobilesDraft(t, c, rig, 2)
	path := "/sends/" + strconv.FormatInt(id, 10) + "/confirm"
	var wg sync.WaitGroup
	codes := make([]int, 50)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = c.post(path, url.Values{}).Code
		}()
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusSeeOther {
			t.Errorf("request %d: %d", i, code)
		}
	}
	if n := rig.sandbox().CallsToday("sms.send"); n != 1 {
		t.Fatalf("sms.send called %d times", n)
	}
	if sd := sendState(t, h, id); sd.State != db.SendSubmitted {
		t.Fatalf("state %s", sd.State)
	}
}

func TestSendApprovalBySomeoneElse(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	c := sendsSetup(t, h, rig, sends.Settings{ConfirmTypeAbove: 1000, ApprovalAbove: 1})
	h.addUser("ned", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	id, _ := mobilesDraft(t, c, rig, 2)
	sid := strconv.FormatInt(id, 10)
	viewer := h.login("vic")
	for _, p := range []string{"confirm", "approve", "decide", "test", "cancel"} {
		if rec := viewer.post("/sends/"+sid+"/"+p, url.Values{"decision": {"sent"}}); rec.Code != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d", p, rec.Code)
		}
	}
	rec := c.get("/sends/"+sid+"/confirm", htmx())
	if !hasTestID(rec.Body.String(), "confirm-needs-approval") {
		t.Fatalf("no approval notice\n%s", rec.Body.String())
	}
	c.post("/sends/"+sid+"/confirm", url.Values{})
	if sd := sendState(t, h, id); sd.State != db.SendAwaitingApproval {
		t.Fatalf("state %s", sd.State)
	}
	page := c.get("/sms/sends/" + sid).Body.String()
	if !hasTestID(page, "send-own") || hasTestID(page, "send-approve") {
		t.Fatal("the author is offered the approval")
	}
	rec = c.post("/sends/"+sid+"/approve", url.Values{})
	if rec.Code != http.StatusForbidden || rig.sandbox().CallsToday("sms.send") != 0 || sendState(t, h, id).State != db.SendAwaitingApproval {
		t.Fatalf("own approval: %d, %d calls", rec.Code, rig.sandbox().CallsToday("sms.send"))
	}
	if !hasTestIDText(c.get("/sms/sends/"+sid).Body.String(), "send-timeline", "不能审批自己") {
		t.Error("the refusal is not explained")
	}
	other := h.login("ned")
	if !hasTestID(other.get("/sms/sends/"+sid).Body.String(), "send-approve") {
		t.Fatal("another marketer is not offered the approval")
	}
	if rec := other.post("/sends/"+sid+"/approve", url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d", rec.Code)
	}
	if sd := sendState(t, h, id); sd.State != db.SendSubmitted || rig.sandbox().CallsToday("sms.send") != 1 {
		t.Fatalf("after approval: %s, %d calls", sd.State, rig.sandbox().CallsToday("sms.send"))
	}
}

func TestSendUnknownOutcomeDecision(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	c := sendsSetup(t, h, rig, sends.DefaultSettings)
	id, _ := mobilesDraft(t, c, rig, 2)
	sid := strconv.FormatInt(id, 10)
	rig.sandbox().SetFaults(sandbox.Faults{ErrorRate: 1, Only: []string{"sms.send"}})
	c.post("/sends/"+sid+"/confirm", url.Values{})
	rig.sandbox().SetFaults(sandbox.Faults{})
	if sd := sendState(t, h, id); sd.State != db.SendUnknown {
		t.Fatalf("state %s", sd.State)
	}
	page := c.get("/sms/sends/" + sid).Body.String()
	p := parsePage(t, page)
	if !p.has("send-evidence") || !strings.Contains(p.text("send-unknown"), "绝不会自行重发") {
		t.Error("the unknown page does not show the evidence, or does not say it never sends again by itself")
	}
	for _, id := range []string{"send-decide-sent", "send-decide-again"} {
		if form := enclosing(p.one(id), "form"); form == nil || attrOf(form, "data-confirm") == "" {
			t.Errorf("%s is not asked to confirm", id)
		}
	}
	if n := rig.sandbox().CallsToday("sms.send"); n != 1 {
		t.Fatalf("calls %d", n)
	}
	if rec := c.post("/sends/"+sid+"/decide", url.Values{"decision": {"maybe"}}); rec.Code != http.StatusBadRequest {
		t.Errorf("bad decision: %d", rec.Code)
	}
	if rec := c.post("/sends/"+sid+"/decide", url.Values{"decision": {"again"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("decide: %d", rec.Code)
	}
	if n := rig.sandbox().CallsToday("sms.send"); n != 2 {
		t.Fatalf("send again: %d calls", n)
	}
	if sd := sendState(t, h, id); sd.State != db.SendSubmitted {
		t.Fatalf("after send again: %s", sd.State)
	}
	// The timeline shows who did what.
	page = c.get("/sms/sends/" + sid).Body.String()
	if steps := under(parsePage(t, page).one("send-timeline")); len(steps.where("li", "data-action", "decide")) == 0 || len(steps.where("li", "data-action", "submit")) == 0 {
		t.Error("the timeline lacks the steps")
	}
	// …in the reader's language: every step's summary is a message of the
	// catalogs (the decision's with the evidence it was taken on), never
	// shown encoded nor in English.
	timeline := parsePage(t, page).text("send-timeline")
	for _, want := range []string{"已确认，发送给 2 人", "结果未知", "没有发出 — 重新发送", "没有得到明确的答复", "平台已接受"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline lacks %q", want)
		}
	}
	if strings.Contains(timeline, "i18n:") || strings.Contains(timeline, "confirmed") || strings.Contains(timeline, "accepted") {
		t.Errorf("the timeline shows stored messages as they are stored:\n%s", timeline)
	}
}

func TestSendStatusPollsUntilDoneAndRecords(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	c := sendsSetup(t, h, rig, sends.DefaultSettings)
	h.addUser("vic", db.RoleViewer)
	id, mobiles := mobilesDraft(t, c, rig, 3)
	sid := strconv.FormatInt(id, 10)
	c.post("/sends/"+sid+"/confirm", url.Values{})
	rec := c.get("/sends/"+sid+"/status", htmx())
	if !hasAttrOn(rec.Body.String(), "send-delivery", `data-polling="true"`) || !hasAttrOn(rec.Body.String(), "send-delivery", `hx-trigger="every 5s"`) {
		t.Fatalf("status while sending:\n%s", rec.Body.String())
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		sd, err := rig.sends.Refresh(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if sd.State == db.SendDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done: %s %+v", sd.PlatformStatus, sd.Counts)
		}
		time.Sleep(200 * time.Millisecond)
	}
	body := c.get("/sends/"+sid+"/status", htmx()).Body.String()
	if !hasAttrOn(body, "send-delivery", `data-polling="false"`) || !pollsNothing(body) {
		t.Fatalf("status when done still polls:\n%s", body)
	}
	if rec := c.post("/sends/"+sid+"/records/sync", url.Values{}, htmx()); rec.Code != http.StatusOK || !hasAttrOn(rec.Body.String(), "send-records", `data-total="3"`) {
		t.Fatalf("sync: %d\n%s", rec.Code, rec.Body.String())
	}
	q := mobiles[1][3:9]
	body = c.get("/sends/"+sid+"/records?q="+q, htmx()).Body.String()
	if !hasTestIDText(body, "record-recipient", mobiles[1]) || hasTestIDText(body, "record-recipient", mobiles[0]) && !strings.Contains(mobiles[0], q) {
		t.Fatalf("search %q:\n%s", q, body)
	}
	viewer := h.login("vic")
	body = viewer.get("/sends/"+sid+"/records", htmx()).Body.String()
	if appearsInBytes(body, mobiles[0]) || !hasTestID(body, "record-row") {
		t.Fatal("records not masked for a viewer")
	}
	if rec := viewer.get("/sends/" + sid + "/records.csv"); rec.Code != http.StatusForbidden {
		t.Errorf("viewer export: %d", rec.Code)
	}
	rec = c.get("/sends/" + sid + "/records.csv")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "\xEF\xBB\xBF") || !strings.Contains(rec.Body.String(), mobiles[2]) {
		t.Fatalf("export: %d\n%s", rec.Code, rec.Body.String())
	}
	if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''") {
		t.Errorf("disposition %q", cd)
	}
}

func TestSendTestSendNeedsRecipients(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	c := sendsSetup(t, h, rig, sends.DefaultSettings)
	id, _ := mobilesDraft(t, c, rig, 2)
	sid := strconv.FormatInt(id, 10)
	rec := c.post("/sends/"+sid+"/test", url.Values{}, htmx())
	if rec.Code != http.StatusUnprocessableEntity || !hasTestIDText(rec.Body.String(), "send-error", "设置 → 发送") {
		t.Fatalf("no test recipients: %d\n%s", rec.Code, rec.Body.String())
	}
	if _, err := rig.sends.SaveSettings(context.Background(), sends.Settings{TestMobiles: sampleMobiles(rig, 1), ConfirmTypeAbove: 1000}); err != nil {
		t.Fatal(err)
	}
	rec = c.post("/sends/"+sid+"/test", url.Values{}, htmx())
	if rec.Code != http.StatusOK || !hasTestID(rec.Body.String(), "send-notice-link") {
		t.Fatalf("test send: %d\n%s", rec.Code, rec.Body.String())
	}
	if n := rig.sandbox().CallsToday("sms.send"); n != 1 || sendState(t, h, id).State != db.SendDraft {
		t.Fatalf("test send: %d calls", n)
	}
}

func TestSendSettingsAdminOnly(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("ada", db.RoleAdmin)
	if rec := h.login("mia").get("/settings/sends"); rec.Code != http.StatusForbidden {
		t.Fatalf("marketer: %d", rec.Code)
	}
	a := h.login("ada")
	if rec := a.get("/settings/sends"); rec.Code != http.StatusOK || !hasAttrOn(rec.Body.String(), "settings-type-above", `value="1000"`) {
		t.Fatalf("admin: %d", rec.Code)
	}
	rec := a.post("/settings/sends", url.Values{"test_mobiles": {"12345"}, "confirm_type_above": {"1000"}, "approval_above": {"0"}})
	if rec.Code != http.StatusUnprocessableEntity || !hasTestIDText(rec.Body.String(), "settings-test-mobiles", "12345") {
		t.Fatalf("bad mobile: %d", rec.Code)
	}
	m := sampleMobiles(rig, 1)[0]
	rec = a.post("/settings/sends", url.Values{"test_mobiles": {m}, "test_emails": {"qa@example.com"}, "confirm_type_above": {"50"}, "approval_above": {"500"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", rec.Code, rec.Body.String())
	}
	st, _ := rig.sends.Settings(context.Background())
	if len(st.TestMobiles) != 1 || st.ConfirmTypeAbove != 50 || st.ApprovalAbove != 500 || len(st.TestEmails) != 1 {
		t.Fatalf("saved %+v", st)
	}
}

// A refusal lands on the field it is about, for both channels and the
// settings: the form says it, marks the field, and keeps what was typed.
func TestSendRefusalsArePlacedOnTheirField(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	c := sendsSetup(t, h, rig, sends.DefaultSettings)
	h.addUser("ada", db.RoleAdmin)
	msgID := rig.sandbox().SMSMessageIDs("approved")[0]
	mobile := sampleMobiles(rig, 1)[0]

	for _, tc := range []struct {
		name, field, input string
		form               url.Values
	}{
		{"no name", "name", "sms-name", url.Values{"sms_id": {msgID}, "audience": {"mobiles"}, "mobiles": {mobile}}},
		{"no message", "message", "sms-message-select", url.Values{"name": {"a"}, "audience": {"mobiles"}, "mobiles": {mobile}}},
		{"invalid mobiles", "mobiles", "sms-mobiles", url.Values{"name": {"a"}, "sms_id": {msgID}, "audience": {"mobiles"}, "mobiles": {mobile + "\n12x45"}}},
		{"no time", "when", "sms-send-at", url.Values{"name": {"a"}, "sms_id": {msgID}, "audience": {"mobiles"}, "mobiles": {mobile}, "when": {"later"}, "send_at": {"soon"}}},
	} {
		rec := c.post("/sms", tc.form)
		p := parsePage(t, rec.Body.String())
		if rec.Code != http.StatusUnprocessableEntity || p.attr("sms-form-error", "data-field") != tc.field ||
			p.attr(tc.input, "aria-invalid") != "true" || p.text("sms-form-error") == "" {
			t.Errorf("sms %s: %d, error about %q (%q), %s aria-invalid=%q", tc.name, rec.Code,
				p.attr("sms-form-error", "data-field"), p.text("sms-form-error"), tc.input, p.attr(tc.input, "aria-invalid"))
		}
	}

	mb, _ := mailboxes(t, rig)
	form := emailForm("邮件", "主题", mb.MailboxID, firstCrowd(t, h).GroupID)
	form.Set("html", "<p>x</p>")
	form.Set("when", "at")
	rec := c.postEmail("/email", form, "", nil)
	p := parsePage(t, rec.Body.String())
	if rec.Code != http.StatusUnprocessableEntity || p.attr("email-form-error", "data-field") != "when" ||
		p.attr("email-at", "aria-invalid") != "true" || p.inputValue("subject") != "主题" {
		t.Errorf("email without a time: %d, error about %q", rec.Code, p.attr("email-form-error", "data-field"))
	}
	rec = c.postEmail("/email", emailForm("文件", "主题", mb.MailboxID, firstCrowd(t, h).GroupID), "x.html", []byte{0})
	if p := parsePage(t, rec.Body.String()); rec.Code != http.StatusUnprocessableEntity || p.attr("email-form-error", "data-field") != "file" ||
		!strings.Contains(p.text("email-form-error"), "x.html") {
		t.Errorf("binary file: %d, error about %q: %q", rec.Code, p.attr("email-form-error", "data-field"), p.text("email-form-error"))
	}

	// Settings: every field's refusal at once, each under its field.
	rec = h.login("ada").post("/settings/sends", url.Values{"test_mobiles": {"12345"}, "test_emails": {"nobody"},
		"confirm_type_above": {"-3"}, "approval_above": {"1,000"}})
	p = parsePage(t, rec.Body.String())
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad settings: %d", rec.Code)
	}
	for input, field := range map[string]string{"settings-test-mobiles": "test_mobiles", "settings-test-emails": "test_emails", "settings-type-above": "confirm_type_above"} {
		if p.attr(input, "aria-invalid") != "true" || p.text("settings-error-"+field) == "" {
			t.Errorf("settings %s: not marked, or no sentence under it", field)
		}
	}
	if p.attr("settings-approval-above", "aria-invalid") != "false" || p.has("settings-error-approval_above") || p.inputValue("approval_above") != "1,000" {
		t.Error("a good threshold is refused or lost")
	}
	if !strings.Contains(p.text("settings-error-test_mobiles"), "12345") {
		t.Errorf("the bad mobile is not named: %q", p.text("settings-error-test_mobiles"))
	}
}

// failingRecords is the store, except that reading a send's records
// fails after the first batch (a disk error halfway through an export).
type failingRecords struct {
	sendReader
	calls int
}

func (f *failingRecords) SendRecords(ctx context.Context, id int64, filter db.SendRecordFilter) ([]db.SendRecord, int, error) {
	if f.calls++; f.calls > 1 {
		return nil, 0, errors.New("disk I/O error")
	}
	return f.sendReader.SendRecords(ctx, id, filter)
}

// An export that fails halfway says so in the file: a short file never
// passes for a whole one.
func TestSendRecordsExportSaysWhereItStopped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mia := h.addUser("mia", db.RoleMarketer)
	ctx := context.Background()
	id, err := h.store.CreateSend(ctx, "jd-export", mia.ID, db.SendDraftInput{Channel: "sms", Name: "导出", Mobiles: []string{"13900000001"}})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]db.SendRecord, 1500)
	for i := range recs {
		recs[i] = db.SendRecord{Recipient: fmt.Sprintf("139%08d", i), Status: "delivered"}
	}
	if err := h.store.SaveSendRecords(ctx, id, recs); err != nil {
		t.Fatal(err)
	}
	h.srv.areas.sends.ledger = &failingRecords{sendReader: h.srv.areas.sends.ledger}
	rec := h.login("mia").get("/sends/" + strconv.FormatInt(id, 10) + "/records.csv")
	lines := strings.Split(strings.TrimSpace(rec.Body.String()), "\n")
	if rec.Code != http.StatusOK || len(lines) != 1+1000+1 || !strings.Contains(lines[len(lines)-1], "导出在此中断") {
		t.Fatalf("export that failed halfway: %d, %d lines, ending %q", rec.Code, len(lines), lines[len(lines)-1])
	}
}
