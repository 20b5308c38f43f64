// Package i18n holds jingdesk's message catalogs (Simplified Chinese and
// English) and the per-request Localizer that translates, formats numbers
// and formats times in the server's configured zone.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"time"

	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The two languages every string exists in. Chinese first: it is the default.
const (
	Chinese = "zh-CN"
	English = "en"
)

// Languages lists the supported codes in the order the switcher shows them.
var Languages = []string{Chinese, English}

var tags = []language.Tag{language.SimplifiedChinese, language.English}

//go:embed locales/*.json
var localeFiles embed.FS

// Catalog is the loaded message bundle; build it once at start-up.
type Catalog struct {
	bundle  *goi18n.Bundle
	matcher language.Matcher
	zone    *time.Location
	ids     map[string][]string // language → message ids, for completeness checks
	// onMissing, when set, hears of every id that has no translation
	// (tests turn it into a failure; in production the id is shown).
	onMissing func(lang, id string)
	// fill writes the messages that only print their parameters (or have
	// none) without go-i18n, which matches the language, looks the message
	// up and runs its template on every call (issue 18: translating was
	// 6 % of the server's CPU under load, a board asking hundreds; fill.go).
	fill *fillers
}

// OnMissing registers f to hear of untranslated ids. Call it before serving.
func (c *Catalog) OnMissing(f func(lang, id string)) { c.onMissing = f }

// NewCatalog loads the embedded catalogs. zone is where times are shown.
func NewCatalog(zone *time.Location) (*Catalog, error) {
	parsed, err := embeddedBundle()
	if err != nil {
		return nil, err
	}
	return &Catalog{bundle: parsed.bundle, matcher: language.NewMatcher(tags), zone: zone, ids: parsed.ids,
		fill: &fillers{texts: parsed.texts}}, nil
}

// embeddedBundle parses the embedded locale files once per process: they
// cannot change, and a bundle is only read once loaded, so every catalog
// (one in the server; one per test in the web tests) shares it.
var embeddedBundle = sync.OnceValues(func() (parsedLocales, error) {
	b := goi18n.NewBundle(language.SimplifiedChinese)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	ids := map[string][]string{}
	texts := map[string]map[string]string{}
	files, err := fs.Glob(localeFiles, "locales/*.json")
	if err != nil {
		return parsedLocales{}, err
	}
	for _, f := range files {
		mf, err := b.LoadMessageFileFS(localeFiles, f)
		if err != nil {
			return parsedLocales{}, fmt.Errorf("i18n: %s: %w", f, err)
		}
		tag := mf.Tag.String()
		if texts[tag] == nil {
			texts[tag] = map[string]string{}
		}
		for _, m := range mf.Messages {
			ids[tag] = append(ids[tag], m.ID)
			texts[tag][m.ID] = m.Other // as the bundle keeps it: the last file's
		}
	}
	return parsedLocales{bundle: b, ids: ids, texts: texts}, nil
})

type parsedLocales struct {
	bundle *goi18n.Bundle
	ids    map[string][]string // language → message ids
	texts  map[string]map[string]string
}

// MessageIDs returns the ids defined for lang ("zh-Hans"/"zh-CN" or "en").
func (c *Catalog) MessageIDs(lang string) []string {
	return slices.Clone(c.ids[normalizeTag(lang).String()])
}

// Match picks the supported language that best fits an Accept-Language header.
func (c *Catalog) Match(acceptLanguage string) string {
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return Chinese
	}
	_, idx, conf := c.matcher.Match(prefs...)
	if conf == language.No {
		return Chinese
	}
	return Languages[idx]
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool { return lang == Chinese || lang == English }

func normalizeTag(lang string) language.Tag {
	if lang == English {
		return language.English
	}
	return language.SimplifiedChinese
}

// Localizer translates and formats for one language.
type Localizer struct {
	Lang      string
	onMissing func(lang, id string)
	fill      *fillers // the catalog's
	tag       string   // the catalog's language tag (go-i18n's)
	loc       *goi18n.Localizer
	printer   *message.Printer
	zone      *time.Location
}

