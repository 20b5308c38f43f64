package crowds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// importCatalog lifts the pacing of the endpoints an import calls (10 a
// second on the platform), so a 20,000-row import takes seconds in a
// test; the sandbox enforces the same lifted limits.
func importCatalog(t testing.TB) jing.Catalog {
	return fixture.Catalog(t, fixture.Pace{Rate: 2000, Keys: []string{"users.", "crowds."}})
}

// rig is a 20,000-person sandbox tenant over real HTTP and a Service on a
// temporary database and data directory.
type rig struct {
	t      testing.TB
	sb     *sandbox.Running
	client *jing.Client
	store  *db.Store
	dir    string
	runner *jobs.Runner
	svc    *Service
	userID int64
	opts   rigOptions
}

func newRig(t testing.TB) *rig { return newRigWith(t, importCatalog(t)) }

func newRigWith(t testing.TB, cat jing.Catalog) *rig { return newRigOpts(t, rigOptions{catalog: cat}) }

// rigOptions vary a rig: the catalog, the client's transport (to watch
// the calls), the runner's workers, the size validated within a request.
type rigOptions struct {
	catalog           jing.Catalog
	transport         http.RoundTripper
	workers           int
	validateInRequest int64
}

func newRigOpts(t testing.TB, o rigOptions) *rig {
	t.Helper()
	cat := o.catalog
	if cat.IsZero() {
		cat = importCatalog(t)
	}
	r := &rig{t: t, dir: t.TempDir(), opts: o}
	r.sb = fixture.Sandbox(t, sandbox.Config{Seed: 7, Persons: 20000, Leads: 10, Catalog: cat})
	r.client = fixture.Client(t, r.sb.URL, cat, func(c *jing.Config) {
		if o.transport != nil {
			c.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: o.transport}
		}
		c.Retry.MaxRateLimitWaits, c.Retry.RateLimitDelay = 5, time.Millisecond
	})
	r.store = fixture.StoreAt(t, filepath.Join(r.dir, "jingdesk.db"))
	u, err := r.store.CreateUser(context.Background(), db.NewUser{Username: "mia", PasswordHash: "x", Role: "marketer"})
	if err != nil {
		t.Fatal(err)
	}
	r.userID = u.ID
	r.start()
	return r
}

// start builds a runner and a service on the rig's store (as a restarted
// process would) and starts the runner.
func (r *rig) start() {
	r.t.Helper()
	r.runner = jobs.New(r.store, jobs.Config{Logger: testkit.Quiet(), Poll: 20 * time.Millisecond, Heartbeat: 50 * time.Millisecond,
		Workers: r.opts.workers})
	svc, err := New(Config{Store: r.store, Platform: fixture.Fixed{Client: r.client}, Runner: r.runner, DataDir: r.dir,
		Logger: testkit.Quiet(), RetryDelay: time.Millisecond, ValidateInRequest: r.opts.validateInRequest})
	if err != nil {
		r.t.Fatal(err)
	}
	r.svc = svc
	fixture.Start(r.t, r.runner)
}

// importFile is a 20,000-row CSV of the tenant's persons: 3% invalid
// mobiles, 10% valid mobiles the platform does not know, the rest known,
// some written the way spreadsheets write them (+86, spaces, dashes).
// want is the uuids the crowd must hold afterwards.
type importFile struct {
	csv      []byte
	want     []string
	invalid  int
	unknown  int
	rowCount int
}

func makeImportFile(t testing.TB, sb *sandbox.Running, rows int) importFile {
	t.Helper()
	persons := sb.SamplePersons(rows)
	rng := rand.New(rand.NewPCG(1, 2))
	var f importFile
	var b bytes.Buffer
	b.WriteString("姓名,手机号码,备注\n")
	used := map[string]bool{}
	next := 0
	for i := range rows {
		switch {
		case i%100 < 3:
			fmt.Fprintf(&b, "坏号码%d,1234%d,\n", i, i)
			f.invalid++
		case i%100 < 13:
			fmt.Fprintf(&b, "新客%d,199%08d,\n", i, 90000000-i)
			f.unknown++
		default:
			for next < len(persons) && (persons[next].Mobile == "" || used[persons[next].Mobile]) {
				next++
			}
			if next == len(persons) {
				t.Fatal("the tenant has too few persons with a mobile")
			}
			p := persons[next]
			used[p.Mobile] = true
			f.want = append(f.want, p.OmniUserUUID)
			mobile := p.Mobile
			switch rng.IntN(4) {
			case 0:
				mobile = "+86 " + mobile[:3] + "-" + mobile[3:7] + "-" + mobile[7:]
			case 1:
				mobile = "0086" + mobile
			}
			fmt.Fprintf(&b, "%s,%s,\"备注, 有逗号\"\n", p.Name, mobile)
		}
	}
	f.csv, f.rowCount = b.Bytes(), rows
	slices.Sort(f.want)
	return f
}

