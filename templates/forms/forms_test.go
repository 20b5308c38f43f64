package forms

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/net/html"

	"github.com/jingdesk/jingdesk/internal/i18n"
)

// render renders c in lang and fails the test on any untranslated id.
func render(t *testing.T, lang string, c templ.Component) string {
	t.Helper()
	catalog, err := i18n.NewCatalog(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	catalog.OnMissing(func(lang, id string) { t.Errorf("untranslated message id rendered: %s: %s", lang, id) })
	var buf bytes.Buffer
	if err := c.Render(i18n.WithLocalizer(context.Background(), catalog.Localizer(lang)), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// parse reads an HTML fragment as the browser would.
func parse(t *testing.T, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader("<!DOCTYPE html><html><body>" + s + "</body></html>"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func val(n *html.Node, key string) string { v, _ := attr(n, key); return v }

// all lists the elements under n that match.
func all(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

func named(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { v, ok := attr(n, "name"); return ok && v == name }
}

// controls are the elements a form post could carry.
func controls(n *html.Node) []*html.Node {
	return all(n, func(n *html.Node) bool {
		switch n.Data {
		case "input", "select", "textarea", "button":
			return true
		}
		return false
	})
}

func byID(n *html.Node, id string) *html.Node {
	if m := all(n, func(n *html.Node) bool { return val(n, "id") == id }); len(m) == 1 {
		return m[0]
	}
	return nil
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// selected lists the values of a select's selected options.
func selected(sel *html.Node) []string {
	var out []string
	for _, o := range all(sel, func(n *html.Node) bool { return n.Data == "option" }) {
		if _, ok := attr(o, "selected"); ok {
			out = append(out, val(o, "value"))
		}
	}
	return out
}

func optionLabels(sel *html.Node) []string {
	var out []string
	for _, o := range all(sel, func(n *html.Node) bool { return n.Data == "option" }) {
		out = append(out, text(o))
	}
	return out
}

var sources = []Choice{{Value: "s1", Label: "展会"}, {Value: "s2", Label: "官网"}, {Value: "s3", Label: "老客户推荐", Disabled: true}}

var members = []Choice{{Value: "m1", Label: "王芳"}, {Value: "m2", Label: "李雷"}, {Value: "m9", Label: "张伟", Disabled: true}}

// regions is country → province → city, with a country that has no provinces.
func regions() []*TreeChoice {
	return []*TreeChoice{
		{Value: "cn", Label: "中国", Children: []*TreeChoice{
			{Value: "cn-sx", Label: "山西省", Children: []*TreeChoice{
				{Value: "cn-sx-ty", Label: "太原市"},
				{Value: "cn-sx-jz", Label: "晋中市"},
			}},
			{Value: "cn-he", Label: "河北省", Children: []*TreeChoice{
				{Value: "cn-he-sjz", Label: "石家庄市"},
			}},
		}},
		{Value: "sg", Label: "新加坡"},
	}
}

func field(code, typ string, value ...string) FieldInput {
	f := NewFieldInput(code, "标签 "+code, typ, false, true)
	f.Value = value
	f.Object = "lead"
	f.Options = sources
	f.Members = members
	f.Tree = regions()
	return f
}

// Each type renders its control, with what the type needs and nothing a
// different type would have.
func TestFieldRendersTheControlForEachType(t *testing.T) {
	cases := []struct {
		f       FieldInput
		tag     string // the element that posts under the field's name
		want    []string
		notWant []string
	}{
		{field("name", TypeText, "王小明"), "input",
			[]string{`type="text"`, `value="王小明"`, `<label for="f-name">`},
			[]string{`inputmode=`, `pattern=`, `required`}},
		{field("remark", TypeTextarea, "第一行\n第二行"), "textarea",
			[]string{`<textarea`, `rows="3"`, ">\n第一行\n第二行</textarea>"},
			[]string{`<input`}},
		{field("budget", TypeNumber, "12.5"), "input",
			[]string{`type="text"`, `inputmode="decimal"`, `pattern="-?[0-9]+(\.[0-9]+)?"`, `value="12.5"`},
			[]string{`type="number"`}},
		{field("visit_date", TypeDate, "2026-11-21"), "input",
			[]string{`type="date"`, `value="2026-11-21"`},
			nil},
		{field("source", TypeSelect, "s2"), "select",
			[]string{`<option value="">Choose…</option>`, `<option value="s2" selected>官网</option>`, `<option value="s1">展会</option>`},
			[]string{`老客户推荐`, `type="checkbox"`}},
		{field("tags", TypeMultiSelect, "s1"), "input",
			[]string{`<fieldset`, `<legend id="f-tags-label">`, `type="checkbox"`, `value="s1" checked`, `展会`, `官网`},
			[]string{`<select`, `老客户推荐`}},
		{field("country_region", TypeOptionSet, "cn-sx-jz"), "select",
			[]string{`<fieldset`, `<legend id="f-country_region-label">`, `class="option-picker option-picker-static"`,
				`hx-get="/forms/option-picker?field=country_region&amp;name=country_region&amp;object=lead"`,
				`hx-target="closest .option-picker"`, `hx-swap="outerHTML"`, `hx-include="closest .option-levels"`,
				`name="_path"`, `中国 / 山西省 / 晋中市`},
			[]string{`type="hidden"`}},
		{field("mobile", TypeMobile, "13800138000"), "input",
			[]string{`type="tel"`, `inputmode="tel"`, `maxlength="24"`, `autocomplete="off"`,
				`11 digits, starting with 1`, `aria-describedby="f-mobile-hint"`},
			[]string{`pattern=`, `maxlength="11"`}},
		{field("email", TypeEmail, "wang@example.cn"), "input",
			[]string{`type="email"`, `autocomplete="off"`, `spellcheck="false"`, `value="wang@example.cn"`},
			nil},
		{field("website", TypeURL, "https://example.cn"), "input",
			[]string{`type="url"`, `placeholder="https://"`, `value="https://example.cn"`},
			nil},
		{field("owner", TypeMember, "m1"), "select",
			[]string{`<option value="m1" selected>王芳</option>`, `<option value="m2">李雷</option>`},
			[]string{`张伟`}},
	}
	for _, c := range cases {
		t.Run(c.f.Type, func(t *testing.T) {
			out := render(t, i18n.English, Field(c.f))
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(out, w) {
					t.Errorf("unexpected %q in\n%s", w, out)
				}
			}
			doc := parse(t, out)
			carriers := all(doc, named(c.f.Code))
			if len(carriers) == 0 || carriers[0].Data != c.tag {
				t.Fatalf("no <%s name=%q>:\n%s", c.tag, c.f.Code, out)
			}
			if c.f.Type != TypeMultiSelect && len(carriers) != 1 {
				t.Errorf("%d controls named %q, want one", len(carriers), c.f.Code)
			}
			// Every control is labelled: by a <label for>, an enclosing label, or aria-labelledby.
			for _, n := range controls(doc) {
				if val(n, "type") == "hidden" {
					continue
				}
				id := val(n, "id")
				hasFor := id != "" && len(all(doc, func(l *html.Node) bool { return l.Data == "label" && val(l, "for") == id })) == 1
				inLabel := n.Parent != nil && n.Parent.Data == "label"
				if by := val(n, "aria-labelledby"); !hasFor && !inLabel && by == "" {
					t.Errorf("unlabelled control <%s id=%q>", n.Data, id)
				} else if by != "" {
					for _, ref := range strings.Fields(by) {
						if byID(doc, ref) == nil {
							t.Errorf("<%s id=%q> aria-labelledby names %q, which is not on the page", n.Data, id, ref)
						}
					}
				}
			}
		})
	}
}

// Required fields show an asterisk with words for screen readers, and their
// control carries the required attribute (never the checkboxes of a
// multi_select: that would demand every one of them).
func TestRequiredFieldsAreMarked(t *testing.T) {
	for _, typ := range editableTypes {
		t.Run(typ, func(t *testing.T) {
			f := field("f1", typ)
			f.Required = true
			doc := parse(t, render(t, i18n.Chinese, Field(f)))
			heads := all(doc, func(n *html.Node) bool { return n.Data == "label" && val(n, "for") != "" || n.Data == "legend" })
			if len(heads) != 1 {
				t.Fatalf("%d labels or legends", len(heads))
			}
			if got := text(heads[0]); got != "标签 f1* （必填）" {
				t.Errorf("label reads %q", got)
			}
			if m := all(heads[0], func(n *html.Node) bool { return val(n, "class") == "required-mark" }); len(m) != 1 || val(m[0], "aria-hidden") != "true" {
				t.Error("no asterisk hidden from screen readers")
			}
			var required []*html.Node
			for _, n := range controls(doc) {
				if _, ok := attr(n, "required"); ok {
					required = append(required, n)
				}
			}
			if typ == TypeMultiSelect {
				if len(required) != 0 {
					t.Errorf("%d checkboxes marked required", len(required))
				}
				return
			}
			if len(required) != 1 || val(required[0], "name") != "f1" {
				t.Errorf("required controls: %d, want the one named f1", len(required))
			}

			f.Required = false
			out := render(t, i18n.Chinese, Field(f))
			if strings.Contains(out, "required") || strings.Contains(out, "必填") {
				t.Errorf("an optional field is marked required:\n%s", out)
			}
		})
	}
}

// A field the platform will not take shows its value as text and gives a
// form nothing to post: no control at all carries its name.
func TestUnwritableFieldsRenderNoInputCarryingTheirName(t *testing.T) {
	var cases []FieldInput
	for _, typ := range []string{TypeDepartment, TypeMultiDepartment, TypeImage, TypeLookUp} {
		f := field("dept", typ, "市场部", "销售部")
		f.Required = true
		cases = append(cases, f) // writable says the platform, but the type is refused
	}
	for _, typ := range editableTypes {
		f := field("locked", typ, "s1")
		f.Writable = false
		cases = append(cases, f)
	}
	for _, f := range cases {
		t.Run(f.Type+"/"+f.Code, func(t *testing.T) {
			out := render(t, i18n.English, Field(f))
			doc := parse(t, out)
			if c := controls(doc); len(c) != 0 {
				t.Fatalf("%d form controls rendered for a field that cannot be written:\n%s", len(c), out)
			}
			if strings.Contains(out, "hx-get") || strings.Contains(out, `name=`) {
				t.Errorf("something can still ask for or post the field:\n%s", out)
			}
			if !strings.Contains(out, "This field cannot be changed through the platform API.") {
				t.Errorf("no note saying why:\n%s", out)
			}
			if !strings.Contains(out, `data-testid="field-readonly"`) {
				t.Error("not marked read-only")
			}
		})
	}
	// The value shows as its label, not its id.
	out := render(t, i18n.Chinese, Field(cases[0]))
	if !strings.Contains(out, "市场部、销售部") || !strings.Contains(out, "此字段无法通过平台接口修改。") {
		t.Errorf("department values or note missing:\n%s", out)
	}
	sel := field("source", TypeSelect, "s2")
	sel.Writable = false
	if out := render(t, i18n.English, Field(sel)); !strings.Contains(out, "官网") || strings.Contains(out, ">s2<") {
		t.Errorf("read-only select shows its id instead of its label:\n%s", out)
	}
	tree := field("country_region", TypeOptionSet, "cn-sx-jz")
	tree.Writable = false
	if out := render(t, i18n.English, Field(tree)); !strings.Contains(out, "中国 / 山西省 / 晋中市") {
		t.Errorf("read-only option set shows no path:\n%s", out)
	}
	empty := field("dept", TypeDepartment)
	if out := render(t, i18n.English, Field(empty)); !strings.Contains(out, "Not set") {
		t.Errorf("empty read-only value:\n%s", out)
	}
	// A type this console does not know is not guessed at either.
	odd := field("geo", "geo_point", "31.2,121.5")
	if out := render(t, i18n.English, Field(odd)); len(controls(parse(t, out))) != 0 || !strings.Contains(out, "cannot edit fields of this type") {
		t.Errorf("unknown type:\n%s", out)
	}
}

// Labels, values, options and hints from the platform are text, never markup.
func TestPlatformTextIsEscaped(t *testing.T) {
	const evil = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	for _, typ := range append(slices.Clone(editableTypes), TypeDepartment) {
		t.Run(typ, func(t *testing.T) {
			f := NewFieldInput("f1", evil, typ, true, true)
			f.Value = []string{evil}
			f.Hint, f.Error = evil, evil
			f.Options = []Choice{{Value: evil, Label: evil}}
			f.Members = f.Options
			f.Tree = []*TreeChoice{{Value: evil, Label: evil, Children: []*TreeChoice{{Value: "x", Label: evil}}}}
			out := render(t, i18n.English, Field(f))
			doc := parse(t, out)
			if n := all(doc, func(n *html.Node) bool { return n.Data == "script" || n.Data == "img" }); len(n) != 0 {
				t.Fatalf("markup from the platform became elements:\n%s", out)
			}
			for _, n := range all(doc, func(*html.Node) bool { return true }) {
				for _, a := range n.Attr {
					if strings.HasPrefix(a.Key, "on") {
						t.Fatalf("event handler attribute %s:\n%s", a.Key, out)
					}
				}
			}
			if !strings.Contains(text(doc), "<script>alert(1)</script>") {
				t.Errorf("the label is not shown as text:\n%s", out)
			}
		})
	}
}

// multi_select keeps every current value: the offered ones checked, a
// retired one still listed (and checked, so saving keeps it), an unknown
// one kept as "unknown (…)".
func TestMultiSelectKeepsSeveralValues(t *testing.T) {
	f := field("tags", TypeMultiSelect, "s1", "s3", "gone")
	out := render(t, i18n.English, Field(f))
	doc := parse(t, out)
	boxes := all(doc, named("tags"))
	var checked, labels []string
	for _, b := range boxes {
		if val(b, "type") != "checkbox" {
			t.Fatalf("<%s type=%q> in a multi_select", b.Data, val(b, "type"))
		}
		if _, ok := attr(b, "checked"); ok {
			checked = append(checked, val(b, "value"))
		}
		if _, ok := attr(b, "disabled"); ok {
			t.Errorf("checkbox %s disabled: its value would be dropped on save", val(b, "value"))
		}
		labels = append(labels, text(b.Parent))
	}
	if want := []string{"s1", "s3", "gone"}; !slices.Equal(checked, want) {
		t.Errorf("checked %v, want %v", checked, want)
	}
	if want := []string{"展会", "官网", "老客户推荐 (no longer offered)", "unknown (gone)"}; !slices.Equal(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	if fs := all(doc, func(n *html.Node) bool { return n.Data == "fieldset" }); len(fs) != 1 || len(all(fs[0], func(n *html.Node) bool { return n.Data == "legend" })) != 1 {
		t.Error("checkboxes are not grouped under a legend")
	}
}

// The owner picker lists active members and keeps an inactive current one.
func TestMemberPickerKeepsAnInactiveCurrentMember(t *testing.T) {
	f := field("owner", TypeMember, "m9")
	f.Required = true
	doc := parse(t, render(t, i18n.Chinese, Field(f)))
	sel := all(doc, named("owner"))[0]
	if got, want := optionLabels(sel), []string{"王芳", "李雷", "张伟（已停用）"}; !slices.Equal(got, want) {
		t.Errorf("options %v, want %v", got, want)
	}
	if got := selected(sel); !slices.Equal(got, []string{"m9"}) {
		t.Errorf("selected %v, want the inactive current owner", got)
	}
	for _, o := range all(sel, func(n *html.Node) bool { return n.Data == "option" }) {
		if _, ok := attr(o, "disabled"); ok {
			t.Errorf("option %s disabled: a disabled selected option is not posted", val(o, "value"))
		}
	}
	// An owner the member list does not know is kept too; an empty required picker asks.
	f.Value = []string{"m404"}
	sel = all(parse(t, render(t, i18n.Chinese, Field(f))), named("owner"))[0]
	if got := selected(sel); !slices.Equal(got, []string{"m404"}) || !slices.Contains(optionLabels(sel), "未知（m404）") {
		t.Errorf("unknown owner: selected %v, options %v", got, optionLabels(sel))
	}
	f.Value = nil
	sel = all(parse(t, render(t, i18n.Chinese, Field(f))), named("owner"))[0]
	if got := optionLabels(sel); got[0] != "请选择" || slices.Contains(got, "张伟（已停用）") {
		t.Errorf("empty required owner: options %v", got)
	}
}

// Hint and error are linked to the control, which is marked invalid.
func TestErrorAndHintAreLinked(t *testing.T) {
	for _, typ := range editableTypes {
		t.Run(typ, func(t *testing.T) {
			f := field("f1", typ)
			f.Hint, f.Error = "填写客户的常用称呼", "必须填写"
			doc := parse(t, render(t, i18n.Chinese, Field(f)))
			holders := all(doc, func(n *html.Node) bool { _, ok := attr(n, "aria-describedby"); return ok })
			if len(holders) != 1 {
				t.Fatalf("%d elements with aria-describedby", len(holders))
			}
			ids := strings.Fields(val(holders[0], "aria-describedby"))
			if len(ids) != 2 || text(byID(doc, ids[0])) != f.Hint || text(byID(doc, ids[1])) != f.Error {
				t.Errorf("aria-describedby=%v does not name the hint and the error", ids)
			}
			for _, n := range controls(doc) {
				if val(n, "type") != "hidden" && val(n, "aria-invalid") != "true" {
					t.Errorf("<%s name=%q> not aria-invalid", n.Data, val(n, "name"))
				}
			}
			f.Error = ""
			for _, n := range controls(parse(t, render(t, i18n.Chinese, Field(f)))) {
				if _, ok := attr(n, "aria-invalid"); ok {
					t.Errorf("<%s> aria-invalid without an error", n.Data)
				}
			}
		})
	}
}

// levelSelects are a picker's cascade, top first.
func levelSelects(doc *html.Node) []*html.Node { return all(doc, named(PathParam)) }

// The option-set picker as the page renders it: a select per level of the
// current path (hidden without script), and the list of leaves (hidden with
// script) as the only control named after the field.
func TestOptionSetPickerOnThePage(t *testing.T) {
	cases := []struct {
		value     string
		levels    [][]string // each level's selected values
		flatValue string
		flatFirst string // the leaf list's first option
	}{
		{"", [][]string{{""}}, "", "Choose…"},
		{"cn-sx-jz", [][]string{{"cn"}, {"cn-sx"}, {"cn-sx-jz"}}, "cn-sx-jz", "Choose…"},
		// A province: the cities follow, none chosen; the list keeps the province.
		{"cn-he", [][]string{{"cn"}, {"cn-he"}, {""}}, "cn-he", "Choose…"},
		{"sg", [][]string{{"sg"}}, "sg", "Choose…"},
		// Reference data older than the record: the value is kept, as unknown.
		{"cn-gone", [][]string{{"cn-gone"}}, "cn-gone", "Choose…"},
	}
	for _, c := range cases {
		t.Run(c.value, func(t *testing.T) {
			f := field("country_region", TypeOptionSet, c.value)
			out := render(t, i18n.English, Field(f))
			doc := parse(t, out)
			levels := levelSelects(doc)
			if len(levels) != len(c.levels) {
				t.Fatalf("%d level selects, want %d:\n%s", len(levels), len(c.levels), out)
			}
			for i, l := range levels {
				if got := selected(l); !slices.Equal(got, c.levels[i]) && !(len(got) == 0 && c.levels[i][0] == "") {
					t.Errorf("level %d selects %v, want %v", i, got, c.levels[i])
				}
				if _, ok := attr(l, "required"); ok {
					t.Errorf("level %d required while hidden without script", i)
				}
			}
			carriers := all(doc, named("country_region"))
			if len(carriers) != 1 || carriers[0].Data != "select" {
				t.Fatalf("%d controls named country_region, want the leaf list alone", len(carriers))
			}
			flat := carriers[0]
			if got := selected(flat); c.flatValue != "" && !slices.Equal(got, []string{c.flatValue}) {
				t.Errorf("leaf list selects %v, want %s", got, c.flatValue)
			}
			labels := optionLabels(flat)
			if labels[0] != c.flatFirst {
				t.Errorf("leaf list starts with %q", labels[0])
			}
			for _, leaf := range []string{"中国 / 山西省 / 太原市", "中国 / 山西省 / 晋中市", "中国 / 河北省 / 石家庄市", "新加坡"} {
				if !slices.Contains(labels, leaf) {
					t.Errorf("leaf %q not listed: %v", leaf, labels)
				}
			}
			if slices.Contains(labels, "中国") || slices.Contains(labels, "中国 / 山西省") && c.value != "cn-sx" {
				t.Errorf("a branch listed as a choice: %v", labels)
			}
		})
	}
	// Required: the leaf list (the visible control without script) is required.
	f := field("country_region", TypeOptionSet, "cn-sx-jz")
	f.Required = true
	doc := parse(t, render(t, i18n.English, Field(f)))
	if _, ok := attr(all(doc, named("country_region"))[0], "required"); !ok {
		t.Error("required option set: leaf list not required")
	}
	if !strings.Contains(val(levelSelects(doc)[0], "hx-get"), "required=1") {
		t.Error("the picker's re-render would forget the field is required")
	}
}

// The picker as PickerPath renders it for htmx: level selects and a hidden
// input holding the innermost chosen node; no leaf list.
func TestOptionPickerEnhanced(t *testing.T) {
	path, unknown := ResolvePath(regions(), []string{"cn-sx", "cn"})
	p := Picker{Object: "lead", Field: "country_region", Name: "region", Required: true, Tree: regions(), Path: path, Enhanced: true}
	if len(unknown) != 0 {
		t.Fatal(unknown)
	}
	out := render(t, i18n.Chinese, OptionPicker(p))
	doc := parse(t, out)
	carriers := all(doc, named("region"))
	if len(carriers) != 1 || carriers[0].Data != "input" || val(carriers[0], "type") != "hidden" || val(carriers[0], "value") != "cn-sx" {
		t.Fatalf("want one hidden input region=cn-sx:\n%s", out)
	}
	levels := levelSelects(doc)
	if len(levels) != 3 {
		t.Fatalf("%d levels, want country, province and an unchosen city", len(levels))
	}
	if got := optionLabels(levels[2]); !slices.Equal(got, []string{"请选择", "太原市", "晋中市"}) {
		t.Errorf("city level offers %v", got)
	}
	if _, ok := attr(levels[0], "required"); !ok {
		t.Error("first level of a required picker not required")
	}
	if got := optionLabels(levels[0]); got[0] == "请选择" {
		t.Error("a required picker with a value offers to clear it")
	}
	for i, l := range levels {
		if got, want := val(l, "id"), p.LevelID(i); got != want {
			t.Errorf("level %d id %q, want %q (stable, so focus survives the swap)", i, got, want)
		}
		if got := val(l, "aria-labelledby"); got != "f-region-label "+p.LevelID(i)+"-name" {
			t.Errorf("level %d aria-labelledby %q", i, got)
		}
	}
	if !strings.Contains(out, "第 3 级") {
		t.Error("levels not named for screen readers")
	}
	if len(all(doc, func(n *html.Node) bool { return strings.Contains(val(n, "class"), "option-picker-static") })) != 0 {
		t.Error("the enhanced picker is marked static")
	}
}

func TestResolvePath(t *testing.T) {
	cases := []struct {
		sent    []string
		path    string
		unknown []string
	}{
		{nil, "", nil},
		{[]string{"cn"}, "cn", nil},
		{[]string{"cn-sx", "cn", "cn-sx-jz"}, "cn cn-sx cn-sx-jz", nil}, // htmx sends the changed select first
		// The province changed: the old city is not under it and is dropped.
		{[]string{"cn-he", "cn", "cn-sx-jz"}, "cn cn-he", nil},
		// The country changed: province and city are dropped.
		{[]string{"sg", "cn-sx", "cn-sx-jz"}, "sg", nil},
		// "Choose…" at the province level: stop at the country.
		{[]string{"", "cn", "cn-sx-jz"}, "cn", nil},
		{[]string{"cn", "cn-nowhere"}, "cn", []string{"cn-nowhere"}},
	}
	for _, c := range cases {
		path, unknown := ResolvePath(regions(), c.sent)
		var got []string
		for _, n := range path {
			got = append(got, n.Value)
		}
		if strings.Join(got, " ") != c.path || !slices.Equal(unknown, c.unknown) {
			t.Errorf("ResolvePath(%v) = %v, %v; want %s, %v", c.sent, got, unknown, c.path, c.unknown)
		}
	}
	if got := PathLabel(PathTo(regions(), "cn-he-sjz")); got != "中国 / 河北省 / 石家庄市" {
		t.Errorf("PathLabel = %q", got)
	}
}

// Two fields of one form keep their ids apart, and a form field name that
// is not a plain code still makes usable ids.
func TestNamesAndIDs(t *testing.T) {
	f := field("country_region", TypeOptionSet)
	f.Name = "lead[country region]"
	if got := f.DOMID(); got != "f-lead-country-region-" {
		t.Errorf("DOMID %q", got)
	}
	doc := parse(t, render(t, i18n.English, Field(f)))
	if len(all(doc, named("lead[country region]"))) != 1 {
		t.Error("the value does not post under the form field name")
	}
	if !strings.Contains(val(levelSelects(doc)[0], "hx-get"), "name=lead%5Bcountry+region%5D") {
		t.Errorf("hx-get %q does not carry the form field name", val(levelSelects(doc)[0], "hx-get"))
	}
}
