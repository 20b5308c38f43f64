package refdata

import (
	"slices"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
)

// Resolver is the in-memory index built from SQLite and swapped atomically after each refresh. Safe for concurrent use. Every method returns a display string, never "" for a non-empty id: an id it does not know renders as Unknown(lang, id) = "unknown (<id>)" / "未知（<id>）".
//
// A Resolver is never changed once built, so lookups take no lock. Lists it
// returns (Fields, Options, TreeRoots, Members, …) are shared by every
// caller: read them, do not modify them.
type Resolver struct {
	connection string
	builtAt    time.Time

	businessTypes map[pair]names    // (object, id)
	btLists       map[string][]Item // object → business types in platform order
	statuses      map[pair]status   // (business type, id)
	statusByID    map[string]status
	statusLists   map[string][]Item // business type → pipeline
	options       map[triple]names  // (object, field code, id)
	optionLists   map[pair][]Item   // (object, field code)
	paths         map[triple]names  // (object, field code, node id) → full path
	trees         map[pair][]*TreeNode
	fields        map[triple]Item // (object, business type, code)
	fieldAny      map[pair]Item   // (object, code), the first business type's
	fieldLists    map[pair][]Item // (object, business type)
	members       map[string]names
	memberList    []Item
}

type pair struct{ a, b string }
type triple struct{ a, b, c string }

// names is an entry's name in both languages the platform may give.
type names struct{ zh, en string }

func (n names) in(lang string) string { return pickName(lang, n.zh, n.en) }

type status struct {
	names
	order int
}

// pathSep joins an option-set path: "中国 / 山西省 / 晋中市".
const pathSep = " / "

// emptyResolver resolves nothing: every id is unknown.
func emptyResolver(connection string) *Resolver { return &Resolver{connection: connection} }

// buildResolver indexes every set of one connection, as loaded from SQLite.
func buildResolver(connection string, sets []db.RefSet, items map[string][]db.RefItem, now time.Time) *Resolver {
	r := &Resolver{
		connection: connection, builtAt: now,
		businessTypes: map[pair]names{}, btLists: map[string][]Item{},
		statuses: map[pair]status{}, statusByID: map[string]status{}, statusLists: map[string][]Item{},
		options: map[triple]names{}, optionLists: map[pair][]Item{},
		paths: map[triple]names{}, trees: map[pair][]*TreeNode{},
		fields: map[triple]Item{}, fieldAny: map[pair]Item{}, fieldLists: map[pair][]Item{},
		members: map[string]names{},
	}
	// Business types first: field sets are added in business-type order, so
	// fieldAny holds the default business type's field when several have one.
	slices.SortStableFunc(sets, func(x, y db.RefSet) int { return strings.Compare(x.Kind, y.Kind) })
	for _, set := range sets {
		r.add(set, toItems(items[set.Key]))
	}
	return r
}

func toItems(in []db.RefItem) []Item {
	out := make([]Item, len(in))
	for i, it := range in {
		out[i] = Item(it)
	}
	return out
}

func nameOf(it Item) names { return names{it.Name, it.NameEn} }

// add indexes one set's items.
func (r *Resolver) add(set db.RefSet, items []Item) {
	switch set.Kind {
	case KindBusinessTypes:
		r.btLists[set.Object] = items
		for _, it := range items {
			r.businessTypes[pair{set.Object, it.ID}] = nameOf(it)
		}
	case KindStatuses:
		r.statusLists[set.Scope] = items
		for _, it := range items {
			st := status{nameOf(it), it.Sort}
			r.statuses[pair{set.Scope, it.ID}] = st
			if _, dup := r.statusByID[it.ID]; !dup {
				r.statusByID[it.ID] = st
			}
		}
	case KindFields:
		r.addFields(set, items)
	case KindOptions:
		r.optionLists[pair{set.Object, set.Scope}] = items
		for _, it := range items {
			r.options[triple{set.Object, set.Scope, it.ID}] = nameOf(it)
		}
	case KindOptionTree:
		r.addTree(set, items)
	case KindMembers:
		r.memberList = items
		for _, it := range items {
			r.members[it.ID] = nameOf(it)
		}
	}
}

func (r *Resolver) addFields(set db.RefSet, items []Item) {
	r.fieldLists[pair{set.Object, set.Scope}] = items
	for _, it := range items {
		r.fields[triple{set.Object, set.Scope, it.ID}] = it
		if _, seen := r.fieldAny[pair{set.Object, it.ID}]; !seen || r.isDefault(set.Object, set.Scope) {
			r.fieldAny[pair{set.Object, it.ID}] = it
		}
	}
}

