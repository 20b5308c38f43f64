package web

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/jing"
	emailview "github.com/jingdesk/jingdesk/templates/email"
)

// postEmail posts the email form as the browser does: multipart, the
// token first, then the fields, then the file (when name is not "").
func (c *client) postEmail(path string, form url.Values, fileName string, file []byte) *httptest.ResponseRecorder {
	c.h.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", c.csrf)
	for k, vs := range form {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if fileName != "" {
		fw, _ := w.CreateFormFile("html_file", fileName)
		fw.Write(file)
	}
	w.Close()
	req := httptest.NewRequest(http.MethodPost, path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// mailboxes returns a verified and an unverified sandbox mailbox.
func mailboxes(t *testing.T, rig *sendsRig) (verified, unverified jing.Mailbox) {
	t.Helper()
	mbs, err := rig.plat.Client().Mailboxes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mbs {
		if m.Verified && verified.MailboxID == "" {
			verified = m
		}
		if !m.Verified && unverified.MailboxID == "" {
			unverified = m
		}
	}
	if verified.MailboxID == "" || unverified.MailboxID == "" {
		t.Fatalf("the sandbox has no verified and unverified mailboxes: %+v", mbs)
	}
	return verified, unverified
}

var emailLocation = regexp.MustCompile(`^/email/sends/(\d+)$`)

// createdEmail checks a create answered with the new send's page and returns its id.
func createdEmail(t *testing.T, rec *httptest.ResponseRecorder) int64 {
	t.Helper()
	m := emailLocation.FindStringSubmatch(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d → %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

func emailForm(name, subject, mailbox string, crowd int64) url.Values {
	return url.Values{"name": {name}, "subject": {subject}, "mailbox_id": {mailbox},
		"group_id": {strconv.FormatInt(crowd, 10)}, "when": {"now"}}
}

const markedEmail = `<html><body><h1 id="email-marker-7f3a">双十一预热</h1><p>{name}您好</p></body></html>`

func TestEmailDraftWithPastedHTMLAndWithAnUploadedFile(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	mb, _ := mailboxes(t, rig)
	crowd := firstCrowd(t, h)
	ctx := context.Background()

	// Pasted.
	form := emailForm("双十一预热", "双十一 | 星辰汽车限时礼遇", mb.MailboxID, crowd.GroupID)
	form.Set("html", markedEmail)
	id := createdEmail(t, c.postEmail("/email", form, "", nil))
	sd, err := h.store.Send(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if sd.Channel != "edm" || sd.State != db.SendDraft || sd.Content != markedEmail || sd.Subject != "双十一 | 星辰汽车限时礼遇" ||
		sd.Sender != mb.Address || len(sd.GroupIDs) != 1 || sd.GroupIDs[0] != crowd.GroupID || sd.SendTime != 0 {
		t.Fatalf("stored draft: %+v", sd)
	}

	// The page: the facts and a sandboxed frame, never the email's markup.
	page := c.get(emailview.SendPath(id))
	body := page.Body.String()
	if page.Code != http.StatusOK {
		t.Fatalf("send page: %d", page.Code)
	}
	p := parsePage(t, body)
	for id, want := range map[string]string{"email-fact-subject": "双十一 | 星辰汽车限时礼遇", "email-fact-sender": mb.Address, "email-fact-audience": crowd.Name} {
		if !strings.Contains(p.text(id), want) {
			t.Errorf("%s is %q, want %q", id, p.text(id), want)
		}
	}
	frame := p.one("email-preview")
	if frame.Data != "iframe" || !hasAttrs(frame, "class", "email-preview", "sandbox", "", "src", emailview.PreviewPath(id)) {
		t.Errorf("the preview is not a sandboxed frame of the preview: %v", frame.Attr)
	}
	if len(p.where("", "id", "email-marker-7f3a")) > 0 || appearsInBytes(body, `<h1 id="email-marker-7f3a">`) ||
		!strings.Contains(p.inputValue("html"), `<h1 id="email-marker-7f3a">`) {
		t.Error("the send page renders the email's HTML inline (it may only hold it, escaped, in the edit box)")
	}

	// Uploaded: the file wins over what is pasted.
	file := strings.Replace(markedEmail, "双十一预热", "文件里的正文", 1)
	form = emailForm("文件上传", "来自文件", mb.MailboxID, crowd.GroupID)
	form.Set("html", "<p>pasted, loses</p>")
	id2 := createdEmail(t, c.postEmail("/email", form, "newsletter.html", []byte("\xef\xbb\xbf"+file)))
	if sd, _ := h.store.Send(ctx, id2); sd.Content != file {
		t.Fatalf("uploaded draft holds %q, want the file without its BOM", sd.Content)
	}

	// A GBK file that declares its charset is converted to UTF-8.
	gbkHTML := `<html><head><meta charset="gbk"></head><body><p>尊敬的车主</p></body></html>`
	id3 := createdEmail(t, c.postEmail("/email", emailForm("GBK", "GBK 文件", mb.MailboxID, crowd.GroupID), "gbk.html", gbk(t, gbkHTML)))
	if sd, _ := h.store.Send(ctx, id3); sd.Content != strings.Replace(gbkHTML, "gbk", "utf-8", 1) {
		t.Fatalf("GBK file stored as %q", sd.Content)
	}

	// One that does not declare it is refused, clearly, and keeps the form.
	rec := c.postEmail("/email", emailForm("无声明", "无声明的 GBK", mb.MailboxID, crowd.GroupID), "plain.html", gbk(t, "<p>尊敬的车主</p>"))
	if rec.Code != http.StatusUnprocessableEntity || !hasTestIDText(rec.Body.String(), "email-form-error", "UTF-8") ||
		!hasAttrOn(rec.Body.String(), "email-subject-input", `value="无声明的 GBK"`) {
		t.Fatalf("undeclared GBK: %d\n%s", rec.Code, rec.Body.String())
	}

	// The list shows them, newest first, with a funnel each.
	list := c.get("/email").Body.String()
	if n := countTestID(list, "email-row"); n != 3 {
		t.Errorf("the list shows %d sends, want 3", n)
	}
	if subjects := testIDTexts(list, "email-subject"); slices.Index(subjects, "GBK 文件") < 0 || slices.Index(subjects, "GBK 文件") > slices.Index(subjects, "双十一 | 星辰汽车限时礼遇") {
		t.Error("the list is not newest first")
	}
	if !hasTestID(list, "email-funnel") || !hasTestIDText(list, "email-mailbox", mb.Address) {
		t.Error("the list lacks the funnels or the mailboxes")
	}
}

func TestEmailRefusalsKeepWhatWasTypedAndOnlyVerifiedMailboxesSend(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	mb, unverified := mailboxes(t, rig)
	crowd := firstCrowd(t, h)
	before := snapshot(t, h)

	// No subject: refused, with the name, the HTML (escaped in its box),
	// the mailbox and the crowd kept.
	form := emailForm("十月月刊", "", mb.MailboxID, crowd.GroupID)
	form.Set("html", `<p class="x">保留我</p>`)
	rec := c.postEmail("/email", form, "", nil)
	body := rec.Body.String()
	if rec.Code != http.StatusUnprocessableEntity || !hasTestID(body, "email-form-error") {
		t.Fatalf("no subject: %d\n%s", rec.Code, body)
	}
	kept := parseHTML(body)
	if kept.inputValue("name") != "十月月刊" || kept.inputValue("html") != `<p class="x">保留我</p>` {
		t.Errorf("the refused form lost the name or the HTML: %q, %q", kept.inputValue("name"), kept.inputValue("html"))
	}
	if got := selectedIn(body, "email-mailbox-select"); len(got) != 1 || got[0] != mb.MailboxID {
		t.Errorf("the refused form lost the mailbox: %q", got)
	}
	if len(kept.allWith("email-crowd", "value", strconv.FormatInt(crowd.GroupID, 10), "checked", "*")) != 1 {
		t.Error("the refused form lost the crowd")
	}

	// An uploaded file's content is kept in the box after a refusal elsewhere.
	rec = c.postEmail("/email", emailForm("", "主题", mb.MailboxID, crowd.GroupID), "keep.html", []byte(`<p>文件内容</p>`))
	if rec.Code != http.StatusUnprocessableEntity || parseHTML(rec.Body.String()).inputValue("html") != "<p>文件内容</p>" ||
		!hasTestID(rec.Body.String(), "email-file-note") {
		t.Fatalf("no name, with a file: %d\n%s", rec.Code, rec.Body.String())
	}

	// No crowd; a time in the past; an unverified mailbox.
	for name, f := range map[string]url.Values{
		"no crowd":   {"name": {"a"}, "subject": {"b"}, "mailbox_id": {mb.MailboxID}, "html": {"<p>x</p>"}},
		"past time":  {"name": {"a"}, "subject": {"b"}, "mailbox_id": {mb.MailboxID}, "html": {"<p>x</p>"}, "group_id": {strconv.FormatInt(crowd.GroupID, 10)}, "when": {"at"}, "send_at": {"2020-01-01T09:00"}},
		"no time":    {"name": {"a"}, "subject": {"b"}, "mailbox_id": {mb.MailboxID}, "html": {"<p>x</p>"}, "group_id": {strconv.FormatInt(crowd.GroupID, 10)}, "when": {"at"}},
		"unverified": {"name": {"a"}, "subject": {"b"}, "mailbox_id": {unverified.MailboxID}, "html": {"<p>x</p>"}, "group_id": {strconv.FormatInt(crowd.GroupID, 10)}},
	} {
		rec := c.postEmail("/email", f, "", nil)
		if rec.Code != http.StatusUnprocessableEntity || !hasTestID(rec.Body.String(), "email-form-error") {
			t.Errorf("%s: %d", name, rec.Code)
		}
	}
	// The unverified mailbox is offered, but not selectable.
	page := c.get("/email/new").Body.String()
	if sel := parseHTML(page).all("email-mailbox-select"); len(sel) != 1 || len(under(sel[0]).where("option", "value", unverified.MailboxID, "disabled", "*")) != 1 {
		t.Error("the unverified mailbox is selectable in the form")
	}
	// Only the platform's call counter moves (the form fetches the mailboxes).
	if d := diffLines(before, snapshot(t, h)); strings.TrimSpace(regexp.MustCompile(`(?m)^platform_usage .*$`).ReplaceAllString(d, "")) != "" {
		t.Errorf("a refused form wrote to the database:\n%s", d)
	}
}

func TestEmailPreviewHasItsOwnStrictHeaders(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	mb, _ := mailboxes(t, rig)
	html := `<html><body><script>parent.postMessage("ran", "*")</script><p>正文</p></body></html>`
	form := emailForm("预览", "预览测试", mb.MailboxID, firstCrowd(t, h).GroupID)
	form.Set("html", html)
	id := createdEmail(t, h.login("mia").postEmail("/email", form, "", nil))

	rec := h.login("vic").get(emailview.PreviewPath(id)) // viewers see it too
	if rec.Code != http.StatusOK || rec.Body.String() != html {
		t.Fatalf("preview: %d %q", rec.Code, rec.Body.String())
	}
	for k, want := range map[string]string{
		"Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
		"X-Frame-Options":         "SAMEORIGIN",
		"Cache-Control":           "no-store",
		"Content-Type":            "text/html; charset=utf-8",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := rec.Header().Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %q, want exactly %q", k, got, want)
		}
	}
	// Asked for in one view, remote images (https only) are allowed there.
	rec = h.login("vic").get(emailview.RemotePreviewPath(id))
	if csp := rec.Header().Get("Content-Security-Policy"); csp != "sandbox; default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'" {
		t.Errorf("remote images preview: %q", csp)
	}
	// The console's own pages keep theirs.
	if csp := h.login("vic").get(emailview.SendPath(id)).Header().Get("Content-Security-Policy"); csp != contentSecurityPolicy {
		t.Errorf("the send page's CSP is %q", csp)
	}
	// An SMS send or an unknown id is not an email.
	if rec := h.login("vic").get(emailview.PreviewPath(id + 100)); rec.Code != http.StatusNotFound {
		t.Errorf("unknown send: %d", rec.Code)
	}
}

// zoneTime is t as a datetime-local input in the console's zone.
func zoneTime(h *harness, at time.Time) string {
	return at.In(h.srv.Catalog.Localizer(i18n.Chinese).Zone()).Format("2006-01-02T15:04")
}

func TestEmailScheduledIsConfirmedChangedOnThePlatformThenDeleted(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	mb, _ := mailboxes(t, rig)
	crowd := firstCrowd(t, h)
	ctx := context.Background()

	// The sandbox keeps real time; the harness clock is earlier, so any
	// real future time is in the future for both.
	at := time.Now().Add(3 * time.Hour).Truncate(time.Minute)
	form := emailForm("定时邮件", "原来的主题", mb.MailboxID, crowd.GroupID)
	form.Set("html", "<p>定时正文</p>")
	form.Set("when", "at")
	form.Set("send_at", zoneTime(h, at))
	id := createdEmail(t, c.postEmail("/email", form, "", nil))
	sd, _ := h.store.Send(ctx, id)
	if sd.SendTime != at.Unix() {
		t.Fatalf("send time %d, want %d (typed in the console's zone)", sd.SendTime, at.Unix())
	}

	// Confirm through the shared step.
	conf, err := rig.sends.PrepareConfirmation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	rec := c.post("/sends/"+strconv.FormatInt(id, 10)+"/confirm", url.Values{"typed": {strconv.FormatInt(conf.Count, 10)}})
	if rec.Code == http.StatusNotImplemented {
		_, err = rig.sends.Confirm(ctx, id, userNamed(t, h, "mia"), strconv.FormatInt(conf.Count, 10))
		if err != nil {
			t.Fatal(err)
		}
	}
	sd, _ = h.store.Send(ctx, id)
	if sd.State != db.SendSubmitted || sd.PlatformStatus != "scheduled" || sd.PlatformID == "" {
		t.Fatalf("after confirming: %s / %s / %q", sd.State, sd.PlatformStatus, sd.PlatformID)
	}
	page := c.get(emailview.SendPath(id)).Body.String()
	if !hasAttrOn(page, "email-state", `data-state="scheduled"`) || !hasTestID(page, "email-delete") || !hasTestID(page, "email-scheduled-note") {
		t.Error("the scheduled send's page does not show it scheduled, with its note and a delete button")
	}

	// Change it: the platform has the new subject and time.
	later := at.Add(time.Hour)
	rec = c.postEmail(emailview.SendPath(id), url.Values{"subject": {"新的主题"}, "mailbox_id": {mb.MailboxID},
		"html": {"<p>改过的正文</p>"}, "when": {"at"}, "send_at": {zoneTime(h, later)}}, "", nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("update: %d\n%s", rec.Code, rec.Body.String())
	}
	d, err := rig.plat.Client().EDMDetail(ctx, sd.PlatformID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Subject != "新的主题" || d.HTML != "<p>改过的正文</p>" || d.SendTime != later.Unix() || d.Status != "scheduled" {
		t.Fatalf("on the platform: %+v", d)
	}
	if sd, _ = h.store.Send(ctx, id); sd.Subject != "新的主题" || sd.Name != "定时邮件" {
		t.Fatalf("ledger after the update: %+v", sd)
	}
	// A time in the past is refused, and the form keeps what was typed.
	rec = c.postEmail(emailview.SendPath(id), url.Values{"subject": {"过去的主题"}, "mailbox_id": {mb.MailboxID},
		"html": {"<p>x</p>"}, "when": {"at"}, "send_at": {"2020-01-01T09:00"}}, "", nil)
	if rec.Code != http.StatusUnprocessableEntity || !hasAttrOn(rec.Body.String(), "email-subject-input", `value="过去的主题"`) {
		t.Fatalf("past time: %d", rec.Code)
	}

	// Delete = the shared cancel: gone on the platform, cancelled here.
	rec = c.post("/sends/"+strconv.FormatInt(id, 10)+"/cancel", nil)
	if rec.Code == http.StatusNotImplemented {
		if err := rig.sends.Cancel(ctx, id, userNamed(t, h, "mia")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rig.plat.Client().EDMDetail(ctx, sd.PlatformID); err == nil {
		t.Fatal("the scheduled email is still on the platform")
	} else if je, ok := jing.AsError(err); !ok || je.Code != jing.CodeBusinessFailed {
		t.Fatalf("EDMDetail after delete: %v", err)
	}
	if sd, _ = h.store.Send(ctx, id); sd.State != db.SendCancelled {
		t.Fatalf("state %s, want cancelled", sd.State)
	}
	// It can no longer change.
	rec = c.postEmail(emailview.SendPath(id), url.Values{"subject": {"再改"}, "mailbox_id": {mb.MailboxID},
		"html": {"<p>x</p>"}, "when": {"at"}, "send_at": {zoneTime(h, later)}}, "", nil)
	if rec.Code != http.StatusConflict || hasTestID(rec.Body.String(), "email-form") {
		t.Fatalf("update after cancel: %d", rec.Code)
	}
	if h.countAudit("send.update", db.OutcomeDenied) != 1 {
		t.Error("the refused update is not in the audit log")
	}
}

func userNamed(t *testing.T, h *harness, name string) *db.User {
	t.Helper()
	u, err := h.store.UserByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return &u
}

func TestEmailFunnelGeometry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []int64
		want []float64
	}{
		{[]int64{1000, 900, 450, 100, 50}, []float64{160, 144, 72, 16, 8}},
		{[]int64{0, 0, 0, 0, 0}, []float64{0, 0, 0, 0, 0}},                // nothing sent: no bars
		{[]int64{100000, 99000, 3, 0, 1}, []float64{160, 158.4, 1, 0, 1}}, // tiny but not zero: visible
		{[]int64{0, 10, 5, 0, 0}, []float64{0, 160, 80, 0, 0}},            // the largest fills, whatever its place
		{[]int64{-5, 10, 0, 0, 0}, []float64{0, 160, 0, 0, 0}},            // negative counts as zero
	} {
		got := emailview.FunnelGeometry(tc.in, emailview.FunnelWidth)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("FunnelGeometry(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestEmailFunnelIsDrawnFromTheCounts(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	vic := h.addUser("vic", db.RoleViewer)
	mb, _ := mailboxes(t, rig)
	ctx := context.Background()
	id, err := h.store.CreateSend(ctx, "jd-funnel", vic.ID, db.SendDraftInput{Channel: "edm", Name: "九月月刊", Subject: "s",
		MailboxID: mb.MailboxID, Sender: mb.Address, Content: "<p>x</p>", GroupIDs: []int64{firstCrowd(t, h).GroupID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.RecordSendProgress(ctx, id, "sent", db.SendCounts{Total: 2000, Sent: 2000, Delivered: 1800, Opened: 600, Clicked: 120, Bounced: 40}); err != nil {
		t.Fatal(err)
	}
	body := h.login("vic").get("/email").Body.String()
	funnel := parsePage(t, body).in(parsePage(t, body).one("email-funnel"))
	for _, bar := range [][3]string{{"sent", "2000", "160.0"}, {"delivered", "1800", "144.0"}, {"clicked", "120", "9.6"}, {"bounced", "40", "3.2"}} {
		if len(funnel.where("g", "data-key", bar[0], "data-value", bar[1], "data-width", bar[2])) != 1 {
			t.Errorf("the funnel has no %s bar of %s, %s wide", bar[0], bar[1], bar[2])
		}
	}
	if title := funnel.where("title"); len(title) != 1 || nodeText(title[0]) != "发送 2,000，送达 1,800，打开 600，点击 120，退信 40。" { // the chart's title, in words
		t.Errorf("the funnel's title: %v", title)
	}
	if sent := funnel.where("g", "data-key", "sent"); len(sent) != 1 || len(under(sent[0]).where("text", "class", "funnel-value")) != 1 ||
		nodeText(under(sent[0]).where("text", "class", "funnel-value")[0]) != "2,000" {
		t.Error("the sent bar does not write its number")
	}
	if hasTestID(body, "email-new") {
		t.Error("a viewer is offered New email")
	}
}

func TestEmailViewerCannotCreateOrChange(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	mb, _ := mailboxes(t, rig)
	form := emailForm("只读", "主题", mb.MailboxID, firstCrowd(t, h).GroupID)
	form.Set("html", "<p>x</p>")
	id := createdEmail(t, h.login("mia").postEmail("/email", form, "", nil))
	vic := h.login("vic")
	before := snapshot(t, h)
	if rec := vic.postEmail("/email", form, "", nil); rec.Code != http.StatusForbidden {
		t.Errorf("viewer create: %d, want 403", rec.Code)
	}
	if rec := vic.postEmail(emailview.SendPath(id), form, "", nil); rec.Code != http.StatusForbidden {
		t.Errorf("viewer update: %d, want 403", rec.Code)
	}
	if rec := vic.get("/email/new"); rec.Code != http.StatusForbidden {
		t.Errorf("viewer new form: %d, want 403", rec.Code)
	}
	page := vic.get(emailview.SendPath(id))
	if page.Code != http.StatusOK || hasTestID(page.Body.String(), "email-form") {
		t.Errorf("viewer's send page: %d, with a form", page.Code)
	}
	if after := snapshot(t, h); after != before {
		t.Error("a viewer's refused request wrote to the database")
	}
}

// diffLines lists the lines of b not in a.
func diffLines(a, b string) string {
	seen := map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		seen[l] = true
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if !seen[l] {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
