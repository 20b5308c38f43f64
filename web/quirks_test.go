package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/sends"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The console's main flows against a sandbox answering like an
// undocumented platform (sandbox quirks): each either gets the right
// result or says clearly, in the user's language, what happened. Never a
// false success, never a short copy marked complete, never a second send.

// quirkCase is one sandbox behaviour and what a flow must do under it.
type quirkCase struct {
	quirks []string // sandbox.Quirks flags: "name" or "name=endpoint,…"
	// fails names the endpoint whose answer the flow cannot use ("": the
	// flow succeeds); notFound says it answered 404.
	fails    string
	notFound bool
}

func (c quirkCase) String() string { return strings.Join(c.quirks, "+") }

func setQuirks(t testing.TB, sb *sandbox.Running, flags ...string) {
	t.Helper()
	qs := sandbox.Quirks{}
	for _, f := range flags {
		if err := qs.Set(f); err != nil {
			t.Fatal(err)
		}
	}
	sb.SetQuirks(qs)
}

// wantPlatformError checks a message shown to the user: it names the
// endpoint, reads in Chinese (the user's language), carries no Go error
// text, and for a write whose effect cannot be known sends the user to
// the platform, while a path not found says so.
func wantPlatformError(t testing.TB, shown string, c quirkCase, write bool) {
	t.Helper()
	if shown == "" {
		t.Fatalf("%s: no error shown", c)
	}
	if !strings.Contains(shown, c.fails) || strings.Contains(shown, "jing "+c.fails) || strings.Contains(shown, "unrecognised") {
		t.Errorf("%s: the message does not name %s in the user's words: %q", c, c.fails, shown)
	}
	if !strings.ContainsAny(shown, "平台答复控制台") {
		t.Errorf("%s: the message is not in Chinese: %q", c, shown)
	}
	switch {
	case c.notFound && !strings.Contains(shown, "路径不存在"):
		t.Errorf("%s: a path not found is not said so: %q", c, shown)
	case !c.notFound && write && !strings.Contains(shown, "请先在平台上核实"):
		t.Errorf("%s: the user is not told to check on the platform: %q", c, shown)
	}
}

// everyQuirk are the quirks applied to every endpoint, and what each
// does to a flow whose first call is first (a read).
func everyQuirk(first string) []quirkCase {
	return []quirkCase{
		{quirks: []string{"no-code"}, fails: first},
		{quirks: []string{"empty-answer"}, fails: first},
		{quirks: []string{"string-code"}, fails: first},
		{quirks: []string{"html-404"}},
		{quirks: []string{"json-404"}},
		{quirks: []string{"no-meta"}},
		{quirks: []string{"no-user-uuid"}},
		{quirks: []string{"webhook-objects"}},
	}
}

// --- lead edit ---

