package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/scores"
	"github.com/jingdesk/jingdesk/internal/sends"
	"github.com/jingdesk/jingdesk/templates/forms"
)

// The language sweep (issue 19): every page and fragment of the route
// table, rendered with realistic data, speaks one language. In zh-CN no
// English word shows outside a short allowlist (product names, codes the
// user types, units); in en no Chinese character shows outside the data
// (names the platform and the fixture wrote). Pages are found by crawling
// from the navigation (links, htmx fragments, forms that GET), and every
// GET route of the table must have been reached: a route added later is
// swept without anyone remembering to add it here.

// sweepRig is one server with every service on the embedded sandbox and
// one started runner, and data in every area.
type sweepRig struct {
	h      *harness
	ref    refRig
	leads  *leads.Service
	crowds *crowds.Service
	scores *scores.Service
	sends  *sends.Service
}

func withEverything(t testing.TB, rig *sweepRig) harnessOption {
	return func(d *Deps) {
		withReference(t, &rig.ref, true)(d)
		runner := rig.ref.runner
		rig.leads = built[*leads.Service](t)(leads.New(leads.Config{Store: d.Store, Platform: d.Platform, Runner: runner, Logger: d.Logger, Now: d.Now}))
		rig.crowds = built[*crowds.Service](t)(crowds.New(crowds.Config{Store: d.Store, Platform: d.Platform, Runner: runner,
			DataDir: t.TempDir(), Logger: d.Logger, Now: d.Now, RetryDelay: time.Millisecond}))
		rig.scores = built[*scores.Service](t)(scores.New(scores.Config{Store: d.Store, Platform: d.Platform, Runner: runner,
			Crowds: rig.crowds, Logger: d.Logger, Now: d.Now}))
		rig.sends = built[*sends.Service](t)(sends.New(sends.Config{Store: d.Store, Platform: d.Platform, Runner: runner, Logger: d.Logger, Now: d.Now}))
		d.Leads, d.Crowds, d.Scores, d.Sends = rig.leads, rig.crowds, rig.scores, rig.sends
		rig.ref.start()
	}
}

// waitJob waits for job id to end in state.
func (r *sweepRig) waitJob(id int64, state string) {
	r.h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		j, err := r.h.store.Job(context.Background(), id)
		if err != nil {
			r.h.t.Fatal(err)
		}
		if !j.Active() {
			if j.State != state {
				r.h.t.Fatalf("job %d (%s) ended %s, want %s: %s", id, j.Kind, j.State, state, j.Error)
			}
			return
		}
		if time.Now().After(deadline) {
			r.h.t.Fatalf("timed out waiting for job %d (%s)", id, j.Kind)
		}
		<-time.After(10 * time.Millisecond)
	}
}

// platformErrors are one platform error of each kind (and each case a
// user reads differently), as the client returns them.
func platformErrors() []*jing.Error {
	return []*jing.Error{
		{Endpoint: "sms.send", Kind: jing.KindTransient, Code: jing.CodeUnavailable, Msg: "服务暂不可用", RequestID: "req-transient"},
		{Endpoint: "sms.send", Kind: jing.KindAuth, Code: jing.CodeUnauthorized, Msg: "无效的访问令牌", Case: jing.CaseToken},
		{Endpoint: "sms.send", Kind: jing.KindRateLimited, Code: jing.CodeRateLimited, Msg: "超出请求并发限制", Case: jing.CaseConcurrency},
		{Endpoint: "sms.send", Kind: jing.KindQuota, Code: jing.CodeRateLimited, Msg: "超出当天请求数量限制", Case: jing.CaseDailyQuota, Until: time.Unix(1_790_050_000, 0)},
		{Endpoint: "sms.send", Kind: jing.KindPermission, Code: jing.CodeNoPermission, Msg: "IP无权访问", Case: jing.CasePermissionIP},
		{Endpoint: "sms.send", Kind: jing.KindPermission, Code: jing.CodeUnauthorized, Msg: "商户未授权当前接口", Case: jing.CaseNotAuthorized},
		{Endpoint: "crowds.list", Kind: jing.KindPermission, Code: jing.CodeNoPermission, Msg: "没有当前接口权限", Case: jing.CasePermissionOther},
		{Endpoint: "sms.send", Kind: jing.KindInvalidPath, Code: jing.CodeInvalidParameter, Msg: "不存在的方法名", Case: jing.CaseNoSuchMethod},
		{Endpoint: "sms.send", Kind: jing.KindInvalid, Code: jing.CodeInvalidParameter, Msg: "参数无效: mobile 不是有效的手机号"},
		{Endpoint: "edm.send", Kind: jing.KindBusiness, Code: jing.CodeBusinessFailed, Msg: "所选人群中没有可发送的邮箱地址", RequestID: "req-business"},
		{Endpoint: "sms.send", Kind: jing.KindOutcomeUnknown, Write: true},
		{Endpoint: "sms.send", Kind: jing.KindDisabled},
		{Endpoint: "sms.send", Kind: jing.KindUnrecognised, Problem: jing.ProblemNotJSON, HTTPStatus: 502, Excerpt: "<html>Bad Gateway</html>", Write: true},
		{Endpoint: "sms.send", Kind: jing.KindUnrecognised, Problem: jing.ProblemMissing, Field: "data.task_id"},
	}
}

