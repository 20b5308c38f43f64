package web

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/templates/forms"
)

// Every lead field of every business type, built from reference data
// fetched from the sandbox, gets the control its type calls for, with its
// choices; fields the platform will not take render no input.
func TestFieldInputsFromReferenceData(t *testing.T) {
	t.Parallel()
	var rig refRig
	h := newHarness(t, withReference(t, &rig, false))
	rig.refresh("")
	r := rig.svc.Resolver()
	bts := r.BusinessTypes("lead")
	if len(bts) < 2 {
		t.Fatalf("%d lead business types", len(bts))
	}
	sawType := map[string]bool{}
	for _, bt := range bts {
		fields := fieldInputs(r, i18n.Chinese, "lead", bt.ID, map[string][]string{"name": {"张伟"}})
		if len(fields) == 0 {
			t.Fatalf("no fields for business type %s", bt.Name)
		}
		for _, f := range fields {
			sawType[f.Type] = true
			checkFieldInput(t, f, len(r.Statuses(bt.ID)))
			html := renderField(t, h, f)
			carries := len(parseHTML(html).where("", "name", f.InputName())) > 0
			if forms.CanWrite(f) != carries {
				t.Errorf("%s (%s, writable %v): form carries it = %v", f.Code, f.Type, f.Writable, carries)
			}
		}
	}
	for _, typ := range []string{forms.TypeMember, forms.TypeSelect, forms.TypeMultiSelect, forms.TypeOptionSet, forms.TypeLookUp} {
		if !sawType[typ] {
			t.Errorf("no field of type %s among the sandbox's lead fields", typ)
		}
	}
}

// checkFieldInput checks the choices a field was given.
func checkFieldInput(t *testing.T, f forms.FieldInput, statuses int) {
	t.Helper()
	switch {
	case f.Code == "lead_status" && len(f.Options) != statuses:
		t.Errorf("lead_status has %d choices, want the %d statuses", len(f.Options), statuses)
	case f.Type == forms.TypeMember && len(f.Members) != 30:
		t.Errorf("owner offers %d members, want 30", len(f.Members))
	case f.Type == forms.TypeOptionSet && (len(f.Tree) == 0 || len(f.Tree[0].Children) == 0):
		t.Errorf("%s has no tree", f.Code)
	case f.Type == forms.TypeSelect && len(f.Options) == 0 && f.Writable:
		t.Errorf("%s is a select without choices", f.Code)
	}
	for _, c := range f.Options {
		if c.Label == "" || strings.HasPrefix(c.Label, "未知") {
			t.Errorf("%s: choice %s has no name", f.Code, c.Value)
		}
	}
}

func renderField(t *testing.T, h *harness, f forms.FieldInput) string {
	t.Helper()
	var buf bytes.Buffer
	ctx := i18n.WithLocalizer(context.Background(), h.srv.Catalog.Localizer(i18n.Chinese))
	if err := forms.Field(f).Render(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// The cascading picker's tree comes from the reference data by default.
func TestOptionPickerUsesReferenceTrees(t *testing.T) {
	t.Parallel()
	var rig refRig
	h := newHarness(t, withReference(t, &rig, false))
	rig.refresh("")
	roots := h.srv.areas.forms.tree(i18n.Chinese, "lead", "country_region")
	if len(roots) == 0 || roots[0].Label == "" || len(roots[0].Children) == 0 {
		t.Fatalf("country_region tree from reference data: %+v", roots)
	}
}
