package jing_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

func TestOptionSetIsACountryProvinceCityTree(t *testing.T) {
	t.Parallel()
	r := crmRig(t, 20, 1)
	ctx := context.Background()
	for _, object := range []string{jing.ObjectLead, jing.ObjectAccount} {
		tree, err := r.client.OptionSet(ctx, object, "country_region")
		testkit.Must(t, err)
		if tree.Depth() != 3 || len(tree) < 3 || tree[0].Name != "中国" || len(tree[0].Child) < 8 {
			t.Fatalf("%s country_region: depth %d, %d countries", object, tree.Depth(), len(tree))
		}
		for _, province := range tree[0].Child {
			if n := len(province.Child); n < 3 || n > 5 {
				t.Fatalf("%s has %d cities", province.Name, n)
			}
		}
		for _, leaf := range tree.Leaves() {
			if !tree.IsLeaf(leaf.JingUUID) || strings.Count(tree.Label(leaf.JingUUID), "/") != 2 {
				t.Fatalf("leaf %s labelled %q", leaf.Name, tree.Label(leaf.JingUUID))
			}
		}
		if tree.IsLeaf(tree[0].Child[0].JingUUID) {
			t.Fatal("a province counts as a leaf")
		}
	}
	m := loadMeta(t, r.client)
	products, err := r.client.OptionSet(ctx, jing.ObjectLead, m.custom(t, jing.FieldOptionSet).Code)
	testkit.Must(t, err)
	if products.Depth() != 2 {
		t.Fatalf("custom option set depth %d", products.Depth())
	}
	_, err = r.client.OptionSet(ctx, jing.ObjectLead, "title")
	wantError(t, err, 40002, jing.KindInvalid, "field_code")
}

func TestBusinessTypesFieldsAndOptions(t *testing.T) {
	t.Parallel()
	r := crmRig(t, 20, 1)
	ctx := context.Background()
	m := loadMeta(t, r.client)
	if n := len(m.types); n < 2 || n > 3 || !m.types[0].Default() || m.types[1].Default() {
		t.Fatalf("lead business types %+v", m.types)
	}
	accounts, err := r.client.BusinessTypes(ctx, jing.ObjectAccount)
	testkit.Must(t, err)
	if len(accounts) == 0 || accounts[0].JingUUID == m.types[0].JingUUID {
		t.Fatalf("account business types %+v", accounts)
	}
	// The pipeline is ordered, and the default one is lead_status's source options.
	names := []string{}
	for i, st := range m.statuses {
		if st.Sort != i+1 {
			t.Fatalf("statuses out of order: %+v", m.statuses)
		}
		names = append(names, st.Name)
	}
	if got := strings.Join(names, ","); got != "新线索,跟进中,已联系,有意向,已转化,无效" {
		t.Fatalf("pipeline %s", got)
	}
	statusOptions, err := r.client.SourceOptions(ctx, jing.ObjectLead, "lead_status")
	testkit.Must(t, err)
	if len(statusOptions) != len(m.statuses) || statusOptions[0].JingUUID != m.statuses[0].JingUUID {
		t.Fatalf("lead_status options %+v", statusOptions)
	}
	if m.sources[0].Name != "官网表单" || len(m.sources) < 6 {
		t.Fatalf("source types %+v", m.sources)
	}
	// Every documented writable field is a writable preset field.
	raw, err := os.ReadFile("testdata/lead_create_request.json")
	testkit.Must(t, err)
	var documented map[string]any
	testkit.Must(t, json.Unmarshal(raw, &documented))
	byCode := map[string]jing.ObjectField{}
	for _, f := range m.fields {
		byCode[f.Code] = f
	}
	for code := range documented {
		if f := byCode[code]; f.Custom() || !f.CanWrite() {
			t.Fatalf("documented field %s is %+v", code, f)
		}
	}
	if f := byCode["name"]; f.Required != 1 || byCode["life_status"].CanWrite() {
		t.Fatal("name not required, or life_status writable")
	}
	// Custom fields of every documented type; the four refused ones are not writable.
	for _, typ := range []string{jing.FieldText, jing.FieldTextarea, jing.FieldNumber, jing.FieldDate, jing.FieldSelect,
		jing.FieldMultiSelect, jing.FieldOptionSet, jing.FieldMobile, jing.FieldEmail, jing.FieldURL,
		jing.FieldDepartment, jing.FieldMultiDepartment, jing.FieldImage, jing.FieldLookUp} {
		f := m.custom(t, typ)
		refused := typ == jing.FieldDepartment || typ == jing.FieldMultiDepartment || typ == jing.FieldImage || typ == jing.FieldLookUp
		if f.CanWrite() == refused || !strings.HasPrefix(f.Code, "c_") {
			t.Fatalf("custom %s field %+v", typ, f)
		}
	}
	sizes, err := r.client.CustomOptions(ctx, jing.ObjectLead, m.custom(t, jing.FieldSelect).Code)
	testkit.Must(t, err)
	if len(sizes) < 3 {
		t.Fatalf("custom select options %+v", sizes)
	}
	// Business types differ in their custom fields.
	expo, err := r.client.Fields(ctx, jing.ObjectLead, m.types[1].JingUUID)
	testkit.Must(t, err)
	if len(expo) <= len(m.fields) {
		t.Fatalf("%s has %d fields, the default %d", m.types[1].Name, len(expo), len(m.fields))
	}
	_, err = r.client.CustomOptions(ctx, jing.ObjectLead, "source_type")
	wantError(t, err, 40002, jing.KindInvalid, "field_code")
	_, err = r.client.BusinessTypes(ctx, "opportunity")
	wantError(t, err, 40002, jing.KindInvalid, "object_name")
	if len(m.members) != 30 || m.members[0].ID == "" || m.members[0].Name == "" {
		t.Fatalf("members %+v", m.members[:1])
	}
}
