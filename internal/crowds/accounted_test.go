package crowds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/importfile"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// groupWatcher is the client's transport, seeing every call that names a
// crowd: a crowd call without a group (0 or missing) is the start race.
type groupWatcher struct {
	next             http.RoundTripper
	calls, groupless atomic.Int64
}

func (g *groupWatcher) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.URL.Path, "/crowd/static/users") || strings.Contains(req.URL.Path, "/crowd/static/importByUuids") {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		var b struct {
			GroupID int64 `json:"group_id"`
		}
		json.Unmarshal(body, &b)
		g.calls.Add(1)
		if b.GroupID == 0 {
			g.groupless.Add(1)
		}
	}
	return g.next.RoundTrip(req)
}

// Many imports started at once, into a crowd that exists (so each job
// lists its members first) and new crowds, on four workers: every job
// knows its crowd from its first call. Before the target travelled with
// the job, a job could run before its import named the crowd and ask for
// group 0 ("缺少必选参数: group_id").
func TestManyImportsStartedAtOnceNeverAskForGroupZero(t *testing.T) {
	t.Parallel()
	watch := &groupWatcher{next: http.DefaultTransport}
	r := newRigOpts(t, rigOptions{transport: watch, workers: 4})
	ctx := context.Background()
	existing, err := r.svc.Create(ctx, "mia", "已有人群", "")
	if err != nil {
		t.Fatal(err)
	}
	f := makeImportFile(t, r.sb, 120)
	const n = 8
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = r.prepare(fmt.Sprintf("file-%d.csv", i), f.csv)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, id := range ids {
		target := Target{CrowdID: existing.GroupID, Again: true}
		if i%2 == 1 {
			target = Target{NewCrowd: fmt.Sprintf("新人群 %d", i), Again: true}
		}
		wg.Go(func() {
			_, err := r.svc.Start(ctx, id, r.userID, "mia", target)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		im := r.waitImport(id) // fails the test unless the job is done
		if im.CrowdID == 0 || im.JobID == 0 {
			t.Fatalf("import %d: crowd %d job %d", id, im.CrowdID, im.JobID)
		}
	}
	if watch.groupless.Load() != 0 || watch.calls.Load() == 0 {
		t.Fatalf("%d of %d crowd calls named no group", watch.groupless.Load(), watch.calls.Load())
	}
	if got := r.members(existing.GroupID); !slices.Equal(got, f.want) {
		t.Fatalf("the existing crowd holds %d members, want %d", len(got), len(f.want))
	}
}

// messyFile is a CSV export as marketers get them: a title row and a
// blank row above the header, stray quotes, numbers Excel rounded or
// kept whole in scientific notation, blank rows and a cell over two lines.
func messyFile(mobiles []string) (data []byte, want map[int64]string) {
	want = map[int64]string{} // row → reason of the rejected rows
	var b strings.Builder
	b.WriteString("2026 春季展会客户名单（市场部导出）\n")
	b.WriteString("\n")
	b.WriteString("姓名,手机号,备注\n") // row 3
	row := int64(3)
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...); row++ }
	for i, m := range mobiles {
		switch i {
		case 3:
			line("\"VIP\"客户,%s,老客户", m)
			want[row] = importfile.ProblemQuote
		case 7:
			line("张%d,%s,=HYPERLINK(\"http://x\",\"y\")", i, m)
			want[row] = importfile.ProblemQuote
		case 9:
			line("四舍五入,1.35001E+10,")
			want[row] = importfile.ReasonMobileRounded
		case 10:
			line("完整,%s.%sE+10,", m[:1], m[1:]) // 1.3800138000E+10: every digit is there
		case 12:
			line("")
		case 14:
			line("多行,%s,\"第一行\n第二行\"", m)
		default:
			line("客户%d,%s,", i, m)
		}
	}
	return []byte(b.String()), want
}

