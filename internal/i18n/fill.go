package i18n

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Filling in a message's parameters without go-i18n (issue 18). A message
// went through go-i18n on every call: the language
// matched again, the message looked up, its text/template run. A list
// page asks 100 ("3 days ago" for each row's two dates): 5 % of the page's
// processor time. Almost every message only prints its parameters as
// they are ({{.Count}}) or has none; such a message is cut once into its
// literal pieces and parameters, and filled in by concatenation. Anything else
// (an {{if}}, a parameter missing or of another type than a string or an
// integer) goes through go-i18n as before, so the text is the same either
// way (TestFilledMessagesMatchGoI18n compares every message).

// placeholder is an action that prints one parameter.
var placeholder = regexp.MustCompile(`\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// filler is a message cut at its parameters: lits[i] comes before keys[i],
// and the last literal after the last key. ok is false for a message that
// does more than print its parameters.
type filler struct {
	lits []string
	keys []string
	ok   bool
}

func newFiller(text string) *filler {
	f := &filler{}
	rest := text
	for {
		loc := placeholder.FindStringSubmatchIndex(rest)
		if loc == nil {
			break
		}
		f.lits = append(f.lits, rest[:loc[0]])
		f.keys = append(f.keys, rest[loc[2]:loc[3]])
		rest = rest[loc[1]:]
	}
	f.lits = append(f.lits, rest)
	for _, l := range f.lits {
		if strings.Contains(l, "{{") {
			return &filler{}
		}
	}
	f.ok = true
	return f
}

// fill writes the message with data's values (pairs of name, value); ok
// is false when a parameter is missing or not a string or an integer.
func (f *filler) fill(data []any) (string, bool) {
	if !f.ok {
		return "", false
	}
	var b strings.Builder
	for i, key := range f.keys {
		b.WriteString(f.lits[i])
		v, found := lookup(data, key)
		if !found {
			return "", false
		}
		switch x := v.(type) {
		case string:
			b.WriteString(x)
		case int:
			b.WriteString(strconv.Itoa(x))
		case int64:
			b.WriteString(strconv.FormatInt(x, 10))
		default:
			return "", false
		}
	}
	b.WriteString(f.lits[len(f.lits)-1])
	if b.Len() == 0 { // go-i18n's answer is then the id, reported missing
		return "", false
	}
	return b.String(), true
}

// lookup is the value of key in data, the last given as go-i18n's map
// would hold it; a name that is not a string is left to go-i18n.
func lookup(data []any, key string) (v any, found bool) {
	for i := 0; i+1 < len(data); i += 2 {
		name, ok := data[i].(string)
		if !ok {
			return nil, false
		}
		if name == key {
			v, found = data[i+1], true
		}
	}
	return v, found
}

// fillers are the catalog's messages cut at their parameters, made as
// they are first asked: by language and id.
type fillers struct {
	texts map[string]map[string]string // the catalog's language tag → id → text
	cut   sync.Map                     // [2]string{tag, id} → *filler
}

// filled is id in tag filled with data; ok is false when go-i18n must
// write it (the message does more than print its parameters, or tag has
// no such message: go-i18n then reports it missing).
func (fs *fillers) filled(tag, id string, data []any) (string, bool) {
	if fs == nil {
		return "", false
	}
	key := [2]string{tag, id}
	f, ok := fs.cut.Load(key)
	if !ok {
		text, exists := fs.texts[tag][id]
		if !exists {
			return "", false
		}
		f, _ = fs.cut.LoadOrStore(key, newFiller(text))
	}
	return f.(*filler).fill(data)
}

// smallNumber formats n as every language here does below a thousand:
// its digits (no separator yet), without the number printer.
func smallNumber(n int64) (string, bool) {
	if n < 0 || n >= 1000 {
		return "", false
	}
	return strconv.FormatInt(n, 10), true
}