func TestQuirksLeadEdit(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, _ := boardAsMarketer(t)
	sb := rig.ref.sandbox()
	cases := append(everyQuirk("leads.query"),
		quirkCase{quirks: []string{"items-renamed"}}, // the edit reads no list
		// The proxy's answers of the issue: 200 {} and a Spring 404 to the write.
		quirkCase{quirks: []string{"empty-answer=leads.update"}, fails: "leads.update"},
		quirkCase{quirks: []string{"json-404=leads.update"}, fails: "leads.update", notFound: true},
		quirkCase{quirks: []string{"html-404=leads.update"}, fails: "leads.update", notFound: true},
		quirkCase{quirks: []string{"no-code=leads.update"}, fails: "leads.update"},
		quirkCase{quirks: []string{"string-code=leads.update"}, fails: "leads.update"},
	)
	ls, _, err := h.store.ListLeads(context.Background(), db.LeadFilter{BusinessType: bt, Limit: len(cases) + 1})
	if err != nil || len(ls) < len(cases)+1 {
		t.Fatalf("%d leads for %d cases (%v)", len(ls), len(cases), err)
	}
	for i, qc := range cases {
		l := ls[i]
		title := fmt.Sprintf("职务%02d", i)
		unknownBefore := h.countAudit("platform.leads.update", db.OutcomeUnknown)
		setQuirks(t, sb, qc.quirks...)
		rec := c.post(leadsview.EditPath(l.UUID), editForm(l, rig.resolver(), map[string]string{"title": title}))
		setQuirks(t, sb)
		written := rig.platformLead(l.UUID).Title == title
		if qc.fails == "" {
			if rec.Code != http.StatusSeeOther || !written || rig.localLead(l.UUID).Title != title {
				t.Errorf("%s: %d, platform written %t", qc, rec.Code, written)
			}
			continue
		}
		if rec.Code == http.StatusSeeOther {
			t.Errorf("%s: a false success (\"线索已在平台保存\")", qc)
			continue
		}
		p := parsePage(t, rec.Body.String())
		wantPlatformError(t, p.text("lead-form-error"), qc, qc.fails == "leads.update")
		if got := p.inputValue("title"); got != title {
			t.Errorf("%s: what was typed is lost (%q)", qc, got)
		}
		if rig.localLead(l.UUID).Title == title {
			t.Errorf("%s: the local copy took a write the platform did not confirm", qc)
		}
		// 200 {} to the write: it may have happened (it did, here), and the
		// audit log says the outcome is unknown.
		effectUnknown := qc.fails == "leads.update" && !qc.notFound
		if effectUnknown && h.countAudit("platform.leads.update", db.OutcomeUnknown) != unknownBefore+1 {
			t.Errorf("%s: the write is not audited as unknown", qc)
		}
		if !effectUnknown && written {
			t.Errorf("%s: the platform was written although the message says it was not", qc)
		}
	}
	// In English, the same page reads in English only.
	c.post("/lang", url.Values{"lang": {"en"}})
	l := ls[len(cases)]
	setQuirks(t, sb, "empty-answer=leads.update")
	rec := c.post(leadsview.EditPath(l.UUID), editForm(l, rig.resolver(), map[string]string{"title": "Buyer"}))
	setQuirks(t, sb)
	shown := parsePage(t, rec.Body.String()).text("lead-form-error")
	if rec.Code == http.StatusSeeOther || !strings.Contains(shown, "leads.update") || !strings.Contains(shown, "check on the platform") ||
		strings.ContainsFunc(shown, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
		t.Errorf("English: %d %q", rec.Code, shown)
	}
}

// --- lead sync ---