// A messy file accounts for every one of its rows: title rows, the
// header, and each row under it empty, rejected with its reason and its
// row as a spreadsheet shows it, a duplicate, or valid.
func TestEveryRowOfAMessyFileIsAccountedFor(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	var mobiles []string
	for _, p := range r.sb.SamplePersons(60) {
		if p.Mobile != "" && len(mobiles) < 40 {
			mobiles = append(mobiles, p.Mobile)
		}
	}
	data, want := messyFile(mobiles)
	id, err := r.svc.Upload(ctx, r.userID, "展会名单.csv", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	_, p, err := r.svc.ImportPreview(ctx, id)
	if err != nil || p.Err != nil {
		t.Fatalf("preview: %v %v", err, p.Err)
	}
	if p.HeaderRow != 3 || !slices.Equal(p.Header, []string{"姓名", "手机号", "备注"}) || p.Mapping[1] != importfile.ColMobile {
		t.Fatalf("header row %d %q mapping %q", p.HeaderRow, p.Header, p.Mapping)
	}
	if _, err := r.svc.Validate(ctx, id, r.userID, p.Mapping, importfile.ColMobile); err != nil {
		t.Fatal(err)
	}
	im, _ := r.store.Import(ctx, id)
	c := im.Counts
	rowsInFile := int64(3 + len(mobiles))
	if c.Title != 2 || c.Title+1+c.Total != rowsInFile || c.Empty+c.Invalid+c.Duplicate+c.Valid != c.Total {
		t.Fatalf("counts %+v do not add up to the file's %d rows", c, rowsInFile)
	}
	if c.Empty != 1 || c.Invalid != int64(len(want)) || c.Lines != rowsInFile+1 || c.Multiline != 1 || !slices.Equal(c.MultilineRows, []int64{18}) {
		t.Fatalf("counts %+v", c)
	}
	rows, _ := r.store.ImportRowsPage(ctx, id, []string{db.RowInvalid}, 0, 100)
	got := map[int64]string{}
	for _, row := range rows {
		got[row.Line] = row.Reason
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rejected rows %v, want %v", got, want)
	}
	// The row in scientific notation with every digit is valid, as its mobile.
	valid, _ := r.store.ImportRowsPage(ctx, id, []string{db.RowPending}, 13, 1)
	if len(valid) != 1 || valid[0].Line != 14 || valid[0].Value != mobiles[10] {
		t.Fatalf("row 14: %+v", valid)
	}
}

// A workbook with a note sheet first and a merged title above the list's
// header: the list's sheet is chosen, its header found, the other sheets
// listed; a header-only sheet reads as no rows, all accounted for.
func TestAWorkbookWithANoteSheetAndATitle(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	people := r.sb.SamplePersons(40)
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "说明")
	f.SetCellValue("说明", "A1", "请勿外传")
	f.NewSheet("名单")
	f.SetCellValue("名单", "A1", "客户名单")
	f.MergeCell("名单", "A1", "C1")
	f.SetSheetRow("名单", "A2", &[]any{"姓名", "手机号码", "邮箱"})
	n := 0
	for _, p := range people {
		if p.Mobile == "" || n == 25 {
			continue
		}
		f.SetSheetRow("名单", fmt.Sprintf("A%d", n+3), &[]any{p.Name, p.Mobile, ""})
		n++
	}
	f.SetSheetRow("名单", fmt.Sprintf("A%d", n+4), &[]any{"隔了一行", "1.38E+10"}) // a gap row, then a rounded number
	f.NewSheet("只有表头")
	f.SetSheetRow("只有表头", "A1", &[]any{"姓名", "手机号"})
	var buf bytes.Buffer
	f.Write(&buf)
	id, err := r.svc.Upload(ctx, r.userID, "客户.xlsx", &buf)
	if err != nil {
		t.Fatal(err)
	}
	_, p, err := r.svc.ImportPreview(ctx, id)
	if err != nil || p.Err != nil || p.Options.Sheet != "名单" || p.HeaderRow != 2 || len(p.Detected.Sheets) != 3 {
		t.Fatalf("preview: sheet %q header %d sheets %v, %v %v", p.Options.Sheet, p.HeaderRow, p.Detected.Sheets, err, p.Err)
	}
	if _, err := r.svc.Validate(ctx, id, r.userID, p.Mapping, importfile.ColMobile); err != nil {
		t.Fatal(err)
	}
	im, _ := r.store.Import(ctx, id)
	c := im.Counts
	last := int64(n + 4)
	if c.Title != 1 || c.Title+1+c.Total != last || c.Valid != int64(n) || c.Invalid != 1 || c.Empty != 1 || c.Lines != 0 {
		t.Fatalf("counts %+v; the sheet's last row is %d", c, last)
	}
	bad, _ := r.store.ImportRowsPage(ctx, id, []string{db.RowInvalid}, 0, 5)
	if len(bad) != 1 || bad[0].Line != last || bad[0].Reason != importfile.ReasonMobileRounded {
		t.Fatalf("rejected %+v", bad)
	}

	// The header-only sheet: its header, no rows.
	p, err = r.svc.SetReading(ctx, id, importfile.Options{Format: importfile.FormatXLSX, Sheet: "只有表头"}, 0, nil)
	if err != nil || p.HeaderRow != 1 || len(p.DataRows()) != 0 {
		t.Fatalf("header-only sheet: %v header %d rows %d", err, p.HeaderRow, len(p.DataRows()))
	}
	if _, err := r.svc.Validate(ctx, id, r.userID, p.Mapping, importfile.ColMobile); err != nil {
		t.Fatal(err)
	}
	im, _ = r.store.Import(ctx, id)
	if c := im.Counts; c.Total != 0 || c.Title != 0 || c.Valid != 0 {
		t.Fatalf("header-only counts %+v", c)
	}
	if _, err := r.svc.Start(ctx, id, r.userID, "mia", Target{NewCrowd: "空"}); !errors.Is(err, ErrNoValidRows) {
		t.Fatalf("start without rows: %v", err)
	}
}

