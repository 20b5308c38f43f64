package leads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// writes is how many writes the rig's client has made to the platform.
func (r *rig) writes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.audits)
}

// closingStatus is a status of bt the reference data names 无效, stored
// for the live connection so ClosingStatus knows it.
func (r *rig) closingStatus(bt string) string {
	r.t.Helper()
	ctx := context.Background()
	sts, err := r.client.LeadStatuses(ctx, bt)
	if err != nil {
		r.t.Fatal(err)
	}
	var items []db.RefItem
	invalid := ""
	for i, st := range sts {
		items = append(items, db.RefItem{ID: st.JingUUID, Name: st.Name, Sort: i})
		if st.Name == "无效" {
			invalid = st.JingUUID
		}
	}
	if invalid == "" {
		r.t.Fatalf("no status 无效 in %s", bt)
	}
	set := db.RefSet{Connection: "sandbox", Key: "statuses:" + bt, Kind: "statuses", Object: "lead", Scope: bt}
	if _, err := r.store.ReplaceRefSet(ctx, set, items); err != nil {
		r.t.Fatal(err)
	}
	if !r.svc.ClosingStatus(bt, invalid) {
		r.t.Fatalf("无效 of %s is not closing", bt)
	}
	return invalid
}

// What the console can tell before calling the platform it refuses itself,
// as a refusal a page shows in its reader's words, and sends nothing.
func TestWritesRefusedBeforeThePlatform(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	ctx := context.Background()
	r.sync(true)
	l, _ := r.openLead()
	invalid := r.closingStatus(l.BusinessType)
	before := r.writes()

	refusal := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", what, err, want)
		}
		if e, ok := msg.AsError(err); !ok || e.Kind != msg.Invalid || e.Msg.ID == "" {
			t.Fatalf("%s: %v is no refusal a page can show", what, err)
		}
	}
	_, err := r.svc.SetOwner(ctx, "alice", l.UUID, "", l.UpdatedAt)
	refusal("no owner", err, ErrOwnerRequired)
	_, err = r.svc.AddNote(ctx, "alice", l.UUID, "  \n ", l.UpdatedAt)
	refusal("an empty note", err, ErrNoteEmpty)
	_, err = r.svc.AddNote(ctx, "alice", l.UUID, strings.Repeat("长", NoteMax+1), l.UpdatedAt)
	if e, ok := msg.AsError(err); !ok || e.Msg.ID != "leads.page.notes.too_long" || *e.Msg.Args[0].Num != NoteMax || *e.Msg.Args[1].Num != NoteMax+1 {
		t.Fatalf("an overlong note: %v", err)
	}
	_, err = r.svc.Move(ctx, "alice", l.UUID, invalid, "  ", l.UpdatedAt)
	refusal("a closing move without a note", err, ErrNoteRequired)
	if n := r.writes(); n != before {
		t.Fatalf("%d platform writes for refused requests", n-before)
	}
	if p := r.remote(l.UUID); p.LeadStatus != l.Status {
		t.Fatalf("moved to %s without a note", p.LeadStatus)
	}

	// A note of NoteMax characters goes through, trimmed.
	note := strings.Repeat("好", NoteMax)
	got, err := r.svc.AddNote(ctx, "alice", l.UUID, " "+note+" ", l.UpdatedAt)
	if err != nil || r.remote(l.UUID).LatestRemark != note || !strings.Contains(string(got.Fields), note) {
		t.Fatalf("a note of %d characters: %v", NoteMax, err)
	}
	// A closing move with a note goes through.
	if moved, err := r.svc.Move(ctx, "alice", l.UUID, invalid, "没有预算", got.UpdatedAt); err != nil || moved.Status != invalid {
		t.Fatalf("a closing move with a note: %v", err)
	}

	// A voided lead takes no note.
	testkit.Must(t, r.store.MarkLeadVoided(ctx, l.UUID, 1))
	_, err = r.svc.AddNote(ctx, "alice", l.UUID, "还在吗", l.UpdatedAt)
	refusal("a note on a voided lead", err, ErrLeadVoided)
}

func TestCollaboratorChange(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ have, want, add, remove []string }{
		{nil, nil, nil, nil},
		{[]string{"a", "b"}, []string{"b", "a"}, nil, nil},
		{[]string{"a"}, []string{"c", "b", "c", "", "a"}, []string{"b", "c"}, nil},
		{[]string{"a", "b"}, nil, nil, []string{"a", "b"}},
		{[]string{"a", "b"}, []string{"b", "d"}, []string{"d"}, []string{"a"}},
	} {
		add, remove := collaboratorChange(c.have, c.want)
		if !slices.Equal(add, c.add) || !slices.Equal(remove, c.remove) {
			t.Errorf("%v → %v: add %v remove %v, want %v %v", c.have, c.want, add, remove, c.add, c.remove)
		}
	}
}

