package web

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jingdesk/jingdesk/internal/db"
)

// A GBK file exported by Excel on Chinese Windows goes through the whole
// wizard in Chromium: the preview shows the names, the mobile column maps
// itself from 手机号, the import runs to 100% and the report downloads.
func TestBrowserImportWizardWithAGBKFile(t *testing.T) {
	h, rig := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	b := newBrowser(t, h)
	b.signIn("mia", password("mia"))

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
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="preview-table"]`)),
	)
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

	b.run("validate",
		chromedp.Click(chromedp.CSS(`[data-testid="validate"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="target-form"]`)),
	)
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
