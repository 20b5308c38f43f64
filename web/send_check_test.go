package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"golang.org/x/net/html"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/sends"
)

// noEmailCrowd makes a crowd on the platform of n persons without an
// email address, lists it locally, and returns its id.
func noEmailCrowd(t *testing.T, h *harness, rig *sendsRig, name string, n int) (int64, []string) {
	t.Helper()
	ctx := context.Background()
	var uuids []string
	for _, p := range rig.sandbox().SamplePersons(300) {
		if p.Email == "" && len(uuids) < n {
			uuids = append(uuids, p.OmniUserUUID)
		}
	}
	if len(uuids) < n {
		t.Fatalf("only %d sample persons without an email", len(uuids))
	}
	client := rig.plat.Client()
	id, err := client.CreateCrowd(ctx, name, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.ImportToCrowd(ctx, id, uuids); err != nil {
		t.Fatal(err)
	}
	rig.sync()
	return id, uuids
}

var anyLatin = regexp.MustCompile(`[A-Za-z]{3,}`)

// An email to a crowd the console knows has no email address is refused
// at the confirmation, before anything is asked of the platform; to a
// crowd it does not know, the confirmation warns that persons without an
// address are skipped, and when the platform then refuses (40004), the
// failure is said in the page's language and the send can be edited as a
// new draft (audited).
func TestEmailFailsEarlyOrSaysWhyAndCopiesAsADraft(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	c := sendsSetup(t, h, rig, sends.Settings{ConfirmTypeAbove: 1000})
	mb, _ := mailboxes(t, rig)
	ctx := context.Background()

	// Known to the console: every member is the person behind a lead without an email.
	known, members := noEmailCrowd(t, h, rig, "无邮箱客户-已知", 4)
	rows := make([]db.CrowdMemberRow, len(members))
	var copied []db.Lead
	for i, u := range members {
		rows[i] = db.CrowdMemberRow{UUID: u}
		fields, _ := json.Marshal(map[string]string{"omni_user_uuid": u})
		copied = append(copied, db.Lead{UUID: "lead-" + strconv.Itoa(i), BusinessType: "bt", Status: "new", Name: "客户", Mobile: "1380013800" + strconv.Itoa(i), Fields: fields})
	}
	if err := h.store.ReplaceCrowdMembers(ctx, known, rows); err != nil {
		t.Fatal(err)
	}
	if err := h.store.UpsertLeads(ctx, copied); err != nil {
		t.Fatal(err)
	}
	form := emailForm("已知无邮箱", "主题", mb.MailboxID, known)
	form.Set("html", "<p>x</p>")
	id := createdEmail(t, c.postEmail("/email", form, "", nil))
	sid := strconv.FormatInt(id, 10)
	box := parsePage(t, c.get("/sends/"+sid+"/confirm", htmx()).Body.String())
	if !box.has("confirm-error") || !hasAttr(box.one("confirm-submit"), "disabled") {
		t.Fatalf("the confirmation does not refuse a crowd without email addresses: %q", box.text("confirm-error"))
	}
	if rec := c.post("/sends/"+sid+"/confirm", url.Values{}, htmx()); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("confirming anyway: %d", rec.Code)
	}
	if sd := sendState(t, h, id); sd.State != db.SendDraft || rig.sandbox().CallsToday("edm.create") != 0 {
		t.Fatalf("refused early, yet %s with %d edm.create calls", sd.State, rig.sandbox().CallsToday("edm.create"))
	}

	// Not known to the console: a warning, then the platform's own refusal.
	unknown, _ := noEmailCrowd(t, h, rig, "无邮箱客户-未知", 3)
	form = emailForm("未知无邮箱", "主题", mb.MailboxID, unknown)
	form.Set("html", "<p>x</p>")
	id = createdEmail(t, c.postEmail("/email", form, "", nil))
	sid = strconv.FormatInt(id, 10)
	box = parsePage(t, c.get("/sends/"+sid+"/confirm", htmx()).Body.String())
	if box.has("confirm-error") || box.attr("confirm-reach", "data-checked") != "true" || box.text("confirm-reach") == "" {
		t.Fatalf("the confirmation of an unknown crowd: error %q, reach %q", box.text("confirm-error"), box.text("confirm-reach"))
	}
	c.post("/sends/"+sid+"/confirm", url.Values{})
	if sd := sendState(t, h, id); sd.State != db.SendFailed {
		t.Fatalf("the platform's refusal left the send %s", sd.State)
	}
	page := parsePage(t, c.get("/email/sends/"+sid).Body.String())
	said := page.text("send-last-error")
	if said == "" || anyLatin.MatchString(regexp.MustCompile(`[A-Za-z0-9]{12,}`).ReplaceAllString(said, "")) {
		t.Errorf("the failure is not said in Chinese only: %q", said)
	}
	if !page.has("send-copy") {
		t.Fatal("a failed send does not offer to edit it as a new draft")
	}
	rec := c.post("/sends/"+sid+"/copy", url.Values{})
	m := emailLocation.FindStringSubmatch(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || m == nil || m[1] == sid {
		t.Fatalf("copy: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	newID, _ := strconv.ParseInt(m[1], 10, 64)
	if cp := sendState(t, h, newID); cp.State != db.SendDraft || cp.Name != "未知无邮箱" || cp.Subject != "主题" || len(cp.GroupIDs) != 1 || cp.GroupIDs[0] != unknown {
		t.Fatalf("the copy: %+v", cp)
	}
	for _, obj := range []string{"send:" + sid, "send:" + m[1]} {
		entries, _ := h.store.ListAudit(ctx, db.AuditFilter{Object: obj, Limit: 50})
		found := false
		for _, e := range entries {
			found = found || e.Action == "send.copy"
		}
		if !found {
			t.Errorf("the copy is not in the audit log of %s", obj)
		}
	}
	if rec := c.post("/sends/"+m[1]+"/copy", url.Values{}); rec.Code == http.StatusSeeOther && rec.Header().Get("Location") != "/email/sends/"+m[1] {
		t.Error("a draft was copied")
	}
}

// The delivery explains locked against sent: 180 locked, 122 sent to,
// 58 skipped (no address, unsubscribed), and those refused.
func TestEmailDeliveryExplainsLockedAgainstSent(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	vic := h.addUser("vic", db.RoleViewer)
	mb, _ := mailboxes(t, rig)
	ctx := context.Background()
	id, err := h.store.CreateSend(ctx, "jd-locked", vic.ID, db.SendDraftInput{Channel: "edm", Name: "十月月刊", Subject: "s",
		MailboxID: mb.MailboxID, Sender: mb.Address, Content: "<p>x</p>", GroupIDs: []int64{firstCrowd(t, h).GroupID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.TransitionSend(ctx, id, db.SendTransition{From: []string{db.SendDraft}, To: db.SendDone,
		Set: map[string]any{"audience_count": 180, "confirmed_at": 1, "platform_id": "edm-1"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.store.RecordSendProgress(ctx, id, "sent", db.SendCounts{Total: 122, Sent: 122, Delivered: 110, Bounced: 7, Failed: 5}); err != nil {
		t.Fatal(err)
	}
	p := parsePage(t, h.login("vic").get("/email/sends/"+strconv.FormatInt(id, 10)).Body.String())
	if p.attr("send-locked", "data-locked") != "180" || p.attr("send-locked", "data-total") != "122" || p.attr("send-locked", "data-skipped") != "58" {
		t.Fatalf("locked %s, total %s, skipped %s", p.attr("send-locked", "data-locked"), p.attr("send-locked", "data-total"), p.attr("send-locked", "data-skipped"))
	}
	if !p.has("send-skipped") || !p.has("send-refused") {
		t.Error("the gap or the refused are not explained")
	}
}

// hasAttr reports whether n has the attribute key (a boolean one included).
func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// Checked again before the approval: a crowd deleted on the platform
// after the confirmation stops the approval, sends nothing, is audited,
// and the send still waits (to be sent back to its author).
func TestEmailApprovalChecksAgain(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	mia := sendsSetup(t, h, rig, sends.Settings{ConfirmTypeAbove: 100000, ApprovalAbove: 1})
	h.addUser("ned", db.RoleMarketer)
	mb, _ := mailboxes(t, rig)
	crowd := firstCrowd(t, h)
	form := emailForm("审批前检查", "主题", mb.MailboxID, crowd.GroupID)
	form.Set("html", "<p>x</p>")
	id := createdEmail(t, mia.postEmail("/email", form, "", nil))
	sid := strconv.FormatInt(id, 10)
	mia.post("/sends/"+sid+"/confirm", url.Values{})
	if sd := sendState(t, h, id); sd.State != db.SendAwaitingApproval {
		t.Fatalf("state %s", sd.State)
	}
	if err := rig.plat.Client().DeleteCrowd(context.Background(), crowd.GroupID); err != nil {
		t.Fatal(err)
	}
	ned := h.login("ned")
	ned.post("/sends/"+sid+"/approve", url.Values{})
	if sd := sendState(t, h, id); sd.State != db.SendAwaitingApproval || rig.sandbox().CallsToday("edm.create") != 0 {
		t.Fatalf("approved past the check: %s, %d edm.create calls", sd.State, rig.sandbox().CallsToday("edm.create"))
	}
	entries, _ := h.store.ListAudit(context.Background(), db.AuditFilter{Object: "send:" + sid, Limit: 50})
	denied := false
	for _, e := range entries {
		denied = denied || (e.Action == "send.approve" && e.Outcome == db.OutcomeDenied)
	}
	if !denied {
		t.Error("the refused approval is not audited")
	}
}