// prepare uploads and validates a file, matching on the mobile column.
func (r *rig) prepare(name string, data []byte) int64 {
	r.t.Helper()
	ctx := context.Background()
	id, err := r.svc.Upload(ctx, r.userID, name, bytes.NewReader(data))
	if err != nil {
		r.t.Fatal(err)
	}
	_, p, err := r.svc.ImportPreview(ctx, id)
	if err != nil || p.Err != nil {
		r.t.Fatalf("preview: %v %v", err, p.Err)
	}
	res, err := r.svc.Validate(ctx, id, r.userID, p.Mapping, "mobile")
	if err != nil {
		r.t.Fatal(err)
	}
	if res.JobID != 0 { // a large file is validated by a job
		r.waitStage(id, db.ImportValidated)
	}
	return id
}

// waitImport waits for import id to finish, failing the test unless its
// job is done.
func (r *rig) waitImport(id int64) db.Import {
	r.t.Helper()
	im := testkit.Await(r.t, fmt.Sprintf("import %d to finish", id),
		func() (db.Import, error) { return r.store.Import(context.Background(), id) }, db.Import.Finished)
	if im.JobState != db.JobDone {
		j, _ := r.store.Job(context.Background(), im.JobID)
		r.t.Fatalf("import job ended %s: %s", im.JobState, j.Error)
	}
	return im
}

func (r *rig) members(groupID int64) []string {
	r.t.Helper()
	var out []string
	for m, err := range r.client.AllCrowdUsers(context.Background(), groupID) {
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, m.OmniUserUUID)
	}
	slices.Sort(out)
	return out
}

