package refdata

import (
	"context"
	"fmt"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// spec is one set to fetch: what it is, and so which call fills it.
type spec struct {
	Key, Kind, Object, Scope string
	// Preset: an options set of a preset field (objects.source_options)
	// rather than a custom one (objects.custom_options).
	Preset bool
}

func (sp spec) row(connection string) db.RefSet {
	return db.RefSet{Connection: connection, Key: sp.Key, Kind: sp.Kind, Object: sp.Object, Scope: sp.Scope}
}

// objects are the CRM objects whose metadata is cached, in display order.
var objects = []string{jing.ObjectLead, jing.ObjectAccount}

// fixedSpecs are the sets every platform has; the others are discovered from them.
func fixedSpecs() []spec {
	out := make([]spec, 0, len(objects)+1)
	for _, o := range objects {
		out = append(out, spec{Key: businessTypesKey(o), Kind: KindBusinessTypes, Object: o})
	}
	return append(out, spec{Key: membersKey, Kind: KindMembers})
}

// typeSpecs are the sets of each business type: a lead's pipeline, and
// every object's fields.
func typeSpecs(object string, businessTypes []db.RefItem) []spec {
	var out []spec
	for _, bt := range businessTypes {
		if object == jing.ObjectLead {
			out = append(out, spec{Key: statusesKey(bt.ID), Kind: KindStatuses, Object: object, Scope: bt.ID})
		}
		out = append(out, spec{Key: fieldsKey(object, bt.ID), Kind: KindFields, Object: object, Scope: bt.ID})
	}
	return out
}

// choicesElsewhere are preset select fields whose choices are other sets:
// business types, the status pipeline, members.
var choicesElsewhere = map[string]bool{"business_type": true, "lead_status": true, "owner": true, "collaborators": true}

// fieldSpecs are the choices of object's select and option-set fields, over
// the fields of all its business types (each field once, in field order).
// A preset select field the API cannot write (life_status, lead_pool) is
// derived by the platform, which lists no options for it.
func fieldSpecs(object string, fieldSets [][]db.RefItem) []spec {
	var out []spec
	seen := map[string]bool{}
	for _, fields := range fieldSets {
		for _, f := range fields {
			if seen[f.ID] || choicesElsewhere[f.ID] || f.Preset && !f.Writable {
				continue
			}
			seen[f.ID] = true
			switch f.Type {
			case jing.FieldSelect, jing.FieldMultiSelect:
				out = append(out, spec{Key: optionsKey(object, f.ID), Kind: KindOptions, Object: object, Scope: f.ID, Preset: f.Preset})
			case jing.FieldOptionSet:
				out = append(out, spec{Key: treeKey(object, f.ID), Kind: KindOptionTree, Object: object, Scope: f.ID})
			}
		}
	}
	return out
}

// fetch asks the platform for one set's items (every page, for members).
func fetch(ctx context.Context, c *jing.Client, sp spec) ([]db.RefItem, error) {
	var items []db.RefItem
	var err error
	switch sp.Kind {
	case KindBusinessTypes:
		items, err = fetchBusinessTypes(ctx, c, sp.Object)
	case KindStatuses:
		items, err = fetchStatuses(ctx, c, sp.Scope)
	case KindFields:
		items, err = fetchFields(ctx, c, sp.Object, sp.Scope)
	case KindOptions:
		items, err = fetchOptions(ctx, c, sp)
	case KindOptionTree:
		items, err = fetchTree(ctx, c, sp.Object, sp.Scope)
	case KindMembers:
		items, err = fetchMembers(ctx, c)
	default:
		return nil, fmt.Errorf("refdata: set %s: unknown kind %q", sp.Key, sp.Kind)
	}
	return dedupe(items), err
}

// dedupe keeps the first entry of each id: a repeated id in an answer
// would otherwise break the set's primary key and cost the whole set.
func dedupe(items []db.RefItem) []db.RefItem {
	seen := make(map[string]bool, len(items))
	out := items[:0]
	for _, it := range items {
		if it.ID == "" || seen[it.ID] {
			continue
		}
		seen[it.ID] = true
		out = append(out, it)
	}
	return out
}

func fetchBusinessTypes(ctx context.Context, c *jing.Client, object string) ([]db.RefItem, error) {
	bts, err := c.BusinessTypes(ctx, object)
	out := make([]db.RefItem, len(bts))
	for i, bt := range bts {
		out[i] = db.RefItem{ID: bt.JingUUID, Name: bt.Name, Sort: i + 1, Preset: bt.Default()}
	}
	return out, err
}

func fetchStatuses(ctx context.Context, c *jing.Client, businessType string) ([]db.RefItem, error) {
	sts, err := c.LeadStatuses(ctx, businessType)
	out := make([]db.RefItem, len(sts))
	for i, st := range sts {
		out[i] = db.RefItem{ID: st.JingUUID, Name: st.Name, Sort: st.Sort}
	}
	return out, err
}

func fetchFields(ctx context.Context, c *jing.Client, object, businessType string) ([]db.RefItem, error) {
	fs, err := c.Fields(ctx, object, businessType)
	out := make([]db.RefItem, len(fs))
	for i, f := range fs {
		out[i] = db.RefItem{ID: f.Code, Name: f.Name, Sort: i + 1, Type: f.Type,
			Preset: !f.Custom(), Required: f.Required == 1, Writable: f.CanWrite()}
	}
	return out, err
}

func fetchOptions(ctx context.Context, c *jing.Client, sp spec) ([]db.RefItem, error) {
	list := c.CustomOptions
	if sp.Preset {
		list = c.SourceOptions
	}
	opts, err := list(ctx, sp.Object, sp.Scope)
	out := make([]db.RefItem, len(opts))
	for i, o := range opts {
		out[i] = db.RefItem{ID: o.JingUUID, Name: o.Name, Sort: i + 1}
	}
	return out, err
}

// fetchTree flattens an option-set tree in pre-order, each node with its
// parent's id and its place among its siblings.
func fetchTree(ctx context.Context, c *jing.Client, object, code string) ([]db.RefItem, error) {
	tree, err := c.OptionSet(ctx, object, code)
	var out []db.RefItem
	var walk func(parent string, nodes []jing.OptionNode)
	walk = func(parent string, nodes []jing.OptionNode) {
		for i, n := range nodes {
			out = append(out, db.RefItem{ID: n.JingUUID, ParentID: parent, Name: n.Name, Sort: i + 1})
			walk(n.JingUUID, n.Child)
		}
	}
	walk("", tree)
	return out, err
}

func fetchMembers(ctx context.Context, c *jing.Client) ([]db.RefItem, error) {
	ms, err := c.AllMembers(ctx)
	out := make([]db.RefItem, len(ms))
	for i, m := range ms {
		out[i] = db.RefItem{ID: string(m.ID), Name: m.Name, Sort: i + 1, Email: m.Email, Department: m.Department, Status: m.Status}
	}
	return out, err
}
