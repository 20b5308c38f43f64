package sandbox

import (
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
)

// The tenant is saved and loaded a piece at a time (issue 18): json.Marshal
// of the whole 20,000-person tenant built 9 MB of JSON in one buffer (and
// encoding/json keeps that buffer pooled), and json.Unmarshal read the
// whole file first; either way the console's heap, and with it its idle
// RSS, grew by tens of MB after the sandbox's first save. Here a
// "container" (a struct holding collections, or a collection of such
// structs) is walked field by field and element by element, and every
// other value (a person, a lead, a crowd's member) is encoded or decoded
// whole by encoding/json, with the same meaning as Marshal and Unmarshal:
// the file reads the same either way (persist_test.go compares them).

// encodeStream writes v (a pointer) as JSON to w.
func encodeStream(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	return encodeValue(w, enc, reflect.ValueOf(v))
}

func encodeValue(w io.Writer, enc *json.Encoder, v reflect.Value) error {
	t := v.Type()
	if !isContainer(t) {
		if v.CanAddr() { // methods on the pointer apply, as Marshal of the whole would
			return enc.Encode(v.Addr().Interface())
		}
		return enc.Encode(v.Interface())
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			_, err := io.WriteString(w, "null")
			return err
		}
		return encodeValue(w, enc, v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			_, err := io.WriteString(w, "null")
			return err
		}
		return encodeList(w, enc, v)
	default: // a struct
		return encodeFields(w, enc, v)
	}
}

func encodeList(w io.Writer, enc *json.Encoder, v reflect.Value) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	for i := range v.Len() {
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if err := encodeValue(w, enc, v.Index(i)); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]")
	return err
}

func encodeFields(w io.Writer, enc *json.Encoder, v reflect.Value) error {
	sep := "{"
	for _, f := range jsonFields(v.Type()) {
		fv := v.Field(f.index)
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		sep = ","
		if err := enc.Encode(f.name); err != nil {
			return err
		}
		if _, err := io.WriteString(w, ":"); err != nil {
			return err
		}
		if err := encodeValue(w, enc, fv); err != nil {
			return err
		}
	}
	if sep == "{" {
		_, err := io.WriteString(w, "{}")
		return err
	}
	_, err := io.WriteString(w, "}")
	return err
}

// decodeStream reads the JSON value of r into v (a pointer), as
// json.Unmarshal would, a piece at a time. Unknown keys are skipped.
func decodeStream(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	if err := decodeValue(dec, reflect.ValueOf(v).Elem()); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("sandbox: data after the state's JSON value")
	}
	return nil
}

// decodeValue decodes the next value of dec into v (addressable).
func decodeValue(dec *json.Decoder, v reflect.Value) error {
	if !isContainer(v.Type()) {
		return dec.Decode(v.Addr().Interface())
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	return decodeContainer(dec, v, tok)
}

// decodeContainer decodes into v the container whose first token was tok.
func decodeContainer(dec *json.Decoder, v reflect.Value, tok json.Token) error {
	t := v.Type()
	if tok == nil { // null
		v.SetZero()
		return nil
	}
	if t.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return decodeContainer(dec, v.Elem(), tok)
	}
	if t.Kind() == reflect.Slice {
		if tok != json.Delim('[') {
			return fmt.Errorf("sandbox: state: %s: want an array, found %v", t, tok)
		}
		v.Set(reflect.MakeSlice(t, 0, 0)) // [] is an empty slice, not nil, as Unmarshal makes it
		for dec.More() {
			elem := reflect.New(t.Elem()).Elem()
			if err := decodeValue(dec, elem); err != nil {
				return err
			}
			v.Set(reflect.Append(v, elem))
		}
		_, err := dec.Token() // ]
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("sandbox: state: %s: want an object, found %v", t, tok)
	}
	fields := jsonFields(t)
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		f, ok := fieldNamed(fields, key.(string))
		if !ok {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		if err := decodeValue(dec, v.Field(f.index)); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	_, err := dec.Token() // }
	return err
}

// isContainer reports whether values of t are walked rather than handed
// to encoding/json whole: a struct (or pointer to one) with a field that
// is a collection of structs or a container itself, or a slice of
// containers or of structs. A struct with an embedded field or its own
// (un)marshalling is never walked: encoding/json's rules for those are
// not repeated here.
func isContainer(t reflect.Type) bool {
	containers.RLock()
	c, ok := containers.m[t]
	containers.RUnlock()
	if ok {
		return c
	}
	c = containerKind(t, map[reflect.Type]bool{})
	containers.Lock()
	containers.m[t] = c
	containers.Unlock()
	return c
}

var containers = struct {
	sync.RWMutex
	m map[reflect.Type]bool
}{m: map[reflect.Type]bool{}}

var (
	marshalerType   = reflect.TypeFor[json.Marshaler]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func ownCoding(t reflect.Type) bool {
	for _, i := range []reflect.Type{marshalerType, unmarshalerType, textMarshaler, textUnmarshaler} {
		if t.Implements(i) || reflect.PointerTo(t).Implements(i) {
			return true
		}
	}
	return false
}

func containerKind(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] || ownCoding(t) { // a type within itself is not walked
		return false
	}
	seen[t] = true
	defer delete(seen, t)
	switch t.Kind() {
	case reflect.Pointer:
		return t.Elem().Kind() == reflect.Struct && containerKind(t.Elem(), seen)
	case reflect.Slice:
		e := t.Elem()
		for e.Kind() == reflect.Pointer {
			e = e.Elem()
		}
		return e.Kind() == reflect.Struct && !ownCoding(e) || containerKind(t.Elem(), seen)
	case reflect.Struct:
		walk := false
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				return false
			}
			if f.IsExported() && containerKind(f.Type, seen) {
				walk = true
			}
		}
		return walk
	}
	return false
}

// jsonField is a struct field as encoding/json names it.
type jsonField struct {
	name      string
	index     int
	omitEmpty bool
}

func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, index: i, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
	}
	return out
}

// fieldNamed finds the field of a key as Unmarshal does: the exact name,
// else one equal but for case.
func fieldNamed(fields []jsonField, key string) (jsonField, bool) {
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return jsonField{}, false
}

// isEmptyValue is encoding/json's test for omitempty.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