func (r *rig) counts(id int64) map[string]int64 {
	r.t.Helper()
	n, err := r.store.ImportStateCounts(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// checkOutcome asserts that the crowd holds exactly the known persons and
// that every row is accounted for.
func (r *rig) checkOutcome(id int64, f importFile) {
	r.t.Helper()
	im, err := r.store.Import(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	if got := r.members(im.CrowdID); !slices.Equal(got, f.want) {
		r.t.Fatalf("crowd holds %d members, want exactly the %d known persons", len(got), len(f.want))
	}
	n := r.counts(id)
	want := map[string]int64{db.RowImported: int64(len(f.want)), db.RowNotFound: int64(f.unknown), db.RowInvalid: int64(f.invalid)}
	if !mapsEqual(n, want) {
		r.t.Fatalf("row states %v, want %v", n, want)
	}
	j, _ := r.store.Job(context.Background(), im.JobID)
	if j.Done != int64(len(f.want)+f.unknown) || j.Failed != 0 || j.Total != im.Counts.Valid {
		r.t.Fatalf("job counters %d done %d failed of %d", j.Done, j.Failed, j.Total)
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestA20000RowImportLandsExactlyTheKnownPersons(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	f := makeImportFile(t, r.sb, 20000)
	id := r.prepare("客户名单.csv", f.csv)
	im, _ := r.store.Import(context.Background(), id)
	if im.Counts.Total != 20000 || im.Counts.Invalid != int64(f.invalid) || im.Counts.Valid != int64(20000-f.invalid) {
		t.Fatalf("validation counts %+v", im.Counts)
	}
	if _, err := r.svc.Start(context.Background(), id, r.userID, "mia", Target{NewCrowd: "华东老客户"}); err != nil {
		t.Fatal(err)
	}
	r.waitImport(id)
	r.checkOutcome(id, f)
}

// The platform answering 20000, 20002 and dropping connections after
// acting, each on 10% of calls, changes nothing in the outcome.
func TestAnImportThroughPlatformFaultsHasTheSameOutcome(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	f := makeImportFile(t, r.sb, 20000)
	id := r.prepare("客户名单.csv", f.csv)
	r.sb.SetFaults(sandbox.Faults{ErrorRate: 0.1, RateLimitRate: 0.1, DropRate: 0.1})
	if _, err := r.svc.Start(context.Background(), id, r.userID, "mia", Target{NewCrowd: "有故障"}); err != nil {
		t.Fatal(err)
	}
	r.waitImport(id)
	r.sb.SetFaults(sandbox.Faults{})
	r.checkOutcome(id, f)
	// The faults were met: more calls than the 194 lookups and 20 crowd imports a clean run makes.
	calls := r.sb.CallsToday("users.identity_batch") + r.sb.CallsToday("crowds.import")
	t.Logf("calls with faults: %d", calls)
	if calls < 250 {
		t.Fatalf("%d calls: the injected faults were not met", calls)
	}
}

// A process stopped in the middle of the crowd import (calls in flight)
// and started again finishes the import with the same outcome.
func TestAnImportInterruptedMidwayResumesToTheSameOutcome(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	f := makeImportFile(t, r.sb, 20000)
	id := r.prepare("客户名单.csv", f.csv)
	r.sb.SetFaults(sandbox.Faults{Latency: 5 * time.Millisecond})
	if _, err := r.svc.Start(context.Background(), id, r.userID, "mia", Target{NewCrowd: "中断"}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the import to reach its crowd import phase", func() bool {
		b, _ := r.store.RecentImportBatches(context.Background(), id, 10)
		return len(b) >= 3
	})
	fixture.Stop(r.runner) // the handler is cut off mid-call
	im, _ := r.store.Import(context.Background(), id)
	if im.Finished() {
		t.Fatal("the import finished before the interruption; the test proves nothing")
	}
	r.start()
	r.waitImport(id)
	r.checkOutcome(id, f)
}

func TestAnImportCanCreateThePersonsThePlatformDoesNotKnow(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	f := makeImportFile(t, r.sb, 2000)
	id := r.prepare("new.csv", f.csv)
	if _, err := r.svc.Start(context.Background(), id, r.userID, "mia", Target{NewCrowd: "含新客", CreateMissing: true}); err != nil {
		t.Fatal(err)
	}
	im := r.waitImport(id)
	n := r.counts(id)
	if n[db.RowImported] != int64(len(f.want)+f.unknown) || n[db.RowNotFound] != 0 {
		t.Fatalf("row states %v", n)
	}
	if got := r.members(im.CrowdID); len(got) != len(f.want)+f.unknown {
		t.Fatalf("crowd holds %d, want %d", len(got), len(f.want)+f.unknown)
	}
	created, _ := r.store.ImportRowsIn(context.Background(), id, db.RowImported, 5000)
	var nc int
	for _, row := range created {
		if row.Created {
			nc++
		}
	}
	if nc != f.unknown {
		t.Fatalf("%d rows marked created, want %d", nc, f.unknown)
	}
}

// Importing into a crowd that already holds some of the persons reports
// them as already members; a second import of the same file is refused
// unless confirmed.
func TestAlreadyMembersAndTheSameFileTwice(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	f := makeImportFile(t, r.sb, 1000)
	ctx := context.Background()
	first := r.prepare("a.csv", f.csv)
	if _, err := r.svc.Start(ctx, first, r.userID, "mia", Target{NewCrowd: "两次"}); err != nil {
		t.Fatal(err)
	}
	im := r.waitImport(first)
	second := r.prepare("a-copy.csv", f.csv)
	target := Target{CrowdID: im.CrowdID}
	if _, err := r.svc.Start(ctx, second, r.userID, "mia", target); !errors.Is(err, ErrImportedOnce) {
		t.Fatalf("same file again: %v, want ErrImportedOnce", err)
	}
	target.Again = true
	if _, err := r.svc.Start(ctx, second, r.userID, "mia", target); err != nil {
		t.Fatal(err)
	}
	r.waitImport(second)
	n := r.counts(second)
	if n[db.RowAlreadyMember] != int64(len(f.want)) || n[db.RowImported] != 0 {
		t.Fatalf("second import row states %v", n)
	}
	if got := r.members(im.CrowdID); !slices.Equal(got, f.want) {
		t.Fatalf("crowd changed: %d members", len(got))
	}
}

// Two concurrent starts of one import: one job.
func TestAnImportStartsOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	f := makeImportFile(t, r.sb, 200)
	id := r.prepare("a.csv", f.csv)
	errs := make(chan error, 10)
	for range 10 {
		go func() {
			_, err := r.svc.Start(context.Background(), id, r.userID, "mia", Target{NewCrowd: "一次"})
			errs <- err
		}()
	}
	ok := 0
	for range 10 {
		if err := <-errs; err == nil {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d starts succeeded, want 1", ok)
	}
	r.waitImport(id)
}

func TestTheRejectedRowsReportOpensInExcel(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	f := makeImportFile(t, r.sb, 300)
	id := r.prepare("a.csv", append(f.csv, []byte("重复,"+firstKnownMobile(f.csv)+",\n")...))
	var out bytes.Buffer
	labels := ReportLabels{Columns: []string{"行号", "原值", "规范值", "姓名", "uuid", "结果", "原因"},
		State: func(s string) string { return s }, Reason: func(_, r string) string { return r }}
	if err := r.svc.WriteReport(context.Background(), &out, id, "rejected", labels); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.HasPrefix(text, "\uFEFF行号,") {
		t.Fatalf("report does not start with a BOM and the header: %q", text[:min(40, len(text))])
	}
	lines := strings.Split(strings.TrimSpace(text), "\r\n")
	if len(lines) != 1+f.invalid+1 {
		t.Fatalf("%d report lines, want header + %d invalid + 1 duplicate", len(lines), f.invalid)
	}
	if !strings.HasPrefix(lines[1], "2,1234") || !strings.Contains(lines[len(lines)-1], "duplicate") {
		t.Fatalf("report lines: %q … %q", lines[1], lines[len(lines)-1])
	}
}

func firstKnownMobile(csv []byte) string {
	for _, line := range strings.Split(string(csv), "\n")[1:] {
		cells := strings.Split(line, ",")
		if len(cells) > 1 && !strings.HasPrefix(cells[0], "坏号码") && !strings.HasPrefix(cells[0], "新客") {
			return cells[1]
		}
	}
	return ""
}

// A used-up daily quota pauses the import until the quota resets, saying
// so, with every row done so far kept.
func TestAnImportWaitsForTheDailyQuota(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	f := makeImportFile(t, r.sb, 3000)
	id := r.prepare("a.csv", f.csv)
	r.sb.SetDailyQuota(12) // 12 lookups of 100: the quota runs out partway
	if _, err := r.svc.Start(context.Background(), id, r.userID, "mia", Target{NewCrowd: "配额"}); err != nil {
		t.Fatal(err)
	}
	im, _ := r.store.Import(context.Background(), id)
	j := fixture.AwaitJob(t, r.store, im.JobID, "to pause or end", func(j db.Job) bool { return j.State == db.JobPaused || !j.Active() })
	if j.State != db.JobPaused || j.ResumeAt <= time.Now().Unix() || !strings.Contains(j.Error, `"jing.error.quota"`) {
		t.Fatalf("job after the quota ran out: %s resume_at %d %q", j.State, j.ResumeAt, j.Error)
	}
	n := r.counts(id)
	if n[db.RowPending] == 0 || n[db.RowResolved]+n[db.RowUnknown] == 0 {
		t.Fatalf("rows when the quota ran out: %v", n)
	}
}

// A file over the limit is refused once the limit is passed, not after
// reading all of it, and leaves nothing behind.
func TestAnOversizedUploadIsRefusedAtTheLimit(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.svc.cfg.MaxUpload = 1 << 20
	body := &countingReader{r: io.LimitReader(zeroReader{}, 200<<20)}
	if _, err := r.svc.Upload(context.Background(), r.userID, "big.csv", body); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("200 MB upload: %v, want ErrTooLarge", err)
	}
	if body.n > 2<<20 {
		t.Fatalf("read %d bytes of a refused upload", body.n)
	}
	left, _ := filepath.Glob(filepath.Join(r.svc.uploadDir(), "*"))
	if len(left) != 0 {
		t.Fatalf("files left behind: %v", left)
	}
	ims, _ := r.store.ListImports(context.Background(), db.ImportFilter{})
	if len(ims) != 0 {
		t.Fatalf("imports recorded for a refused upload: %d", len(ims))
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Discarding an import that never started removes it and its file.
func TestDiscardRemovesTheImportAndItsFile(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	id := r.prepare("a.csv", []byte("手机\n13800138000\n"))
	im, _ := r.store.Import(context.Background(), id)
	if err := r.svc.Discard(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.svc.filePath(im)); !os.IsNotExist(err) {
		t.Fatalf("file still there: %v", err)
	}
	if _, err := r.store.Import(context.Background(), id); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("import still there: %v", err)
	}
}

// Two imports into the same crowd at once do not interfere: the crowd
// ends with both files' persons, each import reports its own rows.
func TestTwoImportsIntoOneCrowdAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	f := makeImportFile(t, r.sb, 4000)
	lines := strings.SplitAfter(string(f.csv), "\n")
	header, body := lines[0], lines[1:]
	half := len(body) / 2
	a := r.prepare("a.csv", []byte(header+strings.Join(body[:half], "")))
	b := r.prepare("b.csv", []byte(header+strings.Join(body[half:], "")))
	c, err := r.svc.Create(context.Background(), "mia", "同时导入", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{a, b} {
		if _, err := r.svc.Start(context.Background(), id, r.userID, "mia", Target{CrowdID: c.GroupID}); err != nil {
			t.Fatal(err)
		}
	}
	r.waitImport(a)
	r.waitImport(b)
	if got := r.members(c.GroupID); !slices.Equal(got, f.want) {
		t.Fatalf("crowd holds %d members, want the %d known persons of both files", len(got), len(f.want))
	}
	na, nb := r.counts(a), r.counts(b)
	if na[db.RowImported]+nb[db.RowImported] != int64(len(f.want)) || na[db.RowAlreadyMember]+nb[db.RowAlreadyMember] != 0 {
		t.Fatalf("row states %v and %v", na, nb)
	}
}