// A file over the size validated within a request is validated by a job:
// Validate returns at once with the job, which saves its progress and
// leaves the import validated with the same counts as within a request.
func TestALargeFileIsValidatedByAJob(t *testing.T) {
	t.Parallel()
	r := newRigOpts(t, rigOptions{validateInRequest: 1})
	ctx := context.Background()
	f := makeImportFile(t, r.sb, 3000)
	id, err := r.svc.Upload(ctx, r.userID, "大文件.csv", bytes.NewReader(f.csv))
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := r.svc.ImportPreview(ctx, id)
	res, err := r.svc.Validate(ctx, id, r.userID, p.Mapping, importfile.ColMobile)
	if err != nil || res.JobID == 0 {
		t.Fatalf("validate: %+v %v", res, err)
	}
	im := r.waitStage(id, db.ImportValidated)
	if c := im.Counts; c.Total != 3000 || c.Invalid != int64(f.invalid) || c.Valid != int64(3000-f.invalid) || im.ValidateJobID != res.JobID {
		t.Fatalf("counts %+v job %d", c, im.ValidateJobID)
	}
	// The import is validated by the job's last step; the runner marks the
	// job done after it returns, so the job is waited for, not read at once.
	if j := r.waitJob(res.JobID); j.State != db.JobDone || j.Total != int64(len(f.csv)) || j.Done != j.Total {
		t.Fatalf("validation job %+v", j)
	}
}

