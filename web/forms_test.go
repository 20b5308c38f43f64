package web

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/templates/forms"
)

// testRegions is the option set of lead.country_region in these tests:
// country → province → city, and a country without provinces.
func testRegions() []*forms.TreeChoice {
	return []*forms.TreeChoice{
		{Value: "cn", Label: "中国", Children: []*forms.TreeChoice{
			{Value: "cn-sx", Label: "山西省", Children: []*forms.TreeChoice{
				{Value: "cn-sx-ty", Label: "太原市"},
				{Value: "cn-sx-jz", Label: "晋中市"},
			}},
			{Value: "cn-he", Label: "河北省", Children: []*forms.TreeChoice{
				{Value: "cn-he-sjz", Label: "石家庄市"},
			}},
		}},
		{Value: "sg", Label: "新加坡"},
	}
}

// withOptionTrees serves testRegions for lead.country_region and nothing else.
func withOptionTrees() harnessOption {
	return func(d *Deps) {
		d.OptionTree = func(lang, object, fieldCode string) []*forms.TreeChoice {
			if object == "lead" && fieldCode == "country_region" {
				return testRegions()
			}
			return nil
		}
	}
}

const pickerURL = "/forms/option-picker?object=lead&field=country_region&name=country_region"

// picker is what an option picker fragment shows: the values of its
// hidden inputs named name, its level selects (the "_path" selects whose
// id starts with idPrefix), and their options as "value|label", those
// selected apart.
type picker struct {
	hidden                  []string
	levels                  int
	options, selected       []string
	controlsPostingTheField int
}

func readPicker(body, name, idPrefix string) picker {
	p := parseHTML(body)
	var out picker
	for _, in := range p.where("input", "type", "hidden", "name", name) {
		out.hidden = append(out.hidden, attrOf(in, "value"))
	}
	out.controlsPostingTheField = len(p.where("", "name", name))
	for _, sel := range p.where("select", "name", "_path") {
		if !strings.HasPrefix(attrOf(sel, "id"), idPrefix) {
			continue
		}
		out.levels++
		for _, o := range options(sel) {
			pair := attrOf(o, "value") + "|" + nodeText(o)
			out.options = append(out.options, pair)
			if hasAttrs(o, "selected", "*") {
				out.selected = append(out.selected, pair)
			}
		}
	}
	return out
}

// labels are the options' labels.
func (p picker) labels() []string {
	var out []string
	for _, o := range p.options {
		out = append(out, o[strings.Index(o, "|")+1:])
	}
	return out
}

// pick asks for the picker as htmx does after a change, with the values of
// its level selects. The harness's client sends no Accept-Language: Chinese.
func pick(t *testing.T, c *client, path ...string) (status int, body string) {
	t.Helper()
	u := pickerURL
	for _, p := range path {
		u += "&_path=" + p
	}
	rec := c.get(u, htmx())
	return rec.Code, rec.Body.String()
}

func TestOptionPickerFollowsTheChosenNode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withOptionTrees())
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	cases := []struct {
		name     string
		path     []string
		value    string   // the hidden input
		levels   int      // level selects shown
		selected []string // "value|label" of the selected options, in level order
		offers   []string // options offered ("value|label")
		labels   []string // labels offered
		absent   []string // labels not offered
	}{
		{"country: its provinces follow", []string{"cn"}, "cn", 2,
			[]string{"cn|中国"}, []string{"|请选择"}, []string{"山西省", "河北省"}, []string{"太原市"}},
		{"province: its cities follow", []string{"cn-sx", "cn"}, "cn-sx", 3,
			[]string{"cn|中国", "cn-sx|山西省"}, nil, []string{"太原市", "晋中市"}, []string{"石家庄市"}},
		{"city: the leaf is the value, nothing follows", []string{"cn-sx-jz", "cn", "cn-sx"}, "cn-sx-jz", 3,
			[]string{"cn|中国", "cn-sx|山西省", "cn-sx-jz|晋中市"}, nil, nil, nil},
		{"another province clears the city", []string{"cn-he", "cn", "cn-sx-jz"}, "cn-he", 3,
			[]string{"cn|中国", "cn-he|河北省"}, nil, []string{"石家庄市"}, []string{"晋中市"}},
		{"another country clears province and city", []string{"sg", "cn-sx", "cn-sx-jz"}, "sg", 1,
			[]string{"sg|新加坡"}, nil, nil, []string{"山西省"}},
		{"Choose… at the top empties the value", []string{""}, "", 1,
			nil, []string{"|请选择"}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := pick(t, c, tc.path...)
			if status != http.StatusOK {
				t.Fatalf("status %d\n%s", status, body)
			}
			if first := firstElement(parseHTML(body).doc); isFullPage(body) || first == nil ||
				attrOf(first, "id") != "f-country_region-picker" || attrOf(first, "class") != "option-picker" {
				t.Fatalf("not the picker alone:\n%s", body)
			}
			got := readPicker(body, "country_region", "f-country_region-picker-")
			if len(got.hidden) != 1 || got.hidden[0] != tc.value {
				t.Errorf("hidden inputs %q, want one holding %q", got.hidden, tc.value)
			}
			if got.controlsPostingTheField != 1 {
				t.Error("more than one control posts the field")
			}
			if got.levels != tc.levels {
				t.Errorf("%d level selects, want %d", got.levels, tc.levels)
			}
			if !slices.Equal(got.selected, tc.selected) {
				t.Errorf("selected %q, want %q", got.selected, tc.selected)
			}
			for _, o := range tc.offers {
				if !slices.Contains(got.options, o) {
					t.Errorf("%q not offered: %q", o, got.options)
				}
			}
			for _, l := range tc.labels {
				if !slices.Contains(got.labels(), l) {
					t.Errorf("%q not offered: %q", l, got.labels())
				}
			}
			for _, l := range tc.absent {
				if slices.Contains(got.labels(), l) {
					t.Errorf("unexpected %q", l)
				}
			}
		})
	}
}

