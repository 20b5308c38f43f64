package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/templates/components"
	"github.com/jingdesk/jingdesk/templates/forms"
)

// formFields is a lead form with a field of every kind, as the test page shows it.
func formFields() []forms.FieldInput {
	f := func(code, label, typ string, required bool, value ...string) forms.FieldInput {
		in := forms.NewFieldInput(code, label, typ, required, true)
		in.Object, in.Value = "lead", value
		return in
	}
	name := f("name", "姓名", forms.TypeText, true, "王小明")
	mobile := f("mobile", "手机", forms.TypeMobile, true, "13800138000")
	email := f("email", "邮箱", forms.TypeEmail, false, "wang@example")
	email.Error = "邮箱地址不完整：缺少域名后缀，例如 .cn 或 .com。"
	region := f("country_region", "国家/地区", forms.TypeOptionSet, true)
	region.Tree = testRegions()
	source := f("source_type", "线索来源", forms.TypeSelect, false, "s2")
	source.Options = []forms.Choice{{Value: "s1", Label: "展会"}, {Value: "s2", Label: "官网"}, {Value: "s3", Label: "老客户推荐"}}
	tags := f("interests", "感兴趣的产品", forms.TypeMultiSelect, false, "p1", "p3")
	tags.Options = []forms.Choice{{Value: "p1", Label: "云存储"}, {Value: "p2", Label: "数据分析"}, {Value: "p3", Label: "营销自动化"}, {Value: "p4", Label: "旧套餐", Disabled: true}}
	owner := f("owner", "负责人", forms.TypeMember, true, "m9")
	owner.Members = []forms.Choice{{Value: "m1", Label: "王芳"}, {Value: "m2", Label: "李雷"}, {Value: "m9", Label: "张伟", Disabled: true}}
	visit := f("visit_date", "到访日期", forms.TypeDate, false, "2026-11-21")
	budget := f("budget", "预算（万元）", forms.TypeNumber, false, "12.5")
	remark := f("remark", "备注", forms.TypeTextarea, false, "展会上留下名片，希望下周电话联系。")
	remark.Hint = "只有团队成员能看到备注。"
	dept := f("department", "所属部门", forms.TypeDepartment, false, "华北销售部")
	return []forms.FieldInput{name, mobile, email, region, source, tags, owner, visit, budget, remark, dept}
}

// formsTestPage is the form: fields in a card, posted to /test/forms.
var formsTestPage = templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
	io.WriteString(w, `<section class="card"><div class="card-head"><h2>新建线索</h2></div><div class="card-body">`+
		`<form method="post" action="/test/forms" class="form form-test" novalidate data-testid="test-form">`)
	if err := components.CSRFField().Render(ctx, w); err != nil {
		return err
	}
	for _, f := range formFields() {
		if err := forms.Field(f).Render(ctx, w); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, `<div><button type="submit" class="btn btn-primary">保存</button></div></form></div></section>`)
	return err
})

// mountFormsTestPage adds, to this harness's server only, a page with the
// form and a POST that shows what the form sent (never a production route).
func mountFormsTestPage(h *harness) {
	s := h.srv
	s.echo.GET("/test/forms", func(c echo.Context) error {
		return s.render(c, http.StatusOK, View{Title: "表单", Body: formsTestPage})
	}, requireAccess(Viewer))
	s.echo.POST("/test/forms", func(c echo.Context) error {
		posted, err := c.FormParams()
		if err != nil {
			return err
		}
		posted.Del("_csrf")
		js, _ := json.Marshal(posted)
		body := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			_, err := fmt.Fprintf(w, `<pre data-testid="posted">%s</pre>`, templ.EscapeString(string(js)))
			return err
		})
		return s.render(c, http.StatusOK, View{Title: "已提交", Body: body})
	}, requireAccess(Viewer))
}

