package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
)

// messyExport is a CSV export with a title row above the header, stray
// quotes, a number Excel rounded, a blank row and a cell over two lines:
// 12 rows (a title, the header, 10 data rows) on 13 lines.
func messyExport(mobiles []string) string {
	return "2026 春季展会名单（市场部导出）\n" +
		"姓名,手机号,备注\n" +
		"甲," + mobiles[0] + ",\n" + // 3
		"\"VIP\"客户," + mobiles[1] + ",老客户\n" + // 4: broken quoting
		"丙," + mobiles[2] + ",=HYPERLINK(\"http://x\",\"y\")\n" + // 5: broken quoting
		"丁," + mobiles[3] + ",\n" + // 6: the row after them reads as it should
		"戊,1.35001E+10,\n" + // 7: rounded by Excel
		"\n" + // 8: blank
		"己," + mobiles[4] + ",\"第一行\n第二行\"\n" + // 9: two lines
		"庚," + mobiles[5] + ",\n" + // 10
		"辛," + mobiles[0] + ",\n" + // 11: a duplicate of row 3
		"壬,12345,\n" // 12: not a mobile
}

func TestImportWizardAccountsForEveryRowOfAMessyExport(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	var mobiles []string
	for _, p := range rig.sandbox().SamplePersons(20) {
		if p.Mobile != "" && len(mobiles) < 6 {
			mobiles = append(mobiles, p.Mobile)
		}
	}
	id := uploadOK(t, c, "展会名单.csv", []byte(messyExport(mobiles)))

	doc := parsePage(t, c.get(fmt.Sprintf("/imports/%d", id)).Body.String())
	if got := selectedValue(doc.one("header_row-select")); got != "2" {
		t.Errorf("header row %q, want 2 (under the title)", got)
	}
	if titles := doc.all("title-row"); len(titles) != 1 || attrOf(titles[0], "data-row") != "1" {
		t.Errorf("title rows %d", len(titles))
	}
	problems := doc.all("row-problem")
	if len(problems) != 2 || !strings.Contains(nodeText(problems[0]), "引号不成对") {
		t.Fatalf("the preview shows %d rows with broken quoting", len(problems))
	}
	var shown []string
	for _, r := range doc.all("preview-row") {
		shown = append(shown, attrOf(r, "data-row"))
	}
	if !slices.Equal(shown, []string{"3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}) {
		t.Errorf("preview rows %v", shown)
	}

	validate(t, c, id, url.Values{"col_0": {"name"}, "col_1": {"mobile"}, "identity": {"mobile"}})
	doc = parsePage(t, c.get(fmt.Sprintf("/imports/%d", id)).Body.String())
	for testid, want := range map[string]int64{"sum-total": 10, "sum-empty": 1, "sum-valid": 4, "sum-invalid": 4, "sum-duplicate": 1} {
		if got := doc.count(testid); got != want {
			t.Errorf("%s = %d, want %d", testid, got, want)
		}
	}
	if got := doc.text("sum-rows-in-file"); got != "文件共 12 行：标题行 1，表头 1 行，数据行 10。" {
		t.Errorf("rows in file: %q", got)
	}
	if got := doc.text("sum-lines"); !strings.Contains(got, "读取了 12 行，文件有 13 行文本") || !strings.Contains(got, "第 9 行") {
		t.Errorf("rows and lines: %q", got)
	}
	if got := doc.text("reason-quote"); got != "引号不成对2" {
		t.Errorf("quote reason: %q", got)
	}
	if !doc.has("reason-mobile_rounded") {
		t.Error("no rounded-number reason in the summary")
	}

	report := c.get(fmt.Sprintf("/imports/%d/rows.csv?category=rejected", id)).Body.String()
	for _, want := range []string{
		"4,\"\"\"VIP\"\"客户," + mobiles[1] + ",老客户\",,,,格式无效,引号不成对",
		"7,1.35001E+10,,戊,,格式无效,Excel 已将这个号码四舍五入：请把该列设为文本后重新导出",
		"11," + mobiles[0] + "," + mobiles[0] + ",辛,,重复,与第 3 行重复",
		"12,12345,,壬,,格式无效,不是有效的中国大陆手机号",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}

	// Another header row: the title becomes the header, nothing is mapped
	// by name any more, and no row is a title row.
	rec := c.post(fmt.Sprintf("/imports/%d/reading", id), url.Values{"header_row": {"1"}}, htmx())
	doc = parsePage(t, rec.Body.String())
	if got := selectedValue(doc.one("header_row-select")); got != "1" || doc.has("title-rows") {
		t.Fatalf("after choosing row 1: header %q, title rows shown %v", got, doc.has("title-rows"))
	}
	if got := doc.all("preview-row"); len(got) != 11 {
		t.Errorf("%d rows under row 1, want 11", len(got))
	}
}

// A file over the size validated within a request is validated by a job:
// the page shows its progress (and a way to stop it) and moves on to the
// summary once it is done; a validation stopped says so.
func TestALargeImportIsValidatedInTheBackground(t *testing.T) {
	t.Parallel()
	var rig crowdsRig
	h := newHarness(t, withCrowdsRunner(t, &rig, false, func(c *crowds.Config) { c.ValidateInRequest = 1 }))
	rig.h = h
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	id := uploadOK(t, c, "名单.csv", []byte(mixedFile))
	validate(t, c, id, url.Values{"col_0": {"mobile"}, "col_1": {"name"}, "identity": {"mobile"}})

	doc := parsePage(t, c.get(fmt.Sprintf("/imports/%d", id)).Body.String())
	if doc.text("validate-percent") != "0%" || !doc.has("cancel-validation") || doc.has("validate") {
		t.Fatal("the page does not show the validation queued")
	}
	frag := c.get(fmt.Sprintf("/imports/%d/progress", id), htmx())
	if !parsePage(t, frag.Body.String()).has("import-validating") {
		t.Fatalf("progress while validating: %s", frag.Body.String())
	}

	// Another, stopped before it ran: the step again, saying so.
	other := uploadOK(t, c, "另一个.csv", []byte(mixedFile+"13800000009,辛\n"))
	validate(t, c, other, url.Values{"col_0": {"mobile"}, "col_1": {"name"}, "identity": {"mobile"}})
	if rec := c.post(fmt.Sprintf("/imports/%d/validate/cancel", other), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("stop validating: %d", rec.Code)
	}
	doc = parsePage(t, c.get(fmt.Sprintf("/imports/%d", other)).Body.String())
	if doc.text("validation-notice") != "校验已停止。可以修改设置后重新校验。" || !doc.has("validate") || doc.has("import-validating") {
		t.Errorf("a stopped validation: validate button %v", doc.has("validate"))
	}

	rig.startRunner()
	deadline := time.Now().Add(30 * time.Second)
	for {
		frag = c.get(fmt.Sprintf("/imports/%d/progress", id), htmx())
		if frag.Header().Get("HX-Retarget") == "#import-body" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the validation did not end")
		}
		time.Sleep(10 * time.Millisecond) // polling as the page does, bounded by the deadline
	}
	summary := parsePage(t, frag.Body.String())
	if summary.count("sum-total") != 8 || summary.count("sum-valid") != 3 || !summary.has("target-form") {
		t.Fatalf("the summary after validating in the background: %s", frag.Body.String())
	}
	if im, _ := h.store.Import(context.Background(), other); im.Stage != db.ImportUploaded {
		t.Errorf("the stopped validation validated its import: %s", im.Stage)
	}
}

