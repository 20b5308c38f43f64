package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

func newTestCatalog(t *testing.T) *Catalog {
	t.Helper()
	zone, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCatalog(zone)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every string exists in both languages: a key in one catalog only is a bug.
func TestBothLanguagesHaveTheSameMessageIDs(t *testing.T) {
	t.Parallel()
	c := newTestCatalog(t)
	zh, en := c.MessageIDs(Chinese), c.MessageIDs(English)
	if len(zh) < 50 {
		t.Fatalf("only %d Chinese messages loaded", len(zh))
	}
	for _, id := range zh {
		if !slices.Contains(en, id) {
			t.Errorf("%q is in Chinese but not in English", id)
		}
	}
	for _, id := range en {
		if !slices.Contains(zh, id) {
			t.Errorf("%q is in English but not in Chinese", id)
		}
	}
}

// literalID finds message ids written literally in templates and handlers.
var literalID = regexp.MustCompile(`(?:ui\.T|\bt|\.T)\((?:ctx|c), "([a-z][a-z0-9_.\-]*)"`)

// Every literal id used in the code has a translation.
func TestEveryLiteralIDInTheCodeIsTranslated(t *testing.T) {
	t.Parallel()
	c := newTestCatalog(t)
	known := c.MessageIDs(English)
	root := filepath.Join("..", "..")
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".templ") && !(strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_templ.go")) {
			return nil
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range literalID.FindAllStringSubmatch(string(body), -1) {
			found++
			if !slices.Contains(known, m[1]) && !strings.HasSuffix(m[1], ".") {
				t.Errorf("%s uses %q, which no catalog defines", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 30 {
		t.Fatalf("only %d literal ids found: is the pattern still right?", found)
	}
}

func TestMatchAcceptLanguage(t *testing.T) {
	t.Parallel()
	c := newTestCatalog(t)
	cases := map[string]string{
		"":                         Chinese,
		"en-US,en;q=0.9":           English,
		"zh-CN,zh;q=0.9,en;q=0.8":  Chinese,
		"zh-TW":                    Chinese,
		"fr-FR,en;q=0.5":           English,
		"de-DE":                    Chinese,
		"en-GB;q=0.3,zh-Hans;q=.9": Chinese,
		"garbage;;;":               Chinese,
	}
	for header, want := range cases {
		if got := c.Match(header); got != want {
			t.Errorf("Match(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	c := newTestCatalog(t)
	en, zh := c.Localizer(English), c.Localizer(Chinese)
	if got := en.Number(1234567); got != "1,234,567" {
		t.Errorf("English number %q", got)
	}
	if got := zh.Number(1234567); got != "1,234,567" {
		t.Errorf("Chinese number %q", got)
	}
	// 2026-11-21 02:30 UTC is 10:30 in Shanghai.
	at := time.Date(2026, 11, 21, 2, 30, 0, 0, time.UTC).Unix()
	if got := zh.DateTime(at); got != "2026年11月21日 10:30" {
		t.Errorf("Chinese time %q", got)
	}
	if got := en.DateTime(at); got != "21 Nov 2026 10:30" {
		t.Errorf("English time %q", got)
	}
	if got := en.DateTime(0); got != "—" {
		t.Errorf("zero time %q", got)
	}
	if got := en.T("login.throttled", "Seconds", 15); !strings.Contains(got, "15 s") {
		t.Errorf("placeholder not filled: %q", got)
	}
}

func TestMissingIDIsReported(t *testing.T) {
	t.Parallel()
	c := newTestCatalog(t)
	var missing []string
	c.OnMissing(func(lang, id string) { missing = append(missing, lang+":"+id) })
	if got := c.Localizer(English).T("no.such.id"); got != "no.such.id" {
		t.Errorf("missing id rendered as %q", got)
	}
	if len(missing) != 1 || missing[0] != "en:no.such.id" {
		t.Errorf("missing ids reported: %v", missing)
	}
}

// Translations without parameters are kept per language; a missing id is
// never kept, so every page that shows it is still heard of.
func TestPlainTranslationsKeptPerLanguage(t *testing.T) {
	c, err := NewCatalog(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	c.OnMissing(func(string, string) { missing++ })
	zh, en := c.Localizer(Chinese), c.Localizer(English)
	for range 2 {
		if got := zh.T("nav.leads"); got != "线索" {
			t.Fatalf("zh nav.leads = %q", got)
		}
		if got := en.T("nav.leads"); got != "Leads" {
			t.Fatalf("en nav.leads = %q", got)
		}
		if got := c.Localizer(English).T("no.such.message"); got != "no.such.message" {
			t.Fatalf("a missing id shows as %q", got)
		}
	}
	if missing != 2 {
		t.Fatalf("a missing id was heard of %d times in 2 asks", missing)
	}
}

// Every message of both catalogs, filled in without go-i18n (fill.go),
// reads exactly as go-i18n writes it: with every parameter it names given
// as a string (markup and template delimiters included) or an integer,
// and with one missing (go-i18n then writes it, "<no value>").
func TestFilledMessagesMatchGoI18n(t *testing.T) {
	c, err := NewCatalog(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`\{\{[^}]*?\.([A-Za-z_][A-Za-z0-9_]*)`)
	filled := 0
	for _, lang := range Languages {
		l := c.Localizer(lang)
		goI18n := func(id string, data []any) string {
			tmpl := map[string]any{}
			for i := 0; i+1 < len(data); i += 2 {
				tmpl[data[i].(string)] = data[i+1]
			}
			s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: tmpl})
			if err != nil || s == "" {
				return id
			}
			return s
		}
		for _, id := range c.MessageIDs(lang) {
			text := c.fill.texts[l.tag][id]
			var keys []string
			for _, m := range names.FindAllStringSubmatch(text, -1) {
				keys = append(keys, m[1])
			}
			if len(keys) == 0 {
				if got, want := l.T(id), goI18n(id, nil); got != want {
					t.Errorf("%s %s without parameters: %q, go-i18n %q", lang, id, got, want)
				}
				keys = []string{"Unused"}
			}
			for _, values := range [][]any{{`<b>"a" & {{.X}}</b>`, 3}, {"", int64(1234567)}, {"名字", -2}} {
				var data []any
				for i, k := range keys {
					data = append(data, k, values[i%2])
				}
				if got, want := l.T(id, data...), goI18n(id, data); got != want {
					t.Errorf("%s %s %v: filled %q, go-i18n %q", lang, id, data, got, want)
				}
				if _, ok := c.fill.filled(l.tag, id, data); ok {
					filled++
				}
			}
			if len(keys) > 1 || keys[0] != "Unused" {
				missing := []any{"Other", "x"}
				if got, want := l.T(id, missing...), goI18n(id, missing); got != want {
					t.Errorf("%s %s without its parameters: %q, go-i18n %q", lang, id, got, want)
				}
			}
		}
	}
	if filled == 0 {
		t.Fatal("no message was filled in without go-i18n")
	}
	// Numbers below a thousand skip the number printer: the same digits.
	for _, lang := range Languages {
		l := c.Localizer(lang)
		for n := int64(-20); n < 1200; n++ {
			if got, want := l.Number(n), l.printer.Sprintf("%d", n); got != want {
				t.Fatalf("%s Number(%d) = %q, the printer %q", lang, n, got, want)
			}
		}
	}
}

func BenchmarkTranslateWithParameters(b *testing.B) {
	c, err := NewCatalog(time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	l := c.Localizer(Chinese)
	for b.Loop() {
		l.T("time.ago.days", "Count", l.Number(12))
	}
}