// choose picks a value in a select as a user does (focus, change) and
// waits until htmx has settled the picker it asked for: only then are the
// new selects wired (htmx processes swapped-in content as it settles).
func (b *browser) choose(css, value string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => {
		window.jingdeskSettled = false;
		document.addEventListener("htmx:afterSettle", () => { window.jingdeskSettled = true }, {once: true});
		const s = document.querySelector(%s);
		s.focus();
		s.value = %s;
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`, jsString(css), jsString(value)))
	b.run("wait for the swap after choosing "+value, chromedp.Poll[chromedp.Void](`window.jingdeskSettled === true`))
}

// posted reads what the form sent from the test POST's page.
func (b *browser) posted() url.Values {
	b.t.Helper()
	b.run("wait for the posted values", chromedp.WaitVisible(chromedp.CSS(`[data-testid="posted"]`)))
	var v url.Values
	if err := json.Unmarshal([]byte(b.text(`[data-testid="posted"]`)), &v); err != nil {
		b.t.Fatal(err)
	}
	return v
}

const (
	pickerLevel = `#f-country_region-picker-%d`
	pickerValue = `(document.querySelector('input[type=hidden][name="country_region"]') || {value: "(no hidden input)"}).value`
)

// The cascading picker in a real browser: choosing a country shows its
// provinces, a province its cities, and the city's id is what the form posts;
// changing the province clears the city. Focus stays on the select the user
// changed, and nothing breaks the CSP.
func TestBrowserOptionSetPicker(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withOptionTrees())
	mountFormsTestPage(h)
	u := h.addUser("lina", db.RoleMarketer)
	if err := h.store.SetUserLang(context.Background(), u.ID, i18n.Chinese); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, h)
	b.enterAs("lina")
	b.open("/test/forms")
	b.run("wait for the picker", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(pickerLevel, 0))))

	// With script: the level selects show, the list of leaves does not.
	if !eval[bool](b, `document.documentElement.classList.contains("js")`) {
		t.Fatal("app.js did not mark the page")
	}
	if shown := eval[bool](b, `document.querySelector("#f-country_region-picker-leaf").checkVisibility()`); shown {
		t.Error("the list of leaves shows although script runs")
	}
	if got := eval[int](b, `document.querySelectorAll('[data-field="country_region"] select[name="_path"]').length`); got != 1 {
		t.Fatalf("%d level selects on an empty picker, want 1", got)
	}
	for _, p := range eval[[]string](b, layoutCheck) {
		t.Errorf("layout: %s", p)
	}
	dir := screenshotDir(t)
	saveScreenshot(t, dir, "forms-1366x768.png", get(b, "screenshot", chromedp.FullScreenshot(100)))
	eval[bool](b, `window.jingdeskMarker = true`)

	steps := []struct {
		level       int
		value, want string
		levels      int
		offered     []string // the next level's choices
	}{
		{0, "cn", "cn", 2, []string{"请选择", "山西省", "河北省"}},
		{1, "cn-sx", "cn-sx", 3, []string{"请选择", "太原市", "晋中市"}},
		{2, "cn-sx-jz", "cn-sx-jz", 3, nil},
		// Another province: the city is cleared, the new province's cities follow.
		{1, "cn-he", "cn-he", 3, []string{"请选择", "石家庄市"}},
		{2, "cn-he-sjz", "cn-he-sjz", 3, nil},
	}
	for _, s := range steps {
		sel := fmt.Sprintf(pickerLevel, s.level)
		b.choose(sel, s.value)
		if got := eval[string](b, pickerValue); got != s.want {
			t.Errorf("after choosing %s the picker holds %q, want %q", s.value, got, s.want)
		}
		if got := eval[int](b, `document.querySelectorAll('[data-field="country_region"] select[name="_path"]').length`); got != s.levels {
			t.Errorf("after choosing %s: %d level selects, want %d", s.value, got, s.levels)
		}
		if s.offered != nil {
			next := fmt.Sprintf(pickerLevel, s.level+1)
			got := eval[[]string](b, `[...document.querySelectorAll(`+jsString(next+" option")+`)].map(o => o.textContent)`)
			if !slices.Equal(got, s.offered) {
				t.Errorf("after %s the next level offers %v, want %v", s.value, got, s.offered)
			}
			if v := eval[string](b, `document.querySelector(`+jsString(next)+`).value`); v != "" {
				t.Errorf("after %s the next level is preset to %q", s.value, v)
			}
		}
		if got := eval[string](b, `document.activeElement.id`); got != sel[1:] {
			t.Errorf("after choosing %s focus is on #%s, want %s", s.value, got, sel)
		}
	}
	if n := eval[int](b, `document.querySelectorAll('[name="country_region"]').length`); n != 1 {
		t.Errorf("%d controls carry the field's name, want the hidden input alone", n)
	}
	if !eval[bool](b, `window.jingdeskMarker === true`) {
		t.Error("the page reloaded: the picker must change through htmx swaps")
	}
	b.run("scroll to the picker", chromedp.ScrollIntoView(chromedp.CSS(fmt.Sprintf(pickerLevel, 0))))
	saveScreenshot(t, dir, "forms-picked-1366x768.png", get(b, "screenshot", chromedp.CaptureScreenshot()))

	// Saving posts the city, once, and nothing for the read-only department.
	b.run("save", chromedp.Click(chromedp.CSS(`[data-testid="test-form"] button[type=submit]`)))
	got := b.posted()
	if v := got["country_region"]; !slices.Equal(v, []string{"cn-he-sjz"}) {
		t.Errorf("posted country_region=%v, want [cn-he-sjz]", v)
	}
	if v := got["interests"]; !slices.Equal(v, []string{"p1", "p3"}) {
		t.Errorf("posted interests=%v", v)
	}
	if v := got["owner"]; !slices.Equal(v, []string{"m9"}) {
		t.Errorf("posted owner=%v: the inactive owner must be kept", v)
	}
	if _, ok := got["department"]; ok {
		t.Error("the read-only department was posted")
	}
	b.assertNoProblems()
}

