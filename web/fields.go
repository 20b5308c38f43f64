package web

import (
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/templates/forms"
)

// fieldInputs turns an object's field metadata from the reference data
// into the form fields the forms package renders, with their choices and
// current values (field code → values). It is the one adapter between
// reference data and forms: every form built from platform fields (leads,
// accounts) starts here.
func fieldInputs(r *refdata.Resolver, lang, object, businessType string, values map[string][]string) []forms.FieldInput {
	if businessType == "" {
		businessType = r.DefaultBusinessType(object)
	}
	items := r.Fields(object, businessType)
	out := make([]forms.FieldInput, 0, len(items))
	for _, it := range items {
		out = append(out, fieldInput(r, lang, object, businessType, it, values[it.ID]))
	}
	return out
}

func fieldInput(r *refdata.Resolver, lang, object, businessType string, it refdata.Item, value []string) forms.FieldInput {
	f := forms.NewFieldInput(it.ID, it.DisplayName(lang), it.Type, it.Required, it.Writable)
	f.Object, f.Value = object, value
	switch {
	case it.ID == "owner":
		// Preset fields holding a member's id get the member picker.
		f.Type, f.Members = forms.TypeMember, memberChoices(r, lang)
	case it.ID == "collaborators":
		f.Type, f.Options = forms.TypeMultiSelect, memberChoices(r, lang)
	case it.ID == "business_type":
		f.Type, f.Options = forms.TypeSelect, itemChoices(r.BusinessTypes(object), lang)
	case it.ID == "lead_status":
		f.Type, f.Options = forms.TypeSelect, itemChoices(r.Statuses(businessType), lang)
	case it.Type == forms.TypeSelect || it.Type == forms.TypeMultiSelect:
		f.Options = itemChoices(r.Options(object, it.ID), lang)
	case it.Type == forms.TypeOptionSet:
		f.Tree = treeChoices(r.TreeRoots(object, it.ID), lang)
	}
	return f
}

func itemChoices(items []refdata.Item, lang string) []forms.Choice {
	out := make([]forms.Choice, len(items))
	for i, it := range items {
		out[i] = forms.Choice{Value: it.ID, Label: it.DisplayName(lang)}
	}
	return out
}

// memberChoices lists every member, marking the inactive ones: they are
// offered only while they are a field's current value.
func memberChoices(r *refdata.Resolver, lang string) []forms.Choice {
	members := r.Members(false)
	out := make([]forms.Choice, len(members))
	for i, m := range members {
		out[i] = forms.Choice{Value: m.ID, Label: m.DisplayName(lang), Disabled: m.Status != "active"}
	}
	return out
}

func treeChoices(nodes []*refdata.TreeNode, lang string) []*forms.TreeChoice {
	out := make([]*forms.TreeChoice, len(nodes))
	for i, n := range nodes {
		out[i] = &forms.TreeChoice{Value: n.ID, Label: n.DisplayName(lang), Children: treeChoices(n.Children, lang)}
	}
	return out
}

// referenceTree is the option-set picker's tree source from the
// reference data (newAreas makes it the default for Deps.OptionTree).
func referenceTree(ref referenceSource) func(lang, object, fieldCode string) []*forms.TreeChoice {
	return func(lang, object, fieldCode string) []*forms.TreeChoice {
		return treeChoices(ref.Resolver().TreeRoots(object, fieldCode), lang)
	}
}
