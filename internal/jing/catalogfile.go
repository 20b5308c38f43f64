package jing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// overrideFields are the fields a catalog.json entry may carry, in the
// order the README lists them.
var overrideFields = []string{"path", "method", "rate_per_second", "daily_quota", "max_batch", "disabled"}

// parseOverrides reads catalog.json strictly: one object of entries, each
// an object of known fields with values of the right type. An unknown
// field ("paht", "disable"), a repeated key, a null or a value of the
// wrong type is an error naming the line, the entry and the field, never
// something silently ignored. Every problem found is reported at once; a
// syntax error stops the reading where it is.
//
// It returns what it could read with every problem found; overrides is nil when
// the file could not be read to its end.
func parseOverrides(raw []byte) (overrideFile, []error) {
	p := &overrideParser{raw: raw, dec: json.NewDecoder(bytes.NewReader(raw)), lines: map[string]int{}}
	out, err := p.file()
	if err != nil {
		return overrideFile{}, append(p.errs, err)
	}
	return overrideFile{overrides: out, lines: p.lines}, p.errs
}

// overrideFile is what catalog.json holds, with the line of each entry.
type overrideFile struct {
	overrides map[string]Override
	lines     map[string]int
}

type overrideParser struct {
	raw   []byte
	dec   *json.Decoder
	errs  []error
	lines map[string]int // entry → the line its key is on
}

// at prefixes a problem with the line it was found on.
func (p *overrideParser) at(offset int64, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", lineOf(p.raw, offset), fmt.Sprintf(format, args...))
}

// lineOf is the line of the first token at or after offset (the
// decoder's offset is where the previous token ended).
func lineOf(raw []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(raw)))
	for offset < int64(len(raw)) && strings.IndexByte(" \t\r\n,:", raw[offset]) >= 0 {
		offset++
	}
	return bytes.Count(raw[:offset], []byte("\n")) + 1
}

// syntax turns a decoding failure into an error with its line.
func (p *overrideParser) syntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return p.at(se.Offset, "not valid JSON: %v", se)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return p.at(int64(len(p.raw)), "not valid JSON: the file ends too early")
	}
	return p.at(p.dec.InputOffset(), "not valid JSON: %v", err)
}

// open reads the '{' an object starts with; what is says what the object is.
func (p *overrideParser) open(what string) (bool, error) {
	offset := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return false, p.syntax(err)
	}
	if d, ok := tok.(json.Delim); ok && d == '{' {
		return true, nil
	}
	return false, p.at(offset, "%s must be a JSON object ({…}), not %s", what, describeToken(tok))
}

// key reads an object key, or reports that the object ended.
func (p *overrideParser) key() (key string, offset int64, more bool, err error) {
	if !p.dec.More() {
		if _, err := p.dec.Token(); err != nil { // the closing '}'
			return "", 0, false, p.syntax(err)
		}
		return "", 0, false, nil
	}
	offset = p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return "", 0, false, p.syntax(err)
	}
	return tok.(string), offset, true, nil // object keys are always strings
}

func (p *overrideParser) file() (map[string]Override, error) {
	if _, err := p.open("the catalog file"); err != nil {
		return nil, err
	}
	out := map[string]Override{}
	for {
		name, offset, more, err := p.key()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		if _, dup := out[name]; dup {
			p.errs = append(p.errs, p.at(offset, "endpoint %q appears twice: keep one entry per endpoint", name))
		} else {
			p.lines[name] = lineOf(p.raw, offset)
		}
		o, err := p.entry(name)
		if err != nil {
			return nil, err
		}
		out[name] = o
	}
	if tok, err := p.dec.Token(); err != io.EOF {
		return nil, p.at(p.dec.InputOffset(), "unexpected %s after the catalog object", describeToken(tok))
	}
	return out, nil
}

// entry reads one endpoint's object of fields.
func (p *overrideParser) entry(name string) (Override, error) {
	var o Override
	if _, err := p.open(fmt.Sprintf("the entry %q", name)); err != nil {
		return o, err
	}
	seen := map[string]bool{}
	for {
		field, offset, more, err := p.key()
		if err != nil {
			return o, err
		}
		if !more {
			return o, nil
		}
		var raw json.RawMessage
		if err := p.dec.Decode(&raw); err != nil {
			return o, p.syntax(err)
		}
		if seen[field] {
			p.errs = append(p.errs, p.at(offset, "%s: field %q appears twice", name, field))
		}
		seen[field] = true
		if why := o.set(field, raw); why != "" {
			p.errs = append(p.errs, p.at(offset, "%s: %s", name, why))
		}
	}
}

// set decodes one field into o; it returns what is wrong, or "".
func (o *Override) set(field string, raw json.RawMessage) string {
	if string(raw) == "null" && slices.Contains(overrideFields, field) {
		return fmt.Sprintf("%q is null: leave the field out to keep the built-in value", field)
	}
	switch field {
	case "path":
		return decodeInto(field, raw, &o.Path, "text (a path such as \"/v1/leads/update\")")
	case "method":
		return decodeInto(field, raw, &o.Method, "text (GET, POST, PUT, PATCH or DELETE)")
	case "rate_per_second":
		return decodeInto(field, raw, &o.RatePerSecond, "a number")
	case "daily_quota":
		return decodeInto(field, raw, &o.DailyQuota, "a whole number")
	case "max_batch":
		return decodeInto(field, raw, &o.MaxBatch, "a whole number")
	case "disabled":
		return decodeInto(field, raw, &o.Disabled, "true or false")
	}
	return fmt.Sprintf("unknown field %q%s; an entry may set %s", field, didYouMean(field, overrideFields),
		strings.Join(overrideFields, ", "))
}

// decodeInto decodes raw into a new *T at dst; a value of another type is
// reported as what the field must be.
func decodeInto[T any](field string, raw json.RawMessage, dst **T, must string) string {
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Sprintf("%q must be %s, not %s", field, must, excerpt(raw))
	}
	*dst = v
	return ""
}

func excerpt(raw json.RawMessage) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return s
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "a list ([…])"
		}
		return string(v)
	case string:
		return fmt.Sprintf("the text %q", v)
	case nil:
		return "null"
	}
	return fmt.Sprint(tok)
}

// didYouMean suggests the closest of known to s when it is a likely typo.
func didYouMean(s string, known []string) string {
	best, bestDist := "", 3 // at most two edits away
	for _, k := range known {
		if d := editDistance(s, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