// bulkService is a service on a store of n leads (L000…), with no platform
// to call: planning needs only the copy.
func bulkService(t *testing.T, n int) *Service {
	t.Helper()
	store := fixture.Store(t)
	var ls []db.Lead
	for i := range n {
		ls = append(ls, db.Lead{UUID: fmt.Sprintf("L%03d", i), BusinessType: "bt", Status: "st", Name: fmt.Sprint("线索", i)})
	}
	testkit.Must(t, store.UpsertLeads(context.Background(), ls))
	svc, err := New(Config{Store: store, Platform: fixture.Fixed{}, Runner: jobs.New(store, jobs.Config{Logger: testkit.Quiet()}), Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// A bulk change is planned on the copy: the leads in the order chosen,
// each once, unknown ones left out; an incomplete change, no leads or too
// many are refused; RequestBulk queues the plan.
func TestPlanBulk(t *testing.T) {
	t.Parallel()
	svc := bulkService(t, 3)
	ctx := context.Background()
	owner := BulkChange{Action: BulkOwner, Owner: "18401"}
	p, err := svc.PlanBulk(ctx, []string{"L002", "", "nope", "L000", "L002"}, owner)
	if err != nil || !slices.Equal(p.UUIDs(), []string{"L002", "L000"}) || p.Change.Owner != "18401" {
		t.Fatalf("plan %v, %v", p.UUIDs(), err)
	}
	for _, c := range []struct {
		name   string
		uuids  []string
		change BulkChange
		want   error
	}{
		{"no owner", []string{"L000"}, BulkChange{Action: BulkOwner}, ErrBadBulk},
		{"no members", []string{"L000"}, BulkChange{Action: BulkAddCollaborators, Members: []string{""}}, ErrBadBulk},
		{"no action", []string{"L000"}, BulkChange{}, ErrBadBulk},
		{"no leads", nil, owner, ErrBulkNone},
		{"only unknown leads", []string{"x", "y"}, owner, ErrBulkNone},
		{"too many", func() []string {
			var out []string
			for i := range MaxBulk + 1 {
				out = append(out, fmt.Sprint("u", i))
			}
			return out
		}(), owner, ErrBulkTooMany},
	} {
		if _, err := svc.PlanBulk(ctx, c.uuids, c.change); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if _, _, err := svc.RequestBulk(ctx, 1, "alice", c.uuids, c.change); !errors.Is(err, c.want) {
			t.Errorf("%s, requested: %v, want %v", c.name, err, c.want)
		}
	}
	if e, _ := msg.AsError(ErrBulkTooMany); *e.Msg.Args[0].Num != MaxBulk {
		t.Fatalf("too many says %v", e.Msg)
	}
	alice, err := svc.store.CreateUser(ctx, db.NewUser{Username: "alice", PasswordHash: "x", Role: db.RoleMarketer})
	if err != nil {
		t.Fatal(err)
	}
	id, p, err := svc.RequestBulk(ctx, alice.ID, "alice", []string{"L001", "L001", "L000"}, owner)
	if err != nil || id == 0 || !slices.Equal(p.UUIDs(), []string{"L001", "L000"}) {
		t.Fatalf("requested: job %d, plan %v, %v", id, p.UUIDs(), err)
	}
	j, err := svc.store.Job(ctx, id)
	if err != nil || j.Kind != BulkJobKind || j.Total != 2 || j.OwnerID != alice.ID {
		t.Fatalf("job %+v, %v", j, err)
	}
}

// The form's rules: required fields, numbers, a mobile or an email (the
// lead's own counts), only the changed fields sent, emptied ones cleared.
func TestFormRules(t *testing.T) {
	t.Parallel()
	fields := []FormField{{Code: "name", Type: "text", Required: true}, {Code: "mobile", Type: "mobile"}, {Code: "email", Type: "email"},
		{Code: "c_number_1", Type: "number"}, {Code: "c_multi", Type: "multi_select"}, {Code: "title", Type: "text"}}
	refused := func(f Form) map[string]string {
		t.Helper()
		err := f.check()
		var fe FormErrors
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("%v is no FormErrors", err)
		}
		out := map[string]string{}
		for _, e := range fe {
			out[e.Field] = e.Msg.ID
		}
		return out
	}
	got := refused(Form{Fields: fields, Values: map[string][]string{"c_number_1": {"12,5"}}})
	want := map[string]string{"name": ErrFieldRequired.Msg.ID, "c_number_1": ErrFieldNumber.Msg.ID,
		"mobile": ErrMobileOrEmail.Msg.ID, "email": ErrMobileOrEmail.Msg.ID}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("refusals %v, want %v", got, want)
	}
	// The lead's own mobile counts when the form does not write it.
	onlyName := []FormField{fields[0], fields[2]}
	if got := refused(Form{Fields: onlyName, Values: map[string][]string{"name": {"张伟"}}, Before: map[string][]string{"mobile": {"13800138000"}}}); len(got) != 0 {
		t.Fatalf("the lead's mobile did not count: %v", got)
	}
	// Emptying it in a form that writes it does not.
	if got := refused(Form{Fields: fields, Values: map[string][]string{"name": {"张伟"}}, Before: map[string][]string{"mobile": {"13800138000"}}}); got["mobile"] == "" {
		t.Fatalf("an emptied mobile counted: %v", got)
	}

	f := Form{Fields: fields,
		Values: map[string][]string{"name": {"张伟"}, "mobile": {"13800138000"}, "c_number_1": {"3.5"}, "c_multi": {"a", "b"}},
		Before: map[string][]string{"name": {"张伟"}, "mobile": {"13800138001"}, "title": {"CTO"}}}
	if got := refused(f); len(got) != 0 {
		t.Fatalf("a good form refused: %v", got)
	}
	in, changed, err := f.input()
	if err != nil || !slices.Equal(changed, []string{"mobile", "c_number_1", "c_multi", "title"}) || !slices.Equal(in.Clear, []string{"title"}) {
		t.Fatalf("changed %v, clear %v, %v", changed, in.Clear, err)
	}
	body, _ := json.Marshal(in)
	for _, want := range []string{`"mobile":"13800138000"`, `"c_number_1":3.5`, `"c_multi":"a,b"`, `"title":""`} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("body %s lacks %s", body, want)
		}
	}
	if strings.Contains(string(body), `"name"`) {
		t.Fatalf("an unchanged field sent: %s", body)
	}
	if !FormWrites("lead_status", false) || FormWrites("lead_status", true) || FormWrites("business_type", false) || FormWrites("collaborators", true) || !FormWrites("name", true) {
		t.Fatal("FormWrites")
	}
}

