package web

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
)

// A GBK file exported by Excel on Chinese Windows goes through the whole
// wizard in Chromium: the preview shows the names, the mobile column maps
// itself from 手机号, the import runs to 100% and the report downloads.
func TestBrowserImportWizardWithAGBKFile(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	b := newBrowser(t, h)
	b.enterAs("mia")

	people := rig.sandbox().SamplePersons(5)
	var csv strings.Builder
	csv.WriteString("姓名,手机号,备注\r\n")
	for i, name := range []string{"张三", "李四", "王五", "赵六", "钱七"} {
		fmt.Fprintf(&csv, "%s,%s,展会名片\r\n", name, people[i].Mobile)
	}
	csv.WriteString("孙八,12345,号码不全\r\n") // line 7: rejected
	path := filepath.Join(t.TempDir(), "展会名单.csv")
	if err := os.WriteFile(path, gbk(t, csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	b.open("/imports/new")
	eval[bool](b, `window.jingdeskMarker = true`)
	b.run("choose the file and upload",
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="upload-file"]`), []string{path}),
		chromedp.Click(chromedp.CSS(`[data-testid="upload-submit"]`)),
	)
	b.wired(`[data-testid="map-form"]`)
	preview := b.text(`[data-testid="preview-table"]`)
	for _, want := range []string{"张三", "李四", "钱七", "展会名片", people[0].Mobile} {
		if !strings.Contains(preview, want) {
			t.Errorf("the preview does not show %q:\n%s", want, preview)
		}
	}
	if strings.Contains(preview, "\uFFFD") {
		t.Error("the preview shows replacement characters")
	}
	if enc := eval[string](b, `document.querySelector('[data-testid="encoding-select"]').value`); enc != "gb18030" {
		t.Errorf("encoding chosen %q, want gb18030", enc)
	}
	if role := eval[string](b, `document.querySelector("#col_1").value`); role != "mobile" {
		t.Errorf("手机号 mapped to %q, want mobile", role)
	}
	b.shootImports("import-preview-1366x768.png")

	b.run("validate", chromedp.Click(chromedp.CSS(`[data-testid="validate"]`)))
	b.wired(`[data-testid="target-form"]`)
	if got := b.text(`[data-testid="sum-valid"]`); got != "5" {
		t.Errorf("valid rows %q, want 5", got)
	}
	if got := b.text(`[data-testid="sum-invalid"]`); got != "1" {
		t.Errorf("invalid rows %q, want 1", got)
	}
	b.run("start into a new crowd",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="new-crowd-name"]`), "春季展会客户"),
		chromedp.Click(chromedp.CSS(`[data-testid="start"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-progress"]`)),
	)
	evalUntil(b, "the bar to reach 100%", `(document.querySelector('[data-testid="import-percent"]') || {}).textContent + ""`, "100%")
	b.run("the result", chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-result"]`)))
	if got := eval[string](b, `document.querySelector('[data-testid="result-imported"] .import-result-n').textContent`); got != "5" {
		t.Errorf("imported %q, want 5", got)
	}
	if live := eval[string](b, `document.querySelector("#import-progress").dataset.live`); live != "false" {
		t.Errorf("the finished panel still polls: data-live=%q", live)
	}
	b.shootImports("import-result-1366x768.png")

	// The rejected row's report, fetched as the link would download it.
	report := eval[string](b, `(async () => {
		const href = document.querySelector('[data-testid="download-invalid"]').href;
		const buf = new Uint8Array(await (await fetch(href)).arrayBuffer());
		const bom = buf[0] === 0xEF && buf[1] === 0xBB && buf[2] === 0xBF;
		return (bom ? "BOM|" : "NOBOM|") + new TextDecoder("utf-8", {ignoreBOM: false}).decode(buf);
	})()`)
	if !strings.HasPrefix(report, "BOM|") {
		t.Errorf("the report does not start with the UTF-8 BOM: %q", report[:min(len(report), 40)])
	}
	if !strings.Contains(report, "7,12345,,孙八,,格式无效,不是有效的中国大陆手机号") &&
		!strings.Contains(report, "7,12345,,孙八,,Invalid,Not a mainland mobile number") {
		t.Errorf("the report lacks line 7:\n%s", report)
	}
	if !eval[bool](b, `window.jingdeskMarker === true`) {
		t.Error("the page reloaded: the wizard must move through htmx swaps")
	}
	b.assertNoProblems()

	// The crowd the import made: listed, and its page shows the members
	// with the names the import resolved them from.
	b.open("/crowds")
	b.shootImports("crowds-1366x768.png")
	href := eval[string](b, `[...document.querySelectorAll('[data-testid="crowd-name"]')].find(a => a.textContent === "春季展会客户").getAttribute("href")`)
	b.open(href)
	evalUntil(b, "the members to load", `String(document.body.innerText.includes("张三"))`, "true")
	b.shootImports("crowd-1366x768.png")
	b.assertNoProblems()
}

// shootImports checks the layout of the page shown and saves a picture of it.
func (b *browser) shootImports(name string) {
	b.t.Helper()
	if !eval[bool](b, `document.fonts.ready.then(() => true)`) {
		b.t.Fatal("fonts not ready")
	}
	for _, p := range eval[[]string](b, layoutCheck) {
		b.t.Errorf("layout: %s", p)
	}
	saveScreenshot(b.t, screenshotDir(b.t), name, get(b, "screenshot", chromedp.CaptureScreenshot()))
}

