package web

import (
	"net/http"
	"regexp"
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

var (
	hiddenValue = regexp.MustCompile(`<input type="hidden" name="country_region" value="([^"]*)"`)
	levelSelect = regexp.MustCompile(`<select id="f-country_region-picker-\d+" name="_path"`)
)

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
		name   string
		path   []string
		value  string   // the hidden input
		levels int      // level selects shown
		want   []string // in the fragment
		absent []string
	}{
		{"country: its provinces follow", []string{"cn"}, "cn", 2,
			[]string{`<option value="cn" selected>中国</option>`, `<option value="">请选择</option>`, `山西省`, `河北省`},
			[]string{`太原市`}},
		{"province: its cities follow", []string{"cn-sx", "cn"}, "cn-sx", 3,
			[]string{`<option value="cn-sx" selected>山西省</option>`, `太原市`, `晋中市`},
			[]string{`石家庄市`}},
		{"city: the leaf is the value, nothing follows", []string{"cn-sx-jz", "cn", "cn-sx"}, "cn-sx-jz", 3,
			[]string{`<option value="cn-sx-jz" selected>晋中市</option>`},
			nil},
		{"another province clears the city", []string{"cn-he", "cn", "cn-sx-jz"}, "cn-he", 3,
			[]string{`<option value="cn-he" selected>河北省</option>`, `石家庄市`},
			[]string{`晋中市`, `cn-sx-jz" selected`}},
		{"another country clears province and city", []string{"sg", "cn-sx", "cn-sx-jz"}, "sg", 1,
			[]string{`<option value="sg" selected>新加坡</option>`},
			[]string{`山西省`}},
		{"Choose… at the top empties the value", []string{""}, "", 1,
			[]string{`<option value="">请选择</option>`},
			[]string{`" selected>`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := pick(t, c, tc.path...)
			if status != http.StatusOK {
				t.Fatalf("status %d\n%s", status, body)
			}
			if strings.Contains(body, "<html") || !strings.HasPrefix(body, `<div id="f-country_region-picker" class="option-picker"`) {
				t.Fatalf("not the picker alone:\n%s", body)
			}
			m := hiddenValue.FindAllStringSubmatch(body, -1)
			if len(m) != 1 || m[0][1] != tc.value {
				t.Errorf("hidden inputs %v, want one holding %q", m, tc.value)
			}
			if strings.Count(body, `name="country_region"`) != 1 {
				t.Error("more than one control posts the field")
			}
			if got := len(levelSelect.FindAllString(body, -1)); got != tc.levels {
				t.Errorf("%d level selects, want %d", got, tc.levels)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("missing %q", w)
				}
			}
			for _, w := range tc.absent {
				if strings.Contains(body, w) {
					t.Errorf("unexpected %q", w)
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
	if rec.Code != http.StatusOK || !strings.Contains(body, `<input type="hidden" name="region" value="cn"`) {
		t.Fatalf("%d\n%s", rec.Code, body)
	}
	if !strings.Contains(body, `hx-get="/forms/option-picker?field=country_region&amp;name=region&amp;object=lead&amp;required=1"`) {
		t.Error("the next request would lose the form field name or the required flag")
	}
	if !strings.Contains(body, `data-level="0" aria-labelledby="f-region-label f-region-picker-0-name"`) || !strings.Contains(body, ` required>`) {
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
	if !strings.Contains(body, `role="alert" data-testid="picker-message">所选项已不在参考数据中`) {
		t.Errorf("no message:\n%s", body)
	}
	if m := hiddenValue.FindStringSubmatch(body); m == nil || m[1] != "cn" {
		t.Errorf("hidden value %v, want what is still known: cn", m)
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
	if rec := c.get("/forms/option-picker?object=lead&field=country_region&_path=sg"); !hiddenValue.MatchString(rec.Body.String()) {
		t.Errorf("no hidden input named after the field:\n%s", rec.Body.String())
	}
}