// A full sync under each quirk, into an empty copy: done with every lead,
// or failed with the reason; never done with part of them.
func TestQuirksLeadSync(t *testing.T) {
	t.Parallel()
	cases := append(everyQuirk("leads.list"),
		quirkCase{quirks: []string{"items-renamed"}, fails: "leads.list"},
		quirkCase{quirks: []string{"json-404=leads.list"}, fails: "leads.list", notFound: true},
		quirkCase{quirks: []string{"no-meta", "items-renamed=crowds.list"}},
	)
	for _, qc := range cases {
		t.Run(qc.String(), func(t *testing.T) {
			var rig boardRig
			h := newHarness(t, withBoard(t, &rig))
			rig.h = h
			rig.ref.refresh("")
			ctx := context.Background()
			bt := rig.resolver().DefaultBusinessType("lead")
			statuses := rig.resolver().Statuses(bt)
			for i := range 70 { // 110 leads: two pages of 100
				in := jing.LeadInput{LeadFields: jing.LeadFields{BusinessType: bt, LeadStatus: statuses[0].ID,
					Name: fmt.Sprintf("翻页线索%02d", i), Mobile: fmt.Sprintf("1390001%04d", i)}}
				if _, err := rig.platform().CreateLead(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			onPlatform := 0
			for _, err := range rig.platform().AllLeads(ctx, jing.LeadFilter{}) {
				if err != nil {
					t.Fatal(err)
				}
				onPlatform++
			}
			h.addUser("mia", db.RoleMarketer)
			c := h.login("mia")
			setQuirks(t, rig.ref.sandbox(), qc.quirks...)
			id, err := rig.svc.RequestSync(ctx, 0, true)
			if err != nil {
				t.Fatal(err)
			}
			j := waitJob(t, h, id)
			_, copied, err := h.store.ListLeads(ctx, db.LeadFilter{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			jobPage := parsePage(t, c.get(fmt.Sprintf("/jobs/%d", id)).Body.String())
			if qc.fails == "" {
				if j.State != db.JobDone || copied != onPlatform {
					t.Fatalf("%s, %d of %d leads copied: %s", j.State, copied, onPlatform, j.Error)
				}
				return
			}
			if j.State == db.JobDone {
				t.Fatalf("the sync reports done with %d of %d leads", copied, onPlatform)
			}
			st, _ := h.store.LeadSync(ctx)
			if st.FullSyncedAt != 0 {
				t.Fatal("the copy is marked fully synced")
			}
			wantPlatformError(t, jobPage.text("job-error"), qc, false)
		})
	}
}

// --- crowd list ---

func TestQuirksCrowdList(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	ctx := context.Background()
	onPlatform := 0
	for _, err := range rig.plat.Client().AllCrowds(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		onPlatform++
	}
	cases := append(everyQuirk("crowds.list"),
		quirkCase{quirks: []string{"items-renamed"}, fails: "crowds.list"},
		quirkCase{quirks: []string{"html-404=crowds.list"}, fails: "crowds.list", notFound: true},
		quirkCase{quirks: []string{"no-meta", "no-code=leads.list"}},
	)
	for _, qc := range cases {
		setQuirks(t, rig.sandbox(), qc.quirks...)
		if rec := c.post("/crowds/sync", url.Values{}); rec.Code != http.StatusSeeOther {
			t.Fatalf("%s: refresh: %d", qc, rec.Code)
		}
		jobs, err := h.store.ListJobs(ctx, db.JobFilter{Limit: 1}) // the newest: the refresh just asked for
		if err != nil || len(jobs) == 0 || jobs[0].Kind != crowds.SyncJobKind {
			t.Fatalf("%s: no refresh job (%v)", qc, err)
		}
		j := waitJob(t, h, jobs[0].ID)
		setQuirks(t, rig.sandbox())
		p := parsePage(t, c.get("/crowds/table").Body.String())
		shown, _ := strconv.Atoi(p.attr("crowds-table", "data-total"))
		if p.has("empty-state") {
			t.Errorf("%s: the page says there are no crowds", qc)
		}
		if shown != onPlatform {
			t.Errorf("%s: %d crowds shown of %d (the last complete copy must stay)", qc, shown, onPlatform)
		}
		if qc.fails == "" {
			if j.State != db.JobDone || p.has("crowds-sync-error") {
				t.Errorf("%s: %s %s", qc, j.State, p.text("crowds-sync-error"))
			}
			continue
		}
		if j.State == db.JobDone {
			t.Errorf("%s: the refresh reports done", qc)
		}
		wantPlatformError(t, p.text("crowds-sync-error"), qc, false)
	}
}

// A list never fetched whole is "not loaded", never "no crowds".
func TestQuirksCrowdListNeverLoaded(t *testing.T) {
	t.Parallel()
	var rig crowdsRig
	h := newHarness(t, withCrowds(t, &rig))
	rig.h = h
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	setQuirks(t, rig.sandbox(), "items-renamed")
	id, err := rig.svc.RequestSync(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if j := waitJob(t, h, id); j.State == db.JobDone {
		t.Fatal("the refresh reports done")
	}
	p := parsePage(t, c.get("/crowds/table").Body.String())
	if p.has("empty-state") || !p.has("crowds-not-loaded") {
		t.Fatal("a list that was never loaded shows as empty")
	}
	wantPlatformError(t, p.text("crowds-sync-error"), quirkCase{quirks: []string{"items-renamed"}, fails: "crowds.list"}, false)
}

// --- import with create-missing ---

func TestQuirksImportCreatingMissingPersons(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	ctx := context.Background()
	crowds, _, err := h.store.ListCrowds(ctx, db.CrowdFilter{Limit: 1})
	if err != nil || len(crowds) == 0 {
		t.Fatal("no crowd to import into")
	}
	crowd := crowds[0].GroupID
	known := rig.sandbox().SamplePersons(4)
	cases := append(everyQuirk("users.identity_batch"),
		quirkCase{quirks: []string{"items-renamed"}, fails: "users.identity_batch"},
		quirkCase{quirks: []string{"no-meta=crowds.users", "no-user-uuid"}},
		// The case: the platform imported them, and said so with "200".
		quirkCase{quirks: []string{"string-code=crowds.import"}, fails: "crowds.import"},
		quirkCase{quirks: []string{"no-code=users.create"}, fails: "users.create"},
	)
	for i, qc := range cases {
		mobiles := []string{}
		for _, p := range known {
			mobiles = append(mobiles, p.Mobile)
		}
		fresh := []string{fmt.Sprintf("1993%03d%04d", i, 1), fmt.Sprintf("1993%03d%04d", i, 2)}
		mobiles = append(mobiles, fresh...)
		var file strings.Builder
		file.WriteString("手机号\n")
		for _, m := range mobiles {
			file.WriteString(m + "\n")
		}
		id := uploadOK(t, c, fmt.Sprintf("名单%02d.csv", i), []byte(file.String()))
		validate(t, c, id, url.Values{"col_0": {"mobile"}, "identity": {"mobile"}})
		setQuirks(t, rig.sandbox(), qc.quirks...)
		rec := c.post(fmt.Sprintf("/imports/%d/start", id), url.Values{"crowd": {strconv.FormatInt(crowd, 10)},
			"create_missing": {"1"}, "again": {"1"}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("%s: start: %d\n%s", qc, rec.Code, rec.Body.String())
		}
		im, _ := h.store.Import(ctx, id)
		j := waitJob(t, h, im.JobID)
		setQuirks(t, rig.sandbox())
		n, _ := h.store.ImportStateCounts(ctx, id)
		p := parsePage(t, c.get(fmt.Sprintf("/imports/%d", id)).Body.String())
		if shown := p.textIn("result-failed", "import-result-n"); n[db.RowFailed] != 0 || shown != "0" {
			t.Errorf("%s: %d rows failed (page says %q): a person the platform created is never failed", qc, n[db.RowFailed], shown)
		}
		if qc.fails == "" {
			members := crowdMembers(t, rig, crowd)
			for _, m := range fresh {
				person, err := rig.plat.Client().QueryPerson(ctx, jing.IdentityMobile, m)
				if err != nil || !slices.Contains(members, person.OmniUserUUID) {
					t.Errorf("%s: the created person %s is not in the crowd (%v)", qc, m, err)
				}
			}
			if j.State != db.JobDone || n[db.RowImported]+n[db.RowAlreadyMember] != int64(len(mobiles)) {
				t.Errorf("%s: %s, rows %v: %s", qc, j.State, n, j.Error)
			}
			continue
		}
		if j.State == db.JobDone {
			t.Errorf("%s: the import reports done", qc)
		}
		wantPlatformError(t, p.text("import-error"), qc, qc.fails == "crowds.import" || qc.fails == "users.create")
	}
}

func crowdMembers(t *testing.T, rig *crowdsRig, crowd int64) []string {
	t.Helper()
	var out []string
	for m, err := range rig.plat.Client().AllCrowdUsers(context.Background(), crowd) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.OmniUserUUID)
	}
	return out
}

// --- SMS send ---

func TestQuirksSMSSend(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	c := sendsSetup(t, h, rig, sends.DefaultSettings)
	ctx := context.Background()
	type smsCase struct {
		quirkCase
		state string // the send's state right after confirming
	}
	cases := []smsCase{
		{quirkCase{quirks: []string{"no-code"}, fails: "sms.task_create"}, db.SendFailed},
		{quirkCase{quirks: []string{"empty-answer"}, fails: "sms.task_create"}, db.SendFailed},
		{quirkCase{quirks: []string{"string-code"}, fails: "sms.task_create"}, db.SendFailed},
		{quirkCase{quirks: []string{"no-code=sms.send"}, fails: "sms.send"}, db.SendUnknown},
		{quirkCase{quirks: []string{"empty-answer=sms.send"}, fails: "sms.send"}, db.SendUnknown},
		{quirkCase{quirks: []string{"string-code=sms.send"}, fails: "sms.send"}, db.SendUnknown},
		{quirkCase{quirks: []string{"json-404=sms.send"}, fails: "sms.send", notFound: true}, db.SendFailed},
		{quirkCase{quirks: []string{"html-404=sms.send"}, fails: "sms.send", notFound: true}, db.SendFailed},
		{quirkCase{quirks: []string{"items-renamed"}}, db.SendSubmitted},
		{quirkCase{quirks: []string{"no-meta"}}, db.SendSubmitted},
		{quirkCase{quirks: []string{"html-404"}}, db.SendSubmitted},
		{quirkCase{quirks: []string{"json-404"}}, db.SendSubmitted},
		{quirkCase{quirks: []string{"no-user-uuid"}}, db.SendSubmitted},
		{quirkCase{quirks: []string{"webhook-objects"}}, db.SendSubmitted},
	}
	for _, sc := range cases {
		id, _ := mobilesDraft(t, c, rig, 2)
		sid := strconv.FormatInt(id, 10)
		before := rig.sandbox().CallsToday("sms.send")
		setQuirks(t, rig.sandbox(), sc.quirks...)
		c.post("/sends/"+sid+"/confirm", url.Values{})
		sd := sendState(t, h, id)
		p := parsePage(t, c.get("/sms/sends/"+sid).Body.String())
		// Looking for the outcome, with the quirks still on, sends nothing.
		for range 3 {
			rig.sends.Reconcile(ctx)
		}
		setQuirks(t, rig.sandbox())
		rig.sends.Reconcile(ctx)
		sent := rig.sandbox().CallsToday("sms.send") - before
		switch {
		case sd.State != sc.state:
			t.Errorf("%s: %s, want %s (%s)", sc, sd.State, sc.state, p.text("send-last-error"))
		case sent > 1:
			t.Errorf("%s: sms.send called %d times", sc, sent)
		case sc.state == db.SendFailed && sent != 0:
			t.Errorf("%s: failed, but sms.send was called", sc)
		case sc.state == db.SendSubmitted && sent != 1:
			t.Errorf("%s: submitted without a send", sc)
		}
		if sc.fails != "" {
			wantPlatformError(t, p.text("send-last-error"), sc.quirkCase, sc.fails == "sms.send")
		}
		if sc.state == db.SendUnknown {
			if !p.has("send-evidence") || !p.has("send-decide-again") {
				t.Errorf("%s: the unknown send offers no decision", sc)
			}
			// The platform did send: once its answer is readable again the
			// reconciler finds the task, and nothing is sent twice.
			if after := sendState(t, h, id); after.State != db.SendSubmitted || sent != 1 {
				t.Errorf("%s: after reconciling %s, %d sends", sc, after.State, sent)
			}
		}
	}
}

// --- webhooks like the public examples ---

// The embedded sandbox delivers over HTTP to the console's receiver,
// bodies written as the public examples; the change reaches the copy.
func TestQuirksWebhookBodiesLikeThePublicExamplesApply(t *testing.T) {
	t.Parallel()
	h, rig := newLiveHarness(t)
	receiver := httptest.NewServer(h.srv)
	t.Cleanup(receiver.Close)
	sb := rig.sandbox()
	setQuirks(t, sb, "webhook-objects")
	sb.SetWebhookURL(receiver.URL + "/webhooks/jing/" + rig.secret())
	t.Cleanup(func() { sb.SetWebhookURL("") })
	bt := rig.resolver().DefaultBusinessType("lead")
	pipe := rig.resolver().Statuses(bt)
	l := rig.leadIn(bt, pipe[0].ID)
	if err := rig.platform().UpdateLeadStatus(context.Background(), l.UUID, pipe[1].ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for rig.localLead(l.UUID).Status != pipe[1].ID {
		rig.apply()
		if time.Now().After(deadline) {
			t.Fatalf("the status change did not reach the copy; events %+v", rig.events())
		}
		<-time.After(10 * time.Millisecond)
	}
	if bad := rig.events(db.EventFailed, db.EventUnknown); len(bad) != 0 {
		t.Fatalf("events not applied: %+v", bad)
	}
}

// An answer not understood is shown where the administrator acted, and
// kept on Settings → Platform → Usage with its endpoint, status and excerpt.
func TestQuirksAnswerNotUnderstoodIsOnTheUsagePage(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t, withPlatform(t, nil))
	m := h.srv.Platform
	if p := parsePage(t, admin.get("/settings/platform/usage").Body.String()); p.attr("usage-unrecognised", "data-count") != "0" {
		t.Fatal("answers not understood before any was")
	}
	setQuirks(t, m.SandboxServer(), "json-404=members.list", "no-code=leads.list")
	p := parsePage(t, admin.post("/settings/platform/test", url.Values{}).Body.String())
	qc := quirkCase{quirks: []string{"json-404=members.list"}, fails: "members.list", notFound: true}
	if p.attr("platform-test-result", "data-ok") != "false" {
		t.Fatal("the connection test passed on a 404")
	}
	wantPlatformError(t, p.text("platform-test-result"), qc, false)
	client, _ := m.Current()
	client.ListLeads(context.Background(), jing.LeadFilter{}, jing.PageRequest{Page: 1, PerPage: 5})
	setQuirks(t, m.SandboxServer())
	p = parsePage(t, admin.get("/settings/platform/usage").Body.String())
	if p.attr("usage-unrecognised", "data-count") != "2" || p.text("unrecognised-endpoint") != "leads.list" ||
		p.text("unrecognised-status") != "200" || !strings.Contains(p.text("unrecognised-excerpt"), `"data":`) {
		t.Fatalf("usage: %q %q %q %q", p.attr("usage-unrecognised", "data-count"), p.text("unrecognised-endpoint"),
			p.text("unrecognised-status"), p.text("unrecognised-excerpt"))
	}
	wantPlatformError(t, p.text("unrecognised-message"), quirkCase{fails: "leads.list"}, false)
}