// A marketer's export whose header is under two title cells, with a stray
// quote and a number Excel rounded, goes through the wizard in Chromium:
// the header row is chosen by hand, a column mapped by position, and every
// row of the file ends accounted for (imported, or rejected with its row
// and reason).
func TestBrowserImportWithATitleRowAndAStrayQuote(t *testing.T) {
	t.Parallel()
	h, rig := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	b := newBrowser(t, h)
	b.enterAs("mia")

	var mobiles []string
	for _, p := range rig.sandbox().SamplePersons(20) {
		if p.Mobile != "" && len(mobiles) < 5 {
			mobiles = append(mobiles, p.Mobile)
		}
	}
	// Row 1 looks like a header (two words) but is a title; the header,
	// row 2, names no column the console knows.
	var csv strings.Builder
	csv.WriteString("市场部,展会客户\r\n")
	csv.WriteString("客户,联系方式,备注\r\n")
	for i, m := range mobiles {
		fmt.Fprintf(&csv, "客户%d,%s,\r\n", i+1, m) // rows 3–7
	}
	csv.WriteString("\"VIP\"客户,13900000001,老客户\r\n") // row 8: a stray quote
	csv.WriteString("大客户,1.35001E+10,\r\n")          // row 9: rounded by Excel
	path := filepath.Join(t.TempDir(), "展会导出.csv")
	if err := os.WriteFile(path, gbk(t, csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	b.open("/imports/new")
	b.switchLang(i18n.Chinese) // the words asserted below are the Chinese ones
	b.open("/imports/new")
	eval[bool](b, `window.jingdeskMarker = true`)
	b.run("upload the export",
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="upload-file"]`), []string{path}),
		chromedp.Click(chromedp.CSS(`[data-testid="upload-submit"]`)),
	)
	// The select posts on change only once htmx has wired the step.
	b.wired(`[data-testid="header_row-select"]`)
	if got := eval[string](b, `document.querySelector('[data-testid="header_row-select"]').value`); got != "1" {
		t.Fatalf("header row proposed %q; the test expects the title to be taken for it", got)
	}
	eval[bool](b, `(() => { // choose row 2 as the header, as picking it in the list does
		const s = document.querySelector('[data-testid="header_row-select"]');
		s.value = "2";
		return s.dispatchEvent(new Event("change", {bubbles: true}));
	})()`)
	evalUntil(b, "the title row to be set apart",
		`String(document.querySelectorAll('[data-testid="title-row"]').length)`, "1")
	b.wired(`[data-testid="map-form"]`)
	if got := eval[string](b, `[...document.querySelectorAll('.import-col-head')].map(e => e.textContent).join("|")`); got != "客户|联系方式|备注" {
		t.Fatalf("columns after choosing the header: %q", got)
	}
	if got := eval[string](b, `[...document.querySelectorAll('[data-testid="preview-row"]')].map(e => e.dataset.row).join(",")`); got != "3,4,5,6,7,8,9" {
		t.Fatalf("rows under the header: %q", got)
	}
	if got := eval[string](b, `document.querySelector('[data-testid="row-problem"]').closest("tr").dataset.row`); got != "8" {
		t.Errorf("the broken row shown is row %q, want 8", got)
	}
	b.shootImports("import-header-row-1366x768.png")

	b.run("map the contact column to mobile and validate",
		chromedp.SetValue(chromedp.CSS(`#col_1`), "mobile"),
		chromedp.Click(chromedp.CSS(`[data-testid="validate"]`)),
	)
	b.wired(`[data-testid="target-form"]`)
	if got := b.text(`[data-testid="sum-rows-in-file"]`); got != "文件共 9 行：标题行 1，表头 1 行，数据行 7。" {
		t.Errorf("rows in the file: %q", got)
	}
	if got := b.text(`[data-testid="sum-valid"]`) + "/" + b.text(`[data-testid="sum-invalid"]`); got != "5/2" {
		t.Errorf("valid/invalid %q, want 5/2", got)
	}
	if got := b.text(`[data-testid="reason-quote"] span`); got != "引号不成对" {
		t.Errorf("the quote reason reads %q", got)
	}
	b.shootImports("import-target-1366x768.png")
	b.run("start into a new crowd",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="new-crowd-name"]`), "展会导出客户"),
		chromedp.Click(chromedp.CSS(`[data-testid="start"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-progress"]`)),
	)
	evalUntil(b, "the bar to reach 100%", `(document.querySelector('[data-testid="import-percent"]') || {}).textContent + ""`, "100%")
	b.run("the result", chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-result"]`)))
	counts := eval[map[string]string](b, `Object.fromEntries([...document.querySelectorAll('[data-testid^="result-"]')]
		.map(li => [li.dataset.testid.slice(7), li.querySelector('.import-result-n').textContent]))`)
	want := map[string]string{"imported": "5", "already_member": "0", "not_found": "0", "invalid": "2", "duplicate": "0", "failed": "0"}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("result %v, want %v: the 7 data rows accounted for", counts, want)
	}
	for _, ph := range []string{"lookup", "crowd"} {
		if got := eval[string](b, `document.querySelector('[data-testid="phase-`+ph+`"]').dataset.state`); got != "done" {
			t.Errorf("phase %s is %q", ph, got)
		}
	}
	report := eval[string](b, `(async () => {
		const href = document.querySelector('[data-testid="download-invalid"]').href;
		return new TextDecoder("utf-8").decode(await (await fetch(href)).arrayBuffer());
	})()`)
	for _, want := range []string{"8,", "引号不成对", "9,1.35001E+10,,,,格式无效,Excel 已将这个号码四舍五入：请把该列设为文本后重新导出"} {
		if !strings.Contains(report, want) {
			t.Errorf("the rejected rows' report lacks %q:\n%s", want, report)
		}
	}
	if !eval[bool](b, `window.jingdeskMarker === true`) {
		t.Error("the page reloaded: the wizard must move through htmx swaps")
	}
	b.shootImports("import-accounted-1366x768.png")
	b.assertNoProblems()
}