// Reading the file another way while a validation job runs lets that
// validation go: none of its rows stay, and it does not validate the import.
func TestReadingAnotherWayDropsAValidationUnderWay(t *testing.T) {
	t.Parallel()
	r := newRigOpts(t, rigOptions{validateInRequest: 1})
	ctx := context.Background()
	f := makeImportFile(t, r.sb, 20000)
	id, err := r.svc.Upload(ctx, r.userID, "大文件.csv", bytes.NewReader(f.csv))
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := r.svc.ImportPreview(ctx, id)
	res, err := r.svc.Validate(ctx, id, r.userID, p.Mapping, importfile.ColMobile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.SetReading(ctx, id, p.Options, 0, p.Mapping); err != nil {
		t.Fatal(err)
	}
	j := r.waitJob(res.JobID)
	im, _ := r.store.Import(ctx, id)
	last, _ := r.store.ImportLastRow(ctx, id)
	if im.Stage != db.ImportUploaded || im.ValidateJobID != 0 || last != 0 {
		t.Fatalf("after reading again: stage %s job %d rows to %d (the job ended %s)", im.Stage, im.ValidateJobID, last, j.State)
	}
}

func (r *rig) waitStage(id int64, stage string) db.Import {
	r.t.Helper()
	return testkit.Await(r.t, fmt.Sprintf("import %d to be %s", id, stage),
		func() (db.Import, error) { return r.store.Import(context.Background(), id) },
		func(im db.Import) bool { return im.Stage == stage })
}

func (r *rig) waitJob(id int64) db.Job { return fixture.WaitJob(r.t, r.store, id) }

// Persons the import creates carry everything the file maps: the mobile
// matched on, the email beside it, the name and the company.
func TestPersonsAreCreatedWithEverythingMapped(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	file := "姓名,手机号,邮箱,公司\n" +
		"新客一,19900000001,one@example.com,星河科技\n" +
		"新客二,19900000002,不是邮箱,云栖数据\n"
	id := r.prepare("新客.csv", []byte(file))
	im, _ := r.store.Import(ctx, id)
	if !slices.Equal(im.Mapping, []string{importfile.ColName, importfile.ColMobile, importfile.ColEmail, importfile.ColCompany}) {
		t.Fatalf("mapping %q", im.Mapping)
	}
	if _, err := r.svc.Start(ctx, id, r.userID, "mia", Target{NewCrowd: "新客", CreateMissing: true}); err != nil {
		t.Fatal(err)
	}
	r.waitImport(id)
	if n := r.counts(id); n[db.RowImported] != 2 {
		t.Fatalf("row states %v", n)
	}
	p, err := r.client.QueryPerson(ctx, jing.IdentityMobile, "19900000001")
	if err != nil {
		t.Fatal(err)
	}
	if p.Identity(jing.IdentityEmail) != "one@example.com" || p.Fields["name"] != "新客一" || p.Fields["company"] != "星河科技" {
		t.Fatalf("created person %+v", p)
	}
	// An email that is not one is left out; the person is still created.
	p, err = r.client.QueryPerson(ctx, jing.IdentityMobile, "19900000002")
	if err != nil || p.Identity(jing.IdentityEmail) != "" || p.Fields["company"] != "云栖数据" {
		t.Fatalf("second person %+v %v", p, err)
	}
}

// Progress by phase: each phase's rows once the import is done, and before
// it starts an estimate that knows the lookup goes one person per call
// when the batch endpoint is disabled.
func TestProgressByPhaseAndTheEstimate(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	f := makeImportFile(t, r.sb, 1000)
	id := r.prepare("a.csv", f.csv)
	im, _ := r.store.Import(ctx, id)
	est, err := r.svc.Estimate(ctx, im, Target{NewCrowd: "x", CreateMissing: true})
	if err != nil || len(est) != 3 || est[0].Calls != 10 || est[0].OneByOne || !est[1].UpTo || est[2].Calls != 1 {
		t.Fatalf("estimate %+v %v", est, err)
	}
	if _, err := r.svc.Start(ctx, id, r.userID, "mia", Target{NewCrowd: "分阶段", CreateMissing: true}); err != nil {
		t.Fatal(err)
	}
	im = r.waitImport(id)
	j, _ := r.store.Job(ctx, im.JobID)
	p, err := r.svc.Progress(ctx, im, j)
	if err != nil {
		t.Fatal(err)
	}
	valid := int64(1000 - f.invalid)
	want := []PhaseProgress{
		{Name: PhaseLookup, State: "done", Done: valid, Total: valid},
		{Name: PhaseCreate, State: "done", Done: int64(f.unknown), Total: int64(f.unknown)},
		{Name: PhaseCrowd, State: "done", Done: valid, Total: valid},
	}
	for i := range p.Phases {
		p.Phases[i].Took = 0
	}
	if p.Percent != 100 || fmt.Sprint(p.Phases) != fmt.Sprint(want) {
		t.Fatalf("progress %d%% %+v\nwant %+v", p.Percent, p.Phases, want)
	}

	off := true
	cat, _ := importCatalog(t).ApplyOverrides(map[string]jing.Override{"users.identity_batch": {Disabled: &off}})
	r2 := newRigWith(t, cat)
	id = r2.prepare("b.csv", f.csv)
	im, _ = r2.store.Import(ctx, id)
	est, _ = r2.svc.Estimate(ctx, im, Target{NewCrowd: "x"})
	if len(est) != 2 || !est[0].OneByOne || est[0].Calls != valid || est[0].Takes < est[1].Takes {
		t.Fatalf("estimate without the batch endpoint %+v", est)
	}
}

// A column the header does not name, filled only by rows further down than
// the preview shows, can still be mapped by its position.
func TestAColumnOnlyLaterRowsFillCanBeMapped(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("手机号,姓名\n")
	for i := range 100 {
		fmt.Fprintf(&b, "1390000%04d,客户%d\n", i, i)
	}
	b.WriteString("13900009999,最后一位,last@example.com\n") // row 102: a third column
	id, err := r.svc.Upload(ctx, r.userID, "后来多一列.csv", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := r.svc.ImportPreview(ctx, id)
	if p.Columns != 3 || len(p.Mapping) != 3 || p.Header[2] != "" {
		t.Fatalf("columns %d mapping %q header %q", p.Columns, p.Mapping, p.Header)
	}
	mapping := []string{importfile.ColMobile, importfile.ColName, importfile.ColEmail}
	if _, err := r.svc.Validate(ctx, id, r.userID, mapping, importfile.ColMobile); err != nil {
		t.Fatal(err)
	}
	rows, _ := r.store.ImportRowsPage(ctx, id, []string{db.RowPending}, 101, 1)
	if len(rows) != 1 || rows[0].Extra[importfile.ColEmail] != "last@example.com" {
		t.Fatalf("row 102: %+v", rows)
	}
}