// newSweepRig builds the data: the reference data, the lead copy, the
// crowds, scores of a crowd, lead moves, a bulk change, an import with
// rejected rows, sends in every state (a failed one for each platform
// error kind), jobs of each kind (a failed one too); the audit log holds
// what they did. lina reads Chinese, emma English; both are admins.
func newSweepRig(t *testing.T) *sweepRig {
	t.Helper()
	rig := &sweepRig{}
	h := newHarness(t, withEverything(t, rig))
	rig.h = h
	ctx := context.Background()
	for name, lang := range map[string]string{"lina": i18n.Chinese, "emma": i18n.English} {
		u := h.addUser(name, db.RoleAdmin)
		if err := h.store.SetUserLang(ctx, u.ID, lang); err != nil {
			t.Fatal(err)
		}
	}
	h.addUser("mia", db.RoleMarketer)
	mia := h.login("mia")

	rig.ref.refresh("")
	id, err := rig.leads.RequestSync(ctx, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	rig.waitJob(id, db.JobDone)
	if id, err = rig.crowds.RequestSync(ctx, 0); err != nil {
		t.Fatal(err)
	}
	rig.waitJob(id, db.JobDone)
	rig.scoreACrowd()
	rig.moveAndBulk(mia)
	rig.savedView(mia)
	rig.importWithRejectedRows(mia)
	rig.sendsInEveryState(mia)
	rig.failedJob()
	rig.webhookEvent()
	return rig
}

func (r *sweepRig) scoreACrowd() {
	t := r.h.t
	list, _, err := r.h.store.ListCrowds(context.Background(), db.CrowdFilter{Limit: 500})
	if err != nil || len(list) == 0 {
		t.Fatalf("crowds: %v", err)
	}
	best := list[0]
	for _, cr := range list {
		if cr.UserCount > best.UserCount {
			best = cr
		}
	}
	id, err := r.scores.RequestFetch(context.Background(), 0, db.ScorePopulation{GroupID: best.GroupID}, scores.Kinds, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r.waitJob(id, db.JobDone)
}

// moveAndBulk moves a lead to the next status (an audit entry and a
// status history with status ids) and changes the owner of three leads.
func (r *sweepRig) moveAndBulk(mia *client) {
	t := r.h.t
	res := r.ref.svc.Resolver()
	bt := res.DefaultBusinessType("lead")
	pipe := res.Statuses(bt)
	ls, _, err := r.h.store.ListLeads(context.Background(), db.LeadFilter{BusinessType: bt, Status: pipe[0].ID, Limit: 3})
	if err != nil || len(ls) < 3 {
		t.Fatalf("leads in %s: %d %v", pipe[0].ID, len(ls), err)
	}
	mia.get("/leads/board")
	if rec := mia.post("/leads/"+ls[0].UUID+"/move", moveForm(bt, pipe[1].ID, ls[0].UpdatedAt, "")); rec.Code >= 400 {
		t.Fatalf("move: %d", rec.Code)
	}
	members := res.Members(true)
	form := url.Values{"lead": {ls[1].UUID, ls[2].UUID}, "action": {"owner"}, "owner": {members[0].ID}, "status": {""}}
	rec := mia.post("/leads/bulk", form)
	m := bulkJobRE.FindStringSubmatch(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || m == nil {
		t.Fatalf("bulk: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	var id int64
	fmt.Sscan(m[1], &id)
	r.waitJob(id, db.JobDone)
}

// savedView saves a shared view of the list, so the views bar links to it.
func (r *sweepRig) savedView(mia *client) {
	form := url.Values{"page": {"list"}, "name": {"本周新线索"}, "query": {"sort=created"}, "shared": {"1"}}
	if rec := mia.post("/leads/views", form); rec.Code >= 400 {
		r.h.t.Fatalf("save a view: %d", rec.Code)
	}
}

// importWithRejectedRows validates a file with rejected rows and imports
// its good rows into a new crowd.
func (r *sweepRig) importWithRejectedRows(mia *client) {
	t := r.h.t
	id := uploadOK(t.(*testing.T), mia, "名单.csv", []byte(mixedFile))
	validate(t.(*testing.T), mia, id, url.Values{"col_0": {"mobile"}, "col_1": {"name"}, "identity": {"mobile"}})
	im, err := r.h.store.Import(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if im.ValidateJobID != 0 { // a small file is validated in the request
		r.waitJob(im.ValidateJobID, db.JobDone)
	}
	if rec := mia.post(fmt.Sprintf("/imports/%d/start", id), url.Values{"crowd": {"new"}, "new_name": {"展会名单"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("start the import: %d", rec.Code)
	}
	if im, err = r.h.store.Import(context.Background(), id); err != nil || im.JobID == 0 {
		t.Fatalf("import after start: %v", err)
	}
	r.waitJob(im.JobID, db.JobDone)
	// A second file waits at the mapping step.
	uploadOK(t.(*testing.T), mia, "待映射.csv", []byte(mixedFile))
}

// sendsInEveryState: SMS drafts moved through the ledger's states, a
// failed one for each platform error kind, and an email draft.
func (r *sweepRig) sendsInEveryState(mia *client) {
	t := r.h.t
	ctx := context.Background()
	if _, err := r.sends.SaveSettings(ctx, sends.DefaultSettings); err != nil {
		t.Fatal(err)
	}
	sb := r.ref.sandbox()
	smsID := sb.SMSMessageIDs("approved")[0]
	var mobiles []string
	for _, p := range sb.SamplePersons(3) {
		mobiles = append(mobiles, p.Mobile)
	}
	draft := func(name string) int64 {
		rec := mia.post("/sms", url.Values{"name": {name}, "sms_id": {smsID}, "audience": {"mobiles"}, "mobiles": {strings.Join(mobiles, "\n")}})
		var id int64
		if _, err := fmt.Sscanf(rec.Header().Get("Location"), "/sms/sends/%d", &id); err != nil {
			t.Fatalf("sms draft %q: %d %q", name, rec.Code, rec.Header().Get("Location"))
		}
		return id
	}
	move := func(id int64, from, to string, set map[string]any) {
		if err := r.h.store.TransitionSend(ctx, id, db.SendTransition{From: []string{from}, To: to, Set: set}); err != nil {
			t.Fatalf("send %d %s → %s: %v", id, from, to, err)
		}
	}
	draft("草稿短信")
	sent := draft("已发送短信")
	if rec := mia.post(fmt.Sprintf("/sends/%d/confirm", sent), url.Values{"count": {fmt.Sprint(len(mobiles))}}); rec.Code >= 400 {
		t.Fatalf("confirm: %d\n%s", rec.Code, rec.Body.String())
	}
	waiting := draft("待审批短信")
	move(waiting, db.SendDraft, db.SendAwaitingApproval, map[string]any{"confirmed_at": r.h.clock.Now().Unix(), "audience_count": len(mobiles)})
	cancelled := draft("已取消短信")
	move(cancelled, db.SendDraft, db.SendCancelled, nil)
	unknown := draft("结果未知短信")
	move(unknown, db.SendDraft, db.SendUnknown, map[string]any{"last_error": msg.ErrorText(&jing.Error{Endpoint: "sms.send", Kind: jing.KindOutcomeUnknown, Write: true}),
		"evidence": msg.New("sends.evidence.no_clear_answer").Encode()})
	for i, e := range platformErrors() {
		id := draft(fmt.Sprintf("失败短信%02d", i))
		move(id, db.SendDraft, db.SendFailed, map[string]any{"last_error": msg.ErrorText(e), "request_id": e.RequestID})
	}
	// Email: a draft, and one the platform refused (no address in the crowd).
	client, _ := r.ref.plat.Current()
	boxes, err := client.Mailboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	box := boxes[slices.IndexFunc(boxes, func(m jing.Mailbox) bool { return m.Verified })]
	crowds, _, err := r.h.store.ListCrowds(ctx, db.CrowdFilter{Limit: 1})
	if err != nil || len(crowds) == 0 {
		t.Fatalf("crowds: %v", err)
	}
	for i, name := range []string{"邮件草稿", "被拒邮件"} {
		form := url.Values{"name": {name}, "subject": {"双十一预热"}, "mailbox_id": {box.MailboxID},
			"group_id": {fmt.Sprint(crowds[0].GroupID)}, "when": {"now"}, "html": {"<p>{name}您好</p>"}}
		rec := mia.postEmail("/email", form, "", nil)
		var id int64
		if _, err := fmt.Sscanf(rec.Header().Get("Location"), "/email/sends/%d", &id); err != nil {
			t.Fatalf("email draft: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		if i == 1 {
			e := platformErrors()[slices.IndexFunc(platformErrors(), func(e *jing.Error) bool { return e.Kind == jing.KindBusiness })]
			move(id, db.SendDraft, db.SendFailed, map[string]any{"last_error": msg.ErrorText(e), "request_id": e.RequestID})
		}
	}
}

// webhookEvent is an event the platform posted, kept in the log.
func (r *sweepRig) webhookEvent() {
	_, _, err := r.h.store.StoreWebhookEvent(context.Background(), db.NewWebhookEvent{DedupKey: "sweep-1", EventType: "lead_update",
		ObjectName: "lead", EntityID: "sweep-lead", EventTime: r.h.clock.Now().Unix(), Body: `{"event_type":"lead_update"}`, State: "pending"})
	if err != nil {
		r.h.t.Fatal(err)
	}
}

// failedJob is a crowd refresh that failed on a platform error, and a job
// that failed on a plain Go error (a bug's text, stored as it is).
func (r *sweepRig) failedJob() {
	t := r.h.t
	ctx := context.Background()
	for _, e := range platformErrors()[5:6] {
		j, err := r.h.store.CreateJob(ctx, db.NewJob{Kind: "sweep.failed", Title: "", OwnerID: 0})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.h.store.ClaimJob(ctx, "sweep", []string{"sweep.failed"}, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := r.h.store.FinishJob(ctx, j.ID, "sweep", db.JobFailed, msg.ErrorText(e)); err != nil {
			t.Fatal(err)
		}
	}
}

// sweepSkipped are GET routes whose answers are not pages: files served
// as they are, the health check, Prometheus's metrics.
var sweepSkipped = map[string]bool{"/static/*": true, "/healthz": true, "/metrics": true}

// sweepPerRoute bounds the URLs crawled for one route (query variants,
// one page per lead…); the fixture's sends, imports and jobs all fit.
const sweepPerRoute = 30

// routePatterns are the GET routes of the table, as path segments.
func routePatterns(s *Server) [][]string {
	var out [][]string
	for _, r := range s.Routes() {
		if r.Method == http.MethodGet && !sweepSkipped[r.Path] {
			out = append(out, strings.Split(r.Path, "/"))
		}
	}
	return out
}

// routeOf is the route pattern path matches ("" for none); as the router
// does, a static segment wins over a parameter (/leads/list, not
// /leads/:uuid).
func routeOf(patterns [][]string, path string) string {
	segs := strings.Split(path, "/")
	best, bestStatic := "", -1
	for _, p := range patterns {
		if len(p) != len(segs) {
			continue
		}
		static := 0
		for i, seg := range p {
			switch {
			case strings.HasPrefix(seg, ":"):
			case seg == segs[i]:
				static++
			default:
				static = -1
			}
			if static < 0 {
				break
			}
		}
		if static > bestStatic {
			best, bestStatic = strings.Join(p, "/"), static
		}
	}
	return best
}

// visibleText is what a reader reads of a page, piece by piece: text
// (not of script or style), and the title, placeholder, aria-label, alt
// and confirm dialog attributes, and the label of input buttons. code
// says whether it includes what <code>, <kbd> and <samp> show (an action
// code beside its name, a command to type).
func visibleText(doc *html.Node, code bool) []string {
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			if t := strings.TrimSpace(n.Data); t != "" {
				out = append(out, t)
			}
		case html.ElementNode:
			if n.Data == "script" || n.Data == "style" || !code && slices.Contains([]string{"code", "kbd", "samp"}, n.Data) {
				return
			}
			for _, a := range n.Attr {
				switch a.Key {
				case "title", "placeholder", "aria-label", "alt", "data-confirm", "data-live-text", "aria-valuetext":
					out = append(out, a.Val)
				case "value":
					if n.Data == "input" && slices.Contains([]string{"submit", "button", "reset"}, attrOf(n, "type")) {
						out = append(out, a.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// links are the URLs a page leads to by GET: links, htmx GETs (fragments),
// forms that GET (with no field filled).
func links(doc *html.Node) (pages, fragments []string) {
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if v := attrOf(n, "href"); v != "" && n.Data == "a" {
				pages = append(pages, v)
			}
			if v := attrOf(n, "hx-get"); v != "" {
				fragments = append(fragments, v)
			}
			if n.Data == "form" && strings.EqualFold(attrOf(n, "method"), "get") && attrOf(n, "action") != "" {
				pages = append(pages, attrOf(n, "action"))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return pages, fragments
}

// sweepData is every value the fixture and the platform put in the data
// (names, companies, cells of the imported file, crowd names, send names
// and contents, reference data names, what the platform answers the lead
// page's fragments with), longest first: masked before a page is read. A
// lead's lifecycle stage is not data: its codes (baby_lead) are named by
// the catalogs, and shown raw they are a leak.
func sweepData(t *testing.T, rig *sweepRig) []string {
	t.Helper()
	h := rig.h
	conn, err := sql.Open("sqlite", "file:"+h.store.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Every column of the data tables, but what the console itself writes
	// there (states, errors, evidence).
	tables := []string{"leads", "ref_items", "crowds", "crowd_members", "imports", "import_rows", "sends", "send_records",
		"accounts", "score_cards", "intention_scores", "score_history", "lead_status_history", "users", "webhook_events", "saved_views"}
	consoles := map[string]bool{"state": true, "error": true, "last_error": true, "evidence": true, "phases": true,
		"validate_error": true, "invalid_reasons": true, "platform_status": true, "role": true, "lang": true, "password_hash": true,
		"reason": true}
	seen := map[string]bool{}
	var add func(v any)
	add = func(v any) {
		switch v := v.(type) {
		case string:
			v = strings.TrimSpace(v)
			if strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
				var j any
				if json.Unmarshal([]byte(v), &j) == nil {
					add(j)
					return
				}
			}
			if v != "" {
				seen[v] = true
			}
		case []any:
			for _, x := range v {
				add(x)
			}
		case map[string]any:
			for k, x := range v {
				if k != forms.LifeStageField {
					seen[k] = true // a key of the data (a webhook's body)
					add(x)
				}
			}
		}
	}
	for _, table := range tables {
		var cols []string
		rows, err := conn.Query("SELECT name FROM pragma_table_info(?)", table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			rows.Scan(&c)
			if !consoles[c] {
				cols = append(cols, c)
			}
		}
		rows.Close()
		for _, c := range cols {
			rows, err := conn.Query("SELECT CAST(" + c + " AS TEXT) FROM " + table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var v sql.NullString
				rows.Scan(&v)
				add(v.String)
			}
			rows.Close()
		}
	}
	// What the platform answers and the console shows without keeping.
	client, _ := rig.ref.plat.Current()
	ctx := context.Background()
	answers := []any{}
	if boxes, err := client.Mailboxes(ctx); err == nil {
		answers = append(answers, boxes)
	}
	ls, _, _ := h.store.ListLeads(ctx, db.LeadFilter{Limit: 100})
	for _, l := range ls {
		if l.Mobile == "" {
			continue
		}
		if p, err := client.PrivacyStatus(ctx, "mobile", l.Mobile, jing.PageRequest{}); err == nil {
			answers = append(answers, p.Items)
			break
		}
	}
	if p, err := client.ListSMS(ctx, jing.PageRequest{Page: 1, PerPage: 100}); err == nil {
		answers = append(answers, p.Items)
	}
	var uuids []string
	for _, l := range ls {
		uuids = append(uuids, l.UUID)
	}
	for _, k := range []jing.ScoreKind{jing.ScoreIdentity, jing.ScoreActivity, jing.ScoreIntention} {
		if sc, err := client.LeadScores(ctx, k, uuids[:min(len(uuids), 50)]); err == nil {
			answers = append(answers, sc)
		}
	}
	for _, e := range platformErrors() {
		answers = append(answers, e.Msg, e.Excerpt) // the platform's own words, quoted
	}
	answers = append(answers, smsExample) // the person the SMS preview fills in
	for _, a := range answers {
		b, _ := json.Marshal(a)
		var j any
		json.Unmarshal(b, &j)
		add(j)
	}
	// The language picker names each language in itself; the version.
	for _, v := range []string{"简体中文", "English", "test", "sweep.failed"} {
		seen[v] = true
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) || len(out[i]) == len(out[j]) && out[i] < out[j] })
	return out
}

// englishAllowed are the English words a Chinese page may show: product
// and format names, the platform's names a user meets on the platform or
// types in its settings (app_id, the identity types), units.
var englishAllowed = map[string]bool{
	"ctrl":     true, // a key the user presses (Ctrl+K)
	"jingdesk": true, "jing": true, "jingdigital": true, "sms": true, "edm": true, "html": true, "csv": true, "tsv": true,
	"txt": true, "xlsx": true, "excel": true, "wps": true, "windows": true, "utf": true, "be": true, "le": true, "gbk": true,
	"bom": true, "http": true, "https": true, "json": true, "api": true, "id": true, "ip": true, "url": true, "uuid": true,
	"app_id": true, "app_secret": true, "omni_user_uuid": true, "openid": true, "unionid": true, "cdp": true, "scrm": true,
	"mql": true, "sql": true, "kb": true, "mb": true, "gb": true, "ms": true, "utm": true, "get": true, "post": true, "put": true,
	"delete": true, "rate_per_second": true, "code": true, "msg": true, "webhook": true, "go": true, "linux": true,
	"amd": true, "prometheus": true,
}

var (
	urlish   = regexp.MustCompile(`(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|/[\w./:?=&%{}-]+|[\w-]+\.(?:json|csv|tsv|txt|xlsx|key)\b|--[\w-]+|\{\w+\}|\b[A-Z][a-z]+/[A-Za-z_]+`)
	wordish  = regexp.MustCompile(`[A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]*`)
	hasDigit = regexp.MustCompile(`[0-9]`)
	// idLike is a platform id (kUvFzEdYm…, uGfTiVKD): upper case after
	// lower case inside a word of six letters or more.
	idLike = regexp.MustCompile(`^[A-Za-z]*[a-z][A-Z][A-Za-z]*$`)
	hanish = regexp.MustCompile(`[\p{Han}，。：；（）「」、]+`)
)

// sweepCodes are the platform's own identifiers a page shows as codes:
// the catalog's endpoint keys and paths (what catalog.json holds).
func sweepCodes(t *testing.T, h *harness) []string {
	var out []string
	for _, e := range jing.DefaultCatalog().All() {
		out = append(out, e.Key, e.Path)
	}
	for _, e := range platformErrors() {
		out = append(out, e.Field)
	}
	sets, err := h.store.RefSets(context.Background(), "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		out = append(out, s.Key) // the set's key, shown as a code beside its name
	}
	return out
}

// leaks are the pieces of text in the wrong language: for zh, English
// words outside the allowlist; for en, Chinese outside the data.
func leaks(lang string, pieces []string, mask *strings.Replacer, dataWords map[string]bool, dataBlob string) []string {
	var out []string
	for _, p := range pieces {
		text := mask.Replace(p)
		if lang == i18n.English {
			// A run of Chinese that some data value holds is data (an SMS
			// content shown with its variables marked is cut in pieces).
			var runs []string
			for _, run := range hanish.FindAllString(text, -1) {
				if !strings.Contains(dataBlob, run) {
					runs = append(runs, run)
				}
			}
			if len(runs) > 0 {
				out = append(out, strings.Join(runs, " ")+" ⟵ "+sweepClip(p))
			}
			continue
		}
		text = urlish.ReplaceAllString(text, " ")
		for _, w := range wordish.FindAllString(text, -1) {
			if len(w) < 2 || hasDigit.MatchString(w) || idLike.MatchString(w) || englishAllowed[strings.ToLower(w)] || dataWords[w] {
				continue
			}
			out = append(out, w+" ⟵ "+sweepClip(p))
			break
		}
	}
	return out
}

// without removes token from every piece of text.
func without(pieces []string, token string) []string {
	if token == "" {
		return pieces
	}
	for i, p := range pieces {
		pieces[i] = strings.ReplaceAll(p, token, " ")
	}
	return pieces
}

func sweepClip(s string) string {
	if r := []rune(s); len(r) > 90 {
		return string(r[:90]) + "…"
	}
	return s
}

// sweep crawls the pages of c (signed in, reading lang) from the
// navigation and returns the leaks found by route, and the routes reached.
func sweep(t *testing.T, h *harness, c *client, lang string, mask *strings.Replacer, dataWords map[string]bool, dataBlob string) (found map[string][]string, reached map[string]int) {
	t.Helper()
	patterns := routePatterns(h.srv)
	found, reached = map[string][]string{}, map[string]int{}
	type visit struct {
		url      string
		fragment bool
	}
	queue := []visit{{"/", false}, {"/leads", false}, {"/settings", false}}
	for _, u := range sweepSeeds(t, h) {
		queue = append(queue, visit{u, true})
	}
	done := map[visit]bool{}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		u, err := url.Parse(v.url)
		if err != nil || done[v] || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "/static/") {
			continue
		}
		done[v] = true
		route := routeOf(patterns, u.Path)
		if route == "" || reached[route] >= sweepPerRoute {
			continue
		}
		reached[route]++
		for _, d := range derived(route, u) {
			queue = append(queue, visit{d, true})
		}
		var opts []reqOption
		if v.fragment {
			opts = append(opts, htmx())
		}
		rec := c.get(u.RequestURI(), opts...)
		if rec.Code >= 300 && rec.Code < 400 {
			queue = append(queue, visit{rec.Header().Get("Location"), false})
			continue
		}
		ct := rec.Header().Get("Content-Type")
		var pieces []string
		switch {
		case strings.HasPrefix(ct, "text/html"):
			doc, err := html.ParseWithOptions(strings.NewReader(rec.Body.String()), html.ParseOptionEnableScripting(false))
			if err != nil {
				t.Fatal(err)
			}
			pieces = visibleText(doc, lang == i18n.English)
			pages, frags := links(doc)
			for _, p := range pages {
				queue = append(queue, visit{p, false})
			}
			for _, f := range frags {
				queue = append(queue, visit{f, true})
			}
		case strings.HasPrefix(ct, "text/csv"):
			pieces = strings.Split(strings.ReplaceAll(strings.TrimPrefix(rec.Body.String(), "\uFEFF"), "\r\n", "\n"), "\n")
		default:
			continue // a file (xlsx): reached, not read here
		}
		// An error page names its request for support: a random token, not a word.
		pieces = without(pieces, rec.Header().Get("X-Request-Id"))
		for _, l := range leaks(lang, pieces, mask, dataWords, dataBlob) {
			key := route + ": " + l
			if !slices.Contains(found[route], l) {
				found[route] = append(found[route], l)
				_ = key
			}
		}
	}
	return found, reached
}

// sweepSeeds are the URLs only scripts ask for (board.js's columns and
// changes, the imports badge's poll, the reference sets' poll), the
// new lead form, and a large lead export's file (a download linked from
// its job's page once done, which the fixture's few leads never need: it
// is reached so the walk accounts for the route; a file has no sentences).
func sweepSeeds(t *testing.T, h *harness) []string {
	t.Helper()
	var bt, status string
	if ls, _, err := h.store.ListLeads(context.Background(), db.LeadFilter{Limit: 1}); err == nil && len(ls) == 1 {
		bt, status = ls[0].BusinessType, ls[0].Status
	}
	return []string{"/leads/new", "/leads/list", "/leads/bulk/preview", "/leads/changes?after=0", "/imports/badge", "/settings/reference/sets", "/leads/exports/1/file",
		"/leads/board/column?" + url.Values{"business_type": {bt}, "status": {status}, "offset": {"0"}}.Encode()}
}

// derived are the URLs a page's scripts or forms reach from a URL: an
// import's progress, target and estimate fragments, a send's status
// (polled only while it runs), records export and an email's preview, a
// score selection's exports.
func derived(route string, u *url.URL) []string {
	id := path.Base(path.Dir(u.Path + "/x"))
	switch route {
	case "/imports/:id":
		return []string{"/imports/" + id + "/progress", "/imports/" + id + "/crowds", "/imports/" + id + "/estimate"}
	case "/sms/sends/:id":
		return []string{"/sends/" + id + "/records.csv", "/sends/" + id + "/status"}
	case "/email/sends/:id":
		return []string{"/sends/" + id + "/records.csv", "/sends/" + id + "/status", "/email/sends/" + id + "/preview"}
	case "/leads/:uuid":
		return []string{"/leads/" + path.Base(u.Path) + "/timeline"} // the timeline's next page (shown past 30 entries)
	case "/scores/selection":
		return []string{"/scores/export.csv?" + u.RawQuery, "/scores/export.xlsx?" + u.RawQuery}
	}
	return nil
}

// The sweep itself: zh-CN then en over every GET route.
func TestEveryPageSpeaksOneLanguage(t *testing.T) {
	t.Parallel()
	rig := newSweepRig(t)
	h := rig.h
	data := sweepData(t, rig)
	// Chinese data is masked where it stands (Chinese has no word
	// boundaries); English data is matched word by word, so a short value
	// ("d") does not cut the words around it.
	dataBlob := strings.Join(data, "\n")
	dataWords := map[string]bool{}
	var pairs []string
	for _, v := range append(data, sweepCodes(t, h)...) {
		for _, w := range wordish.FindAllString(v, -1) {
			dataWords[w] = true
		}
		if hanish.MatchString(v) {
			pairs = append(pairs, v, " ")
		}
	}
	mask := strings.NewReplacer(pairs...)
	total := 0
	for _, who := range []struct{ user, lang string }{{"lina", i18n.Chinese}, {"emma", i18n.English}} {
		c := h.login(who.user)
		found, reached := sweep(t, h, c, who.lang, mask, dataWords, dataBlob)
		// Signed out: the sign-in and first-run pages, in the language the
		// browser asks for.
		anon := h.anon()
		for _, p := range []string{"/login", "/setup"} {
			reached[p]++
			rec := anon.get(p, func(r *http.Request) { r.Header.Set("Accept-Language", who.lang) })
			if rec.Code != http.StatusOK {
				continue // /setup once an admin exists: back to /login
			}
			doc, err := html.ParseWithOptions(strings.NewReader(rec.Body.String()), html.ParseOptionEnableScripting(false))
			if err != nil {
				t.Fatal(err)
			}
			found[p] = append(found[p], leaks(who.lang, visibleText(doc, who.lang == i18n.English), mask, dataWords, dataBlob)...)
		}
		for _, p := range routePatterns(h.srv) {
			if route := strings.Join(p, "/"); reached[route] == 0 {
				t.Errorf("%s: route %s was never reached from the navigation: link it, or give the fixture data that shows it", who.lang, route)
			}
		}
		pages := 0
		for _, n := range reached {
			pages += n
		}
		t.Logf("%s: %d pages and fragments of %d routes read", who.lang, pages, len(reached))
		routes := make([]string, 0, len(found))
		for r := range found {
			routes = append(routes, r)
		}
		sort.Strings(routes)
		for _, r := range routes {
			for _, l := range found[r] {
				total++
				t.Errorf("%s %s: %s", who.lang, r, l)
			}
		}
	}
	t.Logf("%d leaks", total)
}
