package jing_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// quirkRig is a sandbox answering with quirks, every endpoint unpaced.
func quirkRig(t *testing.T, qs sandbox.Quirks, opts ...rigOption) *rig {
	t.Helper()
	cat := fixture.Catalog(t, fixture.Pace{})
	return newRig(t, append([]rigOption{func(sc *sandbox.Config, cc *jing.Config) {
		sc.Catalog, cc.Catalog, sc.Quirks = cat, cat, qs
	}}, opts...)...)
}

func quirks(t *testing.T, flags ...string) sandbox.Quirks {
	qs := sandbox.Quirks{}
	for _, f := range flags {
		if err := qs.Set(f); err != nil {
			t.Fatal(err)
		}
	}
	return qs
}

func TestQuirkFlagsAreCheckedAndComposable(t *testing.T) {
	t.Parallel()
	qs := quirks(t, "no-meta", "items-renamed=crowds.list,members.list", "json-404=leads.update")
	if !qs.On(sandbox.QuirkNoMeta, "leads.list") || !qs.On(sandbox.QuirkItemsRenamed, "crowds.list") || qs.On(sandbox.QuirkItemsRenamed, "leads.list") {
		t.Fatalf("quirks %v", qs)
	}
	if got := qs.String(); got != "items-renamed=crowds.list,members.list json-404=leads.update no-meta" {
		t.Fatalf("String %q", got)
	}
	for _, bad := range []string{"no-such-quirk", "no-meta=leads.lst"} {
		if err := (sandbox.Quirks{}).Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Without _meta the client asks for pages until a short one: the copy is
// whole, and that _meta was missing is logged once per endpoint.
func TestListsWithoutMetaAreWalkedToTheEnd(t *testing.T) {
	t.Parallel()
	var logs syncBuf
	r := quirkRig(t, quirks(t, "no-meta"), func(_ *sandbox.Config, cc *jing.Config) {
		cc.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ctx := context.Background()
	members := 0
	for _, err := range jing.Pages[memberItem](ctx, r.client, "members.list", func(p jing.PageRequest) any { return p }) {
		if err != nil {
			t.Fatal(err)
		}
		members++
	}
	if members != 30 {
		t.Fatalf("walked %d members, want 30", members)
	}
	// Pages of 7 leads: 50 leads end on a short page of 1.
	for range 2 {
		seen := map[string]bool{}
		paging := r.client.NewPaging("leads.list")
		for page := 1; ; page++ {
			p, err := r.client.ListLeads(ctx, jing.LeadFilter{}, jing.PageRequest{Page: page, PerPage: 7})
			if err != nil {
				t.Fatal(err)
			}
			if p.Meta.Known() {
				t.Fatal("the quirk left _meta in")
			}
			for _, l := range p.Items {
				seen[l.JingUUID] = true
			}
			more, err := paging.More(page, p.Info())
			if err != nil {
				t.Fatal(err)
			}
			if !more {
				if page != 8 {
					t.Fatalf("stopped after page %d, want 8", page)
				}
				break
			}
		}
		if len(seen) != 50 {
			t.Fatalf("walked %d leads, want 50", len(seen))
		}
	}
	if n := strings.Count(logs.String(), "list answer without _meta"); n != 2 {
		t.Fatalf("logged %d times, want once for members.list and once for leads.list:\n%s", n, logs.String())
	}
}

// A platform that ignores the page asked for, or whose pages never end,
// fails the walk: a copy is never taken as complete when it is not.
func TestAWalkThatCannotEndFails(t *testing.T) {
	t.Parallel()
	r := quirkRig(t, quirks(t, "no-meta"), func(_ *sandbox.Config, cc *jing.Config) { cc.MaxPages = 3 })
	ctx := context.Background()
	n := 0
	var last error
	for _, err := range jing.Pages[memberItem](ctx, r.client, "members.list", func(p jing.PageRequest) any {
		return jing.PageRequest{Page: 1, PerPage: 10} // the same page, whatever is asked
	}) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	if e, ok := jing.AsError(last); !ok || e.Problem != jing.ProblemSamePage || n != 10 {
		t.Fatalf("the same page twice: %v after %d items", last, n)
	}
	last, n = nil, 0
	for _, err := range jing.Pages[memberItem](ctx, r.client, "members.list", func(p jing.PageRequest) any {
		return jing.PageRequest{Page: p.Page, PerPage: 5}
	}) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	if e, ok := jing.AsError(last); !ok || e.Problem != jing.ProblemManyPages || n != 10 {
		t.Fatalf("beyond the page limit: %v after %d items", last, n)
	}
}

func TestAListWithItsArrayRenamedIsAnErrorNotAnEmptyList(t *testing.T) {
	t.Parallel()
	r := quirkRig(t, quirks(t, "items-renamed"))
	ctx := context.Background()
	for _, call := range []func() error{
		func() error { _, err := r.client.ListCrowds(ctx, jing.CrowdListRequest{}); return err },
		func() error { _, err := r.client.AllMembers(ctx); return err },
		func() error { _, err := r.client.BusinessTypes(ctx, jing.ObjectLead); return err },
		func() error { _, err := r.client.Mailboxes(ctx); return err },
		func() error {
			_, err := r.client.ResolveIdentities(ctx, jing.IdentityMobile, []string{"13800138000"})
			return err
		},
	} {
		e, ok := jing.AsError(call())
		if !ok || e.Kind != jing.KindUnrecognised || e.Field != "items" || e.Problem != jing.ProblemMissing {
			t.Fatalf("%v", e)
		}
	}
}

// users.create answering without omni_user_uuid (the public example): the
// created persons are found by their identities afterwards, with the
// identity batch or, when it is disabled, users.query one by one.
func TestCreatedPersonsAreResolvedWhenTheAnswerHasNoUUID(t *testing.T) {
	t.Parallel()
	for _, disabled := range []bool{false, true} {
		r := quirkRig(t, quirks(t, "no-user-uuid"))
		if disabled {
			cat, _ := r.client.Catalog().ApplyOverrides(map[string]jing.Override{"users.identity_batch": {Disabled: ptr(true)}})
			r = quirkRig(t, quirks(t, "no-user-uuid"), func(_ *sandbox.Config, cc *jing.Config) { cc.Catalog = cat })
		}
		ctx := context.Background()
		in := []jing.PersonInput{
			{Identities: []jing.Identity{{Type: jing.IdentityMobile, Value: "19667348978", Name: "手机号"}}},
			{Identities: []jing.Identity{{Type: jing.IdentityMobile, Value: "19667348979", Name: "手机号"}}},
			{Identities: []jing.Identity{{Type: jing.IdentityMobile, Value: "123", Name: "手机号"}}}, // refused
		}
		res, err := r.client.CreatePersons(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Success) != 2 || len(res.Failure) != 1 || len(res.Unresolved) != 0 {
			t.Fatalf("identity batch disabled %t: %+v", disabled, res)
		}
		for _, s := range res.Success {
			p, err := r.client.QueryPerson(ctx, jing.IdentityMobile, s.Identities[0].Value)
			if err != nil || !s.Resolved || s.OmniUserUUID != p.OmniUserUUID {
				t.Fatalf("created %+v, platform has %+v (%v)", s, p, err)
			}
		}
		if disabled && r.calls.count("/v1/user/identity/batchQuery") != 0 {
			t.Fatal("the disabled identity batch was called")
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestStringCodeOfSuccessIsNotTakenForARefusal(t *testing.T) {
	t.Parallel()
	r := quirkRig(t, quirks(t, "string-code=crowds.import"))
	ctx := context.Background()
	crowd := oldestCrowd(t, r)
	uuids := sampleUUIDs(r, 3)
	_, err := r.client.ImportToCrowd(ctx, crowd.GroupID, uuids)
	e, ok := jing.AsError(err)
	if !ok || e.Kind != jing.KindUnrecognised || e.Problem != jing.ProblemUnknownCode || !e.Write || jing.IsKind(err, jing.KindBusiness) {
		t.Fatalf("string code 200: %v", err)
	}
	if m := render(t, e, "zh-CN"); !strings.Contains(m, "请先在平台上核实") || strings.Contains(m, "拒绝了此操作") {
		t.Fatalf("message %q", m)
	}
}

func TestNotFoundQuirksAreAPathNotFound(t *testing.T) {
	t.Parallel()
	for _, q := range []string{"html-404", "json-404"} {
		r := quirkRig(t, quirks(t, q+"=leads.update"))
		ctx := context.Background()
		err := r.client.UpdateLead(ctx, "x", jing.LeadInput{LeadFields: jing.LeadFields{Name: "王芳"}})
		e, ok := jing.AsError(err)
		if !ok || e.Kind != jing.KindInvalidPath || e.HTTPStatus != 404 || !strings.Contains(e.Excerpt, "Not Found") {
			t.Fatalf("%s: %v", q, err)
		}
		// Other endpoints answer; an unknown path is a 404 too.
		if _, err := r.client.AllMembers(ctx); err != nil {
			t.Fatalf("%s: members.list: %v", q, err)
		}
		wrong := "/v1/member/lists"
		cat, _ := r.client.Catalog().ApplyOverrides(map[string]jing.Override{"members.list": {Path: &wrong}})
		r2 := quirkRig(t, quirks(t, q), func(_ *sandbox.Config, cc *jing.Config) { cc.Catalog = cat })
		if _, err := r2.client.AllMembers(ctx); !jing.IsKind(err, jing.KindInvalidPath) {
			t.Fatalf("%s: an unknown path: %v", q, err)
		}
		if res := r2.client.Probe(ctx, "members.list"); res.Status != jing.ProbePathNotFound {
			t.Fatalf("%s: probe %v", q, res.Status)
		}
	}
}

func TestNoCodeAndEmptyAnswersAreNeverSuccesses(t *testing.T) {
	t.Parallel()
	for _, q := range []string{"no-code=leads.update,leads.list", "empty-answer=leads.update,leads.list"} {
		r := quirkRig(t, quirks(t, q))
		ctx := context.Background()
		lead := listedLead(t, quirkRig(t, nil).client) // the same seed: the same leads
		err := r.client.UpdateLead(ctx, lead, jing.LeadInput{LeadFields: jing.LeadFields{Name: "王芳"}})
		if e, ok := jing.AsError(err); !ok || e.Kind != jing.KindUnrecognised || !e.Write {
			t.Fatalf("%s: leads.update: %v", q, err)
		}
		if _, err := r.client.ListLeads(ctx, jing.LeadFilter{}, jing.PageRequest{Page: 1, PerPage: 10}); !jing.IsKind(err, jing.KindUnrecognised) {
			t.Fatalf("%s: leads.list: %v", q, err)
		}
	}
	// The stats remember the latest answer not understood, whole.
	r := quirkRig(t, quirks(t, "no-code=members.list"))
	r.client.AllMembers(context.Background())
	for _, s := range r.client.Stats(context.Background()) {
		if s.Endpoint.Key == "members.list" && (s.Unrecognised != 1 || s.LastUnrecognised == nil || s.LastUnrecognised.HTTPStatus != 200 ||
			!strings.Contains(s.LastUnrecognised.Excerpt, `"data":{"items"`)) {
			t.Fatalf("stats %+v, excerpt %q", s, s.LastUnrecognised.Excerpt)
		}
	}
}

// With webhook-objects the sandbox's events look like the public examples
// and still decode.
func TestWebhookBodiesLikeThePublicExamplesDecode(t *testing.T) {
	t.Parallel()
	got := make(chan []byte, 100)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	t.Cleanup(receiver.Close)
	sb := fixture.Sandbox(t, sandbox.Config{Seed: 1, Persons: 200, Leads: 20, WebhookURL: receiver.URL,
		Quirks: quirks(t, "webhook-objects")})
	client := fixture.Client(t, sb.URL, jing.Catalog{})
	lead := listedLead(t, client)
	if err := client.UpdateLead(context.Background(), lead, jing.LeadInput{LeadFields: jing.LeadFields{Title: "经理"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		var b []byte
		select {
		case b = <-got:
		case <-deadline:
			t.Fatal("no object_update event delivered")
		}
		ev, err := jing.DecodeWebhook(b)
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if ev.EventType != jing.EventObjectUpdate || ev.ExtraData.EntityID != lead {
			continue
		}
		for _, want := range []string{`"openplatform":"June"`, `"timeline_data":{`, `"mapping_data":{`, `"login_source_value":null`, `"notes":null`} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("event lacks %s: %s", want, b)
			}
		}
		if _, ok := ev.ExtraData.Changes()["title"]; !ok || ev.Extra["openplatform"] == nil {
			t.Fatalf("decoded %+v", ev)
		}
		return
	}
}

func listedLead(t *testing.T, c *jing.Client) string {
	t.Helper()
	p, err := c.ListLeads(context.Background(), jing.LeadFilter{}, jing.PageRequest{Page: 1, PerPage: 1})
	if err != nil || len(p.Items) == 0 {
		t.Fatalf("a lead: %v", err)
	}
	return p.Items[0].JingUUID
}