func TestOptionPickerKeepsNameAndRequired(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withOptionTrees())
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	rec := c.get("/forms/option-picker?object=lead&field=country_region&name=region&required=1&_path=cn", htmx())
	body := rec.Body.String()
	if got := readPicker(body, "region", "f-region-picker-"); rec.Code != http.StatusOK || !slices.Equal(got.hidden, []string{"cn"}) {
		t.Fatalf("%d\n%s", rec.Code, body)
	}
	p := parseHTML(body)
	levels := p.where("select", "name", "_path")
	if len(levels) == 0 || len(p.where("select", "name", "_path", "hx-get", "/forms/option-picker?field=country_region&name=region&object=lead&required=1")) != len(levels) {
		t.Error("the next request would lose the form field name or the required flag")
	}
	if len(p.where("select", "data-level", "0", "aria-labelledby", "f-region-label f-region-picker-0-name", "required", "*")) != 1 {
		t.Errorf("first level not labelled by the field's legend, or not required:\n%s", body)
	}
}

// A node the reference data no longer holds (refreshed since the page was
// drawn) is dropped, and the picker says so.
func TestOptionPickerUnknownNode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withOptionTrees())
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	status, body := pick(t, c, "cn", "cn-xz")
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", status)
	}
	if msg := parseHTML(body).allWith("picker-message", "role", "alert"); len(msg) != 1 || !strings.HasPrefix(nodeText(msg[0]), "所选项已不在参考数据中") {
		t.Errorf("no message:\n%s", body)
	}
	if m := readPicker(body, "country_region", "f-country_region-picker-").hidden; len(m) != 1 || m[0] != "cn" {
		t.Errorf("hidden value %q, want what is still known: cn", m)
	}
}

func TestOptionPickerNotFoundAndBadRequests(t *testing.T) {
	t.Parallel()
	// No reference data wired: the endpoint does not exist.
	h := newHarness(t)
	h.addUser("vic", db.RoleViewer)
	if rec := h.login("vic").get(pickerURL+"&_path=cn", htmx()); rec.Code != http.StatusNotFound {
		t.Fatalf("without OptionTree: %d, want 404", rec.Code)
	}

	h = newHarness(t, withOptionTrees())
	h.addUser("vic", db.RoleViewer)
	c := h.login("vic")
	for url, want := range map[string]int{
		"/forms/option-picker?object=lead&field=no_such_field":                                   http.StatusNotFound,
		"/forms/option-picker?object=account&field=country_region":                               http.StatusNotFound,
		"/forms/option-picker?field=country_region":                                              http.StatusBadRequest,
		"/forms/option-picker?object=lead":                                                       http.StatusBadRequest,
		"/forms/option-picker?object=lead&field=country_region&name=" + strings.Repeat("n", 101): http.StatusBadRequest,
	} {
		if rec := c.get(url); rec.Code != want {
			t.Errorf("GET %s: %d, want %d", url, rec.Code, want)
		}
	}
	// Without a name the value posts under the field code.
	if rec := c.get("/forms/option-picker?object=lead&field=country_region&_path=sg"); len(readPicker(rec.Body.String(), "country_region", "f-country_region-picker-").hidden) != 1 {
		t.Errorf("no hidden input named after the field:\n%s", rec.Body.String())
	}
}
