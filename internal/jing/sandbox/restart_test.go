package sandbox

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// A sandbox process for restart tests: Stop is a clean stop (SIGTERM),
// Kill a kill -9 (nothing saved on the way out).
type restartable struct {
	t      *testing.T
	cfg    Config
	s      *Server
	srv    *httptest.Server
	c      *jing.Client // a console's client, its token store kept across restarts
	tokens *memTokens
}

func startRestartable(t *testing.T, cfg Config) *restartable {
	t.Helper()
	r := &restartable{t: t, cfg: cfg}
	r.start()
	return r
}

// memTokens is a console's token store.
type memTokens struct{ tok jing.Token }

func (m *memTokens) LoadToken(context.Context) (jing.Token, error) { return m.tok, nil }
func (m *memTokens) SaveToken(_ context.Context, t jing.Token) error {
	m.tok = t
	return nil
}

func (r *restartable) start() {
	r.t.Helper()
	r.s = New(r.cfg)
	r.s.state.delay = 1 << 62 // no periodic save: a test says when state is written
	r.s.startBackground()
	r.srv = httptest.NewServer(r.s)
	if r.tokens == nil {
		r.tokens = &memTokens{}
	}
	c, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: r.srv.URL, AppID: "sandbox", AppSecret: "sandbox"},
		Catalog: r.cfg.Catalog, Tokens: r.tokens})
	if err != nil {
		r.t.Fatal(err)
	}
	r.c = c
}

// Stop stops as SIGTERM does: serving ends, then the state is saved.
func (r *restartable) Stop() {
	r.srv.Close()
	r.s.stopBackground()
}

// Kill stops with nothing saved, as kill -9 leaves it.
func (r *restartable) Kill() {
	r.srv.Close()
	q := r.s.events
	q.mu.Lock()
	cancel := q.cancel
	q.cancel = nil
	q.mu.Unlock()
	cancel()
	q.wg.Wait()
}

func (r *restartable) Restart() {
	r.t.Helper()
	r.Stop()
	r.start()
}

func (r *restartable) members(groupID int64) []string {
	r.t.Helper()
	var out []string
	for m, err := range r.c.AllCrowdUsers(context.Background(), groupID) {
		if err != nil {
			r.t.Fatalf("members of %d: %v", groupID, err)
		}
		out = append(out, m.OmniUserUUID)
	}
	slices.Sort(out)
	return out
}

// createPersons creates persons by mobile through users.create and
// returns their uuids, as an import with "create missing" does.
func (r *restartable) createPersons(mobiles ...string) []string {
	r.t.Helper()
	body := make([]map[string]any, len(mobiles))
	for i, m := range mobiles {
		body[i] = map[string]any{"identities": []map[string]string{{"type": "mobile", "value": m}},
			"fields": map[string]string{"name": "导入" + m[7:]}}
	}
	var out struct {
		Success []struct {
			OmniUserUUID string `json:"omni_user_uuid"`
		} `json:"success"`
	}
	if err := r.c.Call(context.Background(), "users.create", body, &out); err != nil || len(out.Success) != len(mobiles) {
		r.t.Fatalf("users.create: %+v %v", out, err)
	}
	uuids := make([]string, len(out.Success))
	for i, s := range out.Success {
		uuids[i] = s.OmniUserUUID
	}
	return uuids
}

// Everything changed through the API is there after a clean restart:
// a crowd, its members, the persons an import created, a lead.
func TestEveryChangeThroughTheAPISurvivesARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := startRestartable(t, persistTestConfig(t))
	defer r.Stop()
	group, err := r.c.CreateCrowd(ctx, "重启后还在", "导入的人群")
	if err != nil {
		t.Fatal(err)
	}
	created := r.createPersons("13912340001", "13912340002")
	known := []string{r.s.SamplePersons(3)[0].OmniUserUUID, r.s.SamplePersons(3)[2].OmniUserUUID}
	if _, err := r.c.ImportToCrowd(ctx, group, append(slices.Clone(created), known...)); err != nil {
		t.Fatal(err)
	}
	want := r.members(group)

	r.Restart()
	cr, err := r.c.CrowdDetail(ctx, group)
	if err != nil || cr.Name != "重启后还在" || cr.UserCount != 4 {
		t.Fatalf("the crowd after a restart: %+v %v", cr, err)
	}
	if got := r.members(group); !slices.Equal(got, want) {
		t.Fatalf("members after a restart: %v, want %v", got, want)
	}
	p, err := r.c.QueryPerson(ctx, "mobile", "13912340002")
	if err != nil || p.OmniUserUUID != created[1] {
		t.Fatalf("a person the import created, after a restart: %+v %v", p, err)
	}
	next, err := r.c.CreateCrowd(ctx, "重启后新建", "")
	if err != nil || next <= group {
		t.Fatalf("a crowd created after the restart got id %d (the first was %d): %v", next, group, err)
	}
}

