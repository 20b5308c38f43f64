package importfile

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// A file the importer cannot read says why in the reader's language: each
// code has its sentence in both catalogs, the header row's names its row,
// and an error reaches the page as a carrier through any wrap.
func TestAnErrorSaysItselfInBothLanguages(t *testing.T) {
	cat, err := i18n.NewCatalog(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	cat.OnMissing(func(lang, id string) { t.Errorf("%s: %q has no sentence", lang, id) })
	zh, en := cat.Localizer(i18n.Chinese), cat.Localizer(i18n.English)
	for _, code := range codes {
		m := (&Error{Code: code, Line: 12345}).Message()
		if m.ID != "imports.error."+code || zh.Message(m) == "" || en.Message(m) == "" {
			t.Errorf("%s: %+v", code, m)
		}
	}
	row := (&Error{Code: CodeHeaderRow, Line: 12345}).Message()
	if got := en.Message(row); got != "The header row chosen (row 12345) is past the end of the file: choose the header row again." {
		t.Errorf("header row: %q", got)
	}
	if got := zh.Message((&Error{Code: "from_a_later_version"}).Message()); got != "无法按当前方式读取文件。" {
		t.Errorf("an unknown code reads %q", got)
	}
	var carrier msg.Carrier
	wrapped := fmt.Errorf("crowds: read: %w", newError(CodeBinary, 0, "NUL at %d", 7))
	if !errors.As(wrapped, &carrier) || carrier.Message().ID != "imports.error.binary" {
		t.Errorf("a wrapped error is not a carrier: %v", wrapped)
	}
}