// A form that changes nothing writes nothing; one the console refuses
// sends nothing.
func TestSaveFormWritesOnlyChanges(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	ctx := context.Background()
	r.sync(true)
	l, _ := r.openLead()
	fields := []FormField{{Code: "title", Type: "text"}, {Code: "mobile", Type: "mobile"}, {Code: "lead_status", Type: "select"}}
	before := map[string][]string{"title": {l.Title}, "mobile": {l.Mobile}, "lead_status": {l.Status}}
	w := r.writes()
	changed, err := r.svc.SaveForm(ctx, "alice", l.UUID, Form{Fields: fields, Values: before, Before: before}, l.UpdatedAt)
	if err != nil || len(changed) != 0 || r.writes() != w {
		t.Fatalf("an unchanged form: changed %v, %v, %d writes", changed, err, r.writes()-w)
	}
	_, err = r.svc.SaveForm(ctx, "alice", l.UUID, Form{Fields: fields, Values: map[string][]string{}, Before: before}, l.UpdatedAt)
	var fe FormErrors
	if !errors.As(err, &fe) || r.writes() != w {
		t.Fatalf("an emptied mobile: %v, %d writes", err, r.writes()-w)
	}
	// The status is never written by an edit, whatever is posted.
	values := map[string][]string{"title": {"采购总监"}, "mobile": {l.Mobile}, "lead_status": {"another"}}
	changed, err = r.svc.SaveForm(ctx, "alice", l.UUID, Form{Fields: fields, Values: values, Before: before}, l.UpdatedAt)
	if err != nil || !slices.Equal(changed, []string{"title"}) {
		t.Fatalf("changed %v, %v", changed, err)
	}
	if p := r.remote(l.UUID); p.Title != "采购总监" || p.LeadStatus != l.Status {
		t.Fatalf("platform: title %q, status %s", p.Title, p.LeadStatus)
	}
}

func TestRefusedFields(t *testing.T) {
	t.Parallel()
	for m, want := range map[string]string{
		"参数无效: mobile 不是有效的手机号":    "mobile",
		"缺少必选参数: name":             "name",
		"缺少必选参数: mobile或email":     "mobile,email",
		"参数无效：c_number_ab12 必须是数字": "c_number_ab12",
		"参数无效": "",
	} {
		got, _ := RefusedFields(&jing.Error{Code: jing.CodeInvalidParameter, Msg: m})
		if strings.Join(got, ",") != want {
			t.Errorf("%q → %v, want %s", m, got, want)
		}
	}
	if _, why := RefusedFields(&jing.Error{Code: jing.CodeMissingParameter, Msg: "缺少必选参数: name"}); why != "缺少必选参数" {
		t.Errorf("why %q", why)
	}
	if got, _ := RefusedFields(&jing.Error{Code: jing.CodeBusinessFailed, Msg: "x: mobile y"}); got != nil {
		t.Errorf("a business error names fields: %v", got)
	}
}