// A kill -9 loses what was changed since the last save (the README says
// a few seconds), but no id handed out before the kill is handed out
// again: a console's link to the lost crowd never opens another one.
func TestIDsAreNotHandedOutTwiceAfterAKill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := persistTestConfig(t)
	rate := 2000.0
	cat, err := jing.DefaultCatalog().ApplyOverrides(map[string]jing.Override{"crowds.create": {RatePerSecond: &rate}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Catalog = cat
	r := startRestartable(t, cfg)
	defer r.Stop()
	saved, err := r.c.CreateCrowd(ctx, "保存过的", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.s.saveState(); err != nil { // the save interval passed
		t.Fatal(err)
	}
	var lost []int64
	for i := range 150 { // past one reserved block
		id, err := r.c.CreateCrowd(ctx, fmt.Sprintf("未保存 %d", i), "")
		if err != nil {
			t.Fatal(err)
		}
		lost = append(lost, id)
	}
	leadUUID, leadObject := r.createLead(ctx, "13700001111")
	r.Kill()

	r.start()
	if _, err := r.c.CrowdDetail(ctx, saved); err != nil {
		t.Fatalf("the crowd saved before the kill: %v", err)
	}
	if _, err := r.c.CrowdDetail(ctx, lost[0]); !jing.IsKind(err, jing.KindBusiness) {
		t.Fatalf("a crowd created after the last save is %v after a kill, want not found", err)
	}
	fresh, err := r.c.CreateCrowd(ctx, "杀进程后新建", "")
	if err != nil {
		t.Fatal(err)
	}
	if fresh <= lost[len(lost)-1] {
		t.Fatalf("a new crowd got group_id %d, at or below the %d handed out before the kill", fresh, lost[len(lost)-1])
	}
	uuid2, object2 := r.createLead(ctx, "13700002222")
	if object2 <= leadObject || uuid2 == leadUUID {
		t.Fatalf("a new lead got object_id %d / %s after the kill, the lost one had %d / %s", object2, uuid2, leadObject, leadUUID)
	}
}

// createLead creates a lead and returns its jing_uuid and object_id.
func (r *restartable) createLead(ctx context.Context, mobile string) (string, int) {
	r.t.Helper()
	r.s.mu.Lock()
	bt := r.s.tenant.Objects.Lead.defaultBusinessType().JingUUID
	r.s.mu.Unlock()
	uuid, err := r.c.CreateLead(ctx, jing.LeadInput{LeadFields: jing.LeadFields{BusinessType: bt, Name: "杀进程测试", Mobile: mobile}})
	if err != nil {
		r.t.Fatal(err)
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return uuid, r.s.tenant.Leads.find(uuid).ObjectID
}

// A ledger that cannot be read makes every counter jump far ahead rather
// than risk handing an id out twice, and is kept aside.
func TestAnUnreadableLedgerMakesCountersJump(t *testing.T) {
	t.Parallel()
	cfg := persistTestConfig(t)
	r := startRestartable(t, cfg)
	first, err := r.c.CreateCrowd(context.Background(), "之前", "")
	if err != nil {
		t.Fatal(err)
	}
	r.Kill()
	if err := os.WriteFile(ledgerPath(cfg.StatePath), []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start()
	defer r.Stop()
	next, err := r.c.CreateCrowd(context.Background(), "之后", "")
	if err != nil || next < first+idGapAfterLoss {
		t.Fatalf("after a broken reservations file the next crowd is %d (before: %d): %v", next, first, err)
	}
	if b, err := os.ReadFile(ledgerPath(cfg.StatePath) + ".broken"); err != nil || string(b) != "{broken" {
		t.Fatalf("the broken ledger was not kept aside: %q %v", b, err)
	}
	if l := loadLedger(ledgerPath(cfg.StatePath), false, r.s.log); l.lost || l.Reserved["crowd_group_id"] <= next {
		t.Fatalf("the ledger was not rewritten: %+v", l)
	}
}

// ids handed out at run time come from the system's random source, not
// the seed: two sandboxes of one seed create different ids.
func TestRunTimeUUIDsDoNotRepeatTheSeed(t *testing.T) {
	t.Parallel()
	a, b := New(Config{Seed: 4, Persons: 50, Leads: 5}), New(Config{Seed: 4, Persons: 50, Leads: 5})
	if a.newUUID() == b.newUUID() {
		t.Fatal("two sandboxes of one seed drew the same run-time id")
	}
	seen := map[string]bool{}
	for range 10000 {
		id := randomUUID22()
		if len(id) != 22 || seen[id] {
			t.Fatalf("id %q (len %d) repeated or malformed", id, len(id))
		}
		for _, r := range id {
			if !slices.Contains([]rune(base57), r) {
				t.Fatalf("id %q has %q, outside base57", id, r)
			}
		}
		seen[id] = true
	}
}

// The tokens the sandbox issued are in its ledger, written at once: a
// console's stored pair works after a restart and after a kill -9, and so
// does a refresh token rotated just before the kill.
func TestTokensSurviveRestartsAndKills(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := startRestartable(t, persistTestConfig(t))
	defer r.Stop()
	members := func() {
		t.Helper()
		if _, err := r.c.ListMembers(ctx, jing.PageRequest{Page: 1, PerPage: 1}); err != nil {
			t.Fatal(err)
		}
	}
	members()
	r.Kill()
	r.start()
	members()
	if st := r.s.TokenStats(); st != (TokenStats{}) {
		t.Fatalf("after a kill the stored token was not honoured: %+v", st)
	}
	r.s.ExpireAccessTokens()
	members() // a refresh: a new refresh token replaces the stored one
	rotated := r.tokens.tok.RefreshToken
	r.Kill()
	r.start()
	if _, ok := r.s.ledger.Tokens.Refresh[rotated]; !ok {
		t.Fatal("the rotated refresh token was lost in the kill")
	}
	r.s.ExpireAccessTokens()
	members()
	if st := r.s.TokenStats(); st.Pairs != 0 || st.Refreshes != 1 || st.RefusedRefreshes != 0 {
		t.Fatalf("after a kill the rotated refresh token did not work: %+v", st)
	}
}