// Localizer returns a Localizer for lang (falling back to Chinese).
func (c *Catalog) Localizer(lang string) *Localizer {
	if !Supported(lang) {
		lang = Chinese
	}
	tag := normalizeTag(lang)
	return &Localizer{
		Lang:      lang,
		onMissing: c.onMissing,
		fill:      c.fill,
		tag:       tag.String(),
		loc:       goi18n.NewLocalizer(c.bundle, tag.String()),
		printer:   message.NewPrinter(tag),
		zone:      c.zone,
	}
}

// T translates id, filling {{.Name}}-style placeholders from data (pairs of
// key, value). A missing id shows as the id itself, which tests catch.
func (l *Localizer) T(id string, data ...any) string {
	if s, ok := l.fill.filled(l.tag, id, data); ok {
		return s
	}
	var tmpl map[string]any
	if len(data) > 0 {
		tmpl = make(map[string]any, len(data)/2)
		for i := 0; i+1 < len(data); i += 2 {
			tmpl[fmt.Sprint(data[i])] = data[i+1]
		}
	}
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: tmpl})
	if err != nil || s == "" {
		if l.onMissing != nil {
			l.onMissing(l.Lang, id)
		}
		return id
	}
	return s
}

// TOr translates id when the catalogs have it, and is fallback when they
// do not: for a code the platform may extend (a job kind, a lifecycle
// stage) whose known values are named in the catalogs.
func (l *Localizer) TOr(id, fallback string) string {
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id})
	if err != nil || s == "" {
		return fallback
	}
	return s
}

// Message renders m: its parameters formatted for this language (times in
// the zone, numbers with separators, nested messages translated first, and
// a text that is itself a stored message translated too).
func (l *Localizer) Message(m msg.Message) string {
	if m.IsZero() {
		return ""
	}
	data := make([]any, 0, 2*len(m.Args))
	for _, a := range m.Args {
		var v any = l.Stored(a.Text) // a stored text may itself be an encoded message
		switch {
		case a.Msg != nil:
			v = l.Message(*a.Msg)
		case a.Num != nil:
			v = l.Number(*a.Num)
		case a.Time != 0:
			v = l.DateTime(a.Time)
		}
		data = append(data, a.Name, v)
	}
	return l.T(m.ID, data...)
}

// Stored renders a text kept in the database: an encoded message in this
// language, anything else (older rows, the platform's own words) as it is.
func (l *Localizer) Stored(s string) string {
	if m, ok := msg.Decode(s); ok {
		return l.Message(m)
	}
	return s
}

// Zone is where times are shown (and where dates typed in are read).
func (l *Localizer) Zone() *time.Location {
	if l.zone == nil {
		return time.Local
	}
	return l.zone
}

// Number formats n with the language's thousands separators.
func (l *Localizer) Number(n int64) string {
	if s, ok := smallNumber(n); ok {
		return s
	}
	return l.printer.Sprintf("%d", n)
}

// DateTime formats a Unix-seconds time in the configured zone; 0 shows as "—".
func (l *Localizer) DateTime(unix int64) string {
	if unix == 0 {
		return "—"
	}
	t := time.Unix(unix, 0).In(l.zone)
	if l.Lang == English {
		return t.Format("2 Jan 2006 15:04")
	}
	return t.Format("2006年1月2日 15:04")
}

// Date formats the date part only.
func (l *Localizer) Date(unix int64) string {
	if unix == 0 {
		return "—"
	}
	t := time.Unix(unix, 0).In(l.zone)
	if l.Lang == English {
		return t.Format("2 Jan 2006")
	}
	return t.Format("2006年1月2日")
}

type ctxKey struct{}

// WithLocalizer stores l in ctx for templates to use.
func WithLocalizer(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the request's Localizer, or a Chinese one without a
// catalog-backed translation if none was set (only in misconfigured tests).
func FromContext(ctx context.Context) *Localizer {
	if l, ok := ctx.Value(ctxKey{}).(*Localizer); ok {
		return l
	}
	return fallback
}

var fallback = mustFallback()

func mustFallback() *Localizer {
	c, err := NewCatalog(time.UTC)
	if err != nil {
		panic(err)
	}
	return c.Localizer(Chinese)
}
