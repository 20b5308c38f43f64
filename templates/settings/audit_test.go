package settings

import (
	"slices"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/i18n"
)

// Every action given a label has one in both languages.
func TestLabelledActionsAreTranslated(t *testing.T) {
	catalog, err := i18n.NewCatalog(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Languages {
		ids := catalog.MessageIDs(lang)
		for action := range labelledActions {
			if !slices.Contains(ids, "audit.action."+action) {
				t.Errorf("%s: no label for %s", lang, action)
			}
		}
	}
}
