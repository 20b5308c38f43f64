package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

// multipartUpload is a form as the upload page posts it: the token first,
// then the file.
func multipartUpload(csrf, name string, data []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if csrf != "" {
		w.WriteField("_csrf", csrf)
	}
	fw, _ := w.CreateFormFile("file", name)
	fw.Write(data)
	w.Close()
	return &buf, w.FormDataContentType()
}

// upload posts a file to /imports as a plain (non-htmx) form.
func (c *client) upload(name string, data []byte, opts ...reqOption) *httptest.ResponseRecorder {
	c.h.t.Helper()
	body, ct := multipartUpload(c.csrf, name, data)
	req := httptest.NewRequest(http.MethodPost, "/imports", body)
	req.Header.Set("Content-Type", ct)
	return c.do(req, opts...)
}

var importLocation = regexp.MustCompile(`^/imports/(\d+)$`)

// uploadOK uploads and returns the new import's id.
func uploadOK(t *testing.T, c *client, name string, data []byte) int64 {
	t.Helper()
	rec := c.upload(name, data)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("upload %s: status %d\n%s", name, rec.Code, rec.Body.String())
	}
	m := importLocation.FindStringSubmatch(rec.Header().Get("Location"))
	if m == nil {
		t.Fatalf("upload %s went to %q", name, rec.Header().Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

func gbk(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withUploadLimit replaces the rig's service by one taking at most limit
// bytes (on a runner of its own that never runs: these tests only upload).
func withUploadLimit(t testing.TB, limit int64) harnessOption {
	return func(d *Deps) {
		runner := jobs.New(d.Store, jobs.Config{Logger: d.Logger})
		svc, err := crowds.New(crowds.Config{Store: d.Store, Platform: d.Platform, Runner: runner, DataDir: t.TempDir(),
			Logger: d.Logger, Now: d.Now, MaxUpload: limit})
		if err != nil {
			t.Fatal(err)
		}
		d.Crowds = svc
	}
}

func newSmallUploadHarness(t *testing.T, limit int64) *harness {
	var rig crowdsRig
	return newHarness(t, withCrowds(t, &rig), withUploadLimit(t, limit))
}

// countIn reads the number shown in the element with data-testid id.
func countIn(t *testing.T, body, id string) int64 {
	t.Helper()
	shown := testIDTexts(body, id)
	if len(shown) == 0 {
		t.Fatalf("no %s in the page", id)
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(shown[0], ",", ""), 10, 64)
	if err != nil {
		t.Fatalf("%s shows %q", id, shown[0])
	}
	return n
}

// The preview shows the rows as decoded: a GBK file is detected and reads
// correctly; read as UTF-8 it shows the replacement characters.
func TestImportPreviewShowsRowsAsDecoded(t *testing.T) {
	t.Parallel()
	h, _ := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")

	id := uploadOK(t, c, "客户.csv", []byte("姓名,手机号\n李四,13800000001\n王五,13800000002\n"))
	page := c.get(fmt.Sprintf("/imports/%d", id)).Body.String()
	for _, want := range []string{"李四", "王五", "13800000002"} {
		if !hasTestIDText(page, "preview-table", want) {
			t.Errorf("UTF-8 preview lacks %q", want)
		}
	}
	if !slices.Contains(selectedIn(page, "role-select"), "mobile") {
		t.Errorf("UTF-8 preview: no column mapped to mobile: %v", selectedIn(page, "role-select"))
	}

	id = uploadOK(t, c, "展会名单.csv", gbk(t, "姓名,手机号\n张三,13800000001\n李四,13800000002\n"))
	page = c.get(fmt.Sprintf("/imports/%d", id)).Body.String()
	if !hasTestIDText(page, "header_row-select", "张三") || !hasTestIDText(page, "header_row-select", "李四") {
		t.Fatalf("GBK preview does not show the names decoded:\n%s", page)
	}
	if label, selected := optionText(page, "encoding-select", "gb18030"); !selected || !strings.Contains(label, "自动识别") {
		t.Error("GBK file: gb18030 is not shown as detected and chosen")
	}
	if appearsInBytes(page, "\uFFFD") {
		t.Error("GBK preview shows replacement characters")
	}

	rec := c.post(fmt.Sprintf("/imports/%d/reading", id), url.Values{"encoding": {"utf-8"}, "delimiter": {","}}, htmx())
	if rec.Code != http.StatusOK {
		t.Fatalf("reading as utf-8: %d", rec.Code)
	}
	body := rec.Body.String()
	if !hasTestIDText(body, "header_row-select", "\uFFFD") || appearsInBytes(body, "张三") {
		t.Error("read as UTF-8, the preview must show the mojibake (U+FFFD), not the names")
	}
	if isFullPage(body) {
		t.Error("the htmx answer must be the step alone, not a page")
	}
	// Back to the right encoding: the names are back.
	rec = c.post(fmt.Sprintf("/imports/%d/reading", id), url.Values{"encoding": {"gb18030"}}, htmx())
	if !hasTestIDText(rec.Body.String(), "header_row-select", "张三") {
		t.Error("back on gb18030 the names do not show")
	}

	// An xlsx workbook.
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"姓名", "邮箱"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"赵六", "zhao@example.com"})
	var xb bytes.Buffer
	if err := f.Write(&xb); err != nil {
		t.Fatal(err)
	}
	id = uploadOK(t, c, "客户.xlsx", xb.Bytes())
	page = c.get(fmt.Sprintf("/imports/%d", id)).Body.String()
	for _, want := range []string{"赵六", "zhao@example.com"} {
		if !hasTestIDText(page, "preview-table", want) {
			t.Errorf("xlsx preview lacks %q", want)
		}
	}
	if !hasTestID(page, "sheet-select") || !slices.Contains(selectedIn(page, "role-select"), "email") {
		t.Error("xlsx preview: no sheet choice, or no column mapped to email")
	}
}

// countingReader counts what was read of a body.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// Files that cannot be imported are refused on the upload page with what
// is wrong; an oversized body is refused before it is read.
func TestImportUploadRefusals(t *testing.T) {
	t.Parallel()
	h := newSmallUploadHarness(t, 1024)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")

	// Far over the limit: refused from Content-Length, the body unread.
	big := bytes.Repeat([]byte("13800000000\n"), 20000)
	body, ct := multipartUpload(c.csrf, "big.csv", big)
	counted := &countingReader{r: body}
	req := httptest.NewRequest(http.MethodPost, "/imports", counted)
	req.ContentLength = int64(body.Len())
	req.Header.Set("Content-Type", ct)
	rec := c.do(req)
	if rec.Code != http.StatusRequestEntityTooLarge || !hasTestIDText(rec.Body.String(), "upload-error", "文件太大") ||
		!hasTestIDText(rec.Body.String(), "upload-error", "1 KB") {
		t.Fatalf("oversized upload: %d\n%s", rec.Code, rec.Body.String())
	}
	if counted.n > 32<<10 {
		t.Errorf("the server read %d bytes of a body it refused by its length", counted.n)
	}

	// Just over the limit (within the slack): the stream stops at the limit.
	rec = c.upload("over.csv", bytes.Repeat([]byte("x"), 2000))
	if rec.Code != http.StatusRequestEntityTooLarge || !hasTestIDText(rec.Body.String(), "upload-error", "文件太大") {
		t.Fatalf("upload over the limit: %d", rec.Code)
	}

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty.csv", nil, "文件是空的"},
		{"photo.csv", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"), "二进制"},
		{"list.pdf", []byte("%PDF-1.4"), "不支持这种文件类型"},
	} {
		rec := c.upload(tc.name, tc.data)
		if rec.Code != http.StatusBadRequest || !hasTestIDText(rec.Body.String(), "upload-error", tc.want) {
			t.Errorf("%s: %d, want 400 with %q\n%s", tc.name, rec.Code, tc.want, rec.Body.String())
		}
	}
	imports, err := h.store.ListImports(context.Background(), db.ImportFilter{})
	if err != nil || len(imports) != 0 {
		t.Errorf("refused uploads left imports behind: %d, %v", len(imports), err)
	}

	// The token travels in the first field; without it the upload is refused.
	body, ct = multipartUpload("", "ok.csv", []byte("手机号\n13800000001\n"))
	req = httptest.NewRequest(http.MethodPost, "/imports", body)
	req.Header.Set("Content-Type", ct)
	if rec := c.do(req); rec.Code != http.StatusForbidden {
		t.Errorf("upload without a CSRF token: %d", rec.Code)
	}
	// With the token in the header instead (htmx), it goes through.
	body, ct = multipartUpload("", "ok.csv", []byte("手机号\n13800000001\n"))
	req = httptest.NewRequest(http.MethodPost, "/imports", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-CSRF-Token", c.csrf)
	if rec := c.do(req); rec.Code != http.StatusSeeOther {
		t.Errorf("upload with the token in the header: %d", rec.Code)
	}
}

// mixedFile has 3 valid mobiles, an empty row, 3 invalid rows and one
// duplicate (line 8 repeats line 2 with a +86 prefix).
const mixedFile = "手机号,姓名\n" +
	"13800000001,甲\n" + // 2
	"138-0000-0002,乙\n" + // 3
	"12345,丙\n" + // 4
	",\n" + // 5 empty
	"abc,丁\n" + // 6
	",戊\n" + // 7 identity empty
	"+86 138 0000 0001,己\n" + // 8 duplicate of 2
	"13800000003,庚\n" // 9

func validate(t *testing.T, c *client, id int64, form url.Values) {
	t.Helper()
	rec := c.post(fmt.Sprintf("/imports/%d/validate", id), form)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("validate: %d\n%s", rec.Code, rec.Body.String())
	}
}

func TestImportValidationSummaryAndRejectedReport(t *testing.T) {
	t.Parallel()
	h, _ := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	id := uploadOK(t, c, "名单.csv", []byte(mixedFile))

	// Nothing mapped to an identity: a clear message, the step kept.
	rec := c.post(fmt.Sprintf("/imports/%d/validate", id), url.Values{"col_0": {""}, "col_1": {"name"}}, htmx())
	if rec.Code != http.StatusUnprocessableEntity || !hasTestIDText(rec.Body.String(), "map-form", "请指定用于识别用户的列") {
		t.Fatalf("validate without an identity: %d", rec.Code)
	}

	validate(t, c, id, url.Values{"col_0": {"mobile"}, "col_1": {"name"}, "identity": {"mobile"}})
	page := c.get(fmt.Sprintf("/imports/%d", id)).Body.String()
	for testid, want := range map[string]int64{"sum-total": 8, "sum-empty": 1, "sum-valid": 3, "sum-invalid": 3, "sum-duplicate": 1} {
		if got := countIn(t, page, testid); got != want {
			t.Errorf("%s = %d, want %d", testid, got, want)
		}
	}
	for _, want := range []string{"不是有效的中国大陆手机号", "身份字段为空"} {
		if !hasTestIDText(page, "sum-reasons", want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if !hasTestID(page, "target-form") || !hasTestID(page, "create-missing") {
		t.Error("no target form, or no choice to create the missing")
	}

	rec = c.get(fmt.Sprintf("/imports/%d/rows.csv?category=rejected", id))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("report: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	cd := rec.Header().Get("Content-Disposition")
	if !strings.HasPrefix(cd, "attachment; filename=\"import-") || !strings.Contains(cd, "filename*=UTF-8''") {
		t.Errorf("Content-Disposition %q", cd)
	}
	report := rec.Body.String()
	if !strings.HasPrefix(report, "\uFEFF") {
		t.Fatal("the report does not start with the UTF-8 BOM")
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(report, "\uFEFF")), "\r\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "行号,") {
		t.Fatalf("report lines:\n%s", report)
	}
	for _, want := range []string{"4,12345,,丙,,格式无效,不是有效的中国大陆手机号", "7,,,戊,,格式无效,身份字段为空",
		"8,'+86 138 0000 0001,13800000001,己,,重复,与第 2 行重复"} {
		if !slices.Contains(lines, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if rec := c.get(fmt.Sprintf("/imports/%d/rows.csv?category=everything", id)); rec.Code != http.StatusBadRequest {
		t.Errorf("unknown category: %d", rec.Code)
	}

	// Back to mapping keeps the mapping chosen.
	rec = c.post(fmt.Sprintf("/imports/%d/reading", id), url.Values{"back": {"1"}}, htmx())
	if !hasTestID(rec.Body.String(), "map-form") || !slices.Contains(selectedIn(rec.Body.String(), "role-select"), "name") {
		t.Error("back to mapping does not show the mapping step with the chosen roles")
	}
}

// persons of the sandbox as a CSV of mobiles, with two mobiles nobody has.
func personsCSV(mobiles []string) []byte {
	var b strings.Builder
	b.WriteString("姓名,手机号\n")
	for i, m := range mobiles {
		fmt.Fprintf(&b, "客户%d,%s\n", i+1, m)
	}
	b.WriteString("无名,19999999901\n无名,19999999902\n")
	return []byte(b.String())
}

func TestImportRunsIntoANewCrowd(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	ctx := context.Background()
	people := rig.sandbox().SamplePersons(6)
	var mobiles, uuids []string
	for _, p := range people {
		mobiles = append(mobiles, p.Mobile)
		uuids = append(uuids, p.OmniUserUUID)
	}
	file := personsCSV(mobiles)
	id := uploadOK(t, c, "春季展会.csv", file)
	validate(t, c, id, url.Values{"col_0": {"name"}, "col_1": {"mobile"}, "identity": {"mobile"}})

	// No target: asked for one, the choices kept.
	rec := c.post(fmt.Sprintf("/imports/%d/start", id), url.Values{"crowd": {"new"}, "new_description": {"来自展会"}}, htmx())
	if rec.Code != http.StatusUnprocessableEntity || !hasTestIDText(rec.Body.String(), "target-error", "请选择一个人群") ||
		parseHTML(rec.Body.String()).inputValue("new_description") != "来自展会" {
		t.Fatalf("start without a target: %d", rec.Code)
	}
	rec = c.post(fmt.Sprintf("/imports/%d/start", id), url.Values{"crowd": {"new"}, "new_name": {"春季展会客户"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("start: %d\n%s", rec.Code, rec.Body.String())
	}
	// A second click: the import page, not an error.
	if rec := c.post(fmt.Sprintf("/imports/%d/start", id), url.Values{"crowd": {"new"}, "new_name": {"春季展会客户"}}); rec.Code != http.StatusSeeOther {
		t.Errorf("second start: %d", rec.Code)
	}
	im, err := h.store.Import(ctx, id)
	if err != nil || im.JobID == 0 {
		t.Fatalf("import after start: %+v %v", im, err)
	}
	rig.waitJob(im.JobID)

	// Finished and not looked at: the badge counts it on any page.
	if page := c.get("/jobs").Body.String(); testIDText(page, "imports-badge") != "1" {
		t.Error("the nav badge does not count the finished import")
	}
	if frag := c.get("/imports/badge", htmx()).Body.String(); testIDText(frag, "imports-badge") != "1" || !pollsNothing(frag) {
		t.Errorf("badge fragment: %s", frag)
	}

	page := c.get(fmt.Sprintf("/imports/%d", id)).Body.String()
	if !hasTestID(page, "import-result") || testIDText(page, "import-percent") != "100%" {
		t.Fatalf("finished import page lacks the result:\n%s", page)
	}
	for testid, want := range map[string]int64{"result-imported": 6, "result-not_found": 2, "result-failed": 0} {
		if got := parseHTML(page).textIn(testid, "import-result-n"); got != strconv.FormatInt(want, 10) {
			t.Errorf("%s shows %q, want %d", testid, got, want)
		}
	}
	if !hasTestID(page, "fact-crowd") || !hasTestIDText(page, "fact-crowd", "春季展会客户") {
		t.Error("the facts do not name the crowd")
	}
	if testIDText(c.get("/jobs").Body.String(), "imports-badge") == "1" {
		t.Error("the badge still counts the import after it was viewed")
	}
	frag := c.get(fmt.Sprintf("/imports/%d/progress", id), htmx()).Body.String()
	if !pollsNothing(frag) || !hasAttrOn(frag, "import-progress", `data-live="false"`) {
		t.Error("a finished import's panel must not poll")
	}

	// The platform's crowd holds exactly those persons.
	im, _ = h.store.Import(ctx, id)
	var got []string
	for m, err := range rig.plat.Client().AllCrowdUsers(ctx, im.CrowdID) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.OmniUserUUID)
	}
	slices.Sort(got)
	slices.Sort(uuids)
	if !slices.Equal(got, uuids) {
		t.Errorf("crowd members %v, want %v", got, uuids)
	}
	rec = c.get(fmt.Sprintf("/imports/%d/rows.csv?category=not_found", id))
	if !strings.Contains(rec.Body.String(), "19999999901") || !strings.Contains(rec.Body.String(), "平台上没有这个用户") {
		t.Errorf("not found report:\n%s", rec.Body.String())
	}
	// The history lists it with its counts.
	list := c.get("/imports").Body.String()
	if !hasTestIDText(list, "import-row", "春季展会.csv") || !hasTestIDText(list, "import-status", "已完成") {
		t.Error("the history does not list the finished import")
	}

	// The same file again: recognised, and only imported when confirmed.
	again := uploadOK(t, c, "春季展会-副本.csv", file)
	page = c.get(fmt.Sprintf("/imports/%d", again)).Body.String()
	if !hasTestID(page, "previous-imports") {
		t.Error("the same file uploaded again is not recognised")
	}
	validate(t, c, again, url.Values{"col_0": {"name"}, "col_1": {"mobile"}, "identity": {"mobile"}})
	target := url.Values{"crowd": {strconv.FormatInt(im.CrowdID, 10)}}
	if !hasTestID(c.get(fmt.Sprintf("/imports/%d", again)).Body.String(), "again") {
		t.Error("no confirmation asked for a file imported before")
	}
	rec = c.post(fmt.Sprintf("/imports/%d/start", again), target, htmx())
	if rec.Code != http.StatusUnprocessableEntity || !hasTestIDText(rec.Body.String(), "target-error", "这个文件以前导入过") {
		t.Fatalf("start of a file imported before without confirming: %d", rec.Code)
	}
	target.Set("again", "1")
	if rec := c.post(fmt.Sprintf("/imports/%d/start", again), target); rec.Code != http.StatusSeeOther {
		t.Fatalf("confirmed start: %d", rec.Code)
	}
	im2, _ := h.store.Import(ctx, again)
	rig.waitJob(im2.JobID)
	n, _ := h.store.ImportStateCounts(ctx, again)
	if n[db.RowAlreadyMember] != 6 || n[db.RowImported] != 0 {
		t.Errorf("second import into the same crowd: %v", n)
	}
}

// Viewers look but cannot upload, start or download; another marketer
// cannot take over someone's import.
func TestImportAccess(t *testing.T) {
	t.Parallel()
	h, _ := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("max", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	mia := h.login("mia")
	id := uploadOK(t, mia, "名单.csv", []byte(mixedFile))
	validate(t, mia, id, url.Values{"col_0": {"mobile"}, "col_1": {"name"}, "identity": {"mobile"}})

	vic := h.login("vic")
	if rec := vic.get("/imports/new"); rec.Code != http.StatusForbidden {
		t.Errorf("viewer GET /imports/new: %d", rec.Code)
	}
	if rec := vic.upload("x.csv", []byte("手机号\n13800000001\n")); rec.Code != http.StatusForbidden {
		t.Errorf("viewer upload: %d", rec.Code)
	}
	if rec := vic.post(fmt.Sprintf("/imports/%d/start", id), url.Values{"crowd": {"new"}, "new_name": {"x"}}); rec.Code != http.StatusForbidden {
		t.Errorf("viewer start: %d", rec.Code)
	}
	page := vic.get(fmt.Sprintf("/imports/%d", id))
	if page.Code != http.StatusOK || hasTestID(page.Body.String(), "target-form") ||
		hasTestID(page.Body.String(), "download-rejected") {
		t.Errorf("viewer sees the import with actions: %d", page.Code)
	}
	if list := vic.get("/imports").Body.String(); hasTestID(list, "new-import") {
		t.Error("viewer is offered a new import")
	}
	max := h.login("max")
	if rec := max.post(fmt.Sprintf("/imports/%d/start", id), url.Values{"crowd": {"new"}, "new_name": {"x"}}); rec.Code != http.StatusForbidden {
		t.Errorf("another marketer starts mia's import: %d", rec.Code)
	}
	if rec := max.post(fmt.Sprintf("/imports/%d/discard", id), nil); rec.Code != http.StatusForbidden {
		t.Errorf("another marketer discards mia's import: %d", rec.Code)
	}
	if rec := mia.post(fmt.Sprintf("/imports/%d/discard", id), nil); rec.Code != http.StatusSeeOther {
		t.Errorf("owner discards: %d", rec.Code)
	}
	if _, err := h.store.Import(context.Background(), id); err == nil {
		t.Error("the discarded import is still there")
	}
}
