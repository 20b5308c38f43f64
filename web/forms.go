package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/templates/forms"
)

// The forms area: the cascading option-set picker's fragment, which every
// form built from platform fields (leads, accounts) asks for when a level
// of an option_set field is chosen.
type formsArea struct {
	*kit
	// tree is an option_set field's tree, roots first (nil when there is
	// none): the reference data's (referenceTree) unless Deps gives one.
	tree func(lang, object, fieldCode string) []*forms.TreeChoice
}

// maxFieldName bounds the form field name the picker is asked to post under.
const maxFieldName = 100

// showOptionPicker re-renders the cascading option-set picker for the node
// chosen in one of its selects (htmx swaps it in place of the old one):
//
//	GET /forms/option-picker?object=lead&field=country_region&name=country_region[&required=1]&_path=<id>&_path=<id>…
//
// object and field name the option_set field whose tree is rebuilt from the
// reference data; name is the form field the value posts under (default:
// the field code); _path holds the values of the picker's level selects,
// in any order (see forms.ResolvePath). A value the tree does not hold any
// more is dropped with a message, answered 422 like any refused form input.
func (a *formsArea) showOptionPicker(c echo.Context) error {
	object, field, name := c.QueryParam("object"), c.QueryParam("field"), c.QueryParam("name")
	if name == "" {
		name = field
	}
	if object == "" || field == "" || len(name) > maxFieldName {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	tree := a.tree(state(c).loc.Lang, object, field)
	if len(tree) == 0 {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	p := forms.Picker{
		Object:   object,
		Field:    field,
		Name:     name,
		Required: c.QueryParam("required") == "1",
		Tree:     tree,
		Enhanced: true,
	}
	path, unknown := forms.ResolvePath(tree, c.QueryParams()[forms.PathParam])
	p.Path = path
	status := http.StatusOK
	if len(unknown) > 0 {
		p.Message = t(c, "forms.picker.gone")
		status = http.StatusUnprocessableEntity
	}
	return a.renderFragment(c, status, forms.OptionPicker(p))
}