// The target step refreshes the crowd list from the platform, so a crowd
// made there a moment ago can be chosen; it estimates each phase for the
// target chosen; a new crowd's name has the platform's 50 characters.
func TestTheTargetStepOffersEveryPlatformCrowd(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	ctx := context.Background()
	made, err := rig.plat.Client().CreateCrowd(ctx, "刚在平台上建的", "")
	if err != nil {
		t.Fatal(err)
	}
	people := rig.sandbox().SamplePersons(3)
	id := uploadOK(t, c, "名单.csv", personsCSV([]string{people[0].Mobile, people[1].Mobile, people[2].Mobile}))
	validate(t, c, id, url.Values{"col_0": {"name"}, "col_1": {"mobile"}, "identity": {"mobile"}})
	h.clock.Advance(time.Minute)
	if _, err := h.store.Crowd(ctx, made); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("the local copy has the crowd before the step opens; the test proves nothing: %v", err)
	}
	refreshes := func() int {
		js, err := h.store.ListJobs(ctx, db.JobFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(slices.DeleteFunc(js, func(j db.Job) bool { return j.Kind != crowds.SyncJobKind }))
	}
	before := refreshes()

	// Opening the step asks for a refresh. It may end within the request
	// (the picker then has the crowd already) or after it (the picker says
	// it is refreshing and polls): either way the crowd comes to be offered.
	frag := parsePage(t, c.get(fmt.Sprintf("/imports/%d", id)).Body.String())
	if refreshes() != before+1 {
		t.Fatal("opening the target step does not refresh the crowd list")
	}
	deadline := time.Now().Add(30 * time.Second)
	for attrOf(frag.one("crowd-picker"), "data-syncing") == "true" {
		if !frag.has("crowds-refreshing") {
			t.Fatal("the picker refreshes without saying so")
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresh did not end")
		}
		time.Sleep(10 * time.Millisecond) // polling as the picker does, bounded by the deadline
		frag = parsePage(t, c.get(fmt.Sprintf("/imports/%d/crowds?crowd=new", id), htmx()).Body.String())
	}
	if !slices.Contains(optionValues(frag.one("crowd-select")), strconv.FormatInt(made, 10)) {
		t.Fatal("the crowd made on the platform is not offered after the refresh")
	}

	est := parsePage(t, c.get(fmt.Sprintf("/imports/%d/estimate?crowd=new&create_missing=1", id), htmx()).Body.String())
	if !strings.Contains(est.text("estimate-lookup"), "5 人，1 次调用") || !strings.Contains(est.text("estimate-create"), "最多 5 人") ||
		!est.has("estimate-crowd") || est.has("estimate-one-by-one") {
		t.Errorf("estimate: %q / %q", est.text("estimate-lookup"), est.text("estimate-create"))
	}

	long := strings.Repeat("名", crowds.CrowdNameMax+1)
	rec := c.post(fmt.Sprintf("/imports/%d/start", id), url.Values{"crowd": {"new"}, "new_name": {long}}, htmx())
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(parsePage(t, rec.Body.String()).text("target-error"), "最多 50 个字符") {
		t.Fatalf("a 51-character name: %d", rec.Code)
	}
	if got := attrOf(parsePage(t, rec.Body.String()).one("new-crowd-name"), "maxlength"); got != "50" {
		t.Errorf("the name field allows %s characters", got)
	}
}