// addTree links the nodes (stored in pre-order with their parent's id) and
// computes every node's full path once, so OptionPath is a map lookup.
func (r *Resolver) addTree(set db.RefSet, items []Item) {
	roots, nodes := linkTree(items)
	r.trees[pair{set.Object, set.Scope}] = roots
	for _, it := range items {
		var zh, en []string
		for n := nodes[it.ID]; n != nil && len(zh) <= len(items); n = nodes[n.ParentID] {
			// (the length bound stops a parent cycle in bad data from hanging the build)
			zh = append(zh, n.Name)
			en = append(en, n.DisplayName(i18n.English))
		}
		slices.Reverse(zh)
		slices.Reverse(en)
		r.paths[triple{set.Object, set.Scope, it.ID}] = names{strings.Join(zh, pathSep), strings.Join(en, pathSep)}
	}
}

// Connection is the platform connection the index was built for.
func (r *Resolver) Connection() string { return r.connection }

// BuiltAt is when the index was built (zero for an empty one).
func (r *Resolver) BuiltAt() time.Time { return r.builtAt }

// lookup returns the name of id in m, or Unknown.
func lookup[K comparable](m map[K]names, k K, lang, id string) string {
	if id == "" {
		return ""
	}
	if n, ok := m[k]; ok {
		return n.in(lang)
	}
	return Unknown(lang, id)
}

func (r *Resolver) BusinessType(lang, object, id string) string {
	return lookup(r.businessTypes, pair{object, id}, lang, id)
}

// BusinessTypes are object's business types in the platform's order.
func (r *Resolver) BusinessTypes(object string) []Item { return r.btLists[object] }

// DefaultBusinessType is the id of object's default business type ("" when none is known).
func (r *Resolver) DefaultBusinessType(object string) string {
	for _, bt := range r.btLists[object] {
		if bt.Preset {
			return bt.ID
		}
	}
	if l := r.btLists[object]; len(l) > 0 {
		return l[0].ID
	}
	return ""
}

func (r *Resolver) isDefault(object, bt string) bool {
	return bt != "" && r.DefaultBusinessType(object) == bt
}

// Status is a lead status's name and its place in the pipeline. With an
// unknown or empty business type, the status is looked up in every pipeline.
func (r *Resolver) Status(lang, businessType, id string) (name string, order int) {
	if id == "" {
		return "", -1
	}
	st, ok := r.statuses[pair{businessType, id}]
	if !ok {
		st, ok = r.statusByID[id]
	}
	if !ok {
		return Unknown(lang, id), -1
	}
	return st.in(lang), st.order
}

// Statuses is a lead business type's pipeline, in order.
func (r *Resolver) Statuses(businessType string) []Item { return r.statusLists[businessType] }

// Option is a flat option's name. The preset fields whose choices are
// other sets (business_type, lead_status, owner, collaborators) resolve
// through those sets, so a caller can treat every select field alike.
func (r *Resolver) Option(lang, object, fieldCode, id string) string {
	if n, ok := r.options[triple{object, fieldCode, id}]; ok || id == "" {
		return n.in(lang)
	}
	switch fieldCode {
	case "business_type":
		return r.BusinessType(lang, object, id)
	case "lead_status":
		name, _ := r.Status(lang, "", id)
		return name
	case "owner", "collaborators":
		return r.Member(lang, id)
	}
	return Unknown(lang, id)
}

// OptionPath is an option-set node's full path: "中国 / 山西省 / 晋中市".
func (r *Resolver) OptionPath(lang, object, fieldCode, id string) string {
	return lookup(r.paths, triple{object, fieldCode, id}, lang, id)
}

func (r *Resolver) Member(lang, id string) string { return lookup(r.members, id, lang, id) }

// Field is a field's display name; with an unknown or empty business type,
// the field as any business type of the object has it.
func (r *Resolver) Field(lang, object, businessType, code string) string {
	if f, ok := r.FieldMeta(object, businessType, code); ok {
		return f.DisplayName(lang)
	}
	if code == "" {
		return ""
	}
	return Unknown(lang, code)
}

func (r *Resolver) FieldMeta(object, businessType, code string) (Item, bool) {
	if f, ok := r.fields[triple{object, businessType, code}]; ok {
		return f, true
	}
	f, ok := r.fieldAny[pair{object, code}]
	return f, ok
}

// Fields are the fields of object in businessType ("": the default one), in platform order.
func (r *Resolver) Fields(object, businessType string) []Item {
	if businessType == "" {
		businessType = r.DefaultBusinessType(object)
	}
	return r.fieldLists[pair{object, businessType}]
}

func (r *Resolver) Options(object, fieldCode string) []Item {
	return r.optionLists[pair{object, fieldCode}]
}

func (r *Resolver) TreeRoots(object, fieldCode string) []*TreeNode {
	return r.trees[pair{object, fieldCode}]
}

// Members are the tenant's members in platform order; activeOnly keeps those who may be given leads.
func (r *Resolver) Members(activeOnly bool) []Item {
	if !activeOnly {
		return r.memberList
	}
	var out []Item
	for _, m := range r.memberList {
		if m.Status == "active" { // jing.Member.Active
			out = append(out, m)
		}
	}
	return out
}