// Without script the picker is one list of every leaf with its path, and
// the form posts the leaf chosen there.
func TestBrowserOptionSetPickerWithoutScript(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withOptionTrees())
	mountFormsTestPage(h)
	h.addUser("mia", db.RoleMarketer)
	b := newBrowser(t, h)
	b.enterAs("mia")
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	b.open("/test/forms")
	leaves := "#f-country_region-picker-leaf"
	b.run("wait for the list of leaves", chromedp.WaitVisible(chromedp.CSS(leaves)))
	if eval[bool](b, `document.documentElement.classList.contains("js")`) {
		t.Fatal("script ran")
	}
	if eval[bool](b, fmt.Sprintf(`document.querySelector(%s).checkVisibility()`, jsString(fmt.Sprintf(pickerLevel, 0)))) {
		t.Error("the level selects show without script")
	}
	labels := eval[[]string](b, `[...document.querySelectorAll("#f-country_region-picker-leaf option")].map(o => o.textContent)`)
	if want := []string{"Choose…", "中国 / 山西省 / 太原市", "中国 / 山西省 / 晋中市", "中国 / 河北省 / 石家庄市", "新加坡"}; !slices.Equal(labels, want) {
		t.Errorf("leaves %v, want %v", labels, want)
	}
	saveScreenshot(t, screenshotDir(t), "forms-noscript-1366x768.png", get(b, "screenshot", chromedp.FullScreenshot(100)))
	b.run("choose a city and save",
		chromedp.SetValue(chromedp.CSS(leaves), "cn-sx-ty"),
		chromedp.Click(chromedp.CSS(`[data-testid="test-form"] button[type=submit]`)),
	)
	if v := b.posted()["country_region"]; !slices.Equal(v, []string{"cn-sx-ty"}) {
		t.Errorf("posted country_region=%v, want [cn-sx-ty]", v)
	}
	if !strings.Contains(b.location(), "/test/forms") {
		t.Errorf("at %s", b.location())
	}
	b.assertNoProblems()
}
