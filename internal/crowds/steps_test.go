package crowds

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/importfile"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/roles"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// The rules the wizard's steps and the crowd pages follow, here where they
// live: what a step may do, how a form's choices read, and every refusal
// as the sentence a person reads in either language.

// speaker renders a refusal in both languages, failing the test on an id
// no catalog has.
func speaker(t *testing.T) func(err error) (zh, en string) {
	t.Helper()
	cat, err := i18n.NewCatalog(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	cat.OnMissing(func(lang, id string) { t.Errorf("%s: %q has no sentence", lang, id) })
	zh, en := cat.Localizer(i18n.Chinese), cat.Localizer(i18n.English)
	return func(err error) (string, string) {
		t.Helper()
		m := msg.FromError(err)
		if m.ID == "error.text" {
			t.Errorf("%v is no refusal: it would read as Go's text", err)
		}
		return zh.Message(m), en.Message(m)
	}
}

// refused checks that err is the refusal want (errors.Is), of kind and
// about field, and returns its English sentence.
func refused(t *testing.T, speak func(error) (string, string), err, want error, kind msg.Kind, field string) string {
	t.Helper()
	r, ok := msg.AsError(err)
	if !errors.Is(err, want) || !ok || r.Kind != kind || r.Field != field {
		t.Fatalf("got %v (%+v), want %v of kind %s on %q", err, r, want, kind, field)
	}
	zh, en := speak(err)
	if zh == "" || en == "" || zh == en {
		t.Errorf("%v reads %q / %q", err, zh, en)
	}
	return en
}

func TestAChoiceOfTargetReadsTheForm(t *testing.T) {
	for _, tc := range []struct {
		choice Choice
		want   Target
		bad    bool
	}{
		{Choice{Crowd: "new", NewName: "春季", Description: "展会", CreateMissing: true}, Target{NewCrowd: "春季", Description: "展会", CreateMissing: true}, false},
		{Choice{NewName: "春季"}, Target{NewCrowd: "春季"}, false},
		// A crowd chosen leaves the new crowd's name aside.
		{Choice{Crowd: "42", NewName: "春季", Description: "展会", Again: true}, Target{CrowdID: 42, Again: true}, false},
		{Choice{Crowd: "0"}, Target{}, true},
		{Choice{Crowd: "-3"}, Target{}, true},
		{Choice{Crowd: "42; drop"}, Target{}, true},
	} {
		got, err := tc.choice.Target()
		if tc.bad != errors.Is(err, ErrBadChoice) || (!tc.bad && got != tc.want) {
			t.Errorf("%+v: %+v, %v", tc.choice, got, err)
		}
	}
}

func TestWhoMayChangeAnImport(t *testing.T) {
	im := db.Import{UserID: 7}
	for _, tc := range []struct {
		actor jobs.Actor
		may   bool
	}{
		{jobs.Actor{ID: 7, Role: roles.Marketer}, true},
		{jobs.Actor{ID: 8, Role: roles.Marketer}, false},
		{jobs.Actor{ID: 8, Role: roles.Admin}, true},
		{jobs.Actor{ID: 7, Role: roles.Viewer}, false}, // an owner who became a viewer only looks
		{jobs.Actor{}, false},
	} {
		if got := MayChange(tc.actor, im); got != tc.may {
			t.Errorf("%+v may change: %v", tc.actor, got)
		}
	}
}

// platformCrowds counts the crowds the platform has.
func (r *rig) platformCrowds() int {
	r.t.Helper()
	n := 0
	for _, err := range r.client.AllCrowds(context.Background(), "") {
		if err != nil {
			r.t.Fatal(err)
		}
		n++
	}
	return n
}

// Start refuses what the user can correct, each refusal on its field of
// the target form, and nothing reaches the platform; an import whose
// start was refused can still start.
func TestStartRefusesWhatTheUserCanCorrect(t *testing.T) {
	r := newRig(t)
	speak := speaker(t)
	ctx := context.Background()
	mobiles := r.knownMobiles(3)
	id := r.prepare("名单.csv", []byte("手机号\n"+strings.Join(mobiles, "\n")+"\n"))
	before := r.platformCrowds()

	_, err := r.svc.Start(ctx, id, r.userID, "mia", Target{NewCrowd: "  "})
	refused(t, speak, err, ErrNoTarget, msg.Invalid, "crowd")
	_, err = r.svc.Start(ctx, id, r.userID, "mia", Target{NewCrowd: strings.Repeat("名", CrowdNameMax+1)})
	if en := refused(t, speak, err, ErrNameTooLong, msg.Invalid, "new_name"); !strings.Contains(en, "at most 50 characters") {
		t.Errorf("the name's limit reads %q", en)
	}
	_, err = r.svc.Start(ctx, id, r.userID, "mia", Target{NewCrowd: "名", Description: strings.Repeat("述", CrowdDescriptionMax+1)})
	refused(t, speak, err, ErrDescTooLong, msg.Invalid, "new_description")
	_, err = r.svc.Start(ctx, id, r.userID, "mia", Target{CrowdID: 987654321})
	refused(t, speak, err, ErrTargetGone, msg.NotFound, "crowd")
	if r.platformCrowds() != before {
		t.Fatal("a refused start created a crowd on the platform")
	}
	if im := r.mustImport(id); im.Stage != db.ImportValidated {
		t.Fatalf("after a refused start the import is %s", im.Stage)
	}

	// Persons are created from mobiles and emails only.
	uuids := r.sb.SamplePersons(2)
	byUUID := r.prepareOn("uuids.csv", []byte("omni_user_uuid\n"+uuids[0].OmniUserUUID+"\n"+uuids[1].OmniUserUUID+"\n"), importfile.ColUUID)
	_, err = r.svc.Start(ctx, byUUID, r.userID, "mia", Target{NewCrowd: "按 uuid", CreateMissing: true})
	refused(t, speak, err, ErrNoCreate, msg.Invalid, "create_missing")

	// The same file again is only imported when confirmed.
	if _, err := r.svc.Start(ctx, id, r.userID, "mia", Target{NewCrowd: "第一次"}); err != nil {
		t.Fatal(err)
	}
	r.waitImport(id)
	again := r.prepare("名单-副本.csv", []byte("手机号\n"+strings.Join(mobiles, "\n")+"\n"))
	_, err = r.svc.Start(ctx, again, r.userID, "mia", Target{NewCrowd: "第二次"})
	refused(t, speak, err, ErrImportedOnce, msg.Conflict, "again")
	// Started: it can neither start again nor be discarded.
	_, err = r.svc.Start(ctx, id, r.userID, "mia", Target{NewCrowd: "第一次"})
	refused(t, speak, err, ErrNotValidated, msg.Conflict, "")
	refused(t, speak, r.svc.Discard(ctx, id), ErrStarted, msg.Conflict, "")
}

// knownMobiles are n mobiles of the sandbox's persons.
func (r *rig) knownMobiles(n int) []string {
	var out []string
	for _, p := range r.sb.SamplePersons(4 * n) {
		if p.Mobile != "" && len(out) < n {
			out = append(out, p.Mobile)
		}
	}
	return out
}

// prepareOn uploads a file and validates it matching on identity.
func (r *rig) prepareOn(name string, data []byte, identity string) int64 {
	r.t.Helper()
	ctx := context.Background()
	id, err := r.svc.Upload(ctx, r.userID, name, bytes.NewReader(data))
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.svc.Validate(ctx, id, r.userID, nil, identity); err != nil {
		r.t.Fatal(err)
	}
	return id
}

// The decode step's choices: a value the form does not offer keeps how the
// file is read, a value it offers is taken, and a role the importer does
// not know is no role.
func TestChooseReadingTakesOnlyWhatTheStepOffers(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	id, err := r.svc.Upload(ctx, r.userID, "名单.csv", strings.NewReader("市场部名单;\n手机号;姓名\n13800000001;甲\n13800000002;乙\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, p, err := r.svc.ImportPreview(ctx, id)
	if err != nil || p.Options.Delimiter != ';' {
		t.Fatalf("detected %q, %v", p.Options.Delimiter, err)
	}
	before := p.Options
	p, err = r.svc.ChooseReading(ctx, id, ReadingChoice{Encoding: "klingon", Delimiter: "ab", Sheet: "Sheet9"},
		[]string{importfile.ColMobile, "drop table"})
	if err != nil || p.Options != before || p.HeaderRow != 2 {
		t.Fatalf("choices not offered changed the reading: %+v header %d, %v", p.Options, p.HeaderRow, err)
	}
	if !slices.Equal(p.Mapping, []string{importfile.ColMobile, ""}) {
		t.Fatalf("a role the importer does not know is kept: %q", p.Mapping)
	}
	p, err = r.svc.ChooseReading(ctx, id, ReadingChoice{HeaderRow: 1, Encoding: "gb18030"}, nil)
	if err != nil || p.HeaderRow != 1 || p.Options.Encoding != "gb18030" || p.Options.Delimiter != ';' {
		t.Fatalf("header row 1 in gb18030: %+v header %d, %v", p.Options, p.HeaderRow, err)
	}
	p, err = r.svc.ChooseReading(ctx, id, ReadingChoice{Delimiter: ","}, nil)
	if err != nil || p.Options.Delimiter != ',' || p.Options.Encoding != "gb18030" || p.HeaderRow != 1 || p.Columns != 1 {
		t.Fatalf("read with commas: %+v header %d, %d columns, %v", p.Options, p.HeaderRow, p.Columns, err)
	}
}

// Validation matches on the identity chosen when a column holds it, else
// on the first that can identify a person; each role names one column.
func TestValidateMatchesOnAMappedIdentity(t *testing.T) {
	r := newRig(t)
	speak := speaker(t)
	ctx := context.Background()
	id, err := r.svc.Upload(ctx, r.userID, "名单.csv", strings.NewReader("邮箱,手机号,姓名\na@example.com,13800000001,甲\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.svc.Validate(ctx, id, r.userID, []string{"", importfile.ColMobile, importfile.ColMobile}, "")
	if en := refused(t, speak, err, ErrRoleTwice, msg.Invalid, ""); !strings.Contains(en, "Two columns are mapped to Mobile") {
		t.Errorf("the role twice reads %q", en)
	}
	_, err = r.svc.Validate(ctx, id, r.userID, []string{"", "", importfile.ColName}, importfile.ColMobile)
	refused(t, speak, err, ErrNoIdentity, msg.Invalid, "identity")

	for _, tc := range []struct {
		mapping       []string
		chosen, match string
	}{
		{[]string{importfile.ColEmail, importfile.ColMobile, importfile.ColName}, importfile.ColEmail, importfile.ColEmail},
		{[]string{importfile.ColEmail, importfile.ColMobile, importfile.ColName}, importfile.ColOpenID, importfile.ColMobile},
		{[]string{importfile.ColEmail, "", importfile.ColName}, "", importfile.ColEmail},
		{[]string{importfile.ColEmail, importfile.ColMobile, importfile.ColName}, importfile.ColName, importfile.ColMobile},
	} {
		res, err := r.svc.Validate(ctx, id, r.userID, tc.mapping, tc.chosen)
		if err != nil || res.Identity != tc.match || r.mustImport(id).IdentityType != tc.match {
			t.Errorf("%q choosing %q: matched on %q, %v", tc.mapping, tc.chosen, res.Identity, err)
		}
	}
	// No mapping in the form: the one kept with the import.
	if res, err := r.svc.Validate(ctx, id, r.userID, nil, ""); err != nil || res.Identity != importfile.ColMobile {
		t.Errorf("validated again without a mapping: %q, %v", res.Identity, err)
	}
}

// The summary's reasons are the most frequent first.
func TestRejectReasonsMostFrequentFirst(t *testing.T) {
	r := newRig(t)
	id := r.prepare("名单.csv", []byte("手机号,姓名\n12345,甲\n,乙\n999,丙\n13800000001,丁\n"))
	got, err := r.svc.RejectReasons(context.Background(), r.mustImport(id))
	want := []ReasonCount{{importfile.ReasonMobileFormat, 2}, {importfile.ReasonEmpty, 1}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("reasons %v, want %v (%v)", got, want, err)
	}
}

// A crowd's name and description are checked (trimmed) before anything
// reaches the platform, on create and on rename.
func TestCrowdWritesAreCheckedBeforeThePlatform(t *testing.T) {
	r := newRig(t)
	speak := speaker(t)
	ctx := context.Background()
	before := r.platformCrowds()
	_, err := r.svc.Create(ctx, "mia", " \t ", "")
	refused(t, speak, err, ErrCrowdNameMissing, msg.Invalid, "name")
	_, err = r.svc.Create(ctx, "mia", strings.Repeat("名", CrowdNameMax+1), "")
	if en := refused(t, speak, err, ErrCrowdNameLong, msg.Invalid, "name"); !strings.Contains(en, "at most 50 characters") {
		t.Errorf("the limit reads %q", en)
	}
	_, err = r.svc.Create(ctx, "mia", "名", strings.Repeat("述", CrowdDescriptionMax+1))
	refused(t, speak, err, ErrCrowdDescriptionLong, msg.Invalid, "description")
	if r.platformCrowds() != before {
		t.Fatal("a refused create reached the platform")
	}
	cr, err := r.svc.Create(ctx, "mia", "  "+strings.Repeat("名", CrowdNameMax)+"  ", " 描述 ")
	if err != nil || cr.Name != strings.Repeat("名", CrowdNameMax) || cr.Description != "描述" {
		t.Fatalf("created %+v, %v", cr, err)
	}
	_, err = r.svc.Update(ctx, "mia", cr.GroupID, "", "")
	refused(t, speak, err, ErrCrowdNameMissing, msg.Invalid, "name")
	if pc, err := r.client.CrowdDetail(ctx, cr.GroupID); err != nil || pc.Name != cr.Name {
		t.Fatalf("a refused rename changed the platform's crowd: %+v %v", pc, err)
	}
}

// A crowd is deleted only once the member count the platform has now is
// typed; a crowd gone from the platform says so by name.
func TestDeleteNeedsTheMemberCountThePlatformHasNow(t *testing.T) {
	r := newRig(t)
	speak := speaker(t)
	ctx := context.Background()
	cr, err := r.svc.Create(ctx, "mia", "待删除", "")
	if err != nil {
		t.Fatal(err)
	}
	var uuids []string
	for _, p := range r.sb.SamplePersons(1200) {
		uuids = append(uuids, p.OmniUserUUID)
	}
	if _, err := r.client.ImportToCrowd(ctx, cr.GroupID, uuids[:1000]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.ImportToCrowd(ctx, cr.GroupID, uuids[1000:]); err != nil {
		t.Fatal(err)
	}
	// The local copy still says 0 members: the count confirmed is the platform's.
	got, err := r.svc.Delete(ctx, "mia", cr, "0")
	if en := refused(t, speak, err, ErrWrongCount, msg.Invalid, "confirm"); !strings.Contains(en, "type 1200 to delete it") || got.UserCount != 1200 {
		t.Fatalf("a stale count: %q, the crowd read as %d members", en, got.UserCount)
	}
	if _, err := r.client.CrowdDetail(ctx, cr.GroupID); err != nil {
		t.Fatalf("deleted on a wrong count: %v", err)
	}
	if _, err := r.svc.Delete(ctx, "mia", cr, " 1,200 "); err != nil {
		t.Fatalf("the count with a separator: %v", err)
	}
	if _, err := r.client.CrowdDetail(ctx, cr.GroupID); err == nil {
		t.Fatal("still on the platform")
	}
	if _, err := r.store.Crowd(ctx, cr.GroupID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("still in the local copy: %v", err)
	}
	_, err = r.svc.Delete(ctx, "mia", cr, "1200")
	if en := refused(t, speak, err, ErrGone, msg.NotFound, ""); !strings.Contains(en, "待删除") {
		t.Errorf("gone reads %q", en)
	}
}

// The list pages the local copy (a page past the end is the last one) and
// asks for a refresh of a stale copy only when the page view says so.
func TestTheListPagesAndRefreshesAStaleCopy(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	var many []db.Crowd
	for i := range 120 {
		many = append(many, db.Crowd{GroupID: int64(90000 + i), Name: "批次", UpdatedAt: int64(1_700_000_000 + i)})
	}
	if err := r.store.ReplaceCrowds(ctx, "sandbox", many); err != nil {
		t.Fatal(err)
	}
	l, err := r.svc.List(ctx, r.userID, "批次", 99, 50, true)
	if err != nil || l.Page != 3 || len(l.Crowds) != 20 || l.Total != 120 || l.Crowds[19].GroupID != 90000 || l.Copy.Stale {
		t.Fatalf("page 99: page %d, %d rows of %d, stale %v, %v", l.Page, len(l.Crowds), l.Total, l.Copy.Stale, err)
	}
	syncs := func() int {
		js, err := r.store.ListJobs(ctx, db.JobFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		return len(slices.DeleteFunc(js, func(j db.Job) bool { return j.Kind != SyncJobKind }))
	}
	if n := syncs(); n != 0 {
		t.Fatalf("a fresh copy asked for %d refreshes", n)
	}
	r.svc.cfg.Now = func() time.Time { return time.Now().Add(DefaultTTL + time.Minute) }
	if l, err = r.svc.List(ctx, r.userID, "", 1, 50, false); err != nil || !l.Copy.Stale || syncs() != 0 {
		t.Fatalf("stale %v without asking: %d refreshes, %v", l.Copy.Stale, syncs(), err)
	}
	if l, err = r.svc.List(ctx, r.userID, "", 1, 50, true); err != nil || syncs() != 1 {
		t.Fatalf("a stale copy viewed: %d refreshes, %v", syncs(), err)
	}
}

// A finished import's run: seen once its owner looks (the badge stops
// counting it), not when someone else does; the history has its rows.
func TestAFinishedImportIsSeenByItsOwner(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	other, err := r.store.CreateUser(ctx, db.NewUser{Username: "max", PasswordHash: "x", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	id := r.prepare("名单.csv", []byte("手机号\n"+strings.Join(r.knownMobiles(3), "\n")+"\n19999999901\n"))
	if _, err := r.svc.Start(ctx, id, r.userID, "mia", Target{NewCrowd: "看过"}); err != nil {
		t.Fatal(err)
	}
	im := r.waitImport(id)
	run, err := r.svc.Run(ctx, im, other.ID, 5)
	if err != nil || !run.Finished || run.Progress.Percent != 100 || len(run.Batches) != 1 || r.mustImport(id).SeenAt != 0 {
		t.Fatalf("another user's look: finished %v, %d%%, %d batches, seen %d, %v", run.Finished, run.Progress.Percent,
			len(run.Batches), r.mustImport(id).SeenAt, err)
	}
	if _, err := r.svc.Run(ctx, im, r.userID, 5); err != nil || r.mustImport(id).SeenAt == 0 {
		t.Fatalf("the owner's look did not mark it seen: %v", err)
	}
	h, err := r.svc.History(ctx, 10)
	if err != nil || len(h) != 1 || h[0].Job.ID != im.JobID || h[0].States[db.RowImported] != 3 || h[0].States[db.RowNotFound] != 1 {
		t.Fatalf("history: %+v, %v", h, err)
	}
}

// A validation job stopped before it ended says so on the step, and stopping
// one that has ended is no error.
func TestAValidationStoppedSaysSo(t *testing.T) {
	r := newRigOpts(t, rigOptions{validateInRequest: 1})
	fixture.Stop(r.runner) // the job stays queued until it is stopped
	ctx := context.Background()
	id, err := r.svc.Upload(ctx, r.userID, "名单.csv", strings.NewReader("手机号\n13800000001\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r.svc.Validate(ctx, id, r.userID, nil, ""); err != nil || res.JobID == 0 {
		t.Fatalf("validate by a job: %+v, %v", res, err)
	}
	v, err := r.svc.Validation(ctx, r.mustImport(id))
	if err != nil || !v.Job.Active() || !v.Ended.IsZero() {
		t.Fatalf("queued: %+v, %v", v, err)
	}
	if stopped, err := r.svc.CancelValidation(ctx, id); err != nil || !stopped {
		t.Fatalf("stop: %v, %v", stopped, err)
	}
	if stopped, err := r.svc.CancelValidation(ctx, id); err != nil || stopped {
		t.Fatalf("stop again: %v, %v", stopped, err)
	}
	v, err = r.svc.Validation(ctx, r.mustImport(id))
	if err != nil || v.Job.Active() || v.Ended.ID != "imports.validation_stopped" {
		t.Fatalf("stopped: %+v, %v", v, err)
	}
}

// The upload limit is said in the reader's units, and a body over it is
// refused before it is read.
func TestTheUploadLimitSaysItself(t *testing.T) {
	r := newRig(t)
	speak := speaker(t)
	r.svc.cfg.MaxUpload = 3 << 19 // 1.5 MB
	if err := r.svc.CheckUploadSize(3 << 19); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	err := r.svc.CheckUploadSize(3<<19 + 1)
	if en := refused(t, speak, err, ErrTooLarge, msg.Invalid, ""); !strings.Contains(en, "at most 1.5 MB") {
		t.Errorf("the limit reads %q", en)
	}
	cat, _ := i18n.NewCatalog(time.UTC)
	en := cat.Localizer(i18n.English)
	for n, want := range map[int64]string{12: "12 bytes", 1536: "1.5 KB", 2048: "2 KB", 100 << 20: "100 MB"} {
		if got := en.Message(FileSize(n)); got != want {
			t.Errorf("FileSize(%d) = %q, want %q", n, got, want)
		}
	}
}
