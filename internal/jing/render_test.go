package jing_test

import (
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// render is e's message as a page in lang shows it, through the real
// catalogs; an id without a translation fails the test.
func render(t testing.TB, e *jing.Error, lang string) string {
	t.Helper()
	zone, _ := time.LoadLocation("Asia/Shanghai")
	cat, err := i18n.NewCatalog(zone)
	if err != nil {
		t.Fatal(err)
	}
	cat.OnMissing(func(lang, id string) { t.Errorf("untranslated message id %s (%s)", id, lang) })
	return cat.Localizer(lang).Message(e.Message())
}
